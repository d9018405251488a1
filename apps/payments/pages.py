"""Pages of the app outside the API: the simulated provider's onboarding page, which stands in
for Stripe's hosted onboarding when PAYMENT_PROVIDER is ``simulated``."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.payments.connect import connect_simulated_onboard

TEMPLATE = "payouts/simulated_onboard.html"


@never_cache
@require_GET
def simulated_onboard(request: HttpRequest, token: str) -> HttpResponse:
    """Opening the link finishes the seller's onboarding (details submitted, payouts enabled).
    An unknown or expired token answers a 404 page and changes nothing."""
    outcome = connect_simulated_onboard(token=token)
    if outcome is None:
        return render(request, TEMPLATE, {"account": None}, status=404)
    account, return_url = outcome
    return render(request, TEMPLATE, {"account": account, "return_url": return_url})
