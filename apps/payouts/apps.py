from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    """Sellers' balances and the transfers of their money to their connected accounts."""

    name = "apps.payouts"
    label = "payouts"
    verbose_name = "Payouts"

    def ready(self) -> None:
        from apps.payments.hooks import on_refund_posted
        from apps.payouts.tasks import reverse_after_refund

        on_refund_posted(reverse_after_refund)
