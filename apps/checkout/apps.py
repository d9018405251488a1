from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    """What spans orders and payments: place + pay, pay, cancel + settle, and the retry rules."""

    name = "apps.checkout"
    label = "checkout"
