from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    """Sellers' balances and the transfers of their money to their connected accounts."""

    name = "apps.payouts"
    label = "payouts"
    verbose_name = "Payouts"
