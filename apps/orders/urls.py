from django.urls import path

from apps.orders import apis, review_apis

urlpatterns = [
    path("checkout/", apis.CheckoutApi.as_view(), name="checkout"),
    path("orders/", apis.OrderListApi.as_view(), name="order-list"),
    path("orders/<slug:number>/", apis.OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<slug:number>/pay/", apis.OrderPayApi.as_view(), name="order-pay"),
    path("orders/<slug:number>/cancel/", apis.OrderCancelApi.as_view(), name="order-cancel"),
    path("orders/<slug:number>/confirm-delivery/", apis.OrderConfirmDeliveryApi.as_view(), name="order-confirm"),
    path("seller/orders/", apis.SellerOrderListApi.as_view(), name="seller-order-list"),
    path("seller/orders/<slug:number>/ship/", apis.SellerOrderShipApi.as_view(), name="seller-order-ship"),
    # Under products/ but here: only buyers who received a product may review it (orders.reviews).
    path("products/<slug:slug>/reviews/", review_apis.ProductReviewListApi.as_view(), name="product-review-list"),
]
