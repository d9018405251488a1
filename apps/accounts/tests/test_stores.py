"""Opening and editing one's store (/api/v1/users/me/store/); the public store pages are the catalog's."""

from decimal import Decimal

import pytest

from apps.accounts.models import Store
from apps.accounts.services import store_open
from apps.accounts.tests.factories import StoreFactory, UserFactory

pytestmark = pytest.mark.django_db

MY_STORE = "/api/v1/users/me/store/"


def iso(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def test_opening_a_store_answers_201_and_makes_the_user_a_seller(buyer_client, buyer):
    response = buyer_client.post(MY_STORE, {"name": "Ann's Attic", "description": "Old things, good homes."})

    assert response.status_code == 201
    store = Store.objects.get()
    assert response.json() == {
        "slug": "anns-attic",
        "name": "Ann's Attic",
        "description": "Old things, good homes.",
        "commission_rate": "10.00",
        "created_at": iso(store.created_at),
    }
    assert store.owner == buyer
    buyer.refresh_from_db()
    assert buyer.is_seller is True
    assert buyer_client.get("/api/v1/users/me/").json()["is_seller"] is True


def test_opening_a_store_without_description_defaults_it_to_blank(buyer_client):
    response = buyer_client.post(MY_STORE, {"name": "Plain"})

    assert response.status_code == 201
    assert response.json()["description"] == ""


def test_opening_a_store_needs_a_name(buyer_client, buyer):
    response = buyer_client.post(MY_STORE, {"description": "nameless"})

    assert response.status_code == 400
    assert response.json() == {"name": ["This field is required."]}
    buyer.refresh_from_db()
    assert buyer.is_seller is False
    assert not Store.objects.exists()


def test_a_second_store_is_409_store_exists_and_changes_nothing(buyer_client):
    buyer_client.post(MY_STORE, {"name": "First"})

    response = buyer_client.post(MY_STORE, {"name": "Second"})

    assert response.status_code == 409
    assert response.json() == {"detail": "You already have a store.", "code": "store_exists"}
    assert list(Store.objects.values_list("name", flat=True)) == ["First"]


def test_opening_ignores_a_slug_sent_by_the_client(buyer_client):
    response = buyer_client.post(MY_STORE, {"name": "Real Name", "slug": "chosen-slug"})

    assert response.json()["slug"] == "real-name"


def test_two_stores_with_the_same_name_get_a_suffix(client_for):
    slugs = [
        client_for(UserFactory()).post(MY_STORE, {"name": name}).json()["slug"]
        for name in ("Corner Shop", "Corner Shop", "corner shop!")
    ]

    assert slugs == ["corner-shop", "corner-shop-2", "corner-shop-3"]
    assert sorted(Store.objects.values_list("name", flat=True)) == ["Corner Shop", "Corner Shop", "corner shop!"]


def test_store_open_retries_when_another_store_takes_the_slug_first(monkeypatch):
    StoreFactory(slug="corner-shop")
    picks = iter(["corner-shop", "corner-shop-2"])  # the first pick lost a race to the existing store
    monkeypatch.setattr("apps.accounts.services.unique_slug", lambda **kwargs: next(picks))
    owner = UserFactory()

    store = store_open(user=owner, name="Corner Shop")

    assert store.slug == "corner-shop-2"
    owner.refresh_from_db()
    assert owner.is_seller is True


def test_a_name_without_latin_letters_still_gets_a_slug(buyer_client):
    response = buyer_client.post(MY_STORE, {"name": "★★★"})

    assert response.status_code == 201
    assert response.json()["slug"].startswith("store-")
    assert len(response.json()["slug"]) == len("store-") + 6


def test_a_seller_reads_their_own_store(seller_client, seller):
    response = seller_client.get(MY_STORE)

    assert response.status_code == 200
    store = seller.store
    assert response.json() == {
        "slug": store.slug,
        "name": store.name,
        "description": store.description,
        "commission_rate": "10.00",
        "created_at": iso(store.created_at),
    }


def test_a_seller_sees_their_stores_commission_override_read_only(seller_client, seller):
    seller.store.commission_rate = Decimal("12.50")
    seller.store.save(update_fields=["commission_rate"])

    assert seller_client.get(MY_STORE).json()["commission_rate"] == "12.50"
    patched = seller_client.patch(MY_STORE, {"commission_rate": "0.00"}, format="json")
    assert patched.json()["commission_rate"] == "12.50"  # read-only: ignored
    assert Store.objects.get(pk=seller.store.pk).commission_rate == Decimal("12.50")


def test_renaming_keeps_the_slug(seller_client, seller):
    slug = seller.store.slug

    response = seller_client.patch(MY_STORE, {"name": "A Brand New Name", "description": "New words."})

    assert response.status_code == 200
    assert response.json()["slug"] == slug
    assert (response.json()["name"], response.json()["description"]) == ("A Brand New Name", "New words.")
    store = Store.objects.get(pk=seller.store.pk)
    assert (store.slug, store.name) == (slug, "A Brand New Name")


def test_patch_ignores_slug_and_owner(seller_client, seller):
    store = seller.store
    slug = store.slug
    other = UserFactory()

    response = seller_client.patch(MY_STORE, {"slug": "stolen", "owner": other.pk, "is_active": False})

    assert response.status_code == 200
    store.refresh_from_db()
    assert (store.slug, store.owner, store.is_active) == (slug, seller, True)


def test_patch_refuses_a_blank_name(seller_client, seller):
    name = seller.store.name

    response = seller_client.patch(MY_STORE, {"name": ""})

    assert response.status_code == 400
    assert list(response.json()) == ["name"]
    assert Store.objects.get(pk=seller.store.pk).name == name


@pytest.mark.parametrize("method", ["get", "patch"])
def test_my_store_is_404_for_a_non_seller(buyer_client, method):
    response = getattr(buyer_client, method)(MY_STORE, {"name": "Sneaky"})

    assert response.status_code == 404
    assert response.json() == {"detail": "You have no store yet.", "code": "no_store"}
    assert not Store.objects.exists()


@pytest.mark.parametrize("method", ["get", "post", "patch"])
def test_my_store_needs_authentication(api_client, method):
    response = getattr(api_client, method)(MY_STORE, {"name": "Anon"})

    assert response.status_code == 401
    assert not Store.objects.exists()


def test_a_seller_opening_a_store_does_not_touch_other_users(buyer_client):
    other = UserFactory()

    buyer_client.post(MY_STORE, {"name": "Mine"})

    other.refresh_from_db()
    assert other.is_seller is False


def test_store_open_gives_up_with_409_after_repeated_slug_races(buyer_client, buyer, monkeypatch):
    StoreFactory(slug="taken")
    monkeypatch.setattr("apps.accounts.services.unique_slug", lambda **kwargs: "taken")

    response = buyer_client.post(MY_STORE, {"name": "Taken"})

    assert response.status_code == 409
    assert response.json() == {"detail": "Could not pick a unique store address; try again.", "code": "slug_conflict"}
    buyer.refresh_from_db()
    assert buyer.is_seller is False
    assert not Store.objects.filter(owner=buyer).exists()
