from django.urls import path

from apps.orders import apis, review_apis

urlpatterns = [
    path("seller/orders/", apis.SellerOrderListApi.as_view(), name="seller-order-list"),
    path("seller/orders/<slug:number>/", apis.SellerOrderDetailApi.as_view(), name="seller-order-detail"),
    path("seller/orders/<slug:number>/ship/", apis.SellerOrderShipApi.as_view(), name="seller-order-ship"),
    # Under products/ but here: only buyers who received a product may review it (orders.reviews).
    path("products/<slug:slug>/reviews/", review_apis.ProductReviewListApi.as_view(), name="product-review-list"),
]
