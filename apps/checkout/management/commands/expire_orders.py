from django.core.management.base import BaseCommand

from apps.checkout.services import checkout_expire
from apps.core.idempotency import idempotency_keys_purge
from apps.payments.services import payments_refund_due


class Command(BaseCommand):
    help = (
        "Cancel orders unpaid for longer than ORDER_RESERVATION_MINUTES (stock returns), refund payments "
        "still due on cancelled orders, and purge expired Idempotency-Keys. Safe to run at any time, repeatedly."
    )

    def handle(self, *args, **options):
        expired = checkout_expire()
        refunded = payments_refund_due()
        purged = idempotency_keys_purge()
        self.stdout.write(f"expired {len(expired)} orders, refunded {refunded}, purged {purged} idempotency keys")
