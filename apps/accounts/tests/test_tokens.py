"""Login, refresh-token rotation and logout (POST /api/v1/auth/token/, token/refresh/, logout/)."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/users/me/"
BAD_CREDENTIALS = {"detail": "No active account found with the given credentials", "code": "no_active_account"}


def login(client, email, password=DEFAULT_PASSWORD):
    return client.post(LOGIN, {"email": email, "password": password})


def test_login_answers_an_access_and_refresh_pair_for_the_user(api_client, buyer):
    response = login(api_client, buyer.email)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert AccessToken(body["access"])["user_id"] == str(buyer.pk)
    assert RefreshToken(body["refresh"])["user_id"] == str(buyer.pk)
    assert api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {body['access']}").json()["id"] == buyer.pk


def test_login_records_the_last_login(api_client, buyer):
    assert buyer.last_login is None

    login(api_client, buyer.email)

    buyer.refresh_from_db()
    assert buyer.last_login is not None


def test_login_failure_is_identical_for_unknown_email_and_wrong_password(api_client, buyer):
    unknown = login(api_client, "nobody@example.com")
    wrong_password = login(api_client, buyer.email, "not-the-password-at-all")

    assert unknown.status_code == wrong_password.status_code == 401
    assert unknown.json() == wrong_password.json() == BAD_CREDENTIALS
    assert not OutstandingToken.objects.exists()


def test_login_refuses_an_inactive_user_with_the_bad_credentials_body(api_client):
    inactive = UserFactory(is_active=False)

    response = login(api_client, inactive.email)

    assert response.status_code == 401
    assert response.json() == BAD_CREDENTIALS
    assert not OutstandingToken.objects.filter(user=inactive).exists()


def test_login_without_a_password_is_a_validation_error(api_client, buyer):
    response = api_client.post(LOGIN, {"email": buyer.email})

    assert response.status_code == 400
    assert response.json() == {"password": ["This field is required."]}


def test_refresh_rotates_the_refresh_token(api_client, buyer):
    first = login(api_client, buyer.email).json()["refresh"]

    response = api_client.post(REFRESH, {"refresh": first})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert body["refresh"] != first
    assert AccessToken(body["access"])["user_id"] == str(buyer.pk)
    assert BlacklistedToken.objects.filter(token__jti=RefreshToken(first, verify=False)["jti"]).exists()


def test_the_rotated_refresh_token_works_and_the_old_one_is_dead(api_client, buyer):
    first = login(api_client, buyer.email).json()["refresh"]
    second = api_client.post(REFRESH, {"refresh": first}).json()["refresh"]

    replay = api_client.post(REFRESH, {"refresh": first})
    third = api_client.post(REFRESH, {"refresh": second})

    assert replay.status_code == 401
    assert replay.json()["code"] == "token_not_valid"
    assert third.status_code == 200


def test_refresh_with_a_garbage_token_is_401(api_client):
    response = api_client.post(REFRESH, {"refresh": "not.a.jwt"})

    assert response.status_code == 401
    assert response.json() == {"detail": "Token is invalid or expired.", "code": "token_not_valid"}


def test_refresh_with_an_access_token_is_401(api_client, buyer):
    access = login(api_client, buyer.email).json()["access"]

    response = api_client.post(REFRESH, {"refresh": access})

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_an_expired_refresh_token_is_401(api_client, buyer):
    token = RefreshToken.for_user(buyer)
    token.set_exp(lifetime=timedelta(seconds=-1))

    response = api_client.post(REFRESH, {"refresh": str(token)})

    assert response.status_code == 401
    assert response.json() == {"detail": "Token is invalid or expired.", "code": "token_not_valid"}


def test_an_expired_access_token_is_refused(api_client, buyer):
    token = AccessToken.for_user(buyer)
    token.set_exp(lifetime=timedelta(seconds=-1))

    response = api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 401
    assert response.json() == {"detail": "Given token not valid for any token type", "code": "token_not_valid"}


def test_an_access_token_of_a_removed_user_is_401_user_not_found(api_client, buyer):
    access = AccessToken.for_user(buyer)
    buyer.delete()

    response = api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {access}")

    assert response.status_code == 401
    assert response.json() == {"detail": "User not found", "code": "user_not_found"}


def test_refresh_for_an_inactive_user_is_401(api_client, buyer):
    refresh = login(api_client, buyer.email).json()["refresh"]
    buyer.is_active = False
    buyer.save(update_fields=["is_active"])

    response = api_client.post(REFRESH, {"refresh": refresh})

    assert response.status_code == 401
    assert response.json() == {"detail": "No active account found for the given token.", "code": "no_active_account"}


def test_refresh_for_a_removed_user_is_401_not_500(api_client, buyer):
    refresh = login(api_client, buyer.email).json()["refresh"]
    buyer.delete()

    response = api_client.post(REFRESH, {"refresh": refresh})

    assert response.status_code == 401
    assert response.json() == {"detail": "No active account found for the given token.", "code": "no_active_account"}


def test_refresh_after_deleting_the_account_through_the_api_is_401(api_client, buyer):
    pair = login(api_client, buyer.email).json()
    api_client.delete(ME, HTTP_AUTHORIZATION=f"Bearer {pair['access']}")

    response = api_client.post(REFRESH, {"refresh": pair["refresh"]})

    assert response.status_code == 401


def test_refresh_without_a_token_is_400(api_client):
    response = api_client.post(REFRESH, {})

    assert response.status_code == 400
    assert response.json() == {"refresh": ["This field is required."]}


def test_logout_kills_that_refresh_token_only(api_client, buyer, buyer_client):
    kept = login(api_client, buyer.email).json()["refresh"]
    pair = login(api_client, buyer.email).json()

    response = buyer_client.post(LOGOUT, {"refresh": pair["refresh"]})

    assert response.status_code == 204
    assert response.content == b""
    assert api_client.post(REFRESH, {"refresh": pair["refresh"]}).status_code == 401
    assert api_client.post(REFRESH, {"refresh": kept}).status_code == 200


def test_logout_twice_with_the_same_token_is_400(api_client, buyer, buyer_client):
    refresh = login(api_client, buyer.email).json()["refresh"]
    buyer_client.post(LOGOUT, {"refresh": refresh})

    response = buyer_client.post(LOGOUT, {"refresh": refresh})

    assert response.status_code == 400
    assert response.json() == {"refresh": ["The token is invalid or expired."]}


def test_logout_with_another_users_refresh_token_is_400_and_the_token_still_works(api_client, buyer_client):
    other = UserFactory()
    their_refresh = login(api_client, other.email).json()["refresh"]

    response = buyer_client.post(LOGOUT, {"refresh": their_refresh})

    assert response.status_code == 400
    assert response.json() == {"refresh": ["The token is invalid or expired."]}
    assert not BlacklistedToken.objects.exists()
    assert api_client.post(REFRESH, {"refresh": their_refresh}).status_code == 200


def test_logout_with_a_garbage_token_is_400(buyer_client):
    response = buyer_client.post(LOGOUT, {"refresh": "garbage"})

    assert response.status_code == 400
    assert response.json() == {"refresh": ["The token is invalid or expired."]}


def test_logout_needs_authentication(api_client, buyer):
    refresh = login(api_client, buyer.email).json()["refresh"]

    response = api_client.post(LOGOUT, {"refresh": refresh})

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided.", "code": "not_authenticated"}
    assert api_client.post(REFRESH, {"refresh": refresh}).status_code == 200


def test_a_garbage_access_token_is_401_with_the_error_shape(api_client):
    response = api_client.get(ME, HTTP_AUTHORIZATION="Bearer garbage")

    assert response.status_code == 401
    assert response.json() == {"detail": "Given token not valid for any token type", "code": "token_not_valid"}
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_refreshes_of_one_token_spend_it_once(monkeypatch):
    user = UserFactory()
    refresh = str(RefreshToken.for_user(user))
    original_validate = TokenRefreshSerializer.validate

    def slow_validate(self, attrs):
        time.sleep(0.3)  # widen the window between the blacklist check and the blacklisting
        return original_validate(self, attrs)

    monkeypatch.setattr(TokenRefreshSerializer, "validate", slow_validate)
    start = threading.Barrier(2)
    statuses: list[int] = []

    def present_token():
        try:
            start.wait()
            statuses.append(APIClient().post(REFRESH, {"refresh": refresh}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=present_token) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert sorted(statuses) == [200, 401]
    assert OutstandingToken.objects.filter(user=user).count() == 2
