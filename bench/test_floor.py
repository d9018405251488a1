"""The bench-only floor view (bench/urls.py): authenticated, runs exactly the statements asked
for in one transaction, refuses a count out of range."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.tests.factories import UserFactory
from bench.urls import FLOOR_STATEMENT, MAX_FLOOR_STATEMENTS

pytestmark = [pytest.mark.django_db, pytest.mark.urls("bench.urls")]


@pytest.fixture
def client():
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(UserFactory()).access_token}")
    return api


def test_floor_runs_the_statements_asked_for(client):
    with CaptureQueriesContext(connection) as captured:
        response = client.post("/bench/floor/?statements=7", {"shipping_address": {}}, format="json")
    assert response.status_code == 201
    assert response.json() == {"statements": 7, "body": "dict"}
    floor = [query["sql"] for query in captured.captured_queries if query["sql"].startswith("SELECT CAST(")]
    assert floor == [FLOOR_STATEMENT.replace("%s", str(number)) for number in range(7)]


@pytest.mark.parametrize("body", [[{"a": 1}], 3, "text"])
def test_floor_parses_any_json_body(client, body):
    response = client.post("/bench/floor/?statements=0", body, format="json")
    assert response.status_code == 201
    assert response.json()["body"] == type(body).__name__


def test_floor_needs_a_token():
    assert APIClient().post("/bench/floor/?statements=1", {}, format="json").status_code == 401


@pytest.mark.parametrize("statements", ["-1", str(MAX_FLOOR_STATEMENTS + 1), "many"])
def test_floor_refuses_a_count_out_of_range(client, statements):
    response = client.post(f"/bench/floor/?statements={statements}", {}, format="json")
    assert response.status_code == 400
    assert response.json()["statements"] == [f"A whole number from 0 to {MAX_FLOOR_STATEMENTS}."]
