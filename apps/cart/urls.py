from django.urls import path

from apps.cart import apis

urlpatterns = [
    path("cart/", apis.CartApi.as_view(), name="cart"),
    path("cart/items/", apis.CartItemListApi.as_view(), name="cart-items"),
    path("cart/items/<int:item_id>/", apis.CartItemDetailApi.as_view(), name="cart-item"),
    path("cart/shipping-options/", apis.CartShippingOptionsApi.as_view(), name="cart-shipping-options"),
]
