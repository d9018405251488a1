"""The expiry task (every minute, from beat): a thin, idempotent, retried wrapper."""

from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import Product
from apps.catalog.tests.factories import ProductFactory
from apps.checkout import services, tasks
from apps.core.tasks import RETRY
from apps.orders.models import Order, OrderStatus
from apps.orders.services import order_place
from apps.orders.tests.factories import ADDRESS, fill_cart

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_task_expires_old_unpaid_orders_once(settings):
    settings.ORDER_RESERVATION_MINUTES = 30
    buyer, product = UserFactory(), ProductFactory(stock=5)
    fill_cart(buyer, (product, 2))
    order = order_place(buyer=buyer, shipping_address=ADDRESS)
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=31))

    first = tasks.orders_expire.apply()
    second = tasks.orders_expire.apply()

    assert (first.get(), second.get()) == ([order.number], [])
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert Product.objects.get(pk=product.pk).stock == 5  # returned once, not twice


def test_a_database_outage_is_retried_then_given_up(monkeypatch, task_retries):
    countdowns = task_retries(tasks.orders_expire)
    attempts = []

    def down(**kwargs):
        attempts.append(1)
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(services, "checkout_expire", down)

    result = tasks.orders_expire.apply()

    assert result.state == "FAILURE"
    assert len(attempts) == RETRY["max_retries"] + 1
    assert len(countdowns) == RETRY["max_retries"] + 1  # the last one finds the retries spent
    assert all(0 <= countdown <= RETRY["retry_backoff_max"] for countdown in countdowns)
