from django.core.management.base import BaseCommand

from apps.payments.services import payments_sync


class Command(BaseCommand):
    help = (
        "Fetch every open payment from its provider and apply what the provider says (for webhooks "
        "that never arrived). Safe to run at any time, repeatedly."
    )

    def add_arguments(self, parser):
        parser.add_argument("--provider", help="Only this provider's payments (e.g. stripe).")

    def handle(self, *args, provider: str | None = None, **options):
        checked = payments_sync(provider=provider)
        self.stdout.write(f"checked {checked} open payments")
