from django.urls import path

from apps.payouts import apis

urlpatterns = [
    path("users/me/store/balance/", apis.StoreBalanceApi.as_view(), name="my-store-balance"),
    path("seller/stats/", apis.SellerStatsApi.as_view(), name="seller-stats"),
    path("users/me/store/ledger/", apis.StoreLedgerApi.as_view(), name="my-store-ledger"),
]
