from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    """Money and goods coming back: sellers' and staff's refunds of order lines, buyers' returns."""

    name = "apps.returns"
    label = "returns"
