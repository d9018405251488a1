"""The user's addresses: /api/v1/users/me/addresses/ and /api/v1/users/me/addresses/{id}/."""

import pytest

from apps.accounts.models import Address
from apps.accounts.services import MAX_ADDRESSES_PER_USER
from apps.accounts.tests.factories import AddressFactory, UserFactory

pytestmark = pytest.mark.django_db

ADDRESSES = "/api/v1/users/me/addresses/"
HOME = {
    "full_name": "Ann Lee",
    "line1": "1 Main Street",
    "line2": "Flat 2",
    "city": "Springfield",
    "region": "IL",
    "postal_code": "62701",
    "country": "US",
    "phone": "+1 217 555 0100",
}


def detail(address) -> str:
    return f"{ADDRESSES}{address.pk}/"


def test_create_answers_the_address_and_the_first_one_becomes_default(buyer_client, buyer):
    response = buyer_client.post(ADDRESSES, {**HOME, "is_default": False})

    assert response.status_code == 201
    address = Address.objects.get()
    assert response.json() == {"id": address.pk, **HOME, "is_default": True}
    assert address.user == buyer
    assert address.is_default is True


def test_a_second_address_is_not_default_unless_asked(buyer_client):
    first = buyer_client.post(ADDRESSES, HOME).json()

    second = buyer_client.post(ADDRESSES, {**HOME, "line1": "2 Side Street"}).json()

    assert second["is_default"] is False
    assert Address.objects.get(pk=first["id"]).is_default is True


def test_creating_a_second_default_flips_the_first(buyer_client, buyer):
    first = buyer_client.post(ADDRESSES, HOME).json()

    second = buyer_client.post(ADDRESSES, {**HOME, "line1": "2 Side Street", "is_default": True}).json()

    assert second["is_default"] is True
    assert Address.objects.get(pk=first["id"]).is_default is False
    assert list(Address.objects.filter(user=buyer, is_default=True).values_list("pk", flat=True)) == [second["id"]]


def test_patching_is_default_moves_the_default(buyer_client, buyer):
    first = AddressFactory(user=buyer, is_default=True)
    second = AddressFactory(user=buyer)

    response = buyer_client.patch(detail(second), {"is_default": True})

    assert response.status_code == 200
    assert response.json()["is_default"] is True
    first.refresh_from_db()
    assert first.is_default is False
    assert Address.objects.filter(user=buyer, is_default=True).get() == second


def test_making_my_address_default_leaves_other_users_defaults(buyer_client, buyer):
    theirs = AddressFactory(is_default=True)
    mine = AddressFactory(user=buyer)

    buyer_client.patch(detail(mine), {"is_default": True})

    theirs.refresh_from_db()
    assert theirs.is_default is True


def test_list_is_a_plain_array_of_my_addresses_default_first(buyer_client, buyer):
    other = AddressFactory(user=buyer, city="Berlin")
    default = AddressFactory(user=buyer, city="Paris", is_default=True)
    AddressFactory(city="Elsewhere")

    response = buyer_client.get(ADDRESSES)

    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert [(item["id"], item["city"], item["is_default"]) for item in body] == [
        (default.pk, "Paris", True),
        (other.pk, "Berlin", False),
    ]


def test_an_empty_list_is_an_empty_array(buyer_client):
    assert buyer_client.get(ADDRESSES).json() == []


def test_get_patch_delete_my_address(buyer_client, buyer):
    address = AddressFactory(user=buyer, city="Berlin", country="DE")

    got = buyer_client.get(detail(address))
    patched = buyer_client.patch(detail(address), {"city": "Hamburg", "postal_code": "20095"})
    deleted = buyer_client.delete(detail(address))

    assert got.status_code == 200
    assert got.json()["city"] == "Berlin"
    assert got.json()["country"] == "DE"
    assert patched.status_code == 200
    assert (patched.json()["city"], patched.json()["postal_code"], patched.json()["country"]) == (
        "Hamburg",
        "20095",
        "DE",
    )
    assert deleted.status_code == 204
    assert not Address.objects.filter(pk=address.pk).exists()


def test_patch_ignores_a_new_id(buyer_client, buyer):
    address = AddressFactory(user=buyer)

    response = buyer_client.patch(detail(address), {"id": address.pk + 100, "city": "Bonn"})

    assert response.json()["id"] == address.pk
    assert Address.objects.get().pk == address.pk


@pytest.mark.parametrize("country", ["XX", "usa", "USA", "840", "Germany", "", "D"])
def test_create_refuses_a_country_that_is_not_an_alpha2_code(buyer_client, country):
    response = buyer_client.post(ADDRESSES, {**HOME, "country": country})

    assert response.status_code == 400
    assert list(response.json()) == ["country"]
    assert not Address.objects.exists()


def test_lower_case_alpha2_is_accepted_and_upper_cased(buyer_client):
    response = buyer_client.post(ADDRESSES, {**HOME, "country": "de"})

    assert response.status_code == 201
    assert response.json()["country"] == "DE"


def test_patch_refuses_an_invalid_country_and_keeps_the_old_one(buyer_client, buyer):
    address = AddressFactory(user=buyer, country="DE")

    response = buyer_client.patch(detail(address), {"country": "usa"})

    assert response.status_code == 400
    address.refresh_from_db()
    assert address.country == "DE"


@pytest.mark.parametrize("missing", ["full_name", "line1", "city", "country"])
def test_create_needs_the_required_fields(buyer_client, missing):
    body = {key: value for key, value in HOME.items() if key != missing}

    response = buyer_client.post(ADDRESSES, body)

    assert response.status_code == 400
    assert response.json() == {missing: ["This field is required."]}


def test_create_refuses_a_malformed_phone(buyer_client):
    response = buyer_client.post(ADDRESSES, {**HOME, "phone": "<script>"})

    assert response.status_code == 400
    assert list(response.json()) == ["phone"]


def test_create_stops_at_the_address_limit(buyer_client, buyer):
    AddressFactory.create_batch(MAX_ADDRESSES_PER_USER, user=buyer)

    response = buyer_client.post(ADDRESSES, HOME)

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [f"At most {MAX_ADDRESSES_PER_USER} addresses per account."]}
    assert Address.objects.filter(user=buyer).count() == MAX_ADDRESSES_PER_USER


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_another_users_address_is_404_and_unchanged(buyer_client, method):
    theirs = AddressFactory(city="Lyon", is_default=True)

    response = getattr(buyer_client, method)(detail(theirs), {"city": "Hacked"})

    assert response.status_code == 404
    assert response.json() == {"detail": "Address not found.", "code": "not_found"}
    theirs.refresh_from_db()
    assert theirs.city == "Lyon"


def test_an_unknown_address_answers_like_another_users(buyer_client):
    theirs = AddressFactory()

    unknown = buyer_client.get(f"{ADDRESSES}{theirs.pk + 1000}/")
    other = buyer_client.get(detail(theirs))

    assert (unknown.status_code, unknown.json()) == (other.status_code, other.json())


@pytest.mark.parametrize("method", ["get", "post"])
def test_addresses_need_authentication(api_client, method):
    response = getattr(api_client, method)(ADDRESSES, HOME)

    assert response.status_code == 401
    assert not Address.objects.exists()


def test_created_address_belongs_to_me_even_if_another_user_is_named(buyer_client, buyer):
    other = UserFactory()

    response = buyer_client.post(ADDRESSES, {**HOME, "user": other.pk})

    assert response.status_code == 201
    assert Address.objects.get().user == buyer


def test_list_query_count_does_not_grow_with_addresses(buyer_client, buyer, django_assert_max_num_queries):
    AddressFactory.create_batch(2, user=buyer)
    with django_assert_max_num_queries(2):
        assert len(buyer_client.get(ADDRESSES).json()) == 2
    AddressFactory.create_batch(15, user=buyer)
    with django_assert_max_num_queries(2):
        assert len(buyer_client.get(ADDRESSES).json()) == 17
