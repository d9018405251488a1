import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_ok_and_cache_off_without_redis(api_client, settings):
    settings.REDIS_URL = ""
    response = api_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "off"}
