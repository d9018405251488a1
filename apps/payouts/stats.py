"""A seller's sales in numbers: per day and in total over a range of days, and its top products."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from apps.accounts.models import User
from apps.core.money import money
from apps.orders.models import OrderLine, StoreOrder

MAX_DAYS = 366  # a leap year, both ends included
TOP_PRODUCTS = 10
ZERO = Decimal("0.00")


@dataclass
class DayStats:
    date: date | None
    orders: int = 0
    units: int = 0
    gross: Decimal = ZERO
    refunds: Decimal = ZERO
    commission: Decimal = ZERO

    @property
    def net(self) -> Decimal:
        return self.gross - self.refunds - self.commission


@dataclass(frozen=True)
class ProductStats:
    slug: str
    name: str
    units: int
    gross: Decimal


@dataclass(frozen=True)
class SellerStats:
    currency: str
    totals: DayStats
    days: list[DayStats] = field(default_factory=list)
    top_products: list[ProductStats] = field(default_factory=list)


def seller_stats(*, seller: User, first: date, last: date) -> SellerStats:
    """The paid store orders of the seller's store, counted on the UTC day their order was paid
    (``Order.paid_at``, stamped once by order_transition when the order becomes ``paid`` and kept
    afterwards: an order cancelled before payment has none and is never counted; one paid, then
    refunded in full and cancelled, is counted with its refunds), from ``first`` to ``last``, both
    included (the caller keeps the range within MAX_DAYS).

    Per day and in total: ``orders`` (store orders), ``units`` (units sold, refunded ones included:
    refunds show in money), ``gross`` (item subtotal + shipping), ``refunds``, ``commission`` (kept:
    the commission less what refunds returned) and ``net`` (gross - refunds - commission, what the
    seller earns). ``days`` lists every day of the range, zeros included. ``top_products``: the 10
    products most sold in the range, by units then gross (their line totals) then slug.

    ``refunds`` is StoreOrder.refunded_items + refunded_shipping, not the ledger's refund entries on
    the store's payable: ledger_refund writes both in one transaction, but a payable entry is the
    refund less the commission it returns (so it needs the commission legs beside it to give the
    refund back), and it is dated when the refund happened whereas these numbers follow the day of
    payment; the store order's fields are exactly the items and shipping refunded of it, with no
    join to the ledger and no rounding of proportions.

    Three statements whatever the range: store orders grouped by day, lines grouped by day, lines
    grouped by product."""
    start = datetime.combine(first, time.min, tzinfo=UTC)
    end = datetime.combine(last, time.max, tzinfo=UTC)  # not the next midnight: 9999-12-31 has none
    paid_day = TruncDate("order__paid_at", tzinfo=UTC)
    days = {
        first + timedelta(days=offset): DayStats(date=first + timedelta(days=offset))
        for offset in range((last - first).days + 1)
    }

    store_orders = (
        StoreOrder.objects.filter(store__owner=seller, order__paid_at__gte=start, order__paid_at__lte=end)
        .annotate(day=paid_day)
        .values("day")
        .annotate(
            orders=Count("pk"),
            subtotal=Sum("subtotal"),
            shipping=Sum("shipping"),
            refunded_items=Sum("refunded_items"),
            refunded_shipping=Sum("refunded_shipping"),
            commission=Sum("commission"),
            refunded_commission=Sum("refunded_commission"),
        )
        .order_by()
    )
    for row in store_orders:  # money(): SQLite sums decimals as floats
        day = days[row["day"]]
        day.orders = row["orders"]
        day.gross = money(row["subtotal"]) + money(row["shipping"])
        day.refunds = money(row["refunded_items"]) + money(row["refunded_shipping"])
        day.commission = money(row["commission"]) - money(row["refunded_commission"])

    lines = OrderLine.objects.filter(
        store_order__store__owner=seller, order__paid_at__gte=start, order__paid_at__lte=end
    )
    for row in lines.annotate(day=paid_day).values("day").annotate(units=Sum("quantity")).order_by():
        days[row["day"]].units = row["units"]

    top = (
        lines.values("product_id", "product__slug", "product__name")
        .annotate(units=Sum("quantity"), gross=Sum("line_total"))
        .order_by("-units", "-gross", "product__slug")[:TOP_PRODUCTS]
    )
    top_products = [
        ProductStats(
            slug=row["product__slug"], name=row["product__name"], units=row["units"], gross=money(row["gross"])
        )
        for row in top
    ]

    listed = list(days.values())
    totals = DayStats(
        date=None,
        orders=sum(day.orders for day in listed),
        units=sum(day.units for day in listed),
        gross=sum((day.gross for day in listed), ZERO),
        refunds=sum((day.refunds for day in listed), ZERO),
        commission=sum((day.commission for day in listed), ZERO),
    )
    return SellerStats(currency=settings.DEFAULT_CURRENCY, totals=totals, days=listed, top_products=top_products)
