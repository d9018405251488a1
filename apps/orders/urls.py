from django.urls import path

from apps.orders import apis

urlpatterns = [
    path("seller/orders/", apis.SellerOrderListApi.as_view(), name="seller-order-list"),
    path("seller/orders/<slug:number>/ship/", apis.SellerOrderShipApi.as_view(), name="seller-order-ship"),
]
