"""simplejwt's serializers, tightened: a refresh token is spent exactly once even when two
requests present it together, and a token of a removed user is a 401, not a server error."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.locks import lock_refresh_token


class RotatingRefreshSerializer(TokenRefreshSerializer):
    def validate(self, attrs):
        with transaction.atomic():
            try:
                jti = RefreshToken(attrs["refresh"])["jti"]
            except (TokenError, KeyError) as error:
                raise InvalidToken("Token is invalid or expired.") from error
            # Lock the token's row, then re-check: the loser of a race sees it blacklisted.
            outstanding = lock_refresh_token(jti=jti)
            if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
                raise InvalidToken("Token is blacklisted.")
            try:
                return super().validate(attrs)
            except get_user_model().DoesNotExist as error:
                raise AuthenticationFailed(
                    "No active account found for the given token.", "no_active_account"
                ) from error
