"""The Django admin lists shipping rates."""

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.shipping.tests.factories import ShippingRateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_rates_are_listed_searchable_and_editable(admin_client):
    rate = ShippingRateFactory(name="Express", countries=["US"], store__name="Tea House")
    ShippingRateFactory(name="Economy")

    listing = admin_client.get("/admin/shipping/shippingrate/")
    search = admin_client.get("/admin/shipping/shippingrate/?q=tea+house")
    change = admin_client.get(f"/admin/shipping/shippingrate/{rate.pk}/change/")

    assert listing.status_code == search.status_code == change.status_code == 200
    assert "Express" in listing.content.decode()
    assert "Economy" in listing.content.decode()
    assert "Express" in search.content.decode()
    assert "Economy" not in search.content.decode()
