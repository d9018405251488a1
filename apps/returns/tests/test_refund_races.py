"""Refunds racing on PostgreSQL: threads, each with its own connection."""

from decimal import Decimal

import pytest

from apps.catalog.models import Product
from apps.orders.models import OrderLine
from apps.orders.tests.test_concurrency import run_together
from apps.payments.models import Payment, Refund
from apps.returns.tests.conftest import place_paid_order, refunds_url

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("run", range(3))
def test_two_refunds_of_the_same_line_at_once_never_exceed_it(buyer, buyer_client, client_for, staff_client, run):
    placed = place_paid_order(buyer, buyer_client)
    mug = placed.line(placed.mug)  # 3 bought
    seller = client_for(placed.store.owner)
    body = {"lines": [{"id": mug.pk, "quantity": 2}], "restock": True, "reason": "race"}

    responses = run_together(
        [
            lambda: seller.post(refunds_url(placed.number), body, format="json"),
            lambda: staff_client.post(refunds_url(placed.number), body | {"store": "first"}, format="json"),
        ]
    )

    codes = sorted(response.status_code for response in responses)
    assert codes == [201, 409], [response.json() for response in responses]
    refused = next(response for response in responses if response.status_code == 409)
    assert refused.json()["code"] == "refund_exceeds"
    assert OrderLine.objects.get(pk=mug.pk).refunded_quantity == 2
    assert Product.objects.get(pk=placed.mug.pk).stock == 9  # 10 - 3 + 2, restocked once
    (refund,) = Refund.objects.all()
    assert (refund.status, refund.amount) == ("succeeded", Decimal("25.00"))
    assert Payment.objects.get(order__number=placed.number).amount_refunded == Decimal("25.00")


def test_refunds_of_every_line_at_once_never_refund_more_than_was_paid(buyer, buyer_client, client_for):
    placed = place_paid_order(buyer, buyer_client)
    first, second = client_for(placed.store.owner), client_for(placed.other.owner)
    mug, pen, lamp = placed.line(placed.mug), placed.line(placed.pen), placed.line(placed.lamp)
    calls = [
        lambda: first.post(
            refunds_url(placed.number), {"lines": [{"id": mug.pk, "quantity": 3}], "reason": "a"}, format="json"
        ),
        lambda: first.post(
            refunds_url(placed.number),
            {"lines": [{"id": pen.pk, "quantity": 2}], "shipping": True, "reason": "b"},
            format="json",
        ),
        lambda: first.post(refunds_url(placed.number), {"shipping": True, "reason": "c"}, format="json"),
        lambda: second.post(
            refunds_url(placed.number),
            {"lines": [{"id": lamp.pk, "quantity": 1}], "shipping": True, "reason": "d"},
            format="json",
        ),
    ]

    responses = run_together(calls)

    # b and c both ask for the first store's shipping: whichever comes second is refused whole.
    assert sorted(r.status_code for r in responses) == [201, 201, 201, 409]
    assert (responses[0].status_code, responses[3].status_code) == (201, 201)
    b_won = responses[1].status_code == 201
    payment = Payment.objects.get(order__number=placed.number)
    assert payment.amount_refunded == sum(
        (refund.amount for refund in Refund.objects.filter(status="succeeded")), Decimal("0")
    )
    pens = 2 * pen.unit_price
    # Everything, the shipping once per store; the pens only when their refund (b) came first.
    assert payment.amount_refunded == Decimal("63.50") - (0 if b_won else pens)
    assert placed.order.status == ("cancelled" if b_won else "paid")
