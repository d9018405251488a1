"""Thin views for sellers' fulfilment (the buyer's order views are apps.checkout's: they show the
order's payment)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.permissions import IsSeller
from apps.orders import selectors, services
from apps.orders.models import Order
from apps.orders.serializers import SellerOrderOutputSerializer, ShipInputSerializer


class SellerOrderListApi(ListAPIView):
    permission_classes = [IsSeller]
    serializer_class = SellerOrderOutputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        return selectors.order_list_for_seller(seller=self.request.user)

    @extend_schema(tags=["seller"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SellerOrderShipApi(APIView):
    permission_classes = [IsSeller]

    @extend_schema(
        request=ShipInputSerializer,
        responses={
            200: SellerOrderOutputSerializer,
            409: OpenApiResponse(description="invalid_transition: not paid yet, or shipped already."),
        },
        tags=["seller"],
    )
    def post(self, request, number: str):
        data = ShipInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.order_ship_lines(seller=request.user, number=number, **data.validated_data)
        order = selectors.order_list_for_seller(seller=request.user).get(number=number)
        return Response(SellerOrderOutputSerializer(order).data)
