"""The signed-in user's own account: GET/PATCH/DELETE /api/v1/users/me/."""

import pytest
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from apps.accounts.models import Address, User
from apps.accounts.tests.factories import DEFAULT_PASSWORD, AddressFactory, StoreFactory, UserFactory
from conftest import authenticated_client

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me/"
LOGIN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"


def test_me_answers_exactly_the_contract_fields(buyer_client, user):
    response = buyer_client.get(ME)

    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": "",
        "is_seller": False,
        "date_joined": user.date_joined.isoformat().replace("+00:00", "Z"),
        "preferences": {"newsletter": False, "language": "en"},
    }


def test_me_shows_a_seller_as_seller(seller_client):
    assert seller_client.get(ME).json()["is_seller"] is True


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_me_is_401_for_anonymous(api_client, method):
    response = getattr(api_client, method)(ME)

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided.", "code": "not_authenticated"}


def test_patch_updates_names_and_phone(buyer_client, user):
    response = buyer_client.patch(ME, {"first_name": "Ada", "last_name": "Byron", "phone": "+44 20 7946 0000"})

    assert response.status_code == 200
    assert (response.json()["first_name"], response.json()["last_name"], response.json()["phone"]) == (
        "Ada",
        "Byron",
        "+44 20 7946 0000",
    )
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.phone) == ("Ada", "Byron", "+44 20 7946 0000")


def test_patch_leaves_fields_that_were_not_sent(buyer_client, user):
    user.phone = "+1 555 0100"
    user.save(update_fields=["phone"])
    first_name = user.first_name

    buyer_client.patch(ME, {"last_name": "New"})

    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.phone) == (first_name, "New", "+1 555 0100")


def test_patch_refuses_a_malformed_phone(buyer_client, user):
    response = buyer_client.patch(ME, {"phone": "call me maybe"})

    assert response.status_code == 400
    assert list(response.json()) == ["phone"]
    user.refresh_from_db()
    assert user.phone == ""


def test_patch_merges_preferences_key_by_key(buyer_client, user):
    user.preferences = {"newsletter": True, "language": "en"}
    user.save(update_fields=["preferences"])

    response = buyer_client.patch(ME, {"preferences": {"language": "de"}})

    assert response.status_code == 200
    assert response.json()["preferences"] == {"newsletter": True, "language": "de"}
    user.refresh_from_db()
    assert user.preferences == {"newsletter": True, "language": "de"}


def test_patch_newsletter_alone_keeps_the_language(buyer_client, user):
    response = buyer_client.patch(ME, {"preferences": {"newsletter": True}})

    assert response.json()["preferences"] == {"newsletter": True, "language": "en"}


@pytest.mark.parametrize(
    ("preferences", "errors"),
    [
        ({"theme": "dark"}, {"theme": ["Unknown preference."]}),
        ({"newsletter": "maybe"}, {"newsletter": ["Must be a valid boolean."]}),
        ({"newsletter": [True]}, {"newsletter": ["Must be a valid boolean."]}),
        ({"newsletter": "true"}, {"newsletter": ["Must be a valid boolean."]}),
        ({"newsletter": 1}, {"newsletter": ["Must be a valid boolean."]}),
        ({"language": "klingon"}, {"language": ['"klingon" is not a valid choice.']}),
        ("en", {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}),
        (None, ["This field may not be null."]),
    ],
    ids=[
        "unknown-key",
        "non-bool-string",
        "non-bool-list",
        "bool-as-string",
        "bool-as-number",
        "unknown-language",
        "not-an-object",
        "null",
    ],
)
def test_patch_refuses_invalid_preferences_and_changes_nothing(buyer_client, user, preferences, errors):
    response = buyer_client.patch(ME, {"first_name": "Changed", "preferences": preferences})

    assert response.status_code == 400
    assert response.json() == {"preferences": errors}
    user.refresh_from_db()
    assert user.preferences == {"newsletter": False, "language": "en"}
    assert user.first_name != "Changed"


def test_patch_ignores_read_only_and_privileged_fields(buyer_client, user):
    before = User.objects.filter(pk=user.pk).values().get()

    response = buyer_client.patch(
        ME,
        {
            "id": 999_999,
            "email": "attacker@example.com",
            "is_staff": True,
            "is_superuser": True,
            "is_seller": True,
            "is_active": False,
            "date_joined": "2000-01-01T00:00:00Z",
            "password": "hijacked-password-1",
        },
    )

    assert response.status_code == 200
    assert User.objects.filter(pk=user.pk).values().get() == before
    assert not User.objects.filter(email="attacker@example.com").exists()
    assert response.json()["id"] == user.pk


def test_delete_anonymises_and_deactivates_the_account(buyer_client, user, api_client):
    AddressFactory.create_batch(2, user=user)
    original_email = user.email
    user.phone = "+1 555 0100"
    user.preferences = {"newsletter": True, "language": "fr"}
    user.save()
    refresh = api_client.post(LOGIN, {"email": original_email, "password": DEFAULT_PASSWORD}).json()["refresh"]

    response = buyer_client.delete(ME)

    assert response.status_code == 204
    user.refresh_from_db()
    assert user.email != original_email
    assert user.email.endswith("@deleted.invalid")
    assert (user.first_name, user.last_name, user.phone) == ("", "", "")
    assert user.preferences == {"newsletter": False, "language": "en"}
    assert user.is_active is False
    assert not user.has_usable_password()
    assert not Address.objects.filter(user=user).exists()
    assert User.objects.filter(pk=user.pk).exists()
    assert not User.objects.filter(email=original_email).exists()
    assert api_client.post(LOGIN, {"email": original_email, "password": DEFAULT_PASSWORD}).status_code == 401
    assert api_client.post(REFRESH, {"refresh": refresh}).status_code == 401
    assert OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).count() == 0


def test_the_access_token_is_refused_after_delete(buyer_client):
    buyer_client.delete(ME)

    response = buyer_client.get(ME)

    assert response.status_code == 401
    assert response.json() == {"detail": "User is inactive", "code": "user_inactive"}


def test_delete_leaves_other_users_alone(buyer_client):
    other = UserFactory()
    other_address = AddressFactory(user=other)

    buyer_client.delete(ME)

    other.refresh_from_db()
    assert other.is_active is True
    assert Address.objects.filter(pk=other_address.pk).exists()


def test_delete_of_a_seller_hides_the_store_and_keeps_it_for_the_books(api_client):
    store = StoreFactory()
    client = authenticated_client(store.owner)

    response = client.delete(ME)

    assert response.status_code == 204
    store.refresh_from_db()
    assert store.is_active is False
    assert api_client.get(f"/api/v1/stores/{store.slug}/").status_code == 404


def test_a_deleted_email_can_register_again(buyer_client, user, api_client):
    email = user.email
    buyer_client.delete(ME)

    response = api_client.post("/api/v1/auth/register/", {"email": email, "password": "plum-orbit-velvet-42"})

    assert response.status_code == 201
    assert User.objects.filter(email=email, is_active=True).count() == 1
