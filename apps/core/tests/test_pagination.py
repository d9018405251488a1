"""``page`` and ``page_size``: positive integers (``page_size`` capped at 100); anything else is a
400 naming the parameter; a page past the last one is a 404."""

import pytest

from apps.accounts.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", ["null", "0", "-5", "2.5", "", "٣"])
def test_a_page_size_that_is_not_a_positive_integer_is_400(api_client, value):
    response = api_client.get("/api/v1/stores/", {"page_size": value})

    assert response.status_code == 400
    assert list(response.json()) == ["page_size"]


def test_a_page_size_is_honoured_and_capped(api_client):
    StoreFactory.create_batch(3)

    assert len(api_client.get("/api/v1/stores/", {"page_size": "2"}).json()["results"]) == 2
    assert api_client.get("/api/v1/stores/", {"page_size": "1000"}).status_code == 200
    assert len(api_client.get("/api/v1/stores/").json()["results"]) == 3


@pytest.mark.parametrize("value", ["", "0", "abc", "last", "1.0"])
def test_a_page_that_is_not_a_positive_integer_is_400(api_client, value):
    response = api_client.get("/api/v1/stores/", {"page": value})

    assert response.status_code == 400
    assert list(response.json()) == ["page"]


def test_a_page_past_the_last_one_is_404(api_client):
    StoreFactory()

    assert api_client.get("/api/v1/stores/", {"page": "1"}).status_code == 200
    assert api_client.get("/api/v1/stores/", {"page": "2"}).status_code == 404
