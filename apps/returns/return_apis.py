"""Thin views for buyers' returns and their sellers' decisions."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.idempotency import IdempotentMixin
from apps.core.permissions import IsSeller
from apps.returns import returns
from apps.returns.models import ReturnRequest
from apps.returns.return_serializers import (
    ReturnInputSerializer,
    ReturnListQuerySerializer,
    ReturnOutputSerializer,
    ReturnReceiveInputSerializer,
    ReturnRejectInputSerializer,
)
from apps.returns.selectors import return_get, return_list_for_order, return_list_for_seller

NOT_YOURS = OpenApiResponse(description="Not this seller's store's return.")
TRANSITION = OpenApiResponse(
    description="invalid_transition: statuses move requested → approved → received and requested → rejected only."
)


class OrderReturnsApi(IdempotentMixin, ListAPIView):
    """The buyer's returns of one order: list them, or ask for one (Idempotency-Key honoured)."""

    permission_classes = [IsAuthenticated]
    serializer_class = ReturnOutputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ReturnRequest.objects.none()
        return return_list_for_order(buyer=self.request.user, number=self.kwargs["number"])

    @extend_schema(
        request=ReturnInputSerializer,
        responses={
            201: ReturnOutputSerializer,
            400: OpenApiResponse(
                description="Validation: lines naming ids not of this order, or of a second store (one return per "
                "store), a line twice; reason."
            ),
            404: OpenApiResponse(description="Not your order."),
            409: OpenApiResponse(
                description="return_not_delivered: the store's part is not delivered; return_window_closed: "
                "delivered more than RETURN_WINDOW_DAYS ago; return_exceeds: more units than a line has left "
                "(lines: [{id, requested, returnable}]). Nothing changed."
            ),
        },
    )
    def post(self, request, number: str):
        data = ReturnInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        request_ = returns.return_request(
            buyer=request.user,
            number=number,
            lines=[(line["id"], line["quantity"]) for line in data.validated_data["lines"]],
            reason=data.validated_data["reason"],
        )
        return Response(ReturnOutputSerializer(return_get(pk=request_.pk)).data, status=status.HTTP_201_CREATED)


class SellerReturnListApi(ListAPIView):
    """The returns asked of the seller's store, newest first."""

    permission_classes = [IsSeller]
    serializer_class = ReturnOutputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ReturnRequest.objects.none()
        query = ReturnListQuerySerializer(data=self.request.query_params.dict())
        query.is_valid(raise_exception=True)
        return return_list_for_seller(seller=self.request.user, status=query.validated_data.get("status"))

    @extend_schema(parameters=[ReturnListQuerySerializer], tags=["seller"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SellerReturnApproveApi(APIView):
    permission_classes = [IsSeller]

    @extend_schema(
        request=None, responses={200: ReturnOutputSerializer, 404: NOT_YOURS, 409: TRANSITION}, tags=["seller"]
    )
    def post(self, request, pk: int):
        returns.return_approve(seller=request.user, return_id=pk)
        return Response(ReturnOutputSerializer(return_get(pk=pk)).data)


class SellerReturnRejectApi(APIView):
    permission_classes = [IsSeller]

    @extend_schema(
        request=ReturnRejectInputSerializer,
        responses={200: ReturnOutputSerializer, 404: NOT_YOURS, 409: TRANSITION},
        tags=["seller"],
    )
    def post(self, request, pk: int):
        data = ReturnRejectInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        returns.return_reject(seller=request.user, return_id=pk, note=data.validated_data["note"])
        return Response(ReturnOutputSerializer(return_get(pk=pk)).data)


class SellerReturnReceiveApi(APIView):
    permission_classes = [IsSeller]

    @extend_schema(
        request=ReturnReceiveInputSerializer,
        responses={
            200: ReturnOutputSerializer,
            404: NOT_YOURS,
            409: OpenApiResponse(
                description="invalid_transition (only an approved return is received); refund_exceeds: the "
                "returned units were refunded meanwhile. Nothing changed."
            ),
        },
        tags=["seller"],
    )
    def post(self, request, pk: int):
        data = ReturnReceiveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        returns.return_receive(seller=request.user, return_id=pk, restock=data.validated_data["restock"])
        return Response(ReturnOutputSerializer(return_get(pk=pk)).data)
