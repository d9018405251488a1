from django.urls import path

from apps.payments import apis

urlpatterns = [
    path("payments/stripe/webhook/", apis.StripeWebhookApi.as_view(), name="stripe-webhook"),
    path("users/me/store/payout-account/", apis.PayoutAccountLinkApi.as_view(), name="my-store-payout-account"),
]
