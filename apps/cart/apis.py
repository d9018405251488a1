from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.cart import selectors, services
from apps.cart.serializers import (
    CartItemAddInputSerializer,
    CartItemUpdateInputSerializer,
    CartOutputSerializer,
    CartStoreShippingOutputSerializer,
    ShippingOptionsQuerySerializer,
)


def _cart_response(request, status_code: int = status.HTTP_200_OK) -> Response:
    cart = selectors.cart_get_for_user(user=request.user)
    return Response(CartOutputSerializer(cart, context={"request": request}).data, status=status_code)


class CartApi(APIView):
    @extend_schema(responses={200: CartOutputSerializer}, tags=["cart"])
    def get(self, request):
        return _cart_response(request)

    @extend_schema(responses={204: None}, tags=["cart"])
    def delete(self, request):
        services.cart_clear(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CartItemListApi(APIView):
    @extend_schema(
        request=CartItemAddInputSerializer,
        responses={
            201: CartOutputSerializer,
            400: OpenApiResponse(
                description="A field's errors (quantity over 99 on a line, a 101st line); own_product; "
                "variant_required: the product has options and no variant was named."
            ),
            404: OpenApiResponse(
                description="not_found: the product is not for sale, or the variant is not one of its active ones."
            ),
            409: OpenApiResponse(description="insufficient_stock, with product, variant, requested and available."),
        },
        tags=["cart"],
    )
    def post(self, request):
        data = CartItemAddInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.cart_item_add(
            user=request.user,
            product_slug=data.validated_data["product"],
            variant_sku=data.validated_data["variant"],
            quantity=data.validated_data["quantity"],
        )
        return _cart_response(request, status.HTTP_201_CREATED)


class CartItemDetailApi(APIView):
    @extend_schema(request=CartItemUpdateInputSerializer, responses={200: CartOutputSerializer}, tags=["cart"])
    def patch(self, request, item_id: int):
        data = CartItemUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.cart_item_set_quantity(user=request.user, item_id=item_id, quantity=data.validated_data["quantity"])
        return _cart_response(request)

    @extend_schema(responses={200: CartOutputSerializer}, tags=["cart"])
    def delete(self, request, item_id: int):
        services.cart_item_remove(user=request.user, item_id=item_id)
        return _cart_response(request)


class CartShippingOptionsApi(APIView):
    @extend_schema(
        parameters=[ShippingOptionsQuerySerializer],
        responses={
            200: CartStoreShippingOutputSerializer(many=True),
            400: OpenApiResponse(description="country and address_id: exactly one of them; a bad country code."),
            404: OpenApiResponse(description="not_found: no such address of the user's."),
        },
        tags=["cart"],
    )
    def get(self, request):
        query = ShippingOptionsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        stores = selectors.cart_shipping_options(user=request.user, **query.validated_data)
        return Response(CartStoreShippingOutputSerializer(stores, many=True).data)
