from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.selectors import store_get_for_owner
from apps.core.permissions import IsSeller
from apps.payments.connect import connect_account_link
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


class PayoutAccountLinkOutputSerializer(serializers.Serializer):
    url = serializers.URLField()
    expires_at = serializers.DateTimeField()


class PayoutAccountLinkApi(APIView):
    """An onboarding link for the seller's payout account (Stripe Connect Express, or the simulated
    provider's page). The account is opened on the first call and reused after; each call makes a
    new single-use link, valid until ``expires_at``."""

    permission_classes = [IsAuthenticated, IsSeller]

    @extend_schema(
        request=None,
        responses={
            201: PayoutAccountLinkOutputSerializer,
            403: OpenApiResponse(description="not_a_seller: open a store first."),
            404: OpenApiResponse(description="no_store: the user has no store."),
            503: OpenApiResponse(description="payout_provider_unavailable: try again."),
        },
        tags=["stores"],
    )
    def post(self, request):
        store = store_get_for_owner(user=request.user)
        link = connect_account_link(store=store, user=request.user)
        data = {"url": request.build_absolute_uri(link.url), "expires_at": link.expires_at}
        return Response(PayoutAccountLinkOutputSerializer(data).data, status=status.HTTP_201_CREATED)
