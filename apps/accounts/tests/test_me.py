"""The signed-in user's own account: GET/PATCH/DELETE /api/v1/users/me/."""

import pytest
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from apps.accounts.models import Address, User
from apps.accounts.tests.factories import DEFAULT_PASSWORD, AddressFactory, StoreFactory, UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me/"
LOGIN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"


def test_me_answers_exactly_the_contract_fields(buyer_client, buyer):
    response = buyer_client.get(ME)

    assert response.status_code == 200
    assert response.json() == {
        "id": buyer.pk,
        "email": buyer.email,
        "first_name": buyer.first_name,
        "last_name": buyer.last_name,
        "phone": "",
        "is_seller": False,
        "date_joined": buyer.date_joined.isoformat().replace("+00:00", "Z"),
        "preferences": {"newsletter": False, "language": "en"},
    }


def test_me_shows_a_seller_as_seller(seller_client):
    assert seller_client.get(ME).json()["is_seller"] is True


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_me_is_401_for_anonymous(api_client, method):
    response = getattr(api_client, method)(ME)

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided.", "code": "not_authenticated"}


def test_patch_updates_names_and_phone(buyer_client, buyer):
    response = buyer_client.patch(ME, {"first_name": "Ada", "last_name": "Byron", "phone": "+44 20 7946 0000"})

    assert response.status_code == 200
    assert (response.json()["first_name"], response.json()["last_name"], response.json()["phone"]) == (
        "Ada",
        "Byron",
        "+44 20 7946 0000",
    )
    buyer.refresh_from_db()
    assert (buyer.first_name, buyer.last_name, buyer.phone) == ("Ada", "Byron", "+44 20 7946 0000")


def test_patch_leaves_fields_that_were_not_sent(buyer_client, buyer):
    buyer.phone = "+1 555 0100"
    buyer.save(update_fields=["phone"])
    first_name = buyer.first_name

    buyer_client.patch(ME, {"last_name": "New"})

    buyer.refresh_from_db()
    assert (buyer.first_name, buyer.last_name, buyer.phone) == (first_name, "New", "+1 555 0100")


def test_patch_refuses_a_malformed_phone(buyer_client, buyer):
    response = buyer_client.patch(ME, {"phone": "call me maybe"})

    assert response.status_code == 400
    assert list(response.json()) == ["phone"]
    buyer.refresh_from_db()
    assert buyer.phone == ""


def test_patch_merges_preferences_key_by_key(buyer_client, buyer):
    buyer.preferences = {"newsletter": True, "language": "en"}
    buyer.save(update_fields=["preferences"])

    response = buyer_client.patch(ME, {"preferences": {"language": "de"}})

    assert response.status_code == 200
    assert response.json()["preferences"] == {"newsletter": True, "language": "de"}
    buyer.refresh_from_db()
    assert buyer.preferences == {"newsletter": True, "language": "de"}


def test_patch_newsletter_alone_keeps_the_language(buyer_client, buyer):
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
def test_patch_refuses_invalid_preferences_and_changes_nothing(buyer_client, buyer, preferences, errors):
    response = buyer_client.patch(ME, {"first_name": "Changed", "preferences": preferences})

    assert response.status_code == 400
    assert response.json() == {"preferences": errors}
    buyer.refresh_from_db()
    assert buyer.preferences == {"newsletter": False, "language": "en"}
    assert buyer.first_name != "Changed"


def test_patch_ignores_read_only_and_privileged_fields(buyer_client, buyer):
    before = User.objects.filter(pk=buyer.pk).values().get()

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
    assert User.objects.filter(pk=buyer.pk).values().get() == before
    assert not User.objects.filter(email="attacker@example.com").exists()
    assert response.json()["id"] == buyer.pk


def test_delete_anonymises_and_deactivates_the_account(buyer_client, buyer, api_client):
    AddressFactory.create_batch(2, user=buyer)
    original_email = buyer.email
    buyer.phone = "+1 555 0100"
    buyer.preferences = {"newsletter": True, "language": "fr"}
    buyer.save()
    refresh = api_client.post(LOGIN, {"email": original_email, "password": DEFAULT_PASSWORD}).json()["refresh"]

    response = buyer_client.delete(ME)

    assert response.status_code == 204
    buyer.refresh_from_db()
    assert buyer.email != original_email
    assert buyer.email.endswith("@deleted.invalid")
    assert (buyer.first_name, buyer.last_name, buyer.phone) == ("", "", "")
    assert buyer.preferences == {"newsletter": False, "language": "en"}
    assert buyer.is_active is False
    assert not buyer.has_usable_password()
    assert not Address.objects.filter(user=buyer).exists()
    assert User.objects.filter(pk=buyer.pk).exists()
    assert not User.objects.filter(email=original_email).exists()
    assert api_client.post(LOGIN, {"email": original_email, "password": DEFAULT_PASSWORD}).status_code == 401
    assert api_client.post(REFRESH, {"refresh": refresh}).status_code == 401
    assert OutstandingToken.objects.filter(user=buyer, blacklistedtoken__isnull=True).count() == 0


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


def test_delete_of_a_seller_hides_the_store_and_keeps_it_for_the_books(api_client, client_for):
    store = StoreFactory()
    client = client_for(store.owner)

    response = client.delete(ME)

    assert response.status_code == 204
    store.refresh_from_db()
    assert store.is_active is False
    assert api_client.get(f"/api/v1/stores/{store.slug}/").status_code == 404


def test_a_deleted_email_can_register_again(buyer_client, buyer, api_client):
    email = buyer.email
    buyer_client.delete(ME)

    response = api_client.post("/api/v1/auth/register/", {"email": email, "password": "plum-orbit-velvet-42"})

    assert response.status_code == 201
    assert User.objects.filter(email=email, is_active=True).count() == 1
