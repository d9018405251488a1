from django.urls import path

from apps.shipping import apis

urlpatterns = [
    path("users/me/store/shipping-rates/", apis.ShippingRateListApi.as_view(), name="shipping-rate-list"),
    path(
        "users/me/store/shipping-rates/<int:rate_id>/",
        apis.ShippingRateDetailApi.as_view(),
        name="shipping-rate-detail",
    ),
]
