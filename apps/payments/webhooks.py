"""Provider webhooks: verify, store once under the event id, apply to the payment and order.

Events may arrive twice, late or out of order. Each is stored under its unique id (a replay
changes nothing); applying one is idempotent (a payment never moves back from succeeded to
failed, or from refunded to succeeded; an order already paid stays paid), so redelivery of an
event whose processing died halfway is simply processed again.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.orders.models import Order
from apps.payments.models import Payment, WebhookEvent
from apps.payments.providers import get_provider
from apps.payments.providers.base import PaymentResult, PaymentStatus, ProviderEvent
from apps.payments.services import payment_apply_result, payment_for_reference

logger = logging.getLogger(__name__)

HANDLED = {"payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded"}


def webhook_receive(*, provider_name: str, payload: bytes, signature: str) -> WebhookEvent:
    """Verify and record an event, then process it unless that was done already.

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
    webhook_process(record=record, event=event)
    return record


def webhook_process(*, record: WebhookEvent, event: ProviderEvent) -> None:
    outcome = _apply(provider_name=record.provider, event=event)
    WebhookEvent.objects.filter(pk=record.pk).update(processed_at=timezone.now(), outcome=outcome[:200])
    record.outcome = outcome


def _apply(*, provider_name: str, event: ProviderEvent) -> str:
    if event.type not in HANDLED:
        return "ignored: unhandled type"
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
    elif event.type == "charge.refunded" and event.amount is not None and event.amount >= payment.amount:
        Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.REFUNDED, updated_at=timezone.now())
    payment.refresh_from_db()
    return f"payment {payment.pk} {payment.status}"


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
