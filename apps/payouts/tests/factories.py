"""Orders sold, delivered and paid for through the real services (simulated provider unless a
test brings the Stripe stand-in), and stores with connected accounts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.checkout.services import checkout_place
from apps.orders.models import Order, OrderStatus, StoreOrder
from apps.orders.services import order_confirm_delivery, order_ship_lines
from apps.orders.tests.factories import ADDRESS, fill_cart
from apps.payments.models import ConnectAccount, Payment, SimulatedConnectAccount
from apps.payments.providers import get_provider
from apps.payments.services import refund_request, refund_send


def sell(*pairs, buyer=None) -> Order:
    """A paid order of ``(product, quantity)`` pairs (a new buyer unless given)."""
    buyer = buyer or UserFactory()
    fill_cart(buyer, *pairs)
    order = checkout_place(buyer=buyer, shipping_address=ADDRESS, payment_method="pm_card_visa")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID, order.status
    return order


def deliver(order: Order, *, days_ago: float = 0) -> Order:
    """Every store ships its part, the buyer confirms delivery; ``days_ago`` moves the delivery back."""
    for store_order in order.store_orders.select_related("store__owner"):
        order_ship_lines(seller=store_order.store.owner, number=order.number)
    order_confirm_delivery(order=order, actor=order.buyer)
    StoreOrder.objects.filter(order=order).update(delivered_at=timezone.now() - timedelta(days=days_ago))
    return order


def released(order: Order) -> Order:
    """Delivered longer ago than PAYOUT_HOLD_DAYS: releasable."""
    return deliver(order, days_ago=settings.PAYOUT_HOLD_DAYS + 1)


def refund(order: Order, amount: str):
    """A refund of ``amount`` from the order's settling payment, confirmed by the provider."""
    payment = Payment.objects.get(order=order, settles_order=True)
    return refund_send(refund=refund_request(payment=payment, amount=Decimal(amount), reason="test"))


def connect(store, *, payouts_enabled: bool = True, standin=None) -> ConnectAccount:
    """The store's connected account, opened at the provider (the Stripe stand-in when given, else
    the simulated provider) and finished there with payouts enabled or not, and recorded."""
    provider = get_provider("stripe" if standin is not None else "simulated")
    made = provider.connect_account_create(
        email=store.owner.email, country="US", idempotency_key=f"store-{store.slug}-connect-account"
    )
    if standin is not None:
        standin.accounts[made.reference].update(details_submitted=True, payouts_enabled=payouts_enabled)
        standin.accounts[made.reference]["capabilities"]["transfers"] = "active" if payouts_enabled else "inactive"
    else:
        SimulatedConnectAccount.objects.filter(reference=made.reference).update(
            details_submitted=True, payouts_enabled=payouts_enabled
        )
    return ConnectAccount.objects.create(
        store=store,
        provider=provider.name,
        reference=made.reference,
        details_submitted=True,
        payouts_enabled=payouts_enabled,
    )
