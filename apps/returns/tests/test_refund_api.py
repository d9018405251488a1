"""POST and GET /api/v1/seller/orders/{number}/refunds/: refunds of a store order's lines."""

from decimal import Decimal
from unittest import mock

import pytest
from django.core import mail
from django.db.models import Sum

from apps.catalog.models import Product
from apps.ledger.models import Account, Kind, LedgerEntry
from apps.orders.models import LineStatus, Order, OrderEvent, OrderLine, OrderStatus, StoreOrder, StoreOrderStatus
from apps.orders.tests.factories import ADDRESS, fill_cart
from apps.payments.models import Payment, Refund, RefundLine, SimulatedRefund
from apps.payments.providers.base import ProviderError
from apps.payments.providers.simulated import SimulatedProvider
from apps.returns.tests.conftest import post_refund, refunds_url

pytestmark = pytest.mark.django_db


def stock(product) -> int:
    return Product.objects.get(pk=product.pk).stock


def state(number: str) -> dict:
    """What a refused request must leave as it was."""
    return {
        "refunds": list(Refund.objects.values_list("pk", "amount", "status")),
        "lines": list(OrderLine.objects.filter(order__number=number).values_list("pk", "refunded_quantity", "status")),
        "stock": list(Product.objects.order_by("pk").values_list("pk", "stock")),
        "ledger": LedgerEntry.objects.count(),
        "events": OrderEvent.objects.count(),
    }


# --- the happy path ---------------------------------------------------------------------------


def test_a_seller_refunds_units_of_a_line_and_everyone_sees_it(placed, first_client, buyer_client):
    mug_line = placed.line(placed.mug)

    response = post_refund(
        first_client, placed.number, {"lines": [{"id": mug_line.pk, "quantity": 1}], "reason": "chipped"}
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert {key: body[key] for key in ("amount", "items_amount", "shipping_amount", "status", "reason")} == {
        "amount": "12.50",
        "items_amount": "12.50",
        "shipping_amount": "0.00",
        "status": "succeeded",
        "reason": "chipped",
    }
    assert body["lines"] == [{"id": mug_line.pk, "quantity": 1, "restocked": False}]
    assert {"id", "created_at", "currency"} <= body.keys()
    assert stock(placed.mug) == 7  # not restocked unless asked
    order = buyer_client.get(f"/api/v1/orders/{placed.number}/").json()
    assert order["status"] == "paid"
    assert order["refunded_total"] == "12.50"
    assert order["payment"]["status"] == "partially_refunded"
    assert {item["product_slug"]: item["refunded_quantity"] for item in order["items"]} == {
        placed.mug.slug: 1,
        placed.pen.slug: 0,
        placed.lamp.slug: 0,
    }
    first = next(part for part in order["stores"] if part["store"]["slug"] == "first")
    assert (first["refunded_items"], first["refunded_shipping"], first["refunded_total"]) == ("12.50", "0.00", "12.50")
    seller_view = first_client.get(f"/api/v1/seller/orders/{placed.number}/").json()
    assert [item["refunded_quantity"] for item in seller_view["items"]] == [1, 0]
    assert seller_view["store_order"]["refunded_commission"] == "1.25"
    payment = Payment.objects.get(order__number=placed.number)
    assert (payment.status, payment.amount_refunded) == ("partially_refunded", Decimal("12.50"))
    (simulated,) = SimulatedRefund.objects.all()
    assert simulated.amount == Decimal("12.50")


def test_the_buyer_is_mailed_when_the_refund_succeeds(placed, first_client):
    mail.outbox.clear()
    pen = placed.line(placed.pen)

    post_refund(
        first_client, placed.number, {"lines": [{"id": pen.pk, "quantity": 2}], "shipping": True, "reason": "x"}
    )

    (message,) = mail.outbox
    assert message.to == [placed.order.buyer.email]
    assert placed.number in message.subject
    assert "13.00" in message.subject
    assert "2 x Pen" in message.body
    assert "Shipping: 5.00" in message.body
    assert "2 \N{MULTIPLICATION SIGN} Pen" in message.alternatives[0][0]


def test_no_mail_when_the_refund_fails(placed, first_client):
    mail.outbox.clear()
    refusal = ProviderError("card closed", retryable=False)
    with mock.patch.object(SimulatedProvider, "refund", side_effect=refusal):
        response = post_refund(
            first_client, placed.number, {"lines": [{"id": placed.line(placed.pen).pk, "quantity": 1}], "reason": "x"}
        )
    assert response.json()["status"] == "failed"
    assert mail.outbox == []


def test_shipping_is_refunded_once_and_only_what_is_left(placed, first_client):
    response = post_refund(first_client, placed.number, {"shipping": True, "reason": "late"})

    assert response.status_code == 201, response.json()
    assert (response.json()["amount"], response.json()["lines"]) == ("5.00", [])
    again = post_refund(first_client, placed.number, {"shipping": True, "reason": "late"})
    assert again.status_code == 409
    assert again.json()["code"] == "refund_exceeds"
    part = StoreOrder.objects.get(order__number=placed.number, store=placed.store)
    assert (part.refunded_shipping, part.refunded_items) == (Decimal("5.00"), Decimal("0.00"))


def test_restock_returns_the_units_once_and_a_retry_with_the_same_key_changes_nothing(placed, first_client):
    body = {"lines": [{"id": placed.line(placed.mug).pk, "quantity": 2}], "restock": True, "reason": "returned"}

    first = post_refund(first_client, placed.number, body, HTTP_IDEMPOTENCY_KEY="refund-1")
    retry = post_refund(first_client, placed.number, body, HTTP_IDEMPOTENCY_KEY="refund-1")

    assert first.status_code == retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert first.json()["lines"] == [{"id": placed.line(placed.mug).pk, "quantity": 2, "restocked": True}]
    assert stock(placed.mug) == 9  # 10 - 3 bought + 2 back, once
    assert Refund.objects.count() == 1
    assert placed.line(placed.mug).refunded_quantity == 2
    assert placed.line(placed.mug).restocked_quantity == 2


def test_the_idempotency_key_of_each_refund_is_the_order_number_attempt_and_sequence(placed, first_client):
    for _ in range(2):
        post_refund(
            first_client, placed.number, {"lines": [{"id": placed.line(placed.pen).pk, "quantity": 1}], "reason": "x"}
        )

    assert list(SimulatedRefund.objects.order_by("pk").values_list("key", flat=True)) == [
        f"order-{placed.number}-attempt-1-refund-1",
        f"order-{placed.number}-attempt-1-refund-2",
    ]


# --- what is refused, and changes nothing -----------------------------------------------------


def test_more_units_than_left_is_refund_exceeds_naming_the_line(placed, first_client):
    mug = placed.line(placed.mug)
    post_refund(first_client, placed.number, {"lines": [{"id": mug.pk, "quantity": 2}], "reason": "x"})
    before = state(placed.number)

    response = post_refund(first_client, placed.number, {"lines": [{"id": mug.pk, "quantity": 2}], "reason": "x"})

    assert response.status_code == 409
    assert response.json()["code"] == "refund_exceeds"
    assert response.json()["lines"] == [{"id": mug.pk, "requested": 2, "refundable": 1}]
    assert state(placed.number) == before


def test_an_unpaid_order_is_invalid_transition(buyer, buyer_client, client_for):
    from apps.catalog.tests.factories import ProductFactory

    product = ProductFactory(price=Decimal("5.00"), stock=3)
    fill_cart(buyer, (product, 1))
    number = buyer_client.post("/api/v1/checkout/", {"shipping_address": ADDRESS}, format="json").json()["number"]
    line = OrderLine.objects.get(order__number=number)
    before = state(number)

    response = post_refund(
        client_for(product.store.owner), number, {"lines": [{"id": line.pk, "quantity": 1}], "reason": "x"}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert state(number) == before


def test_a_line_of_another_store_or_unknown_is_400_naming_the_lines(placed, first_client):
    lamp = placed.line(placed.lamp)  # the other store's line, same order
    before = state(placed.number)

    response = post_refund(
        first_client,
        placed.number,
        {"lines": [{"id": lamp.pk, "quantity": 1}, {"id": 999999, "quantity": 1}], "reason": "x"},
    )

    assert response.status_code == 400
    assert response.json()["lines"] == [
        f"{lamp.pk} is not a line of this store's part of order {placed.number}.",
        f"999999 is not a line of this store's part of order {placed.number}.",
    ]
    assert state(placed.number) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "x"}, "lines"),
        ({"lines": [], "shipping": False, "reason": "x"}, "lines"),
        ({"lines": [{"id": 1, "quantity": 0}], "reason": "x"}, "lines"),
        ({"lines": [{"id": 1, "quantity": "two"}], "reason": "x"}, "lines"),
        ({"lines": [{"id": 1, "quantity": 1}]}, "reason"),
        ({"lines": "all", "reason": "x"}, "lines"),
        ({"shipping": "yes please", "reason": "x"}, "shipping"),
    ],
    ids=["nothing", "empty-lines", "zero-units", "units-not-a-number", "no-reason", "lines-not-a-list", "bad-bool"],
)
def test_bad_input_is_400_and_changes_nothing(placed, first_client, body, field):
    before = state(placed.number)

    response = post_refund(first_client, placed.number, body)

    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert state(placed.number) == before


def test_a_line_listed_twice_is_400(placed, first_client):
    mug = placed.line(placed.mug).pk
    response = post_refund(
        first_client, placed.number, {"lines": [{"id": mug, "quantity": 1}, {"id": mug, "quantity": 1}], "reason": "x"}
    )
    assert response.status_code == 400
    assert response.json()["lines"] == [f"Line {mug} is listed twice."]


def test_another_sellers_order_is_404_and_a_buyer_is_403(placed, client_for, buyer_client):
    from apps.accounts.tests.factories import StoreFactory

    stranger = client_for(StoreFactory().owner)
    body = {"lines": [{"id": placed.line(placed.mug).pk, "quantity": 1}], "reason": "x"}
    before = state(placed.number)

    assert post_refund(stranger, placed.number, body).status_code == 404
    assert stranger.get(refunds_url(placed.number)).status_code == 404
    assert post_refund(buyer_client, placed.number, body).status_code == 403
    assert post_refund(client_for(None), placed.number, body).status_code == 401
    assert state(placed.number) == before


def test_a_seller_cannot_refund_the_other_stores_lines_by_naming_its_store(placed, first_client):
    body = {"lines": [{"id": placed.line(placed.lamp).pk, "quantity": 1}], "reason": "x", "store": "second"}

    response = post_refund(first_client, placed.number, body)

    assert response.status_code == 400  # "store" is for staff: a seller refunds its own part
    assert placed.line(placed.lamp).refunded_quantity == 0


# --- staff ------------------------------------------------------------------------------------


def test_staff_name_the_store_of_an_order_with_several(placed, staff_client):
    body = {"lines": [{"id": placed.line(placed.lamp).pk, "quantity": 1}], "reason": "goodwill"}

    unnamed = post_refund(staff_client, placed.number, body)
    named = post_refund(staff_client, placed.number, body | {"store": "second"})
    unknown = post_refund(staff_client, placed.number, body | {"store": "nope"})

    assert unnamed.status_code == 400
    assert "store" in unnamed.json()
    assert named.status_code == 201, named.json()
    assert named.json()["amount"] == "10.00"
    assert unknown.status_code == 404
    assert staff_client.get(refunds_url(placed.number) + "?store=second").json()[0]["id"] == named.json()["id"]
    event = OrderEvent.objects.get(order__number=placed.number, note__contains="goodwill")
    assert event.actor.is_staff


def test_staff_may_leave_the_store_out_when_the_order_has_one(buyer, buyer_client, staff_client):
    from apps.catalog.tests.factories import ProductFactory

    product = ProductFactory(price=Decimal("8.00"), stock=3)
    fill_cart(buyer, (product, 2))
    checkout = {"shipping_address": ADDRESS, "payment_method": "pm_card_visa"}
    number = buyer_client.post("/api/v1/checkout/", checkout, format="json").json()["number"]
    line = OrderLine.objects.get(order__number=number)

    response = post_refund(staff_client, number, {"lines": [{"id": line.pk, "quantity": 1}], "reason": "x"})

    assert response.status_code == 201
    assert response.json()["amount"] == "8.00"


# --- the list ---------------------------------------------------------------------------------


def test_the_list_shows_this_stores_refunds_oldest_first_in_two_queries(
    placed, first_client, second_client, django_assert_max_num_queries
):
    mug, pen = placed.line(placed.mug), placed.line(placed.pen)
    post_refund(first_client, placed.number, {"lines": [{"id": mug.pk, "quantity": 1}], "reason": "one"})
    post_refund(
        second_client, placed.number, {"lines": [{"id": placed.line(placed.lamp).pk, "quantity": 1}], "reason": "x"}
    )
    post_refund(
        first_client,
        placed.number,
        {"lines": [{"id": mug.pk, "quantity": 1}, {"id": pen.pk, "quantity": 2}], "shipping": True, "reason": "two"},
    )

    # auth (user, store) + the store order + refunds + their lines
    with django_assert_max_num_queries(5):
        body = first_client.get(refunds_url(placed.number)).json()

    assert [(r["reason"], r["amount"], r["status"]) for r in body] == [
        ("one", "12.50", "succeeded"),
        ("two", "25.50", "succeeded"),
    ]
    assert body[1]["lines"] == [
        {"id": mug.pk, "quantity": 1, "restocked": False},
        {"id": pen.pk, "quantity": 2, "restocked": False},
    ]
    assert len(second_client.get(refunds_url(placed.number)).json()) == 1


def test_the_lists_query_count_does_not_grow_with_refunds(placed, first_client, django_assert_max_num_queries):
    pen = placed.line(placed.pen)
    post_refund(first_client, placed.number, {"lines": [{"id": pen.pk, "quantity": 1}], "reason": "x"})
    with django_assert_max_num_queries(5):
        first_client.get(refunds_url(placed.number))
    post_refund(first_client, placed.number, {"lines": [{"id": pen.pk, "quantity": 1}], "reason": "x"})
    post_refund(first_client, placed.number, {"shipping": True, "reason": "x"})
    with django_assert_max_num_queries(5):
        assert len(first_client.get(refunds_url(placed.number)).json()) == 3


# --- full refunds cascade ---------------------------------------------------------------------


def refund_all(client, placed, store_products, shipping=True, **extra):
    lines = [{"id": placed.line(p).pk, "quantity": placed.line(p).quantity} for p in store_products]
    return post_refund(client, placed.number, {"lines": lines, "shipping": shipping, "reason": "all", **extra})


def test_a_store_order_refunded_in_full_is_cancelled_and_the_order_when_all_are(
    placed, first_client, second_client, buyer_client
):
    assert refund_all(first_client, placed, [placed.mug, placed.pen]).json()["amount"] == "50.50"

    first = StoreOrder.objects.get(order__number=placed.number, store=placed.store)
    assert first.status == StoreOrderStatus.CANCELLED
    assert set(first.lines.values_list("status", flat=True)) == {LineStatus.CANCELLED}
    assert placed.order.status == OrderStatus.PAID
    assert StoreOrder.objects.get(order__number=placed.number, store=placed.other).status == StoreOrderStatus.PENDING
    assert "refunded in full" in OrderEvent.objects.filter(order__number=placed.number).last().note

    refund_all(second_client, placed, [placed.lamp])

    order = buyer_client.get(f"/api/v1/orders/{placed.number}/").json()
    assert order["status"] == "cancelled"
    assert order["payment"]["status"] == "refunded"
    assert order["refunded_total"] == "63.50"
    assert (order["events"][-1]["from"], order["events"][-1]["to"]) == ("paid", "cancelled")
    assert order["events"][-1]["by"] == f"store:{placed.other.slug}"
    assert (stock(placed.mug), stock(placed.pen), stock(placed.lamp)) == (7, 8, 9)  # none asked back


def test_a_shipped_and_delivered_order_refunded_in_full_becomes_cancelled(
    placed, first_client, second_client, buyer_client
):
    for client in (first_client, second_client):
        assert client.post(f"/api/v1/seller/orders/{placed.number}/ship/", {}, format="json").status_code == 200
    assert buyer_client.post(f"/api/v1/orders/{placed.number}/confirm-delivery/").status_code == 200

    refund_all(first_client, placed, [placed.mug, placed.pen], shipping=False, restock=True)
    refund_all(second_client, placed, [placed.lamp], shipping=False)

    assert placed.order.status == OrderStatus.CANCELLED
    assert set(OrderLine.objects.filter(order__number=placed.number).values_list("status", flat=True)) == {"cancelled"}
    assert (stock(placed.mug), stock(placed.pen), stock(placed.lamp)) == (10, 10, 9)
    payment = Payment.objects.get(order__number=placed.number)
    assert (payment.status, payment.amount_refunded) == ("partially_refunded", Decimal("55.50"))  # shipping kept


def test_lines_refunded_in_full_but_not_all_leave_the_store_order_as_it_was(placed, first_client):
    refund_all(first_client, placed, [placed.mug], shipping=False)

    assert StoreOrder.objects.get(order__number=placed.number, store=placed.store).status == StoreOrderStatus.PENDING
    assert placed.line(placed.mug).status == LineStatus.PENDING


def test_cancelling_after_a_restocking_refund_returns_only_the_other_units(placed, first_client, buyer_client):
    post_refund(
        first_client,
        placed.number,
        {"lines": [{"id": placed.line(placed.mug).pk, "quantity": 2}], "restock": True, "reason": "x"},
    )
    assert stock(placed.mug) == 9

    assert buyer_client.post(f"/api/v1/orders/{placed.number}/cancel/").status_code == 200

    assert (stock(placed.mug), stock(placed.pen), stock(placed.lamp)) == (10, 10, 10)  # never 12


def test_a_cancelled_order_has_nothing_left_to_refund(placed, first_client, buyer_client):
    assert buyer_client.post(f"/api/v1/orders/{placed.number}/cancel/").status_code == 200

    response = post_refund(
        first_client, placed.number, {"lines": [{"id": placed.line(placed.mug).pk, "quantity": 1}], "reason": "x"}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "refund_exceeds"  # cancelling refunded everything already


# --- failures ---------------------------------------------------------------------------------


def test_a_refund_refused_for_good_gives_its_units_back_and_keeps_the_restock(placed, first_client):
    mug = placed.line(placed.mug)
    refusal = ProviderError("the card is closed", retryable=False)
    with mock.patch.object(SimulatedProvider, "refund", side_effect=refusal):
        response = post_refund(
            first_client, placed.number, {"lines": [{"id": mug.pk, "quantity": 3}], "restock": True, "reason": "x"}
        )

    assert response.status_code == 201
    assert response.json()["status"] == "failed"
    mug.refresh_from_db()
    assert (mug.refunded_quantity, mug.restocked_quantity) == (0, 3)
    assert stock(placed.mug) == 10  # the goods are back
    assert StoreOrder.objects.get(pk=mug.store_order_id).status == StoreOrderStatus.PENDING
    assert not LedgerEntry.objects.filter(kind=Kind.REFUND).exists()
    # Refundable again; the units are in stock already, so the seller asks without restocking.
    again = post_refund(first_client, placed.number, {"lines": [{"id": mug.pk, "quantity": 3}], "reason": "x"})
    assert again.json()["status"] == "succeeded"
    assert stock(placed.mug) == 10


def test_a_provider_that_is_down_leaves_the_refund_pending_with_its_units_counted(placed, first_client):
    mug = placed.line(placed.mug)
    with mock.patch.object(SimulatedProvider, "refund", side_effect=ProviderError("timeout", retryable=True)):
        response = post_refund(first_client, placed.number, {"lines": [{"id": mug.pk, "quantity": 3}], "reason": "x"})

    assert response.json()["status"] == "pending"
    assert placed.line(placed.mug).refunded_quantity == 3
    more = post_refund(first_client, placed.number, {"lines": [{"id": mug.pk, "quantity": 1}], "reason": "x"})
    assert more.status_code == 409  # pending units count


def test_staff_retry_of_a_failed_line_refund_asks_for_the_same_lines(placed, first_client, staff):
    from apps.checkout.services import checkout_refund_retry

    pen = placed.line(placed.pen)
    with mock.patch.object(SimulatedProvider, "refund", side_effect=ProviderError("no", retryable=False)):
        post_refund(
            first_client, placed.number, {"lines": [{"id": pen.pk, "quantity": 2}], "shipping": True, "reason": "x"}
        )
    failed = Refund.objects.get()

    retry = checkout_refund_retry(refund=failed, staff=staff)

    assert (retry.status, retry.amount, retry.store_order_id) == ("succeeded", Decimal("13.00"), failed.store_order_id)
    assert list(retry.lines.values_list("line_id", "quantity", "restocked")) == [(pen.pk, 2, False)]
    assert placed.line(placed.pen).refunded_quantity == 2


# --- the ledger -------------------------------------------------------------------------------


def test_commission_comes_back_in_proportion_and_the_ledger_balances(placed, first_client):
    mug = placed.line(placed.mug)
    response = post_refund(
        first_client, placed.number, {"lines": [{"id": mug.pk, "quantity": 1}], "shipping": True, "reason": "x"}
    )

    refund = Refund.objects.get(pk=response.json()["id"])
    entries = {
        entry.account: entry.amount
        for entry in LedgerEntry.objects.filter(event_key=f"refund:{refund.idempotency_key}")
    }
    # 12.50 of 45.50 of items: 12.50 / 45.50 x 4.55 = 1.25 of commission back; shipping is the seller's.
    assert entries == {
        Account.PAYABLE: Decimal("-16.25"),
        Account.COMMISSION: Decimal("-1.25"),
        Account.BUYER: Decimal("17.50"),
    }
    payable = LedgerEntry.objects.filter(account=Account.PAYABLE, store_order__store=placed.other)
    assert payable.aggregate(total=Sum("amount"))["total"] == Decimal("12.00")  # untouched: 13.00 - 1.00
    assert LedgerEntry.objects.filter(order__number=placed.number).aggregate(total=Sum("amount"))["total"] == 0


def test_the_order_list_keeps_its_query_budget_with_refunds(
    placed, first_client, buyer_client, django_assert_max_num_queries
):
    post_refund(
        first_client, placed.number, {"lines": [{"id": placed.line(placed.mug).pk, "quantity": 1}], "reason": "x"}
    )

    with django_assert_max_num_queries(
        6
    ):  # the budget apps/orders pins for the list (refunded_total reads prefetched rows)
        body = buyer_client.get("/api/v1/orders/").json()

    assert body["results"][0]["refunded_total"] == "12.50"


def test_refund_lines_rows(placed, first_client):
    mug, pen = placed.line(placed.mug), placed.line(placed.pen)
    post_refund(
        first_client,
        placed.number,
        {"lines": [{"id": pen.pk, "quantity": 1}, {"id": mug.pk, "quantity": 2}], "restock": True, "reason": "x"},
    )

    refund = Refund.objects.get()
    assert (refund.store_order.store_id, refund.items_amount, refund.shipping_amount) == (
        placed.store.pk,
        Decimal("29.00"),
        Decimal("0.00"),
    )
    assert list(RefundLine.objects.values_list("line_id", "quantity", "restocked")) == [
        (mug.pk, 2, True),
        (pen.pk, 1, True),
    ]
    assert Order.objects.get(number=placed.number).status == OrderStatus.PAID
