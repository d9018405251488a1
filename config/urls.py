from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.catalog.media import media_serve
from apps.core.apis import HealthApi, metrics, not_found

urlpatterns = [
    path("healthz", HealthApi.as_view(), name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("api/v1/", include("apps.accounts.urls")),
    path("api/v1/", include("apps.catalog.urls")),
    path("api/v1/", include("apps.shipping.urls")),
    path("api/v1/", include("apps.cart.urls")),
    path("api/v1/", include("apps.orders.urls")),
    path("api/v1/", include("apps.payments.urls")),
    path("api/v1/", include("apps.checkout.urls")),
    path("api/v1/", include("apps.returns.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path(f"{settings.ADMIN_URL}", admin.site.urls),
    # Unknown API paths answer JSON even with DEBUG on (Django's debug 404 page is HTML).
    re_path(r"^api/", not_found),
]

if settings.MEDIA_SERVED_BY_APP:
    # Local image storage: the app serves /media/ itself, with DEBUG on or off (make run and
    # gunicorn alike). Static files, the placeholder image among them, are WhiteNoise's.
    urlpatterns.append(re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.+)$", media_serve, name="media"))

handler404 = "apps.core.apis.not_found"
handler500 = "apps.core.apis.internal_error"
