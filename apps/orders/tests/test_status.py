from itertools import product as pairs

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import Product
from apps.catalog.tests.factories import ProductFactory
from apps.orders.exceptions import InvalidTransition
from apps.orders.models import Order, OrderEvent, OrderStatus
from apps.orders.services import order_place, order_transition
from apps.orders.status import FINAL, TRANSITIONS
from apps.orders.tests.factories import ADDRESS, fill_cart
from apps.payments.models import Payment, SimulatedPayment

pytestmark = pytest.mark.django_db

ALLOWED = {
    ("pending_payment", "paid"),
    ("pending_payment", "cancelled"),
    ("paid", "partially_shipped"),
    ("paid", "shipped"),
    ("paid", "cancelled"),
    ("partially_shipped", "shipped"),
    ("shipped", "delivered"),
}


def test_the_table_is_exactly_api_md():
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == ALLOWED
    assert {"cancelled", "delivered"} == FINAL


@pytest.mark.parametrize(("current", "target"), sorted(pairs(OrderStatus.values, repeat=2)))
def test_every_transition_outside_the_table_is_refused(current, target):
    buyer = UserFactory()
    fill_cart(buyer, (ProductFactory(), 1))
    order = order_place(buyer=buyer, shipping_address=ADDRESS)
    Order.objects.filter(pk=order.pk).update(status=current)
    order.refresh_from_db()
    events = OrderEvent.objects.count()

    if current == target:
        assert order_transition(order=order, to=target) is False  # a retry: no-op, no event
        assert OrderEvent.objects.count() == events
    elif (current, target) in ALLOWED:
        assert order_transition(order=order, to=target) is True
        assert OrderEvent.objects.filter(order=order, from_status=current, to_status=target).count() == 1
    else:
        with pytest.raises(InvalidTransition):
            order_transition(order=order, to=target)
        assert Order.objects.get(pk=order.pk).status == current
        assert OrderEvent.objects.count() == events


def place(client, buyer, *, stock=5, quantity=2, method=None):
    product = ProductFactory(stock=stock)
    fill_cart(buyer, (product, quantity))
    body = {"shipping_address": ADDRESS} | ({"payment_method": method} if method else {})
    response = client.post("/api/v1/checkout/", body, format="json")
    assert response.status_code == 201
    return response.json()["number"], product


# Refunds and payment cancellations run on commit, as in production: these need real commits.
@pytest.mark.django_db(transaction=True)
def test_cancel_pending_returns_stock_and_cancels_the_payment(buyer, buyer_client):
    number, product = place(buyer_client, buyer)
    assert Product.objects.get(pk=product.pk).stock == 3

    response = buyer_client.post(f"/api/v1/orders/{number}/cancel/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "cancelled"
    assert {item["status"] for item in body["items"]} == {"cancelled"}
    assert body["payment"]["status"] == "cancelled"
    assert Product.objects.get(pk=product.pk).stock == 5
    assert buyer_client.post(f"/api/v1/orders/{number}/cancel/").status_code == 409
    assert Product.objects.get(pk=product.pk).stock == 5  # not returned twice


@pytest.mark.django_db(transaction=True)
def test_cancel_paid_refunds_and_returns_stock(buyer, buyer_client):
    number, product = place(buyer_client, buyer, method="pm_card_visa")

    body = buyer_client.post(f"/api/v1/orders/{number}/cancel/").json()

    assert body["status"] == "cancelled"
    assert body["payment"]["status"] == "refunded"
    assert SimulatedPayment.objects.get().status == "refunded"
    assert Product.objects.get(pk=product.pk).stock == 5
    assert [e["to"] for e in body["events"]] == ["pending_payment", "paid", "cancelled"]


def test_api_refuses_invalid_transitions_with_409(buyer, buyer_client, client_for):
    number, _ = place(buyer_client, buyer, method="pm_card_visa")
    pay = buyer_client.post(f"/api/v1/orders/{number}/pay/", {"payment_method": "pm_card_visa"})
    assert (pay.status_code, pay.json()["code"]) == (409, "invalid_transition")
    delivery = buyer_client.post(f"/api/v1/orders/{number}/confirm-delivery/")
    assert (delivery.status_code, delivery.json()["code"]) == (409, "invalid_transition")
    assert Payment.objects.filter(status="succeeded").count() == 1  # not charged twice

    unpaid, unpaid_product = place(buyer_client, buyer)
    seller = client_for(unpaid_product.store.owner)
    assert seller.post(f"/api/v1/seller/orders/{unpaid}/ship/", {}).status_code == 409


def test_pay_decline_is_402_and_leaves_the_order_payable(buyer, buyer_client):
    number, _ = place(buyer_client, buyer)
    response = buyer_client.post(
        f"/api/v1/orders/{number}/pay/", {"payment_method": "pm_card_chargeDeclinedInsufficientFunds"}
    )
    assert response.status_code == 402
    assert response.json()["code"] == "insufficient_funds"
    assert Order.objects.get(number=number).status == "pending_payment"
    unknown = buyer_client.post(f"/api/v1/orders/{number}/pay/", {"payment_method": "tok_nope"})
    assert (unknown.status_code, unknown.json()["code"]) == (400, "invalid_payment_method")


def test_other_peoples_orders_are_404(buyer, buyer_client, client_for):
    number, _ = place(buyer_client, buyer, method="pm_card_visa")
    stranger = client_for(UserFactory())
    for path in ("", "pay/", "cancel/", "confirm-delivery/"):
        method = stranger.get if not path else stranger.post
        assert method(f"/api/v1/orders/{number}/{path}", {"payment_method": "pm_card_visa"}).status_code == 404
    other_seller = client_for(ProductFactory().store.owner)
    assert other_seller.post(f"/api/v1/seller/orders/{number}/ship/", {}).status_code == 404
    assert other_seller.get("/api/v1/seller/orders/").json()["count"] == 0
    assert Order.objects.get(number=number).status == "paid"


def test_buyers_cannot_use_seller_endpoints(buyer_client):
    assert buyer_client.get("/api/v1/seller/orders/").status_code == 403


def test_order_list_is_own_newest_first_with_status_filter(buyer, buyer_client):
    first, _ = place(buyer_client, buyer)
    second, _ = place(buyer_client, buyer, method="pm_card_visa")
    listing = buyer_client.get("/api/v1/orders/").json()
    assert [o["number"] for o in listing["results"]] == [second, first]
    paid = buyer_client.get("/api/v1/orders/?status=paid").json()
    assert [o["number"] for o in paid["results"]] == [second]
    assert buyer_client.get("/api/v1/orders/?status=bogus").status_code == 400


def test_an_empty_status_filter_is_refused_not_ignored(buyer_client):
    response = buyer_client.get("/api/v1/orders/?status=")

    assert response.status_code == 400
    assert list(response.json()) == ["status"]


def test_an_order_under_review_cannot_be_paid_again(buyer, buyer_client):
    number, _ = place(buyer_client, buyer)
    Order.objects.filter(number=number).update(needs_review=True)

    response = buyer_client.post(f"/api/v1/orders/{number}/pay/", {"payment_method": "pm_card_visa"})

    assert (response.status_code, response.json()["code"]) == (409, "payment_under_review")
    assert not Payment.objects.filter(order__number=number, status="succeeded").exists()


def test_a_second_successful_payment_of_a_paid_order_is_refunded(buyer, buyer_client):
    from apps.payments.providers import get_provider
    from apps.payments.services import payment_apply_result, payment_start

    number, _ = place(buyer_client, buyer)
    order = Order.objects.get(number=number)
    first = order.payments.get()
    second = payment_start(order=order)  # e.g. a second browser tab with Stripe.js, opened before paying
    paid = get_provider().confirm(payment_ref=first.reference, payment_method="pm_card_visa", idempotency_key="t1")
    assert payment_apply_result(payment=first, result=paid, note="first tab") == "paid"
    charged = get_provider().confirm(payment_ref=second.reference, payment_method="pm_card_visa", idempotency_key="t2")

    payment_apply_result(payment=second, result=charged, note="second tab")

    second.refresh_from_db()
    assert second.status == "refunded"
    assert Payment.objects.filter(order=order, status="succeeded").count() == 1
    assert Order.objects.get(pk=order.pk).status == "paid"
