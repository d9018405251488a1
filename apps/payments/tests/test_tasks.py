"""Webhooks answer at once and are applied in a task; reconciliation runs in a retried task."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.catalog.tests.factories import ProductFactory
from apps.core.tasks import RETRY
from apps.orders.models import Order, OrderEvent, OrderStatus
from apps.orders.services import order_place
from apps.orders.tests.factories import ADDRESS, fill_cart
from apps.payments import services, tasks, webhooks
from apps.payments.models import Payment, WebhookEvent
from apps.payments.providers.base import PaymentStatus, ProviderError
from apps.payments.services import payment_start
from apps.payments.tests.stripe_standin import (  # noqa: F401 (stripe_standin_fixture registers the fixture)
    event_payload,
    sign_payload,
    stripe_standin_fixture,
)

pytestmark = pytest.mark.django_db

WEBHOOK_URL = "/api/v1/payments/stripe/webhook/"


@pytest.fixture
def started(stripe_standin):
    """A pending order with an open Stripe payment, and the succeeded event Stripe would send."""
    buyer = UserFactory()
    fill_cart(buyer, (ProductFactory(stock=5), 1))
    order = order_place(buyer=buyer, shipping_address=ADDRESS)
    payment = payment_start(order=order)
    payload = event_payload("payment_intent.succeeded", stripe_standin.intents[payment.reference])
    return order, payment, payload


def post_webhook(api_client, stripe_standin, payload):
    return api_client.post(
        WEBHOOK_URL,
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign_payload(payload, stripe_standin.webhook_secret),
    )


def test_without_a_broker_the_webhook_is_applied_before_the_answer(
    api_client, stripe_standin, started, django_capture_on_commit_callbacks
):
    order, payment, payload = started

    with django_capture_on_commit_callbacks(execute=True):
        response = post_webhook(api_client, stripe_standin, payload)

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert response.json() == {"received": True, "event": event.event_id}
    assert event.processed_at is not None
    assert event.outcome == f"payment {payment.pk} succeeded"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_with_a_broker_the_webhook_is_stored_answered_and_queued(
    api_client, stripe_standin, started, queued, django_capture_on_commit_callbacks
):
    order, payment, payload = started
    calls = queued(tasks.webhook_process)

    with django_capture_on_commit_callbacks(execute=True):
        response = post_webhook(api_client, stripe_standin, payload)

    event = WebhookEvent.objects.get()
    assert response.status_code == 200
    assert calls == [("payments.webhook_process", {"event_id": event.event_id})]
    assert event.processed_at is None
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT  # not applied yet

    tasks.webhook_process.apply(kwargs={"event_id": event.event_id})  # what the worker runs

    event.refresh_from_db()
    assert event.processed_at is not None
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.SUCCEEDED


def test_a_bad_signature_stores_and_queues_nothing(api_client, stripe_standin, started, queued):
    calls = queued(tasks.webhook_process)
    _, _, payload = started

    response = api_client.post(
        WEBHOOK_URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE="t=1,v1=00"
    )

    assert response.status_code == 400
    assert calls == []
    assert not WebhookEvent.objects.exists()


def test_a_replay_of_a_stored_but_unprocessed_event_queues_it_again(
    api_client, stripe_standin, started, queued, django_capture_on_commit_callbacks
):
    _, _, payload = started
    calls = queued(tasks.webhook_process)

    with django_capture_on_commit_callbacks(execute=True):
        post_webhook(api_client, stripe_standin, payload)
        replay = post_webhook(api_client, stripe_standin, payload)

    event_id = WebhookEvent.objects.get().event_id
    assert replay.status_code == 200
    assert calls == [("payments.webhook_process", {"event_id": event_id})] * 2


def test_a_replay_of_a_processed_event_changes_and_queues_nothing(
    api_client, stripe_standin, started, queued, django_capture_on_commit_callbacks
):
    order, _, payload = started
    with django_capture_on_commit_callbacks(execute=True):
        post_webhook(api_client, stripe_standin, payload)  # inline: applied
    events_before = OrderEvent.objects.filter(order=order).count()
    calls = queued(tasks.webhook_process)

    with django_capture_on_commit_callbacks(execute=True):
        replay = post_webhook(api_client, stripe_standin, payload)

    assert replay.status_code == 200
    assert calls == []
    assert OrderEvent.objects.filter(order=order).count() == events_before


def test_the_task_on_an_already_processed_event_changes_nothing(
    api_client, stripe_standin, started, django_capture_on_commit_callbacks
):
    order, payment, payload = started
    with django_capture_on_commit_callbacks(execute=True):
        post_webhook(api_client, stripe_standin, payload)
    event = WebhookEvent.objects.get()
    events_before = list(OrderEvent.objects.filter(order=order).values_list("pk", flat=True))
    payment_before = Payment.objects.get(pk=payment.pk).updated_at

    result = tasks.webhook_process.apply(kwargs={"event_id": event.event_id})

    assert result.get() == event.outcome
    assert WebhookEvent.objects.get().processed_at == event.processed_at
    assert list(OrderEvent.objects.filter(order=order).values_list("pk", flat=True)) == events_before
    assert Payment.objects.get(pk=payment.pk).updated_at == payment_before


def test_the_task_for_an_unknown_event_does_nothing():
    assert tasks.webhook_process.apply(kwargs={"event_id": "evt_missing"}).get() == "unknown event"


def test_a_provider_error_while_applying_an_event_is_retried(
    api_client, stripe_standin, started, queued, monkeypatch, task_retries
):
    order, _, payload = started
    queued(tasks.webhook_process)
    post_webhook(api_client, stripe_standin, payload)
    countdowns = task_retries(tasks.webhook_process)
    apply = webhooks._apply
    attempts = []

    def flaky(**kwargs):
        attempts.append(1)
        if len(attempts) < 3:
            raise ProviderError("Stripe is unreachable")
        return apply(**kwargs)

    monkeypatch.setattr(webhooks, "_apply", flaky)

    result = tasks.webhook_process.apply(kwargs={"event_id": WebhookEvent.objects.get().event_id})

    assert result.state == "SUCCESS"
    assert len(attempts) == 3
    assert len(countdowns) == 2
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_stale_unprocessed_events_are_queued_again(
    api_client, stripe_standin, started, queued, django_capture_on_commit_callbacks
):
    _, _, payload = started
    calls = queued(tasks.webhook_process)
    post_webhook(api_client, stripe_standin, payload)
    event = WebhookEvent.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks.webhooks_requeue_stale() == 0  # just arrived: its task may still be queued
    assert calls == []

    WebhookEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(minutes=11))
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks.webhooks_requeue_stale() == 1
    assert calls == [("payments.webhook_process", {"event_id": event.event_id})]


# --- reconciliation ---------------------------------------------------------------------------


def test_reconcile_applies_what_the_provider_says(stripe_standin, started):
    order, payment, _ = started
    stripe_standin.intents[payment.reference] |= {"status": "succeeded", "amount_received": 0}

    result = tasks.payments_reconcile.apply()

    assert result.get() == {"checked": 1, "refunded": 0, "webhooks_requeued": 0}
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert tasks.payments_reconcile.apply().get() == {"checked": 0, "refunded": 0, "webhooks_requeued": 0}


def test_reconcile_retries_a_provider_error_with_backoff(monkeypatch, task_retries):
    countdowns = task_retries(tasks.payments_reconcile)
    attempts = []

    def flaky(**kwargs):
        attempts.append(1)
        if len(attempts) < 3:
            raise ProviderError("Stripe is unreachable")
        return 0

    monkeypatch.setattr(services, "payments_sync", flaky)

    result = tasks.payments_reconcile.apply()

    assert result.state == "SUCCESS"
    assert len(attempts) == 3
    assert 0 <= countdowns[0] <= 5
    assert 0 <= countdowns[1] <= 10


def test_reconcile_gives_up_after_max_retries(monkeypatch):
    attempts = []

    def down(**kwargs):
        attempts.append(1)
        raise ProviderError("Stripe is unreachable")

    monkeypatch.setattr(services, "payments_sync", down)

    result = tasks.payments_reconcile.apply()

    assert result.state == "FAILURE"
    assert isinstance(result.result, ProviderError)
    assert len(attempts) == RETRY["max_retries"] + 1
