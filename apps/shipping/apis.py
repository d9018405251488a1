"""Thin views for a seller's shipping rates, under /users/me/store/: parse, call one service or
selector, serialize. A user with no store gets 404 ``no_store``, as GET /users/me/store/ answers."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.selectors import store_get_for_owner
from apps.shipping import selectors, services
from apps.shipping.serializers import ShippingRateInputSerializer, ShippingRateOutputSerializer

NO_STORE = OpenApiResponse(description="no_store: the user has no store.")
NOT_FOUND = OpenApiResponse(description="no_store, or not_found: no such rate in the user's store.")


class ShippingRateListApi(APIView):
    @extend_schema(responses={200: ShippingRateOutputSerializer(many=True), 404: NO_STORE}, tags=["stores"])
    def get(self, request):
        rates = selectors.shipping_rate_list_for_store(store=store_get_for_owner(user=request.user))
        return Response(ShippingRateOutputSerializer(rates, many=True).data)

    @extend_schema(
        request=ShippingRateInputSerializer,
        responses={
            201: ShippingRateOutputSerializer,
            400: OpenApiResponse(description="A field's errors; non_field_errors when the store has 50 rates already."),
            404: NO_STORE,
        },
        tags=["stores"],
    )
    def post(self, request):
        store = store_get_for_owner(user=request.user)
        data = ShippingRateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rate = services.shipping_rate_create(store=store, **data.validated_data)
        return Response(ShippingRateOutputSerializer(rate).data, status=status.HTTP_201_CREATED)


class ShippingRateDetailApi(APIView):
    def _rate(self, request, rate_id: int):
        return selectors.shipping_rate_get_for_store(store=store_get_for_owner(user=request.user), rate_id=rate_id)

    @extend_schema(responses={200: ShippingRateOutputSerializer, 404: NOT_FOUND}, tags=["stores"])
    def get(self, request, rate_id: int):
        return Response(ShippingRateOutputSerializer(self._rate(request, rate_id)).data)

    @extend_schema(
        request=ShippingRateInputSerializer(partial=True),
        responses={200: ShippingRateOutputSerializer, 404: NOT_FOUND},
        tags=["stores"],
    )
    def patch(self, request, rate_id: int):
        rate = self._rate(request, rate_id)
        data = ShippingRateInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        rate = services.shipping_rate_update(rate=rate, data=data.validated_data)
        return Response(ShippingRateOutputSerializer(rate).data)

    @extend_schema(responses={204: None, 404: NOT_FOUND}, tags=["stores"])
    def delete(self, request, rate_id: int):
        services.shipping_rate_delete(rate=self._rate(request, rate_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
