"""Thin views for sellers' fulfilment (the buyer's order views are apps.checkout's: they show the
order's payment)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.permissions import IsSeller
from apps.orders import selectors, services
from apps.orders.models import StoreOrder
from apps.orders.serializers import SellerOrderOutputSerializer, ShipInputSerializer


class SellerOrderListApi(ListAPIView):
    permission_classes = [IsSeller]
    serializer_class = SellerOrderOutputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return StoreOrder.objects.none()
        return selectors.store_order_list_for_seller(seller=self.request.user)

    @extend_schema(tags=["seller"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SellerOrderDetailApi(APIView):
    permission_classes = [IsSeller]

    @extend_schema(
        responses={200: SellerOrderOutputSerializer, 404: OpenApiResponse(description="Not this seller's order.")},
        tags=["seller"],
    )
    def get(self, request, number: str):
        part = selectors.store_order_get_for_seller(seller=request.user, number=number)
        return Response(SellerOrderOutputSerializer(part).data)


class SellerOrderShipApi(APIView):
    permission_classes = [IsSeller]

    @extend_schema(
        request=ShipInputSerializer,
        responses={
            200: SellerOrderOutputSerializer,
            404: OpenApiResponse(description="Not this seller's order."),
            409: OpenApiResponse(
                description="invalid_transition: not paid yet, or this store's part shipped already; needs_review."
            ),
        },
        tags=["seller"],
    )
    def post(self, request, number: str):
        data = ShipInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.order_ship_lines(seller=request.user, number=number, **data.validated_data)
        part = selectors.store_order_get_for_seller(seller=request.user, number=number)
        return Response(SellerOrderOutputSerializer(part).data)
