"""Per-IP and per-email throttles on the sensitive auth endpoints (apps/core/throttling.py)."""

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from django.core.cache import cache, caches
from django.test import RequestFactory
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from apps.accounts.models import User
from apps.accounts.tests.factories import DEFAULT_PASSWORD
from apps.core.throttling import local_counters, scoped_throttles

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/token/"
REGISTER = "/api/v1/auth/register/"
RESET = "/api/v1/auth/password-reset/"
CONFIRM = "/api/v1/auth/password-reset/confirm/"
THROTTLED = {
    "detail": "Request was throttled. Expected available in 60 seconds.",
    "code": "throttled",
    "retry_after": 60,
}


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    """A fixed clock, so a window never slides during a test and Retry-After is exact."""
    monkeypatch.setattr(SimpleRateThrottle, "timer", lambda self: 1_000_000.0)


def login(client, email, ip="10.0.0.1", **headers):
    return client.post(LOGIN, {"email": email, "password": "wrong-password-1"}, REMOTE_ADDR=ip, **headers)


def assert_throttled(response):
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert response.json() == THROTTLED


def test_login_is_throttled_per_email_with_retry_after(api_client, rates):
    rates(login_email="2/min", login_ip="100/min")

    answers = [login(api_client, "ann@example.com").status_code for _ in range(2)]
    throttled = login(api_client, "ann@example.com")

    assert answers == [401, 401]
    assert_throttled(throttled)


def test_the_email_limit_throttles_even_the_right_password(api_client, rates, buyer):
    rates(login_email="1/min", login_ip="100/min")
    login(api_client, buyer.email)

    response = api_client.post(LOGIN, {"email": buyer.email, "password": DEFAULT_PASSWORD})

    assert_throttled(response)


def test_the_email_limit_holds_across_ips_and_letter_case(api_client, rates):
    rates(login_email="2/min", login_ip="100/min")
    login(api_client, "ann@example.com", ip="10.0.0.1")
    login(api_client, "ANN@example.com", ip="10.0.0.2")

    response = login(api_client, " Ann@Example.com ", ip="10.0.0.3")

    assert_throttled(response)


def test_the_email_limit_is_per_email(api_client, rates):
    rates(login_email="1/min", login_ip="100/min")
    login(api_client, "ann@example.com")

    response = login(api_client, "bob@example.com")

    assert response.status_code == 401


@pytest.mark.parametrize("shared_cache", ["up", "down"])
def test_login_is_throttled_per_ip_whatever_the_email(api_client, rates, request, shared_cache):
    """With Redis down too: the per-process fallback still counts."""
    if shared_cache == "down":
        request.getfixturevalue("dead_redis")
    rates(login_email="100/min", login_ip="3/min")
    for number in range(3):
        assert login(api_client, f"user{number}@example.com").status_code == 401

    same_ip = login(api_client, "fresh@example.com")
    other_ip = login(api_client, "fresh2@example.com", ip="10.0.0.2")

    assert_throttled(same_ip)
    assert other_ip.status_code == 401


def test_a_spoofed_forwarded_for_does_not_reset_the_ip_limit_without_trusted_proxies(api_client, rates):
    assert api_settings.NUM_PROXIES == 0
    rates(login_email="100/min", login_ip="2/min")
    login(api_client, "a@example.com", HTTP_X_FORWARDED_FOR="1.1.1.1")
    login(api_client, "b@example.com", HTTP_X_FORWARDED_FOR="2.2.2.2")

    response = login(api_client, "c@example.com", HTTP_X_FORWARDED_FOR="3.3.3.3")

    assert_throttled(response)


def test_with_one_trusted_proxy_the_client_is_the_last_forwarded_address(api_client, rates, monkeypatch):
    monkeypatch.setattr(api_settings, "NUM_PROXIES", 1)
    rates(login_email="100/min", login_ip="2/min")
    login(api_client, "a@example.com", ip="10.9.9.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    login(api_client, "b@example.com", ip="10.9.9.9", HTTP_X_FORWARDED_FOR="7.7.7.7, 203.0.113.7")

    spoofed_first_hop = login(api_client, "c@example.com", ip="10.9.9.9", HTTP_X_FORWARDED_FOR="8.8.8.8, 203.0.113.7")
    another_client = login(api_client, "d@example.com", ip="10.9.9.9", HTTP_X_FORWARDED_FOR="203.0.113.8")

    assert_throttled(spoofed_first_hop)
    assert another_client.status_code == 401


def register(client, email, ip="10.0.0.1"):
    return client.post(REGISTER, {"email": email, "password": "plum-orbit-velvet-42"}, REMOTE_ADDR=ip)


def test_register_is_throttled_per_email_across_ips(api_client, rates):
    rates(register_email="1/hour", register_ip="100/hour")
    register(api_client, "ann@example.com", ip="10.0.0.1")

    response = register(api_client, "ann@example.com", ip="10.0.0.2")

    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    assert response.json()["code"] == "throttled"


def test_register_is_throttled_per_ip(api_client, rates):
    rates(register_email="100/hour", register_ip="2/hour")
    register(api_client, "a@example.com")
    register(api_client, "b@example.com")

    response = register(api_client, "c@example.com")

    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    assert not User.objects.filter(email="c@example.com").exists()


def test_password_reset_is_throttled_per_email_and_per_ip(api_client, rates):
    rates(password_reset_email="1/hour", password_reset_ip="2/hour")
    first = api_client.post(RESET, {"email": "ann@example.com"}, REMOTE_ADDR="10.0.0.1")

    same_email_other_ip = api_client.post(RESET, {"email": "ann@example.com"}, REMOTE_ADDR="10.0.0.2")
    other_email = api_client.post(RESET, {"email": "bob@example.com"}, REMOTE_ADDR="10.0.0.1")
    ip_exhausted = api_client.post(RESET, {"email": "cat@example.com"}, REMOTE_ADDR="10.0.0.1")

    assert first.status_code == 202
    assert same_email_other_ip.status_code == 429
    assert other_email.status_code == 202
    assert ip_exhausted.status_code == 429
    assert ip_exhausted["Retry-After"] == "3600"


def test_password_reset_confirm_is_throttled_per_ip(api_client, rates):
    rates(password_reset_ip="1/hour")
    body = {"uid": "MQ", "token": "bad-token", "new_password": "plum-orbit-velvet-42"}
    first = api_client.post(CONFIRM, body)

    second = api_client.post(CONFIRM, body)

    assert first.status_code == 400
    assert second.status_code == 429


def test_anonymous_requests_have_a_general_per_ip_limit(api_client, rates):
    rates(anon="2/min")
    api_client.get("/api/v1/stores/", REMOTE_ADDR="10.0.0.1")
    api_client.get("/api/v1/stores/", REMOTE_ADDR="10.0.0.1")

    throttled = api_client.get("/api/v1/stores/", REMOTE_ADDR="10.0.0.1")
    other_ip = api_client.get("/api/v1/stores/", REMOTE_ADDR="10.0.0.2")

    assert_throttled(throttled)
    assert other_ip.status_code == 200


def test_signed_in_users_have_a_general_per_user_limit(buyer_client, rates):
    rates(user="2/min")
    buyer_client.get("/api/v1/users/me/", REMOTE_ADDR="10.0.0.1")
    buyer_client.get("/api/v1/users/me/", REMOTE_ADDR="10.0.0.2")

    response = buyer_client.get("/api/v1/users/me/", REMOTE_ADDR="10.0.0.3")

    assert response.status_code == 429


def test_throttle_disabled_lets_everything_through(api_client, buyer_client, rates, settings):
    settings.THROTTLE_DISABLED = True
    rates(login_email="1/min", login_ip="1/min", register_email="1/hour", register_ip="1/hour", user="1/min")
    rates(password_reset_email="1/hour", password_reset_ip="1/hour", anon="1/min")

    logins = {login(api_client, "ann@example.com").status_code for _ in range(3)}
    registers = {register(api_client, f"u{n}@example.com").status_code for n in range(3)}
    resets = {api_client.post(RESET, {"email": "ann@example.com"}).status_code for _ in range(3)}
    mine = {buyer_client.get("/api/v1/users/me/").status_code for _ in range(3)}

    assert (logins, registers, resets, mine) == ({401}, {201}, {202}, {200})


def test_the_health_check_is_never_throttled(api_client, rates):
    rates(anon="1/min")

    statuses = {api_client.get("/healthz").status_code for _ in range(3)}

    assert statuses == {200}


# --- The shared cache unreachable: per-process counters, never no limit -------------------------

FALLBACK_WARNING = "cache unreachable, requests are counted per process until it is back"


@pytest.fixture(autouse=True)
def _fresh_local_counters():
    local_counters.reset()
    yield
    local_counters.reset()


@pytest.fixture
def shared_cache_outage(monkeypatch):
    """Make the shared (default) cache fail like a dead Redis while inside ``with outage():``."""
    shared = caches["default"]

    def unreachable(*args, **kwargs):
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    @contextmanager
    def outage():
        with monkeypatch.context() as patch:
            for method in ("get", "set", "add", "incr", "get_many"):
                patch.setattr(shared, method, unreachable)
            yield

    return outage


def test_with_redis_down_login_is_still_throttled_per_email(dead_redis, api_client, rates, caplog):
    rates(login_email="2/min", login_ip="100/min")

    answers = [login(api_client, "ann@example.com").status_code for _ in range(2)]
    throttled = login(api_client, "ann@example.com")
    other_email = login(api_client, "bob@example.com")

    assert answers == [401, 401]
    assert_throttled(throttled)
    assert other_email.status_code == 401
    assert caplog.text.count(FALLBACK_WARNING) == 1  # once per minute, not once per request


def test_with_redis_down_register_is_still_throttled(dead_redis, api_client, rates):
    rates(register_email="1/hour", register_ip="100/hour")
    register(api_client, "ann@example.com", ip="10.0.0.1")

    response = register(api_client, "ann@example.com", ip="10.0.0.2")

    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    assert User.objects.filter(email="ann@example.com").count() == 1


def test_with_redis_down_password_reset_is_still_throttled(dead_redis, api_client, rates, mailoutbox):
    rates(password_reset_email="1/hour", password_reset_ip="100/hour")
    first = api_client.post(RESET, {"email": "ann@example.com"}, REMOTE_ADDR="10.0.0.1")

    second = api_client.post(RESET, {"email": "ann@example.com"}, REMOTE_ADDR="10.0.0.2")

    assert first.status_code == 202
    assert second.status_code == 429
    assert second["Retry-After"] == "3600"


def test_with_redis_down_the_general_limits_still_hold(dead_redis, api_client, buyer_client, rates):
    rates(anon="2/min", user="2/min")
    anonymous = [api_client.get("/api/v1/stores/", REMOTE_ADDR="10.0.0.1").status_code for _ in range(2)]
    signed_in = [buyer_client.get("/api/v1/users/me/").status_code for _ in range(2)]

    anonymous_throttled = api_client.get("/api/v1/stores/", REMOTE_ADDR="10.0.0.1")
    other_ip = api_client.get("/api/v1/stores/", REMOTE_ADDR="10.0.0.2")
    signed_in_throttled = buyer_client.get("/api/v1/users/me/")

    assert (anonymous, signed_in) == ([200, 200], [200, 200])
    assert_throttled(anonymous_throttled)
    assert other_ip.status_code == 200
    assert_throttled(signed_in_throttled)


def test_with_redis_down_throttle_disabled_still_lets_everything_through(dead_redis, api_client, rates, settings):
    settings.THROTTLE_DISABLED = True
    rates(login_email="1/min", login_ip="1/min")

    statuses = {login(api_client, "ann@example.com").status_code for _ in range(3)}

    assert statuses == {401}


def test_when_the_cache_is_back_its_shared_counters_count_again(api_client, rates, shared_cache_outage):
    rates(login_email="2/min", login_ip="100/min")
    before = login(api_client, "ann@example.com")  # counted in the shared cache
    with shared_cache_outage():
        during = [login(api_client, "ann@example.com").status_code for _ in range(3)]  # counted locally

    back = login(api_client, "ann@example.com")  # the shared count (1) lets it through
    shared_limit = login(api_client, "ann@example.com")

    assert before.status_code == 401
    assert during == [401, 401, 429]
    assert back.status_code == 401
    assert_throttled(shared_limit)
    assert cache.get("throttle_login_email_ann@example.com") == [1_000_000.0, 1_000_000.0]


def test_with_redis_down_concurrent_requests_in_one_process_get_exactly_the_limit(dead_redis, rates, monkeypatch):
    rates(login_ip="10/min")
    local_get = local_counters.cache.get

    def slow_get(*args, **kwargs):  # widens the window between a thread's read and its write
        value = local_get(*args, **kwargs)
        time.sleep(0.002)
        return value

    monkeypatch.setattr(local_counters.cache, "get", slow_get)
    throttle_class, _ = scoped_throttles("login")
    request = Request(RequestFactory().post(LOGIN, REMOTE_ADDR="10.0.0.1"))

    def attempt(_):
        return throttle_class().allow_request(request, view=None)

    with ThreadPoolExecutor(max_workers=8) as pool:
        allowed = list(pool.map(attempt, range(40)))

    assert allowed.count(True) == 10
