"""Thin views for refunds of a store order's lines, by its seller or staff."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.fields import SLUG_PATTERN
from apps.core.idempotency import IDEMPOTENCY_PARAMETER, IdempotentMixin
from apps.core.permissions import IsSellerOrStaff
from apps.returns.refund_selectors import refund_get, refund_list_for_store_order, refund_store_order_get
from apps.returns.refund_serializers import RefundInputSerializer, RefundOutputSerializer, RefundStoreQuerySerializer
from apps.returns.refund_services import store_order_refund

STORE_PARAMETER = OpenApiParameter(
    "store",
    {"type": "string", "pattern": SLUG_PATTERN},
    required=False,
    description="Staff only: the slug of the store whose part to read; may be left out when the order has one store.",
)
NOT_FOUND = OpenApiResponse(description="Not this seller's order (or, for staff, no such order or store in it).")


class StoreOrderRefundsApi(IdempotentMixin, APIView):
    permission_classes = [IsSellerOrStaff]

    @extend_schema(
        parameters=[STORE_PARAMETER],
        responses={200: RefundOutputSerializer(many=True), 400: OpenApiResponse(description="store"), 404: NOT_FOUND},
        tags=["seller"],
    )
    def get(self, request, number: str):
        query = RefundStoreQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        part = refund_store_order_get(user=request.user, number=number, store=query.validated_data.get("store"))
        return Response(RefundOutputSerializer(refund_list_for_store_order(store_order=part), many=True).data)

    @extend_schema(
        request=RefundInputSerializer,
        responses={
            201: RefundOutputSerializer,
            400: OpenApiResponse(
                description="Validation: lines naming ids that are not this store's lines of the order, a line "
                "twice, no lines and no shipping; store (staff, an order with several stores)."
            ),
            404: NOT_FOUND,
            409: OpenApiResponse(
                description="refund_exceeds: more units than a line has left (lines: [{id, requested, "
                "refundable}]), the shipping refunded already, or more than the payment has left (refundable); "
                "invalid_transition: the order is not paid. Nothing changed."
            ),
        },
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=["seller"],
    )
    def post(self, request, number: str):
        data = RefundInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        part = refund_store_order_get(user=request.user, number=number, store=values.get("store"))
        refund = store_order_refund(
            store_order=part,
            lines=[(line["id"], line["quantity"]) for line in values.get("lines", [])],
            shipping=values["shipping"],
            restock=values["restock"],
            reason=values["reason"],
            actor=request.user,
        )
        return Response(RefundOutputSerializer(refund_get(pk=refund.pk)).data, status=status.HTTP_201_CREATED)
