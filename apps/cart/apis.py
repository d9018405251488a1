from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.cart import selectors, services
from apps.cart.serializers import CartItemAddInputSerializer, CartItemUpdateInputSerializer, CartOutputSerializer


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
    @extend_schema(request=CartItemAddInputSerializer, responses={201: CartOutputSerializer}, tags=["cart"])
    def post(self, request):
        data = CartItemAddInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.cart_item_add(
            user=request.user, product_slug=data.validated_data["product"], quantity=data.validated_data["quantity"]
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
