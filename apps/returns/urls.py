from django.urls import path

from apps.returns import refund_apis, return_apis

urlpatterns = [
    path(
        "seller/orders/<slug:number>/refunds/",
        refund_apis.StoreOrderRefundsApi.as_view(),
        name="seller-order-refunds",
    ),
    path("orders/<slug:number>/returns/", return_apis.OrderReturnsApi.as_view(), name="order-returns"),
    path("seller/returns/", return_apis.SellerReturnListApi.as_view(), name="seller-return-list"),
    path(
        "seller/returns/<int:pk>/approve/", return_apis.SellerReturnApproveApi.as_view(), name="seller-return-approve"
    ),
    path("seller/returns/<int:pk>/reject/", return_apis.SellerReturnRejectApi.as_view(), name="seller-return-reject"),
    path(
        "seller/returns/<int:pk>/receive/", return_apis.SellerReturnReceiveApi.as_view(), name="seller-return-receive"
    ),
]
