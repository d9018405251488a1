"""Provider webhooks: verify, store once under the event id, then apply (in a task) to the payment
and order.

The request does only the fast part: it checks the signature, stores the event and answers 200;
the ``payments.webhook_process`` task applies it after commit (inline without a broker). Events
may arrive twice, late or out of order. Each is stored under its unique id (a replay of a
processed event changes nothing; a replay of one stored but not processed yet queues it again);
applying one is idempotent (a payment never moves back from succeeded to failed, or from refunded
to succeeded; an order already paid stays paid), so an event whose processing died halfway is
simply processed again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.tasks import enqueue
from apps.orders.locks import lock_order
from apps.orders.models import Order
from apps.orders.services import order_flag_for_review, order_note
from apps.payments import tasks
from apps.payments.connect import connect_account_apply
from apps.payments.models import Payment, Refund, WebhookEvent
from apps.payments.providers import get_provider
from apps.payments.providers.base import PaymentResult, PaymentStatus, ProviderEvent, RefundResult
from apps.payments.services import payment_apply_result, payment_for_reference, payment_outside_refund, refund_apply

logger = logging.getLogger(__name__)

HANDLED = {
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.refunded",  # a refund, Bazaar's or one made in the provider's dashboard
    "refund.updated",  # a refund the provider answered pending has finished (or failed)
    "charge.refund.updated",  # the same, in Stripe's older event name
    "charge.dispute.created",  # the buyer disputes the charge with their bank: staff must look
    "charge.dispute.closed",
    "account.updated",  # a seller's payout account (Connect): onboarding done, payouts enabled or not
}
REFUND_EVENTS = {"refund.updated", "charge.refund.updated"}
# An event still unprocessed this long after it arrived lost its task (or spent its retries).
STALE_AFTER = timedelta(minutes=10)


def webhook_receive(*, provider_name: str, payload: bytes, signature: str) -> WebhookEvent:
    """Verify and record an event, and queue its processing unless that was done already.

    Raises WebhookSignatureError (answered 400) for a bad, missing or stale signature."""
    event = get_provider(provider_name).parse_webhook(payload=payload, signature=signature)
    try:
        with transaction.atomic():
            record = WebhookEvent.objects.create(
                provider=provider_name,
                event_id=event.id,
                type=event.type,
                payment_reference=event.payment_reference,
                payload=event.raw,
            )
    except IntegrityError:
        record = WebhookEvent.objects.get(event_id=event.id)
        if record.processed_at is not None:
            return record  # a replay: already applied, nothing changes
    enqueue(tasks.webhook_process, event_id=record.event_id)
    return record


def webhook_process(*, event_id: str) -> WebhookEvent | None:
    """Apply a stored event to its payment and order and mark it processed. A no-op (returning the
    record as it is) when it was processed already; None for an unknown event id."""
    record = WebhookEvent.objects.filter(event_id=event_id).first()
    if record is None or record.processed_at is not None:
        return record
    event = get_provider(record.provider).webhook_event(raw=record.payload)
    outcome = _apply(provider_name=record.provider, event=event)[:200]
    WebhookEvent.objects.filter(pk=record.pk, processed_at__isnull=True).update(
        processed_at=timezone.now(), outcome=outcome
    )
    record.refresh_from_db()
    return record


def webhooks_requeue_stale(*, now=None) -> int:
    """Queue again every event stored more than STALE_AFTER ago and still unprocessed (its task was
    lost with the broker, or spent its retries); returns how many."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    stale = list(
        WebhookEvent.objects.filter(processed_at__isnull=True, received_at__lt=cutoff).values_list(
            "event_id", flat=True
        )
    )
    for event_id in stale:
        enqueue(tasks.webhook_process, event_id=event_id)
    return len(stale)


def _apply(*, provider_name: str, event: ProviderEvent) -> str:
    if event.type not in HANDLED:
        return "ignored: unhandled type"
    if event.type == "account.updated":
        return _apply_account(provider_name=provider_name, event=event)
    payment = payment_for_reference(provider=provider_name, reference=event.payment_reference)
    if payment is None:
        payment = _payment_from_metadata(provider_name=provider_name, event=event)
    if payment is None:
        logger.warning("webhook %s for unknown payment %s", event.id, event.payment_reference)
        return "ignored: unknown payment"
    if event.type == "payment_intent.succeeded":
        result = PaymentResult(
            reference=event.payment_reference,
            status=PaymentStatus.SUCCEEDED,
            amount=event.amount if event.amount is not None else payment.amount,
            currency=event.currency or payment.currency,
            charge_reference=event.charge_reference,
        )
        payment_apply_result(payment=payment, result=result, note=f"{provider_name} webhook {event.id}")
    elif event.type == "payment_intent.payment_failed":
        result = PaymentResult(
            reference=event.payment_reference,
            status=PaymentStatus.FAILED,
            amount=payment.amount,
            currency=payment.currency,
            failure_code=event.failure_code or "card_declined",
        )
        payment_apply_result(payment=payment, result=result, note=f"{provider_name} webhook {event.id}")
    elif event.type == "charge.refunded" and event.amount is not None:
        # Keyed by the cumulative total: a replay, or an older event arriving late, adds nothing.
        key = f"{provider_name}-{payment.reference}-refunded-{event.amount}"
        payment_outside_refund(payment=payment, refunded_total=event.amount, key=key)
    elif event.type in REFUND_EVENTS and event.refund_reference:
        refund = Refund.objects.filter(payment=payment, reference=event.refund_reference).first()
        if refund is not None:
            result = RefundResult(
                reference=event.refund_reference, status=event.refund_status, amount=event.amount or refund.amount
            )
            refund_apply(refund=refund, result=result)
    elif event.type == "charge.dispute.created":
        with transaction.atomic():
            order = lock_order(pk=payment.order_id)
            note = f"the buyer disputes {event.amount} {event.currency} ({event.dispute_reason or 'no reason given'})"
            order_flag_for_review(order=order, note=note)
    elif event.type == "charge.dispute.closed":
        with transaction.atomic():
            order = lock_order(pk=payment.order_id)
            status = event.dispute_status or "closed"
            order_note(order=order, note=f"the dispute of {event.amount} {event.currency} is {status}")
    payment.refresh_from_db()
    return f"payment {payment.pk} {payment.status}"


def _apply_account(*, provider_name: str, event: ProviderEvent) -> str:
    created = event.raw.get("created") if isinstance(event.raw, dict) else None
    account = connect_account_apply(
        provider_name=provider_name,
        reference=event.account_reference,
        details_submitted=bool(event.account_details_submitted),
        payouts_enabled=bool(event.account_payouts_enabled),
        as_of=datetime.fromtimestamp(created, tz=UTC) if isinstance(created, int) else None,
    )
    if account is None:
        logger.warning("webhook %s for unknown account %s", event.id, event.account_reference)
        return "ignored: unknown account"
    return f"account {account.reference} {account.status}"


def _payment_from_metadata(*, provider_name: str, event: ProviderEvent) -> Payment | None:
    """A payment Bazaar has not recorded yet (its answer was lost): adopt it when the event names
    one of our orders in ``metadata[order]``."""
    data = event.raw.get("data") if isinstance(event.raw, dict) else None
    obj = data.get("object") if isinstance(data, dict) else None
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    number = metadata.get("order") if isinstance(metadata, dict) else None
    order = Order.objects.filter(number=number).first() if isinstance(number, str) else None
    if order is None or not event.payment_reference:
        return None
    open_attempt = order.payments.filter(provider=provider_name, reference="").order_by("-attempt").first()
    if open_attempt is not None:
        open_attempt.reference = event.payment_reference
        open_attempt.save(update_fields=["reference", "updated_at"])
        return open_attempt
    return None
