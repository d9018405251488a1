"""The operator's desk (apps/checkout/admin.py), driven through the real admin with the test client.

No page writes a status, an amount, a quantity or a flag; what staff do to an order's money goes
through the actions, which call the checkout services and leave an order event naming the staff
member and a line in Django's admin log. Payments run on the simulated provider, whose own books
(SimulatedPayment) stand for what the provider actually took.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts.models import Store
from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import Product
from apps.catalog.tests.factories import ProductFactory
from apps.checkout import services
from apps.checkout.services import checkout_cancel, checkout_place
from apps.orders.models import Order, OrderEvent, OrderStatus
from apps.orders.services import order_ship_lines
from apps.orders.tests.factories import ADDRESS, fill_cart
from apps.payments.models import Payment, Refund, SimulatedPayment, SimulatedRefund
from apps.payments.providers.base import PaymentStatus, ProviderError, RefundStatus
from apps.payments.providers.simulated import SimulatedProvider
from apps.payments.services import payment_outside_refund, payments_refund_due, payments_sync

pytestmark = pytest.mark.django_db

ORDERS = reverse("admin:orders_order_changelist")
REFUNDS = reverse("admin:payments_refund_changelist")


# --- given ---------------------------------------------------------------------------------------


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True, email="ops@example.com")


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def buyer():
    return UserFactory()


def placed(buyer, mug, *, payment_method: str | None = None) -> Order:
    """2 mugs (25.00 USD), stock 5 -> 3; a payment started with the simulated provider, confirmed
    at once with ``payment_method``."""
    fill_cart(buyer, (mug, 2))
    order = checkout_place(buyer=buyer, shipping_address=ADDRESS, payment_method=payment_method)
    order.refresh_from_db()
    return order


@pytest.fixture
def paid(buyer, mug) -> Order:
    order = placed(buyer, mug, payment_method="pm_card_visa")
    assert (order.status, order.total) == (OrderStatus.PAID, Decimal("25.00"))
    return order


@pytest.fixture
def under_review(buyer, mug) -> Order:
    """A 25.00 USD order whose payment the provider says took 30.00 USD: found by the sync, flagged
    ``needs_review``, still ``pending_payment``."""
    order = placed(buyer, mug)
    payment = order.payments.get()
    SimulatedPayment.objects.filter(reference=payment.reference).update(
        amount=Decimal("30.00"), status=PaymentStatus.SUCCEEDED
    )
    assert payments_sync() == 1
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, order.needs_review) == (OrderStatus.PENDING_PAYMENT, True)
    assert (payment.status, payment.amount, payment.amount_received) == (
        PaymentStatus.SUCCEEDED,
        Decimal("25.00"),
        Decimal("30.00"),
    )
    return order


def run_action(client, changelist: str, action: str, *objects):
    """POST the changelist's action form as the admin page does, and follow to the page that
    shows its messages (so that each response says only what its own action did)."""
    return client.post(changelist, {"action": action, "_selected_action": [obj.pk for obj in objects]}, follow=True)


def said(response) -> list[tuple[str, str]]:
    return [(message.level_tag, message.message) for message in response.context["messages"]]


def events(order: Order) -> list[tuple[str, str, str | None, str]]:
    return [
        (event.from_status, event.to_status, event.actor and event.actor.email, event.note)
        for event in OrderEvent.objects.filter(order=order).select_related("actor")
    ]


def admin_log(obj) -> list[tuple[str, int, str]]:
    content_type = ContentType.objects.get_for_model(obj)
    return list(
        LogEntry.objects.filter(content_type=content_type, object_id=str(obj.pk))
        .order_by("pk")
        .values_list("user__email", "action_flag", "change_message")
    )


def stock(product: Product) -> int:
    return Product.objects.values_list("stock", flat=True).get(pk=product.pk)


def field_names(response) -> set[str]:
    """The names of the form controls a page would submit, less the CSRF token, the action form
    and the inline formsets' management and row-id fields (which carry no data of the row)."""
    names = set(re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', response.content.decode()))
    bookkeeping = re.compile(
        r"^(csrfmiddlewaretoken|.*-(TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS|.*-\d+-(id|order|payment))$"
    )
    return {name for name in names if not bookkeeping.match(name)}


# --- no page writes --------------------------------------------------------------------------------


def test_the_order_page_shows_lines_payments_refunds_and_events_and_edits_nothing(
    admin_client, under_review, staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run_action(admin_client, ORDERS, "refund_what_was_received", under_review)

    response = admin_client.get(reverse("admin:orders_order_change", args=[under_review.pk]))

    assert response.status_code == 200
    assert field_names(response) == set()
    assert list(response.context["adminform"].form.fields) == []
    page = response.content.decode()
    refund = Refund.objects.get()
    for shown in (
        "Mug",  # the line
        "30.00",  # what the provider received (and what came back)
        refund.idempotency_key,  # the refund, linked
        reverse("admin:payments_refund_change", args=[refund.pk]),
        reverse("admin:payments_payment_change", args=[refund.payment_id]),
        "cancelled by staff after review: refunded",  # the events
        "ops@example.com",
    ):
        assert shown in page, shown
    assert "Save" not in page
    assert 'name="_save"' not in page


def test_the_order_page_shows_its_store_orders_with_shipping_and_commission(admin_client, buyer, mug):
    order = placed(buyer, mug)
    part = order.store_orders.get()

    response = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))

    assert response.status_code == 200
    assert field_names(response) == set()
    page = response.content.decode()
    assert "Store orders" in page
    for shown in (part.store_name, "Standard", f"{part.commission_rate}", f"{part.commission}", mug.slug):
        assert shown in page, shown


def test_posting_a_changed_order_through_its_page_is_refused_and_changes_nothing(admin_client, under_review, mug):
    before = events(under_review)
    line = under_review.lines.get()

    response = admin_client.post(
        reverse("admin:orders_order_change", args=[under_review.pk]),
        {
            "status": "paid",
            "needs_review": "",
            "total": "1.00",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "1",
            "lines-0-id": str(line.pk),
            "lines-0-order": str(under_review.pk),
            "lines-0-quantity": "1",
            "lines-0-status": "cancelled",
            "_save": "Save",
        },
    )

    assert response.status_code == 403
    order = Order.objects.get(pk=under_review.pk)
    assert (order.status, order.needs_review, order.total) == (OrderStatus.PENDING_PAYMENT, True, Decimal("25.00"))
    line.refresh_from_db()
    assert (line.quantity, line.status) == (2, "pending")
    assert stock(mug) == 3
    assert events(under_review) == before
    assert admin_log(under_review) == []


def test_payment_and_refund_pages_edit_nothing_and_refuse_a_post(admin_client, paid, staff):
    checkout_cancel(order=paid, actor=paid.buyer)  # no on-commit here: the refund stays pending, unsent
    payment, refund = Payment.objects.get(), Refund.objects.get()

    for url, changes in (
        (reverse("admin:payments_payment_change", args=[payment.pk]), {"status": "refunded", "amount": "1.00"}),
        (reverse("admin:payments_refund_change", args=[refund.pk]), {"status": "succeeded", "amount": "1.00"}),
    ):
        page = admin_client.get(url)
        assert page.status_code == 200, url
        assert field_names(page) == set(), url
        assert admin_client.post(url, changes | {"_save": "Save"}).status_code == 403, url

    payment.refresh_from_db()
    refund.refresh_from_db()
    assert (payment.status, payment.amount, payment.amount_refunded) == ("succeeded", Decimal("25.00"), 0)
    assert (refund.status, refund.amount) == ("pending", Decimal("25.00"))
    assert LogEntry.objects.count() == 0


def test_the_payment_page_lists_its_refunds_and_hides_the_client_secret(admin_client, paid):
    Payment.objects.update(client_secret="pi_secret_do_not_show")
    checkout_cancel(order=paid, actor=paid.buyer)
    payment = Payment.objects.get()

    page = admin_client.get(reverse("admin:payments_payment_change", args=[payment.pk])).content.decode()

    assert Refund.objects.get().idempotency_key in page
    assert "pi_secret_do_not_show" not in page


@pytest.mark.parametrize(
    "url",
    [
        pytest.param(lambda order: reverse("admin:orders_order_add"), id="add-order"),
        pytest.param(lambda order: reverse("admin:orders_order_delete", args=[order.pk]), id="delete-order"),
        pytest.param(lambda order: reverse("admin:payments_payment_add"), id="add-payment"),
        pytest.param(
            lambda order: reverse("admin:payments_payment_delete", args=[order.payments.get().pk]), id="delete-payment"
        ),
        pytest.param(lambda order: reverse("admin:payments_refund_add"), id="add-refund"),
    ],
)
def test_add_and_delete_are_refused(admin_client, paid, url):
    assert admin_client.get(url(paid)).status_code == 403
    assert admin_client.post(url(paid), {"post": "yes"}).status_code == 403
    assert Order.objects.filter(pk=paid.pk).exists()
    assert Payment.objects.count() == 1


def test_the_changelists_offer_only_the_actions_that_call_services(admin_client, paid):
    orders = admin_client.get(ORDERS)
    refunds = admin_client.get(REFUNDS)

    assert [name for name, _ in orders.context["action_form"].fields["action"].choices][1:] == [
        "accept_reviewed_payment",
        "refund_what_was_received",
        "cancel_and_refund",
    ]
    assert [name for name, _ in refunds.context["action_form"].fields["action"].choices][1:] == ["retry_failed_refund"]
    assert admin_client.post(ORDERS, {"action": "delete_selected", "_selected_action": [paid.pk]}).status_code == 302
    assert Order.objects.filter(pk=paid.pk).exists()


def test_orders_under_review_come_first_and_are_one_click_away(admin_client, under_review, buyer, mug):
    newer = placed(buyer, mug, payment_method="pm_card_visa")
    assert newer.created_at >= under_review.created_at

    listed = admin_client.get(ORDERS)
    flagged = admin_client.get(ORDERS, {"needs_review__exact": "1"})

    assert [order.number for order in listed.context["cl"].result_list] == [under_review.number, newer.number]
    assert [order.number for order in flagged.context["cl"].result_list] == [under_review.number]
    assert "?needs_review__exact=1" in listed.content.decode()  # the filter's link


# --- the actions -----------------------------------------------------------------------------------


def test_accept_pays_the_order_with_what_was_received(admin_client, under_review, staff, mug):
    response = run_action(admin_client, ORDERS, "accept_reviewed_payment", under_review)

    assert response.redirect_chain == [(ORDERS, 302)]
    assert said(response) == [("success", f"{under_review.number}: payment under review accepted.")]
    order = Order.objects.get(pk=under_review.pk)
    assert (order.status, order.needs_review) == (OrderStatus.PAID, False)
    payment = Payment.objects.get()
    assert (payment.status, payment.amount_received, payment.settles_order) == ("succeeded", Decimal("30.00"), True)
    assert events(order)[-2:] == [
        ("pending_payment", "paid", staff.email, "payment of 30.00 USD accepted by staff"),
        ("paid", "paid", staff.email, "review closed: payment accepted"),
    ]
    assert admin_log(order) == [(staff.email, CHANGE, "payment under review accepted")]
    assert stock(mug) == 3  # sold: the stock stays taken
    assert not Refund.objects.exists()
    assert payments_refund_due() == 0  # the accepted payment is not a charge to give back


def test_accept_tells_the_buyer_and_the_seller_as_any_payment_does(
    admin_client, under_review, mug, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run_action(admin_client, ORDERS, "accept_reviewed_payment", under_review)

    assert sorted(message.to[0] for message in mailoutbox) == sorted([under_review.buyer.email, mug.store.owner.email])


def test_refund_what_was_received_refunds_30_for_a_25_order_and_cancels(
    admin_client, under_review, staff, mug, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(admin_client, ORDERS, "refund_what_was_received", under_review)

    assert said(response) == [("success", f"{under_review.number}: refunded what was received and cancelled.")]
    order = Order.objects.get(pk=under_review.pk)
    assert (order.status, order.needs_review) == (OrderStatus.CANCELLED, False)
    assert stock(mug) == 5
    assert set(order.lines.values_list("status", flat=True)) == {"cancelled"}
    refund = Refund.objects.get()
    key = f"order-{order.number}-attempt-1-refund-1"
    assert (refund.amount, refund.status, refund.idempotency_key, refund.requested_by) == (
        Decimal("30.00"),
        RefundStatus.SUCCEEDED,
        key,
        staff,
    )
    payment = Payment.objects.get()
    assert (payment.status, payment.amount_received, payment.amount_refunded) == (
        "refunded",
        Decimal("30.00"),
        Decimal("30.00"),
    )
    # What the provider was asked to give back: all it took, once.
    assert list(SimulatedRefund.objects.values_list("key", "amount")) == [(key, Decimal("30.00"))]
    assert events(order)[-3:] == [
        ("pending_payment", "cancelled", staff.email, "cancelled by staff after review: refunded"),
        ("cancelled", "cancelled", staff.email, "review closed: what was received is refunded"),
        ("cancelled", "cancelled", staff.email, "refund of 30.00 USD asked by staff: order cancelled"),
    ]
    assert admin_log(order) == [(staff.email, CHANGE, "refunded what was received and cancelled")]


def test_refund_what_was_received_refuses_an_order_not_under_review(admin_client, paid, staff, mug):
    before = events(paid)

    response = run_action(admin_client, ORDERS, "refund_what_was_received", paid)

    assert said(response) == [("error", f"{paid.number}: This order does not need a review.")]
    assert Order.objects.get(pk=paid.pk).status == OrderStatus.PAID
    assert stock(mug) == 3
    assert not Refund.objects.exists()
    assert events(paid) == before
    assert admin_log(paid) == []


def test_cancel_and_refund_returns_stock_once_and_refunds_the_payment(
    admin_client, paid, staff, mug, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(admin_client, ORDERS, "cancel_and_refund", paid)
    with django_capture_on_commit_callbacks(execute=True):
        again = run_action(admin_client, ORDERS, "cancel_and_refund", paid)

    assert said(response) == [("success", f"{paid.number}: cancelled and refunded.")]
    assert said(again) == [("error", f"{paid.number}: An order that is cancelled cannot become cancelled again.")]
    order = Order.objects.get(pk=paid.pk)
    assert order.status == OrderStatus.CANCELLED
    assert stock(mug) == 5  # returned once, not twice
    refund = Refund.objects.get()
    assert (refund.amount, refund.status, refund.requested_by) == (Decimal("25.00"), RefundStatus.SUCCEEDED, staff)
    assert Payment.objects.get().status == "refunded"
    assert SimulatedRefund.objects.count() == 1
    assert events(order)[-2:] == [
        ("paid", "cancelled", staff.email, "cancelled by staff"),
        ("cancelled", "cancelled", staff.email, "refund of 25.00 USD asked by staff: order cancelled"),
    ]
    assert admin_log(order) == [(staff.email, CHANGE, "cancelled and refunded")]


def test_cancel_of_a_shipped_order_is_refused_and_changes_nothing(
    admin_client, paid, mug, django_capture_on_commit_callbacks
):
    order_ship_lines(seller=mug.store.owner, number=paid.number, carrier="UPS", tracking_number="1Z")
    before = events(paid)

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(admin_client, ORDERS, "cancel_and_refund", paid)

    assert said(response) == [("error", f"{paid.number}: An order that is shipped cannot become cancelled.")]
    order = Order.objects.get(pk=paid.pk)
    assert order.status == OrderStatus.SHIPPED
    assert set(order.lines.values_list("status", flat=True)) == {"shipped"}
    assert stock(mug) == 3
    assert not Refund.objects.exists()
    assert not SimulatedRefund.objects.exists()
    assert events(paid) == before
    assert admin_log(paid) == []


def test_accept_refuses_an_order_not_under_review_and_goes_on_with_the_others(admin_client, paid, under_review, staff):
    before = events(paid)

    response = run_action(admin_client, ORDERS, "accept_reviewed_payment", paid, under_review)

    assert sorted(said(response)) == sorted(
        [
            ("error", f"{paid.number}: This order does not need a review."),
            ("success", f"{under_review.number}: payment under review accepted."),
        ]
    )
    assert events(paid) == before
    assert admin_log(paid) == []
    assert Order.objects.get(pk=under_review.pk).status == OrderStatus.PAID


@pytest.fixture
def refunded_in_the_dashboard(paid) -> Order:
    """A paid 25.00 order of which 5.00 was refunded in the provider's dashboard: flagged."""
    payment = paid.payments.get()
    SimulatedProvider().refund(payment_ref=payment.reference, amount=Decimal("5.00"), idempotency_key="dashboard")
    payment_outside_refund(payment=payment, refunded_total=Decimal("5.00"), key="re_dashboard")
    paid.refresh_from_db()
    assert (paid.status, paid.needs_review) == (OrderStatus.PAID, True)
    return paid


def test_refund_what_was_received_gives_back_only_what_is_left_after_a_dashboard_refund(
    admin_client, refunded_in_the_dashboard, staff, mug, django_capture_on_commit_callbacks
):
    order = refunded_in_the_dashboard

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(admin_client, ORDERS, "refund_what_was_received", order)

    assert said(response) == [("success", f"{order.number}: refunded what was received and cancelled.")]
    order.refresh_from_db()
    assert (order.status, order.needs_review) == (OrderStatus.CANCELLED, False)
    assert stock(mug) == 5
    assert list(Refund.objects.order_by("pk").values_list("amount", "origin", "status")) == [
        (Decimal("5.00"), "provider", "succeeded"),
        (Decimal("20.00"), "bazaar", "succeeded"),
    ]
    assert list(SimulatedRefund.objects.order_by("pk").values_list("amount", flat=True)) == [
        Decimal("5.00"),
        Decimal("20.00"),
    ]
    payment = Payment.objects.get()
    assert (payment.status, payment.amount_refunded) == ("refunded", Decimal("25.00"))


def test_accept_on_a_paid_order_under_review_closes_the_review_and_keeps_it_paid(
    admin_client, refunded_in_the_dashboard, staff
):
    order = refunded_in_the_dashboard

    response = run_action(admin_client, ORDERS, "accept_reviewed_payment", order)

    assert said(response) == [("success", f"{order.number}: payment under review accepted.")]
    order.refresh_from_db()
    assert (order.status, order.needs_review) == (OrderStatus.PAID, False)
    assert events(order)[-1] == ("paid", "paid", staff.email, "review closed: payment accepted")
    assert Refund.objects.count() == 1  # the dashboard's, nothing more
    assert payments_refund_due() == 0


def test_refund_after_review_is_refused_once_another_staff_member_accepted_meanwhile(
    admin_client, under_review, monkeypatch, django_capture_on_commit_callbacks
):
    """The colleague's accept is made to commit between checkout_review_refund's unlocked check and
    the cancel it then calls; re-checking the flag under the order's lock (in the cancel's
    transaction) makes this pass."""
    colleague = UserFactory(is_staff=True, is_superuser=True)
    cancel_by_staff = services.checkout_cancel_by_staff

    def accepted_meanwhile(**kwargs):  # the colleague's accept commits between the check and the lock
        services.checkout_review_accept(order=under_review, staff=colleague)
        return cancel_by_staff(**kwargs)

    monkeypatch.setattr(services, "checkout_cancel_by_staff", accepted_meanwhile)

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(admin_client, ORDERS, "refund_what_was_received", under_review)

    assert said(response) == [("error", f"{under_review.number}: This order does not need a review.")]
    assert Order.objects.get(pk=under_review.pk).status == OrderStatus.PAID
    assert not Refund.objects.exists()


# --- failed refunds --------------------------------------------------------------------------------


def refuse_refunds(self, **kwargs):
    raise ProviderError("The charge is disputed.", retryable=False)


@pytest.fixture
def failed_refund(paid, monkeypatch, django_capture_on_commit_callbacks) -> Refund:
    """The buyer cancelled the paid order and the provider refused its refund (not retryable)."""
    with monkeypatch.context() as patched:
        patched.setattr(SimulatedProvider, "refund", refuse_refunds)
        with django_capture_on_commit_callbacks(execute=True):
            checkout_cancel(order=paid, actor=paid.buyer)
    refund = Refund.objects.get()
    assert (refund.status, refund.failure) == (RefundStatus.FAILED, "The charge is disputed.")
    return refund


def test_retry_asks_again_as_a_new_refund_with_its_own_key(admin_client, failed_refund, staff):
    order = failed_refund.payment.order

    response = run_action(admin_client, REFUNDS, "retry_failed_refund", failed_refund)

    first = f"order-{order.number}-attempt-1-refund-1"
    second = f"order-{order.number}-attempt-1-refund-2"
    assert failed_refund.idempotency_key == first
    assert said(response) == [("success", f"{first} 25.00 failed: asked again as {second}: succeeded.")]
    assert list(Refund.objects.order_by("pk").values_list("idempotency_key", "amount", "status", "requested_by")) == [
        (first, Decimal("25.00"), RefundStatus.FAILED, order.buyer_id),
        (second, Decimal("25.00"), RefundStatus.SUCCEEDED, staff.pk),
    ]
    assert list(SimulatedRefund.objects.values_list("key", "amount")) == [(second, Decimal("25.00"))]
    payment = Payment.objects.get()
    assert (payment.status, payment.amount_refunded) == ("refunded", Decimal("25.00"))
    assert events(order)[-1] == (
        "cancelled",
        "cancelled",
        staff.email,
        f"refund of 25.00 USD asked by staff: retry of {first}",
    )
    assert admin_log(failed_refund) == [(staff.email, CHANGE, f"asked again as {second}: succeeded")]
    # The order's history holds it too, next to the other actions on its money.
    assert admin_log(order) == [(staff.email, CHANGE, f"{first} 25.00 failed: asked again as {second}: succeeded")]


def test_retry_refuses_a_refund_that_did_not_fail(admin_client, failed_refund):
    run_action(admin_client, REFUNDS, "retry_failed_refund", failed_refund)
    succeeded = Refund.objects.get(status=RefundStatus.SUCCEEDED)

    response = run_action(admin_client, REFUNDS, "retry_failed_refund", succeeded)

    assert said(response) == [("error", f"{succeeded}: Only a failed refund can be retried; this one is succeeded.")]
    assert Refund.objects.count() == 2
    assert SimulatedRefund.objects.count() == 1
    assert admin_log(succeeded) == []


def test_a_second_retry_of_the_same_failed_refund_asks_nothing(admin_client, failed_refund):
    run_action(admin_client, REFUNDS, "retry_failed_refund", failed_refund)

    response = run_action(admin_client, REFUNDS, "retry_failed_refund", failed_refund)

    assert said(response) == [("warning", f"{failed_refund}: nothing left to refund: not asked again.")]
    assert Refund.objects.count() == 2
    assert SimulatedRefund.objects.count() == 1
    assert Payment.objects.get().amount_refunded == Decimal("25.00")


def test_a_failed_refund_waits_for_staff_the_sweep_does_not_ask_again(failed_refund, monkeypatch):
    monkeypatch.setattr(SimulatedProvider, "refund", refuse_refunds)  # the provider still refuses

    payments_refund_due()
    payments_refund_due()

    # Today each run records a new refund under a new key, asks the provider, and fails again.
    assert list(Refund.objects.values_list("idempotency_key", "status")) == [
        (failed_refund.idempotency_key, RefundStatus.FAILED)
    ]


# --- the audit trail ------------------------------------------------------------------------------

# Every admin action on Bazaar's models that moves money or changes an order, with the fixture that
# gives it something to do: each must leave order events and an admin log line naming the staff
# member who ran it (docs/operations.md, "The audit trail").
ORDER_ACTIONS = {
    (Order, "accept_reviewed_payment"): "under_review",
    (Order, "refund_what_was_received"): "under_review",
    (Order, "cancel_and_refund"): "paid",
    (Refund, "retry_failed_refund"): "failed_refund",
}
# The other audited actions, each with the test of its admin log line naming the staff member.
OTHER_AUDITED_ACTIONS = {
    # apps/accounts/tests/test_admin_commission.py
    (Store, "set_commission_rate"): "test_the_rate_changes_and_each_store_gets_a_log_entry",
}
AUDITED_ACTIONS = {**ORDER_ACTIONS, **OTHER_AUDITED_ACTIONS}


def test_every_admin_action_on_bazaars_models_is_audited():
    """A new action fails here until it is added to AUDITED_ACTIONS, and so to the test below."""
    offered = {
        (model, action if isinstance(action, str) else action.__name__)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_config.name.startswith("apps.")
        for action in model_admin.actions or ()
    }

    assert offered == set(AUDITED_ACTIONS)


@pytest.mark.parametrize(("model", "action"), list(ORDER_ACTIONS), ids=[name for _, name in ORDER_ACTIONS])
def test_each_action_leaves_order_events_and_an_admin_log_line_naming_the_staff_member(
    request, admin_client, staff, model, action
):
    selected = request.getfixturevalue(ORDER_ACTIONS[model, action])
    order = selected if isinstance(selected, Order) else selected.payment.order
    events_before = OrderEvent.objects.filter(order=order).count()

    changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    response = run_action(admin_client, changelist, action, selected)

    assert [level for level, _ in said(response)] in (["success"], ["warning"])
    written = OrderEvent.objects.filter(order=order).order_by("pk")[events_before:]
    assert written, "no order event"
    assert {event.actor_id for event in written} == {staff.pk}
    logged = {(obj._meta.model_name, user) for obj in (order, selected) for user, _, _ in admin_log(obj)}
    assert logged == {(order._meta.model_name, staff.email), (selected._meta.model_name, staff.email)}
    assert not LogEntry.objects.exclude(user=staff).exists()


# --- who may ---------------------------------------------------------------------------------------


def test_a_user_who_is_not_staff_is_sent_to_the_admin_login(client, under_review):
    client.force_login(UserFactory())

    page = client.get(ORDERS)
    action = client.post(ORDERS, {"action": "accept_reviewed_payment", "_selected_action": [under_review.pk]})

    for response in (page, action):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    order = Order.objects.get(pk=under_review.pk)
    assert (order.status, order.needs_review) == (OrderStatus.PENDING_PAYMENT, True)
    assert LogEntry.objects.count() == 0


def grant(user, *codenames: str) -> None:
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))


def test_staff_who_may_only_view_orders_read_them_but_run_no_action(client, under_review):
    viewer = UserFactory(is_staff=True)
    grant(viewer, "view_order", "view_payment", "view_refund")
    client.force_login(viewer)

    listed = client.get(ORDERS)
    response = run_action(client, ORDERS, "accept_reviewed_payment", under_review)

    assert listed.status_code == 200
    assert listed.context["action_form"] is None  # no action is offered
    assert (response.status_code, said(response)) == (200, [])  # the POST is only the list again
    assert client.get(reverse("admin:orders_order_change", args=[under_review.pk])).status_code == 200
    order = Order.objects.get(pk=under_review.pk)
    assert (order.status, order.needs_review) == (OrderStatus.PENDING_PAYMENT, True)
    assert LogEntry.objects.count() == 0


def test_staff_granted_the_change_permission_settle_orders(client, under_review):
    operator = UserFactory(is_staff=True)
    grant(operator, "view_order", "change_order", "view_payment", "view_refund")
    client.force_login(operator)

    response = run_action(client, ORDERS, "accept_reviewed_payment", under_review)

    assert said(response) == [("success", f"{under_review.number}: payment under review accepted.")]
    assert Order.objects.get(pk=under_review.pk).status == OrderStatus.PAID
    assert admin_log(under_review) == [(operator.email, CHANGE, "payment under review accepted")]
    page = client.get(reverse("admin:orders_order_change", args=[under_review.pk]))
    assert page.status_code == 200
    assert field_names(page) == set()  # the change permission opens actions, never a form


# --- queries -------------------------------------------------------------------------------------


def queries_to_list(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", [ORDERS, reverse("admin:payments_payment_changelist"), REFUNDS])
def test_a_changelist_costs_the_same_queries_for_more_rows(admin_client, buyer, url):
    def orders_with_refunds(count: int) -> None:
        for _ in range(count):
            order = placed(buyer, ProductFactory(price=Decimal("12.50"), stock=5), payment_method="pm_card_visa")
            checkout_cancel(order=order, actor=buyer)

    orders_with_refunds(2)
    few = queries_to_list(admin_client, url)
    orders_with_refunds(5)

    assert queries_to_list(admin_client, url) == few
