from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Store
from apps.payouts.services import payouts_release, payouts_reverse_due


class Command(BaseCommand):
    help = (
        "Reverse transfers that refunds made due, then transfer every releasable store order to its "
        "store's connected account (what the periodic task does). Safe to run at any time, repeatedly."
    )

    def add_arguments(self, parser):
        parser.add_argument("--store", help="Only this store's transfers (its slug).")

    def handle(self, *args, store: str | None = None, **options):
        only = None
        if store is not None:
            only = Store.objects.filter(slug=store).first()
            if only is None:
                raise CommandError(f"No store with the slug {store!r}.")
        for reversal in payouts_reverse_due():
            self.stdout.write(f"reversal {reversal.idempotency_key} {reversal.amount}: {reversal.status}")
        transfers = payouts_release(store=only)
        for transfer in transfers:
            line = f"transfer {transfer.idempotency_key} {transfer.amount} {transfer.currency}: {transfer.status}"
            self.stdout.write(line + (f" ({transfer.failure})" if transfer.failure else ""))
        self.stdout.write(f"{len(transfers)} transfers")
