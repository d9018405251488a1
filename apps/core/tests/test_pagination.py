"""``page`` and ``page_size``: positive integers (``page_size`` capped at 100); anything else is a
400 naming the parameter; a page reaching past the 10,000th row is 400 ``page_too_deep``; a page
past the last one is a 404."""

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


@pytest.mark.parametrize(
    ("path", "page", "page_size"),
    [
        ("/api/v1/products/", "501", None),  # 501 * 20
        ("/api/v1/products/", "101", "100"),
        ("/api/v1/products/", "101", "1000"),  # the size is capped at 100 first: 10,100 rows
        ("/api/v1/stores/", "10001", "1"),
        ("/api/v1/products/", "99999999999999999999", None),
    ],
)
def test_a_page_reaching_past_the_10000th_row_is_400_page_too_deep(api_client, path, page, page_size):
    params = {"page": page} | ({"page_size": page_size} if page_size else {})

    response = api_client.get(path, params)

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["max_rows"]) == ("page_too_deep", 10_000)
    assert "narrow" in body["detail"].lower()


@pytest.mark.parametrize(("page", "page_size"), [("500", None), ("100", "100"), ("10000", "1")])
def test_the_10000th_row_itself_can_be_paged_to(api_client, page, page_size):
    """The last allowed page is an ordinary page: here past the end of a small listing, so 404."""
    StoreFactory()
    params = {"page": page} | ({"page_size": page_size} if page_size else {})

    assert api_client.get("/api/v1/stores/", params).status_code == 404


def test_page_too_deep_is_described_in_the_schema(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    (page,) = [p for p in schema["paths"]["/api/v1/products/"]["get"]["parameters"] if p["name"] == "page"]

    assert "page_too_deep" in page["description"]
