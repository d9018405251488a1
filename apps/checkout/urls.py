from django.urls import path

from apps.checkout import apis

urlpatterns = [
    path("checkout/", apis.CheckoutApi.as_view(), name="checkout"),
    path("orders/", apis.OrderListApi.as_view(), name="order-list"),
    path("orders/<slug:number>/", apis.OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<slug:number>/pay/", apis.OrderPayApi.as_view(), name="order-pay"),
    path("orders/<slug:number>/cancel/", apis.OrderCancelApi.as_view(), name="order-cancel"),
    path("orders/<slug:number>/confirm-delivery/", apis.OrderConfirmDeliveryApi.as_view(), name="order-confirm"),
]
