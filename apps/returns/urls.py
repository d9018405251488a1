from django.urls import path

from apps.returns import refund_apis

urlpatterns = [
    path(
        "seller/orders/<slug:number>/refunds/",
        refund_apis.StoreOrderRefundsApi.as_view(),
        name="seller-order-refunds",
    ),
]
