"""Thin views for accounts: parse, call one service or selector, serialize."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from apps.accounts import selectors, services
from apps.accounts.serializers import (
    AddressSerializer,
    DetailOutputSerializer,
    LoginInputSerializer,
    PasswordChangeInputSerializer,
    PasswordResetConfirmInputSerializer,
    PasswordResetInputSerializer,
    RefreshInputSerializer,
    RegisterInputSerializer,
    StoreOpenInputSerializer,
    StoreOwnOutputSerializer,
    StoreUpdateInputSerializer,
    TokenPairOutputSerializer,
    UserOutputSerializer,
    UserUpdateInputSerializer,
)
from apps.accounts.tokens import RotatingRefreshSerializer
from apps.core.permissions import IsSeller
from apps.core.throttling import scoped_throttles

RESET_MAIL_PROMISE = "If an account with that email exists, a reset link is on its way."


class RegisterApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = scoped_throttles("register")

    @extend_schema(request=RegisterInputSerializer, responses={201: UserOutputSerializer}, tags=["auth"])
    def post(self, request):
        data = RegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_register(**data.validated_data)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class LoginApi(TokenObtainPairView):
    """Email and password for an access/refresh pair. Bad credentials: 401 with one body whether
    the email exists or not."""

    throttle_classes = scoped_throttles("login")

    @extend_schema(request=LoginInputSerializer, responses={200: TokenPairOutputSerializer}, tags=["auth"])
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class RefreshApi(TokenRefreshView):
    """A refresh token for a new pair; the one presented is spent (rotation with blacklist)."""

    serializer_class = RotatingRefreshSerializer

    @extend_schema(request=RefreshInputSerializer, responses={200: TokenPairOutputSerializer}, tags=["auth"])
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class LogoutApi(APIView):
    @extend_schema(request=RefreshInputSerializer, responses={204: None}, tags=["auth"])
    def post(self, request):
        data = RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.token_logout(user=request.user, refresh=data.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = scoped_throttles("password_reset")

    @extend_schema(request=PasswordResetInputSerializer, responses={202: DetailOutputSerializer}, tags=["auth"])
    def post(self, request):
        data = PasswordResetInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_request(email=data.validated_data["email"])
        return Response({"detail": RESET_MAIL_PROMISE}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = scoped_throttles("password_reset")[:1]

    @extend_schema(request=PasswordResetConfirmInputSerializer, responses={204: None}, tags=["auth"])
    def post(self, request):
        data = PasswordResetConfirmInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_confirm(**data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    @extend_schema(responses={200: UserOutputSerializer}, tags=["users"])
    def get(self, request):
        return Response(UserOutputSerializer(request.user).data)

    @extend_schema(request=UserUpdateInputSerializer, responses={200: UserOutputSerializer}, tags=["users"])
    def patch(self, request):
        data = UserUpdateInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = services.user_update(user=request.user, data=data.validated_data)
        return Response(UserOutputSerializer(user).data)

    @extend_schema(responses={204: None}, tags=["users"])
    def delete(self, request):
        services.user_delete(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeApi(APIView):
    @extend_schema(request=PasswordChangeInputSerializer, responses={204: None}, tags=["users"])
    def post(self, request):
        data = PasswordChangeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_change_password(user=request.user, **data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AddressListApi(APIView):
    @extend_schema(responses={200: AddressSerializer(many=True)}, tags=["users"])
    def get(self, request):
        return Response(AddressSerializer(selectors.address_list_for_user(user=request.user), many=True).data)

    @extend_schema(request=AddressSerializer, responses={201: AddressSerializer}, tags=["users"])
    def post(self, request):
        data = AddressSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        address = services.address_create(user=request.user, data=dict(data.validated_data))
        return Response(AddressSerializer(address).data, status=status.HTTP_201_CREATED)


class AddressDetailApi(APIView):
    @extend_schema(responses={200: AddressSerializer}, tags=["users"])
    def get(self, request, address_id: int):
        return Response(
            AddressSerializer(selectors.address_get_for_user(user=request.user, address_id=address_id)).data
        )

    @extend_schema(request=AddressSerializer, responses={200: AddressSerializer}, tags=["users"])
    def patch(self, request, address_id: int):
        address = selectors.address_get_for_user(user=request.user, address_id=address_id)
        data = AddressSerializer(address, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        address = services.address_update(address=address, data=dict(data.validated_data))
        return Response(AddressSerializer(address).data)

    @extend_schema(responses={204: None}, tags=["users"])
    def delete(self, request, address_id: int):
        services.address_delete(address=selectors.address_get_for_user(user=request.user, address_id=address_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyStoreApi(APIView):
    def get_permissions(self):
        return [IsAuthenticated()] if self.request.method == "POST" else [IsAuthenticated(), IsSeller()]

    def permission_denied(self, request, message=None, code=None):
        # A buyer asking for "my store" has none: 404 as API.md says, not 403.
        if request.user.is_authenticated:
            selectors.store_get_for_owner(user=request.user)
        super().permission_denied(request, message=message, code=code)

    @extend_schema(responses={200: StoreOwnOutputSerializer}, tags=["stores"])
    def get(self, request):
        return Response(StoreOwnOutputSerializer(selectors.store_get_for_owner(user=request.user)).data)

    @extend_schema(
        request=StoreOpenInputSerializer,
        responses={201: StoreOwnOutputSerializer, 409: OpenApiResponse(description="store_exists: one per user.")},
        tags=["stores"],
    )
    def post(self, request):
        data = StoreOpenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        store = services.store_open(user=request.user, **data.validated_data)
        return Response(StoreOwnOutputSerializer(store).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=StoreUpdateInputSerializer, responses={200: StoreOwnOutputSerializer}, tags=["stores"])
    def patch(self, request):
        store = selectors.store_get_for_owner(user=request.user)
        data = StoreUpdateInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        store = services.store_update(store=store, data=data.validated_data)
        return Response(StoreOwnOutputSerializer(store).data)
