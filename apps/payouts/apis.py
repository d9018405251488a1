"""Thin views of a seller's money: its balance, its ledger entries and its sales stats."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.selectors import store_get_for_owner
from apps.core.permissions import IsSeller
from apps.ledger.models import LedgerEntry
from apps.ledger.selectors import store_entries
from apps.payouts.selectors import store_money
from apps.payouts.serializers import (
    BalanceOutputSerializer,
    LedgerEntryOutputSerializer,
    StatsOutputSerializer,
    StatsQuerySerializer,
)
from apps.payouts.stats import seller_stats


class StoreBalanceApi(APIView):
    permission_classes = [IsSeller]

    @extend_schema(responses={200: BalanceOutputSerializer}, tags=["stores"])
    def get(self, request):
        money = store_money(store=store_get_for_owner(user=request.user))
        return Response(BalanceOutputSerializer(money).data)


class StoreLedgerApi(ListAPIView):
    permission_classes = [IsSeller]
    serializer_class = LedgerEntryOutputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return LedgerEntry.objects.none()
        return store_entries(store=store_get_for_owner(user=self.request.user))

    @extend_schema(tags=["stores"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SellerStatsApi(APIView):
    """The seller's sales per day and in total over a range of UTC days, and its top products."""

    permission_classes = [IsSeller]

    @extend_schema(parameters=[StatsQuerySerializer], responses={200: StatsOutputSerializer}, tags=["seller"])
    def get(self, request):
        query = StatsQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        stats = seller_stats(seller=request.user, first=query.validated_data["from"], last=query.validated_data["to"])
        return Response(StatsOutputSerializer(stats).data)
