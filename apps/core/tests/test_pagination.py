"""``page_size``: a positive integer, capped at 100; anything else is a 400 naming it."""

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
