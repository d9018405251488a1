"""Thin views for checkout and the buyer's orders: each renders the order with its payment."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.checkout import services
from apps.checkout.serializers import OrderDetailOutputSerializer, OrderOutputSerializer
from apps.core.exceptions import PaymentDeclined
from apps.core.idempotency import HEADER, IDEMPOTENCY_PARAMETER, IdempotentMixin, request_fingerprint
from apps.orders import selectors
from apps.orders.models import Order, OrderStatus
from apps.orders.serializers import CHECKOUT_REQUEST, CheckoutInputSerializer, PayInputSerializer
from apps.orders.services import order_confirm_delivery
from apps.payments.providers.base import PaymentStatus

REPLAY_HEADERS = {"Idempotent-Replayed": {"schema": {"type": "string", "enum": ["true"]}}}


def _detail(number: str, request) -> dict:
    return OrderDetailOutputSerializer(selectors.order_get_for_buyer(buyer=request.user, number=number)).data


class CheckoutApi(IdempotentMixin, APIView):
    @extend_schema(
        request=CHECKOUT_REQUEST,
        responses={
            201: OrderDetailOutputSerializer,
            400: OpenApiResponse(
                description="Validation ({field: [...]}), shipping_rates naming a rate that is not one of that "
                "store's options for the address (another store's, inactive, not shipping there) or a store not in "
                "the cart; empty_cart; invalid_payment_method."
            ),
            409: OpenApiResponse(
                description="insufficient_stock, with {product, variant (sku), requested, available} per line; "
                "no_shipping_rate, with stores: [slug] (stores whose rates none ship to the address); "
                "amount_out_of_range (the total, shipping included, is below 0.50 or above 999999.99), with "
                "min_amount and max_amount; "
                "idempotency_conflict. Nothing changed. Once the order is placed the answer is 201, whatever the "
                "payment did: payment.status failed (a decline, or failure_code invalid_payment_method) or pending."
            ),
        },
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=["checkout"],
    )
    def post(self, request):
        data = CheckoutInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.checkout_place(
            buyer=request.user,
            shipping_address=data.shipping_snapshot(buyer=request.user),
            payment_method=data.validated_data.get("payment_method"),
            idempotency_key=request.headers.get(HEADER),
            request_hash=request_fingerprint(request),
            shipping_rates=data.validated_data.get("shipping_rates"),
        )
        return Response(_detail(order.number, request), status=status.HTTP_201_CREATED)


class OrderListApi(ListAPIView):
    serializer_class = OrderOutputSerializer

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=OrderStatus.choices, required=False)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Order.objects.none()
        # A plain dict: from a QueryDict, DRF takes ?status= (empty) for absent instead of refusing it.
        params = self.FilterSerializer(data=self.request.query_params.dict())
        params.is_valid(raise_exception=True)
        return selectors.order_list_for_buyer(buyer=self.request.user, status=params.validated_data.get("status"))

    @extend_schema(
        parameters=[OpenApiParameter("status", enum=OrderStatus.values, required=False)],
        tags=["orders"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


NOT_CANCELLABLE = "invalid_transition: the order is shipped, delivered or cancelled already."
NOT_SHIPPED = "invalid_transition: the order is not shipped."


class OrderDetailApi(APIView):
    @extend_schema(responses={200: OrderDetailOutputSerializer}, tags=["orders"])
    def get(self, request, number: str):
        return Response(_detail(number, request))


class OrderPayApi(IdempotentMixin, APIView):
    @extend_schema(
        request=PayInputSerializer,
        responses={
            200: OrderDetailOutputSerializer,
            402: OpenApiResponse(description="Declined: code is card_declined, insufficient_funds, ..."),
            409: OpenApiResponse(
                description="invalid_transition: the order is paid or cancelled already, or was cancelled or expired "
                "while the provider charged (a charge that went through is refunded); payment_under_review; "
                "amount_out_of_range."
            ),
            503: OpenApiResponse(
                description="The payment provider is unavailable or too slow; the order stays payable and its attempt "
                "pending (the webhook or the sync finishes it; a retry with the same Idempotency-Key is safe)."
            ),
        },
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=["orders"],
    )
    def post(self, request, number: str):
        order = selectors.order_get_for_buyer(buyer=request.user, number=number, details=False)
        data = PayInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payment = services.checkout_pay(
            order=order,
            payment_method=data.validated_data["payment_method"],
            idempotency_key=request.headers.get(HEADER),
        )
        if payment.status == PaymentStatus.FAILED:
            raise PaymentDeclined(
                payment.response.get("failure_message") or "The payment was declined.",
                code=payment.failure_code or "card_declined",
            )
        return Response(_detail(number, request))


class OrderCancelApi(APIView):
    @extend_schema(
        request=None,
        responses={200: OrderDetailOutputSerializer, 409: OpenApiResponse(description=NOT_CANCELLABLE)},
        tags=["orders"],
    )
    def post(self, request, number: str):
        order = selectors.order_get_for_buyer(buyer=request.user, number=number, details=False)
        services.checkout_cancel(order=order, actor=request.user)
        return Response(_detail(number, request))


class OrderConfirmDeliveryApi(APIView):
    @extend_schema(
        request=None,
        responses={200: OrderDetailOutputSerializer, 409: OpenApiResponse(description=NOT_SHIPPED)},
        tags=["orders"],
    )
    def post(self, request, number: str):
        order = selectors.order_get_for_buyer(buyer=request.user, number=number, details=False)
        order_confirm_delivery(order=order, actor=request.user)
        return Response(_detail(number, request))
