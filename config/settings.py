"""Django settings for Bazaar, read from the environment through config.env.

Every variable read here is documented in .env.example.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from corsheaders.defaults import default_headers as default_cors_headers
from django.core.exceptions import ImproperlyConfigured

from config import env as env_loader

BASE_DIR = Path(__file__).resolve().parent.parent
ENV, env = env_loader.load(BASE_DIR)
IS_PROD = ENV == "prod"

DEBUG = env.bool("DEBUG", default=ENV == "dev")
SECRET_KEY = env.str("SECRET_KEY", default="" if IS_PROD else env_loader.DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if IS_PROD else ["127.0.0.1", "localhost", "testserver"])
if IS_PROD:
    env_loader.check_production(debug=DEBUG, secret_key=SECRET_KEY, allowed_hosts=ALLOWED_HOSTS)

# --- Applications -------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "django_countries",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "treebeard",
    "django_prometheus",
    "apps.core",
    "apps.accounts",
    "apps.catalog",
    "apps.shipping",
    "apps.cart",
    "apps.orders",
    "apps.ledger",
    "apps.payments",
    "apps.payouts",
    "apps.checkout",
    "apps.returns",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "apps.core.middleware.RequestIdMiddleware",
    "apps.core.middleware.DatabaseRoutingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "apps.core.middleware.PrivateNoStoreMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "apps.core.middleware.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.middleware.DatabaseUnavailableMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
DATABASE_CONN_MAX_AGE = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASE_CONNECT_TIMEOUT = env.int("DATABASE_CONNECT_TIMEOUT", default=5)
# Server-side parameters and prepared statements: a statement a connection runs for the 5th time is
# prepared, and PostgreSQL skips parsing and planning it after (psycopg's prepare_threshold). Off
# behind a pooler in transaction mode that does not track prepared statements (PgBouncer < 1.21).
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)


# Django's PostgreSQL backend, told PostgreSQL's limit of parameters per statement
# (apps/core/postgresql/base.py).
POSTGRESQL_ENGINE = "apps.core.postgresql"


def _database(config: dict) -> dict:
    if config["ENGINE"] == "django.db.backends.postgresql":
        config["ENGINE"] = POSTGRESQL_ENGINE
        # Persistent connections, checked before reuse; a dead or unreachable server fails within
        # connect_timeout seconds (answered 503) instead of hanging the worker.
        config["CONN_MAX_AGE"] = DATABASE_CONN_MAX_AGE
        config["CONN_HEALTH_CHECKS"] = True
        config.setdefault("OPTIONS", {}).setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
        if DATABASE_PREPARED_STATEMENTS:
            config["OPTIONS"].update(server_side_binding=True, prepare_threshold=5)
    elif config["ENGINE"] == "django.db.backends.sqlite3":
        # Wait for the write lock instead of failing at once when two requests write together.
        config.setdefault("OPTIONS", {})["timeout"] = 20
    return config


DATABASES = {"default": _database(env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))}
# A read replica: reads go there, except inside transactions and after the request wrote
# (apps/core/db_router.py). Tests mirror it onto the test database.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {**_database(env.db_url_config(DATABASE_REPLICA_URL)), "TEST": {"MIRROR": "default"}}
    DATABASE_ROUTERS = ["apps.core.db_router.PrimaryReplicaRouter"]

# --- Cache (throttle counters live here) ----------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # django-redis, counting gets, hits and misses for the metrics endpoint.
            "BACKEND": "django_prometheus.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default=f"bazaar-{ENV}"),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "bazaar"}}

# --- Auth ---------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "first_name", "last_name")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if ENV == "test":
    # Hashing cost is irrelevant in tests and dominates their run time otherwise.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60)

# --- Staff login: two-factor ----------------------------------------------------------------
# The admin asks staff for a TOTP token (or a single-use backup code) after the password, and
# refuses a session no device verified: django-otp, through apps/accounts/admin_site.py. On by
# default in prod only, so `make run` stays one command. Enrol: manage.py staff_totp_enrol <email>.
ADMIN_REQUIRE_2FA = env.bool("ADMIN_REQUIRE_2FA", default=IS_PROD)
# django.contrib.admin, with the staff login's admin site as admin.site (apps/accounts/admin_apps.py).
INSTALLED_APPS[INSTALLED_APPS.index("django.contrib.admin")] = "apps.accounts.admin_apps.StaffAdminConfig"
INSTALLED_APPS += ["django_otp", "django_otp.plugins.otp_totp", "django_otp.plugins.otp_static"]
# request.user.is_verified(): after the session's user is known.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
# The name authenticator apps show next to the staff member's email.
OTP_TOTP_ISSUER = "Bazaar" if IS_PROD else f"Bazaar ({ENV})"
# The admin's device pages never show a secret key, its QR code or backup codes (enrolment does).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

# --- REST framework -----------------------------------------------------------------------
THROTTLE_DISABLED = env.bool("THROTTLE_DISABLED", default=False)
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework_simplejwt.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # The bytes of DRF's JSONRenderer, written by orjson (apps/core/renderers.py).
    "DEFAULT_RENDERER_CLASSES": ["apps.core.renderers.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["apps.core.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "apps.core.throttling.AnonBurstThrottle",
        "apps.core.throttling.UserBurstThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON_RATE", default="120/min"),
        "user": env.str("THROTTLE_USER_RATE", default="600/min"),
        "login_ip": env.str("THROTTLE_LOGIN_IP_RATE", default="20/min"),
        "login_email": env.str("THROTTLE_LOGIN_EMAIL_RATE", default="5/min"),
        "register_ip": env.str("THROTTLE_REGISTER_IP_RATE", default="10/hour"),
        "register_email": env.str("THROTTLE_REGISTER_EMAIL_RATE", default="3/hour"),
        "password_reset_ip": env.str("THROTTLE_PASSWORD_RESET_IP_RATE", default="10/hour"),
        "password_reset_email": env.str("THROTTLE_PASSWORD_RESET_EMAIL_RATE", default="3/hour"),
    },
    "NUM_PROXIES": NUM_PROXIES,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Bazaar API",
    "DESCRIPTION": (
        "A multi-vendor marketplace backend. This schema is the exact reference of every endpoint. How the API "
        "behaves (conventions, errors, pagination, each area from the catalog to payouts) is explained in the "
        "repository's documentation: `docs/api.md` (the API guide), `docs/payments.md`, `docs/index.md` for the "
        "rest; `make docs` serves it at http://127.0.0.1:8001/."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.schema.add_error_responses",
        "apps.core.schema.require_one_of_bodies",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ProductStatusEnum": "apps.catalog.models.Product.Status",
        "OrderStatusEnum": "apps.orders.models.OrderStatus",
        "OrderLineStatusEnum": "apps.orders.models.LineStatus",
        "PaymentStatusEnum": "apps.payments.providers.base.PaymentStatus.CHOICES",
        "ProductCreateStatusEnum": "apps.catalog.serializers.CREATABLE_STATUSES",
        "DependencyStatusEnum": "apps.core.apis.DEPENDENCY_STATES",
        "RefundStatusEnum": "apps.payments.providers.base.RefundStatus.CHOICES",
        "ReturnStatusEnum": "apps.returns.models.ReturnStatus",
    },
    # Swagger UI's files come from drf-spectacular-sidecar through WhiteNoise: no CDN needed.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# --- Request limits -----------------------------------------------------------------------
MAX_JSON_BODY_BYTES = env.int("MAX_JSON_BODY_BYTES", default=1024 * 1024)
MAX_UPLOAD_BODY_BYTES = env.int("MAX_UPLOAD_BODY_BYTES", default=11 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_JSON_BODY_BYTES

# --- Security -----------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=IS_PROD)
# Load balancers' health checks and Prometheus scrape app servers directly, over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if NUM_PROXIES else None
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = IS_PROD
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365 if IS_PROD else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = IS_PROD
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_EXPOSE_HEADERS = ["Retry-After", "Idempotent-Replayed", "X-Request-ID"]
# A storefront on another origin sends these on checkout and pay (preflight must allow them).
CORS_ALLOW_HEADERS = (*default_cors_headers, "idempotency-key", "x-request-id")

ADMIN_URL = env.str("ADMIN_URL", default="admin/")

# --- Staff login: brute-force protection and sessions ----------------------------------------
# django-axes guards the admin login only (the API's login keeps its throttles). Failures are
# counted in the database, which every app server shares and which outlives a Redis restart; the
# admin lists them (Axes > Access attempts) and unlocking deletes them. Two limits within the
# cool-off, per account (from any address) and per address (over any accounts); past either,
# every attempt is refused with 429 until the cool-off has passed (apps/accounts/admin_login.py).
INSTALLED_APPS.append("axes")
# Turns a login axes refused into the lockout answer; inside the middleware that adds headers.
MIDDLEWARE.insert(
    MIDDLEWARE.index("apps.core.middleware.DatabaseUnavailableMiddleware"), "axes.middleware.AxesMiddleware"
)
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_HANDLER = "apps.accounts.admin_login.AdminLoginHandler"
AXES_ONLY_ADMIN_SITE = True
AXES_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURES_PER_ACCOUNT", default=5)
ADMIN_LOGIN_FAILURES_PER_ADDRESS = env.int("ADMIN_LOGIN_FAILURES_PER_ADDRESS", default=20)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("ADMIN_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Refused attempts are not failures: the lock ends one cool-off after the failures that made it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_FORM_FIELD = "username"  # the admin form's name for the email
AXES_USERNAME_CALLABLE = "apps.accounts.admin_login.login_username"
AXES_CLIENT_IP_CALLABLE = "apps.accounts.admin_login.client_address"
AXES_LOCKOUT_CALLABLE = "apps.accounts.admin_login.lockout_response"
# No "AXES: BEGIN" banner in the log of every process and management command at start-up.
AXES_VERBOSE = False
# Every failure is also kept in AccessFailureLog (the admin lists it), after its attempt expires.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# Sessions are the admin's alone (the API uses JWTs): each request renews one, so it ends after
# this many idle minutes. 30 in prod; a working day elsewhere, so `make run` does not log you out.
ADMIN_SESSION_IDLE_MINUTES = env.int("ADMIN_SESSION_IDLE_MINUTES", default=30 if IS_PROD else 8 * 60)
SESSION_COOKIE_AGE = ADMIN_SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
# No script reads either cookie (the admin's forms carry the CSRF token); Secure in prod, above.
SESSION_COOKIE_HTTPONLY = CSRF_COOKIE_HTTPONLY = True

# --- I18N, static, media ------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Rescan static files per request only where they change (dev) or where the scan would otherwise
# run for every test client; in production WhiteNoise indexes them once at start-up.
WHITENOISE_AUTOREFRESH = DEBUG or ENV == "test"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Uploaded images: the local filesystem (served by the app at MEDIA_URL), or S3 (or an
# S3-compatible server at AWS_S3_ENDPOINT_URL) when a bucket is named.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    MEDIA_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            # Unset keys: boto3's own chain (instance role, AWS_* variables, config files).
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            # Product images are public: plain URLs (no per-request signing, cacheable); names are
            # random, so an upload never replaces another file.
            "querystring_auth": False,
            "file_overwrite": False,
        },
    }
else:
    MEDIA_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
MEDIA_SERVED_BY_APP = not AWS_STORAGE_BUCKET_NAME
STORAGES = {
    "default": MEDIA_STORAGE,
    # Hashed, compressed files for WhiteNoise (unhashed URLs while DEBUG is on); tests never
    # run collectstatic, so they use the plain storage.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if ENV == "test"
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Email --------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Bazaar <no-reply@bazaar.localhost>")
FRONTEND_URL = env.str("FRONTEND_URL", default="http://localhost:3000").rstrip("/")

# --- Commerce -----------------------------------------------------------------------------
DEFAULT_CURRENCY = env_loader.validate_currency(env.str("DEFAULT_CURRENCY", default="USD"))
SHIPPING_FLAT_RATE = Decimal(env.str("SHIPPING_FLAT_RATE", default="0.00"))
ORDER_RESERVATION_MINUTES = env.int("ORDER_RESERVATION_MINUTES", default=30)
# Percent of each store's item subtotal the platform keeps; staff override it per store.
COMMISSION_RATE = Decimal(env.str("COMMISSION_RATE", default="10.00"))
# Days after a store order's delivery before its seller net can be paid out (returns, disputes).
PAYOUT_HOLD_DAYS = env.int("PAYOUT_HOLD_DAYS", default=7)
# The admin's index counts active products with this many or fewer in stock ("Products low on stock").
LOW_STOCK_THRESHOLD = env.int("LOW_STOCK_THRESHOLD", default=5)
# Days after delivery a buyer may open a return.
RETURN_WINDOW_DAYS = env.int("RETURN_WINDOW_DAYS", default=30)
# All payment-provider calls of one request together (start, confirm, the SDK's retries) stop after
# this, below gunicorn's worker timeout (GUNICORN_TIMEOUT, 30 s): the payment stays pending and the
# webhook or the sync finishes it (apps/payments/providers/budget.py).
PAYMENT_PROVIDER_BUDGET_SECONDS = env.float("PAYMENT_PROVIDER_BUDGET_SECONDS", default=20.0)

# --- Payments (providers arrive with the orders and Stripe issues) --------------------------
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# The signing secret of a Connect webhook endpoint (events about sellers' connected accounts), when
# it is a separate endpoint in Stripe's dashboard; tried first, then STRIPE_WEBHOOK_SECRET.
STRIPE_CONNECT_WEBHOOK_SECRET = env.str("STRIPE_CONNECT_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
STRIPE_ALLOW_LIVE = env.bool("STRIPE_ALLOW_LIVE", default=False)
# Production refuses to fall back to the simulated provider (test cards "pay" there): it runs
# only when PAYMENT_PROVIDER=simulated is explicit, and then /healthz and a start-up warning say so.
PAYMENT_PROVIDER = env_loader.payment_provider(
    configured=env.str("PAYMENT_PROVIDER", default=""), stripe_secret_key=STRIPE_SECRET_KEY, env=ENV
)
PAYMENTS_SIMULATED_IN_PROD = IS_PROD and PAYMENT_PROVIDER == "simulated"
if STRIPE_SECRET_KEY or PAYMENT_PROVIDER == "stripe":
    from apps.payments.providers.stripe_provider import stripe_check_keys

    stripe_check_keys(secret_key=STRIPE_SECRET_KEY, env=ENV, allow_live=STRIPE_ALLOW_LIVE)
if PAYMENT_PROVIDER == "stripe" and not STRIPE_SECRET_KEY:
    raise ImproperlyConfigured("PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY (a test key, sk_test_...).")

# --- Background work ----------------------------------------------------------------------
# Celery (config/celery.py). With a broker, tasks are queued in Redis and run by `make worker`,
# periodic ones sent by `make beat`; without one, every task runs inline in the process that
# queues it (after commit), so the embedded default needs no Redis.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    # Never sent to; names a transport that needs no server (`make worker` refuses to start on it).
    CELERY_BROKER_URL = "memory://localhost/"
# An inline task that fails (after its retries) is logged; it never fails the request that queued it.
CELERY_TASK_EAGER_PROPAGATES = False
# Tasks write their outcome to the database: no result backend.
CELERY_TASK_IGNORE_RESULT = True
# A message leaves the queue only once its task has finished, and goes back when the worker died
# meanwhile: tasks may run twice and are written to be safe when they do.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
# Redis re-delivers a message not acknowledged within the visibility timeout; it must outlast the
# time limit and the longest retry countdown (apps.core.tasks.RETRY), or a task would run twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60, "socket_connect_timeout": 2}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # keep LOGGING below
CELERY_TIMEZONE = "UTC"
# Periodic work, sent by `make beat` (exactly one beat process per deployment). `expires` drops a
# run still queued when the next one is due, so a stopped worker does not come back to a backlog.
CELERY_BEAT_SCHEDULE = {
    "expire-orders": {
        "task": "orders.expire",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 55},
    },
    "reconcile-payments": {
        "task": "payments.reconcile",
        "schedule": timedelta(minutes=5),
        "options": {"expires": 4 * 60},
    },
    "purge-idempotency-keys": {
        "task": "core.idempotency_keys_purge",
        "schedule": timedelta(hours=1),
        "options": {"expires": 50 * 60},
    },
    "release-payouts": {
        "task": "payouts.release",
        "schedule": timedelta(hours=1),
        "options": {"expires": 50 * 60},
    },
}

# --- Logging, metrics, health and error reporting ------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# json: one JSON object per line (time, level, logger, message, request_id, exc_info), for log
# shippers; plain: readable lines for a terminal.
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if IS_PROD else "plain")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} is not one of: json, plain.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "apps.core.observability.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "apps.core.observability.JsonLogFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.request": {"level": "ERROR"}},
}

# Prometheus metrics at /metrics for a scraper presenting this Bearer token; unset: no endpoint.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# The broker /healthz pings: Celery's when set, else REDIS_URL's Redis; neither: "off".
HEALTH_BROKER_URL = "" if CELERY_TASK_ALWAYS_EAGER else CELERY_BROKER_URL  # the broker tasks really use
# With several gunicorn workers, every worker writes its metrics to PROMETHEUS_MULTIPROC_DIR
# (an empty directory, read by prometheus_client itself) and /metrics adds them up.

SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    from apps.core.observability import sentry_before_send

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=ENV,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        traces_sample_rate=0.0,
        before_send=sentry_before_send,
    )
