from django.urls import path

from apps.payments import apis

urlpatterns = [
    path("payments/stripe/webhook/", apis.StripeWebhookApi.as_view(), name="stripe-webhook"),
]
