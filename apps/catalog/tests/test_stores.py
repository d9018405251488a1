"""The public store pages (/api/v1/stores/): open stores with their count of active products."""

import pytest

from apps.accounts.models import Store
from apps.accounts.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

STORES = "/api/v1/stores/"


def iso(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def test_public_list_is_paginated_and_hides_inactive_stores(api_client):
    StoreFactory(name="Beta", slug="beta")
    StoreFactory(name="Alpha", slug="alpha", description="First.")
    StoreFactory(name="Closed", slug="closed", is_active=False)

    response = api_client.get(STORES)

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (2, None, None)
    assert [store["slug"] for store in body["results"]] == ["alpha", "beta"]
    alpha = Store.objects.get(slug="alpha")
    assert body["results"][0] == {
        "slug": "alpha",
        "name": "Alpha",
        "description": "First.",
        "created_at": iso(alpha.created_at),
        "product_count": 0,
    }


def test_public_list_pages_with_page_size(api_client):
    StoreFactory.create_batch(3)

    first = api_client.get(STORES, {"page_size": 2}).json()
    second = api_client.get(STORES, {"page_size": 2, "page": 2}).json()

    assert first["count"] == 3
    assert len(first["results"]) == 2
    assert first["next"] == "http://testserver/api/v1/stores/?page=2&page_size=2"
    assert first["previous"] is None
    assert len(second["results"]) == 1
    assert second["next"] is None
    assert {s["slug"] for s in first["results"]}.isdisjoint({s["slug"] for s in second["results"]})


def test_public_list_caps_page_size_at_100(api_client):
    StoreFactory.create_batch(101)

    body = api_client.get(STORES, {"page_size": 1000}).json()

    assert body["count"] == 101
    assert len(body["results"]) == 100


def test_public_list_default_page_size_is_20(api_client):
    StoreFactory.create_batch(21)

    assert len(api_client.get(STORES).json()["results"]) == 20


def test_public_list_page_beyond_the_end_is_404(api_client):
    StoreFactory()

    response = api_client.get(STORES, {"page": 5})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_public_list_query_count_does_not_grow_with_stores(api_client, django_assert_max_num_queries):
    StoreFactory.create_batch(3)
    with django_assert_max_num_queries(2):
        api_client.get(STORES, {"page_size": 2})
    StoreFactory.create_batch(30)
    with django_assert_max_num_queries(2):
        api_client.get(STORES, {"page_size": 30})


def test_public_detail_by_slug(api_client):
    store = StoreFactory(name="Alpha", slug="alpha", description="First.")

    response = api_client.get(f"{STORES}alpha/")

    assert response.status_code == 200
    assert response.json() == {
        "slug": "alpha",
        "name": "Alpha",
        "description": "First.",
        "created_at": iso(store.created_at),
        "product_count": 0,
    }


@pytest.mark.parametrize("slug", ["closed", "nope"])
def test_public_detail_of_an_inactive_or_unknown_store_is_404(api_client, slug):
    StoreFactory(slug="closed", is_active=False)

    response = api_client.get(f"{STORES}{slug}/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Store not found.", "code": "not_found"}


def test_public_pages_ignore_a_broken_bearer_token(api_client):
    StoreFactory(slug="alpha")
    api_client.credentials(HTTP_AUTHORIZATION="Bearer broken")

    assert api_client.get(STORES).status_code == 200
    assert api_client.get(f"{STORES}alpha/").status_code == 200
