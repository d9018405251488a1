"""Pay racing cancel and expiry on PostgreSQL: threads, each with its own connection (finding 5:
``/pay/`` answered 200 with a cancelled order in 6 runs of 6)."""

from decimal import Decimal

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import Product
from apps.catalog.tests.factories import ProductFactory
from apps.checkout.services import checkout_cancel
from apps.orders.models import Order, OrderStatus
from apps.orders.tests.factories import ADDRESS, fill_cart
from apps.orders.tests.test_concurrency import run_together
from apps.payments.models import Payment, SimulatedPayment

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("run", range(6))
def test_pay_racing_cancel_never_answers_paid_for_a_cancelled_order(client_for, run):
    buyer = UserFactory()
    product = ProductFactory(price=Decimal("12.50"), stock=5)
    fill_cart(buyer, (product, 2))
    client = client_for(buyer)
    number = client.post("/api/v1/checkout/", {"shipping_address": ADDRESS}, format="json").json()["number"]

    def pay():
        return client.post(f"/api/v1/orders/{number}/pay/", {"payment_method": "pm_card_visa"}, format="json")

    def cancel():
        return checkout_cancel(order=Order.objects.get(number=number), actor=buyer)

    paid, _ = run_together([pay, cancel])

    order = Order.objects.get(number=number)
    assert order.status == OrderStatus.CANCELLED  # the buyer's cancel always lands (from pending or from paid)
    assert Product.objects.get(pk=product.pk).stock == 5
    if paid.status_code == 200:  # pay finished first; the cancel then refunded it
        assert paid.json()["status"] == "paid"
    else:
        assert (paid.status_code, paid.json()["code"]) == (409, "invalid_transition")
    for payment in Payment.objects.filter(order=order):
        assert payment.status in ("refunded", "cancelled", "pending", "failed"), payment.status
        if payment.amount_received:
            assert payment.amount_refunded == payment.amount_received  # any charge that went through is back
    assert not SimulatedPayment.objects.filter(status="succeeded").exists()
