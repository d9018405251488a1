from django.urls import path

from apps.accounts import apis

urlpatterns = [
    path("auth/register/", apis.RegisterApi.as_view(), name="register"),
    path("auth/token/", apis.LoginApi.as_view(), name="token"),
    path("auth/token/refresh/", apis.RefreshApi.as_view(), name="token-refresh"),
    path("auth/logout/", apis.LogoutApi.as_view(), name="logout"),
    path("auth/password-reset/", apis.PasswordResetApi.as_view(), name="password-reset"),
    path("auth/password-reset/confirm/", apis.PasswordResetConfirmApi.as_view(), name="password-reset-confirm"),
    path("users/me/", apis.MeApi.as_view(), name="me"),
    path("users/me/password/", apis.PasswordChangeApi.as_view(), name="password-change"),
    path("users/me/addresses/", apis.AddressListApi.as_view(), name="address-list"),
    path("users/me/addresses/<int:address_id>/", apis.AddressDetailApi.as_view(), name="address-detail"),
    path("users/me/store/", apis.MyStoreApi.as_view(), name="my-store"),
]
