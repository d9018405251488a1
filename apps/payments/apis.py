from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.payments.exceptions import InvalidSignature
from apps.payments.providers.base import WebhookSignatureError
from apps.payments.webhooks import webhook_receive


class StripeWebhookApi(APIView):
    """Stripe's events. The raw body is verified against ``Stripe-Signature`` before anything is
    parsed; the event is stored and the answer is 200 at once, while a task applies it (each event
    id once: a replay answers 200 and changes nothing)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT},
        responses={
            200: inline_serializer(
                "WebhookReceived", {"received": serializers.BooleanField(), "event": serializers.CharField()}
            )
        },
        tags=["payments"],
    )
    def post(self, request):
        if not settings.STRIPE_SECRET_KEY:
            # Not a Stripe deployment: no event can be genuine, and anyone may post here (never a 500).
            raise InvalidSignature("Stripe is not configured on this server.")
        try:
            record = webhook_receive(
                provider_name="stripe",
                payload=request.body,
                signature=request.headers.get("Stripe-Signature", ""),
            )
        except WebhookSignatureError as error:
            raise InvalidSignature(str(error)) from error
        return Response({"received": True, "event": record.event_id})
