from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import Product
from apps.catalog.tests.factories import ProductFactory
from apps.checkout.services import checkout_expire
from apps.orders.models import Order, OrderStatus
from apps.orders.services import order_place
from apps.orders.tests.factories import ADDRESS, fill_cart
from apps.payments.models import Payment, SimulatedPayment
from apps.payments.providers import get_provider
from apps.payments.providers.base import PaymentResult
from apps.payments.services import payment_apply_result, payment_start

pytestmark = pytest.mark.django_db(transaction=True)


def aged_order(*, minutes: int, stock: int = 5, quantity: int = 2):
    buyer = UserFactory()
    product = ProductFactory(stock=stock)
    fill_cart(buyer, (product, quantity))
    order = order_place(buyer=buyer, shipping_address=ADDRESS)
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))
    return order, product


def test_expiry_cancels_old_unpaid_orders_and_returns_their_stock(settings):
    settings.ORDER_RESERVATION_MINUTES = 30
    old, old_product = aged_order(minutes=31)
    fresh, fresh_product = aged_order(minutes=5)

    assert checkout_expire() == [old.number]

    assert Order.objects.get(pk=old.pk).status == OrderStatus.CANCELLED
    assert Product.objects.get(pk=old_product.pk).stock == 5
    assert Order.objects.get(pk=fresh.pk).status == OrderStatus.PENDING_PAYMENT
    assert Product.objects.get(pk=fresh_product.pk).stock == 3
    assert checkout_expire() == []  # idempotent: nothing returned twice
    assert Product.objects.get(pk=old_product.pk).stock == 5


def test_paid_orders_never_expire(settings):
    settings.ORDER_RESERVATION_MINUTES = 30
    order, product = aged_order(minutes=90)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PAID)
    assert checkout_expire() == []
    assert Product.objects.get(pk=product.pk).stock == 3


def test_a_payment_succeeding_after_expiry_is_refunded(settings):
    settings.ORDER_RESERVATION_MINUTES = 30
    order, product = aged_order(minutes=45)
    payment = payment_start(order=order)
    # The provider charges the card just as the reservation runs out; its answer has not reached
    # Bazaar yet when expiry cancels the order.
    late = get_provider().confirm(payment_ref=payment.reference, payment_method="pm_card_visa", idempotency_key="x")
    checkout_expire()
    payment_apply_result(payment=payment, result=late, note="late answer")  # then the answer arrives

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert Payment.objects.get(pk=payment.pk).status == "refunded"
    assert SimulatedPayment.objects.get(reference=payment.reference).status == "refunded"
    assert Product.objects.get(pk=product.pk).stock == 5


def test_a_success_reported_for_a_cancelled_order_is_refunded(settings):
    settings.ORDER_RESERVATION_MINUTES = 30
    order, _ = aged_order(minutes=45)
    payment = payment_start(order=order)
    checkout_expire()
    succeeded = PaymentResult(
        reference=payment.reference, status="succeeded", amount=order.total, currency=order.currency
    )
    SimulatedPayment.objects.filter(reference=payment.reference).update(status="succeeded")

    payment_apply_result(payment=payment, result=succeeded, note="webhook after expiry")

    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert Payment.objects.get(pk=payment.pk).status == "refunded"


def test_the_command_reports_what_it_did(settings, capsys):
    settings.ORDER_RESERVATION_MINUTES = 30
    aged_order(minutes=31)
    call_command("expire_orders")
    assert "expired 1 orders" in capsys.readouterr().out
