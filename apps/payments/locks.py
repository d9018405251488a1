"""Named row locks of payments (one helper per lock). A payment is locked after its order when
both are (orders.locks), and never while its provider is being called."""

from __future__ import annotations

from apps.payments.models import Payment, Refund


def lock_payment(*, pk: int) -> Payment:
    """The payment, locked and freshly read (its rules are checked against this read, not an older one)."""
    # of=("self",): the order joined in is read, not locked (it is locked first, by lock_order, when
    # both are needed; locking it here too would take the two in the other order and deadlock).
    return Payment.objects.select_for_update(of=("self",)).select_related("order").get(pk=pk)


def lock_payments_of_order(*, order_id: int) -> list[Payment]:
    """Every attempt of the order, locked, by primary key."""
    return list(Payment.objects.select_for_update().filter(order_id=order_id).order_by("pk"))


def lock_refund(*, pk: int) -> Refund:
    return Refund.objects.select_for_update(of=("self",)).select_related("payment__order").get(pk=pk)
