from django.urls import path

from apps.orders import apis

urlpatterns = [
    path("checkout/", apis.CheckoutApi.as_view(), name="checkout"),
    path("orders/", apis.OrderListApi.as_view(), name="order-list"),
    path("orders/<str:number>/", apis.OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<str:number>/pay/", apis.OrderPayApi.as_view(), name="order-pay"),
    path("orders/<str:number>/cancel/", apis.OrderCancelApi.as_view(), name="order-cancel"),
    path("orders/<str:number>/confirm-delivery/", apis.OrderConfirmDeliveryApi.as_view(), name="order-confirm"),
    path("seller/orders/", apis.SellerOrderListApi.as_view(), name="seller-order-list"),
    path("seller/orders/<str:number>/ship/", apis.SellerOrderShipApi.as_view(), name="seller-order-ship"),
]
