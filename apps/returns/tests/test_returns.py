"""Buyers' returns and their sellers' decisions, through the API (API.md, Round 2, "Refunds and
returns"; apps/returns/returns.py)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import Variant
from apps.checkout.services import checkout_refund_retry
from apps.orders.models import OrderEvent, OrderLine, StoreOrder
from apps.payments.models import Refund
from apps.payments.providers.base import ProviderError, RefundStatus
from apps.payments.providers.simulated import SimulatedProvider
from apps.payments.refunds import refund_lines
from apps.returns.models import ReturnLine, ReturnRequest, ReturnStatus
from apps.returns.returns import STATUS_TRANSITIONS
from apps.returns.tests.given import place_paid, ship

pytestmark = pytest.mark.django_db

SELLER_RETURNS = "/api/v1/seller/returns/"


def act(client, pk, action, body=None):
    return client.post(f"{SELLER_RETURNS}{pk}/{action}/", body or {}, format="json")


def units(variant_of_product) -> int:
    return Variant.objects.get(product=variant_of_product).stock


# --- the buyer asks -------------------------------------------------------------------------------


def test_a_buyer_returns_delivered_units_and_the_seller_is_mailed(delivered, ask, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(delivered.number, [(delivered.mug_line, 2)], reason="Chipped")

    assert response.status_code == 201, response.json()
    body = response.json()
    store = StoreOrder.objects.get(order__number=delivered.number, store__owner=delivered.seller)
    assert body["status"] == "requested"
    assert body["store"] == {"slug": store.store_slug, "name": store.store_name}
    assert [(line["id"], line["quantity"]) for line in body["lines"]] == [(delivered.mug_line, 2)]
    assert body["reason"] == "Chipped"
    assert body["order_number"] == delivered.number
    assert body["refund"] is None
    assert body["created_at"]
    assert ReturnRequest.objects.get().store_order == store
    sent = [m for m in mail.outbox if "Return requested" in m.subject]
    assert [m.to for m in sent] == [[delivered.seller.email]]
    assert "2 x Mug" in sent[0].body
    assert "Chipped" in sent[0].body
    assert OrderEvent.objects.filter(order__number=delivered.number, note__startswith="return ").count() == 1


def test_a_retried_request_with_its_idempotency_key_makes_one_return(delivered, buyer_client):
    body = {"lines": [{"id": delivered.mug_line, "quantity": 1}], "reason": "Too small"}
    url = f"/api/v1/orders/{delivered.number}/returns/"

    first = buyer_client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="return-1")
    again = buyer_client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="return-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert ReturnRequest.objects.count() == 1


def test_the_buyer_lists_the_orders_returns(delivered, ask, buyer_client):
    first = ask(delivered.number, [(delivered.mug_line, 1)]).json()
    second = ask(delivered.number, [(delivered.book_line, 1)]).json()

    listed = buyer_client.get(f"/api/v1/orders/{delivered.number}/returns/").json()

    assert listed["count"] == 2
    assert [r["id"] for r in listed["results"]] == [second["id"], first["id"]]


def test_another_buyers_order_is_404_and_nothing_is_made(delivered, ask, client_for):
    stranger = client_for(UserFactory())

    assert ask(delivered.number, [(delivered.mug_line, 1)], client=stranger).status_code == 404
    assert stranger.get(f"/api/v1/orders/{delivered.number}/returns/").status_code == 404
    assert ask("NOSUCHORDER2", [(delivered.mug_line, 1)]).status_code == 404
    assert not ReturnRequest.objects.exists()
    assert not mail.outbox or all("Return" not in m.subject for m in mail.outbox)


def test_returning_needs_a_signed_in_user(delivered, api_client):
    assert api_client.get(f"/api/v1/orders/{delivered.number}/returns/").status_code == 401


@pytest.mark.parametrize(
    ("lines", "reason", "field"),
    [
        ([], "x", "lines"),
        ([("mug", 0)], "x", "lines"),
        ([("mug", 1), ("mug", 1)], "x", "lines"),
        ([("mug", 1)], "", "reason"),
        ([(999999, 1)], "x", "lines"),
    ],
    ids=["no-lines", "zero-units", "line-twice", "no-reason", "unknown-line"],
)
def test_bad_input_is_400_naming_the_field_and_changes_nothing(delivered, ask, lines, reason, field):
    lines = [(delivered.mug_line if pk == "mug" else pk, n) for pk, n in lines]

    response = ask(delivered.number, lines, reason=reason)

    assert response.status_code == 400
    assert field in response.json()
    assert not ReturnRequest.objects.exists()


def test_a_line_of_another_order_is_400(delivered, ask, buyer, buyer_client, mug_product):
    other = place_paid(buyer_client, buyer, (mug_product, 1))

    response = ask(other, [(delivered.mug_line, 1)])

    assert response.status_code == 400
    assert str(delivered.mug_line) in response.json()["lines"][0]


def test_lines_of_two_stores_are_400_naming_the_other_stores_lines(delivered, ask):
    response = ask(delivered.number, [(delivered.mug_line, 1), (delivered.book_line, 1)])

    assert response.status_code == 400
    messages = response.json()["lines"]
    assert len(messages) == 1
    assert messages[0].startswith(f"{max(delivered.mug_line, delivered.book_line)} is from another store")
    assert not ReturnRequest.objects.exists()


def test_a_store_order_not_delivered_yet_cannot_be_returned(buyer, buyer_client, client_for, mug_product, ask):
    number = place_paid(buyer_client, buyer, (mug_product, 1))
    line = OrderLine.objects.get(order__number=number).pk
    paid = ask(number, [(line, 1)])
    ship(client_for, mug_product.store.owner, number)
    shipped = ask(number, [(line, 1)])

    assert (paid.status_code, paid.json()["code"]) == (409, "return_not_delivered")
    assert (shipped.status_code, shipped.json()["code"]) == (409, "return_not_delivered")
    assert not ReturnRequest.objects.exists()


@pytest.mark.parametrize(
    ("after", "status_code"),
    [(timedelta(0), 201), (timedelta(days=30), 201), (timedelta(days=30, seconds=1), 409), (timedelta(days=45), 409)],
    ids=["at-delivery", "last-moment", "one-second-late", "long-after"],
)
def test_the_return_window_closes_return_window_days_after_delivery(
    delivered, ask, monkeypatch, settings, after, status_code
):
    settings.RETURN_WINDOW_DAYS = 30
    delivered_at = StoreOrder.objects.get(order__number=delivered.number, store__owner=delivered.seller).delivered_at
    monkeypatch.setattr("apps.returns.returns.timezone.now", lambda: delivered_at + after)

    response = ask(delivered.number, [(delivered.mug_line, 1)])

    assert response.status_code == status_code, response.json()
    if status_code == 409:
        assert response.json()["code"] == "return_window_closed"
        assert response.json()["closed_at"] == (delivered_at + timedelta(days=30)).isoformat()
        assert not ReturnRequest.objects.exists()


def test_the_window_follows_the_setting(delivered, ask, monkeypatch, settings):
    settings.RETURN_WINDOW_DAYS = 7
    delivered_at = StoreOrder.objects.get(order__number=delivered.number, store__owner=delivered.seller).delivered_at
    monkeypatch.setattr("apps.returns.returns.timezone.now", lambda: delivered_at + timedelta(days=8))

    assert ask(delivered.number, [(delivered.mug_line, 1)]).json()["code"] == "return_window_closed"


# --- what is left to return -----------------------------------------------------------------------


def test_open_returns_cover_their_units(delivered, ask, client_for):
    assert ask(delivered.number, [(delivered.mug_line, 2)]).status_code == 201
    pk = ReturnRequest.objects.get().pk
    act(client_for(delivered.seller), pk, "approve")

    over = ask(delivered.number, [(delivered.mug_line, 2)])

    assert over.status_code == 409
    assert over.json()["code"] == "return_exceeds"
    assert over.json()["lines"] == [{"id": delivered.mug_line, "requested": 2, "returnable": 1}]
    assert ask(delivered.number, [(delivered.mug_line, 1)]).status_code == 201
    assert ask(delivered.number, [(delivered.mug_line, 1)]).json()["code"] == "return_exceeds"
    assert ReturnRequest.objects.count() == 2


def test_a_rejected_return_frees_its_units(delivered, ask, client_for):
    pk = ask(delivered.number, [(delivered.mug_line, 3)]).json()["id"]
    act(client_for(delivered.seller), pk, "reject", {"note": "Used"})

    assert ask(delivered.number, [(delivered.mug_line, 3)]).status_code == 201


def test_refunds_cover_their_units(delivered, ask):
    part = StoreOrder.objects.get(order__number=delivered.number, store__owner=delivered.seller)
    refund_lines(
        store_order=part, lines=[(delivered.mug_line, 2)], shipping=False, restock=False, reason="", actor=None
    )

    over = ask(delivered.number, [(delivered.mug_line, 2)])

    assert over.json()["lines"] == [{"id": delivered.mug_line, "requested": 2, "returnable": 1}]
    assert ask(delivered.number, [(delivered.mug_line, 1)]).status_code == 201


def test_received_returns_cover_their_units_once_whether_their_refund_failed_or_was_asked_again(
    delivered, ask, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    seller = client_for(delivered.seller)
    pk = ask(delivered.number, [(delivered.mug_line, 2)]).json()["id"]
    act(seller, pk, "approve")

    def refuse(self, **kwargs):
        raise ProviderError("card closed", retryable=False)

    with monkeypatch.context() as patch:
        patch.setattr(SimulatedProvider, "refund", refuse)
        with django_capture_on_commit_callbacks(execute=True):
            act(seller, pk, "receive")
    failed = ReturnRequest.objects.get(pk=pk).refund
    assert failed.status == RefundStatus.FAILED
    # The failed refund gave its units back to the line, but the goods did come back.
    assert OrderLine.objects.get(pk=delivered.mug_line).refunded_quantity == 0
    assert ask(delivered.number, [(delivered.mug_line, 2)]).json()["lines"][0]["returnable"] == 1

    # Staff ask again, as a new refund of the same lines: still two units taken, not four.
    with django_capture_on_commit_callbacks(execute=True):
        retried = checkout_refund_retry(refund=failed, staff=UserFactory(is_staff=True))
    assert retried.status == RefundStatus.SUCCEEDED
    assert OrderLine.objects.get(pk=delivered.mug_line).refunded_quantity == 2
    assert ask(delivered.number, [(delivered.mug_line, 2)]).json()["lines"][0]["returnable"] == 1
    assert ask(delivered.number, [(delivered.mug_line, 1)]).status_code == 201


def test_a_received_return_whose_refund_succeeded_is_counted_once(
    delivered, ask, client_for, django_capture_on_commit_callbacks
):
    seller = client_for(delivered.seller)
    pk = ask(delivered.number, [(delivered.mug_line, 2)]).json()["id"]
    act(seller, pk, "approve")
    with django_capture_on_commit_callbacks(execute=True):
        act(seller, pk, "receive")

    assert OrderLine.objects.get(pk=delivered.mug_line).refunded_quantity == 2
    assert ask(delivered.number, [(delivered.mug_line, 2)]).json()["lines"][0]["returnable"] == 1


def test_returns_and_refunds_together_never_pass_what_was_delivered(delivered, ask):
    part = StoreOrder.objects.get(order__number=delivered.number, store__owner=delivered.seller)
    assert ask(delivered.number, [(delivered.mug_line, 1)]).status_code == 201
    refund_lines(
        store_order=part, lines=[(delivered.mug_line, 1)], shipping=False, restock=False, reason="", actor=None
    )

    assert ask(delivered.number, [(delivered.mug_line, 1)]).status_code == 201
    assert ask(delivered.number, [(delivered.mug_line, 1)]).json()["code"] == "return_exceeds"


# --- the seller decides ---------------------------------------------------------------------------

ALLOWED = {("requested", "approved"), ("requested", "rejected"), ("approved", "received")}
ACTIONS = {"approve": ReturnStatus.APPROVED, "reject": ReturnStatus.REJECTED, "receive": ReturnStatus.RECEIVED}


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("start", list(ReturnStatus.values))
def test_the_transition_table_exhaustively(delivered, ask, client_for, start, action):
    pk = ask(delivered.number, [(delivered.mug_line, 1)]).json()["id"]
    ReturnRequest.objects.filter(pk=pk).update(status=start, received_at=timezone.now())

    response = act(client_for(delivered.seller), pk, action, {"note": "No"})

    allowed = ACTIONS[action] in STATUS_TRANSITIONS[start]
    assert allowed == ((start, ACTIONS[action]) in ALLOWED)
    if allowed:
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == ACTIONS[action]
    else:
        assert response.status_code == 409
        assert response.json()["code"] == "invalid_transition"
        assert response.json()["status"] == start
        assert ReturnRequest.objects.get(pk=pk).status == start
        assert not Refund.objects.filter(store_order__isnull=False).exists()


def test_each_transition_is_stamped_and_noted_on_the_order(delivered, ask, client_for):
    seller = client_for(delivered.seller)
    first = ask(delivered.number, [(delivered.mug_line, 1)]).json()["id"]
    second = ask(delivered.number, [(delivered.mug_line, 1)]).json()["id"]

    approved = act(seller, first, "approve").json()
    received = act(seller, first, "receive").json()
    rejected = act(seller, second, "reject", {"note": "Worn"}).json()

    assert (bool(approved["approved_at"]), approved["received_at"]) == (True, None)
    assert (bool(received["approved_at"]), bool(received["received_at"])) == (True, True)
    assert (rejected["status"], rejected["note"], bool(rejected["rejected_at"])) == ("rejected", "Worn", True)
    notes = list(OrderEvent.objects.filter(order__number=delivered.number).values_list("note", flat=True))
    store_name = StoreOrder.objects.get(order__number=delivered.number, store__owner=delivered.seller).store_name
    assert f"return {first} approved by {store_name}" in notes
    assert f"return {first} received by {store_name}" in notes
    assert f"return {second} rejected by {store_name}: Worn" in notes


def test_a_rejection_needs_a_note(delivered, ask, client_for):
    pk = ask(delivered.number, [(delivered.mug_line, 1)]).json()["id"]

    response = act(client_for(delivered.seller), pk, "reject", {})

    assert response.status_code == 400
    assert "note" in response.json()
    assert ReturnRequest.objects.get(pk=pk).status == "requested"


def test_receiving_refunds_the_returned_lines_without_shipping_and_restocks_once(
    delivered, ask, client_for, mug_product, django_capture_on_commit_callbacks
):
    seller = client_for(delivered.seller)
    pk = ask(delivered.number, [(delivered.mug_line, 2)]).json()["id"]
    act(seller, pk, "approve")
    before = units(mug_product)

    with django_capture_on_commit_callbacks(execute=True):
        response = act(seller, pk, "receive", {"restock": True})

    assert response.status_code == 200, response.json()
    refund = Refund.objects.get()
    assert (refund.amount, refund.items_amount, refund.shipping_amount) == (
        Decimal("20.00"),
        Decimal("20.00"),
        Decimal("0.00"),
    )
    assert refund.store_order.store.owner == delivered.seller
    assert list(refund.lines.values_list("line_id", "quantity", "restocked")) == [(delivered.mug_line, 2, True)]
    assert refund.status == RefundStatus.SUCCEEDED
    assert (response.json()["refund"]["id"], response.json()["refund"]["amount"]) == (refund.pk, "20.00")
    assert units(mug_product) == before + 2
    assert OrderLine.objects.get(pk=delivered.mug_line).refunded_quantity == 2

    again = act(seller, pk, "receive", {"restock": True})

    assert again.status_code == 409
    assert units(mug_product) == before + 2
    assert Refund.objects.count() == 1


def test_receiving_without_restock_leaves_stock_alone(
    delivered, ask, client_for, mug_product, django_capture_on_commit_callbacks
):
    seller = client_for(delivered.seller)
    pk = ask(delivered.number, [(delivered.mug_line, 1)]).json()["id"]
    act(seller, pk, "approve")
    before = units(mug_product)

    with django_capture_on_commit_callbacks(execute=True):
        assert act(seller, pk, "receive").status_code == 200

    assert units(mug_product) == before
    assert Refund.objects.get().amount == Decimal("10.00")


def test_the_refund_is_sent_only_after_commit(delivered, ask, client_for, django_capture_on_commit_callbacks):
    seller = client_for(delivered.seller)
    pk = ask(delivered.number, [(delivered.mug_line, 1)]).json()["id"]
    act(seller, pk, "approve")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        act(seller, pk, "receive")

    assert Refund.objects.get().status == RefundStatus.PENDING
    assert Refund.objects.get().reference == ""
    assert callbacks


def test_receiving_units_the_seller_refunded_meanwhile_is_refused_and_changes_nothing(delivered, ask, client_for):
    seller = client_for(delivered.seller)
    pk = ask(delivered.number, [(delivered.mug_line, 3)]).json()["id"]
    act(seller, pk, "approve")
    part = StoreOrder.objects.get(order__number=delivered.number, store__owner=delivered.seller)
    refund_lines(
        store_order=part, lines=[(delivered.mug_line, 1)], shipping=False, restock=False, reason="", actor=None
    )

    response = act(seller, pk, "receive")

    assert (response.status_code, response.json()["code"]) == (409, "refund_exceeds")
    assert ReturnRequest.objects.get(pk=pk).status == "approved"
    assert Refund.objects.count() == 1


# --- who may ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", list(ACTIONS))
def test_another_stores_return_is_404_and_stays_as_it_was(delivered, ask, client_for, action):
    pk = ask(delivered.number, [(delivered.mug_line, 1)]).json()["id"]

    response = act(client_for(delivered.other_seller), pk, action, {"note": "x"})

    assert response.status_code == 404
    assert ReturnRequest.objects.get(pk=pk).status == "requested"


@pytest.mark.parametrize("action", list(ACTIONS))
def test_buyers_cannot_decide_returns(delivered, ask, buyer_client, action):
    pk = ask(delivered.number, [(delivered.mug_line, 1)]).json()["id"]

    assert act(buyer_client, pk, action, {"note": "x"}).status_code == 403
    assert buyer_client.get(SELLER_RETURNS).status_code == 403
    assert ReturnRequest.objects.get(pk=pk).status == "requested"


def test_the_seller_lists_its_own_stores_returns_filtered_by_status(delivered, ask, client_for):
    mine = ask(delivered.number, [(delivered.mug_line, 1)]).json()["id"]
    approved = ask(delivered.number, [(delivered.mug_line, 1)]).json()["id"]
    theirs = ask(delivered.number, [(delivered.book_line, 1)]).json()["id"]
    seller = client_for(delivered.seller)
    act(seller, approved, "approve")

    everything = seller.get(SELLER_RETURNS).json()
    only_approved = seller.get(SELLER_RETURNS, {"status": "approved"}).json()
    other = client_for(delivered.other_seller).get(SELLER_RETURNS).json()

    assert [r["id"] for r in everything["results"]] == [approved, mine]
    assert [r["id"] for r in only_approved["results"]] == [approved]
    assert [r["id"] for r in other["results"]] == [theirs]
    assert seller.get(SELLER_RETURNS, {"status": "lost"}).status_code == 400


# --- query budgets --------------------------------------------------------------------------------


def _many_returns(delivered, count: int) -> None:
    part = StoreOrder.objects.get(order__number=delivered.number, store__owner=delivered.seller)
    for _ in range(count):
        request = ReturnRequest.objects.create(
            order=part.order, store_order=part, buyer=part.order.buyer, reason="x", status="rejected"
        )
        ReturnLine.objects.create(return_request=request, line_id=delivered.mug_line, quantity=1)


@pytest.mark.parametrize("size", [2, 20])
def test_the_lists_query_count_does_not_grow_with_the_page(
    delivered, client_for, buyer_client, django_assert_max_num_queries, size
):
    _many_returns(delivered, size)
    seller = client_for(delivered.seller)

    with django_assert_max_num_queries(5):
        seller_page = seller.get(SELLER_RETURNS, {"page_size": size})
    with django_assert_max_num_queries(5):
        buyer_page = buyer_client.get(f"/api/v1/orders/{delivered.number}/returns/", {"page_size": size})

    assert len(seller_page.json()["results"]) == size
    assert len(buyer_page.json()["results"]) == size


# --- the admin --------------------------------------------------------------------------------------


def test_the_admin_shows_returns_with_their_lines_read_only(delivered, ask, client):
    pk = ask(delivered.number, [(delivered.mug_line, 2)]).json()["id"]
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = reverse("admin:returns_returnrequest_change", args=[pk])

    shown = client.get(page)
    posted = client.post(page, {"status": "received"})

    assert shown.status_code == 200
    assert b"Too small" in shown.content
    assert client.get(reverse("admin:returns_returnrequest_changelist")).status_code == 200
    assert posted.status_code == 403
    assert client.get(reverse("admin:returns_returnrequest_add")).status_code == 403
    assert ReturnRequest.objects.get(pk=pk).status == "requested"
