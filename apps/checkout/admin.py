"""The operator's desk for orders and payments.

Every page here is view-only: no form writes a status, an amount, a quantity or a flag, and a POST
to a change page is refused (403). What staff may do to an order's money goes through the actions,
which call the checkout services; each service writes an order event naming the staff member, and
each action adds a line to Django's admin log (the object's history, "Recent actions"; a refund's
retry to its order's history too, so an order's history holds every staff action on it). Reading
needs the model's view (or change) permission; running an action needs its change permission
(``settle``), which a superuser has.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_permission_codename
from django.db.models import Model, QuerySet
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from apps.accounts.admin_site import Panel
from apps.checkout import services
from apps.core.exceptions import ApplicationError
from apps.orders.models import Order, OrderEvent, OrderLine, StoreOrder
from apps.payments.models import Payment, Refund
from apps.payments.providers.base import ProviderError, RefundStatus


def _log(request, obj: Model, message: str) -> None:
    """The action in Django's admin log ("Recent actions", the object's history)."""
    LogEntry.objects.log_actions(
        user_id=request.user.pk, queryset=[obj], action_flag=CHANGE, change_message=message, single_object=True
    )


def _run(
    modeladmin,
    request,
    queryset: QuerySet,
    action: Callable[[Model], tuple[str, int]],
    order_of: Callable[[Model], Order] | None = None,
) -> None:
    """Run ``action`` on each selected object; it returns what it did and the message level to
    say it with. A refusal is reported for its object, which it leaves unchanged; the others run.
    What was done goes to the admin log of the object and, with ``order_of``, of its order too, so
    that an order's history holds every staff action on its money."""
    for obj in queryset:
        try:
            done, level = action(obj)
        except (ApplicationError, ProviderError) as error:
            modeladmin.message_user(request, f"{obj}: {getattr(error, 'detail', error)}", level=messages.ERROR)
            continue
        _log(request, obj, done)
        if order_of is not None:
            _log(request, order_of(obj), f"{obj}: {done}")
        modeladmin.message_user(request, f"{obj}: {done}.", level=level)


def _may_settle(request, model: type[Model]) -> bool:
    """Actions that move money need the model's change permission (its pages stay view-only)."""
    opts = model._meta
    return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}")


class ViewOnlyAdmin(admin.ModelAdmin):
    """No add, no change (the change page is a view page: a POST to it is 403), no delete."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ViewOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class StoreOrderInline(ViewOnlyInline):
    model = StoreOrder
    fields = [
        "store_name",
        "status",
        "subtotal",
        "shipping",
        "total",
        "shipping_method",
        "commission_rate",
        "commission",
        "carrier",
        "tracking_number",
        "shipped_at",
        "delivered_at",
    ]
    readonly_fields = fields


class OrderLineInline(ViewOnlyInline):
    model = OrderLine
    fields = [
        "product_name",
        "variant_sku",
        "store_name",
        "unit_price",
        "quantity",
        "line_total",
        "status",
        "carrier",
    ]
    readonly_fields = fields


class PaymentInline(ViewOnlyInline):
    model = Payment
    fields = [
        "attempt",
        "provider",
        "reference",
        "status",
        "amount",
        "amount_received",
        "amount_refunded",
        "currency",
        "failure_code",
        "settles_order",
    ]
    readonly_fields = fields
    show_change_link = True


class OrderEventInline(ViewOnlyInline):
    model = OrderEvent
    fields = ["at", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(ViewOnlyAdmin):
    list_display = ["number", "buyer", "status", "total", "currency", "needs_review", "created_at"]
    list_filter = ["needs_review", "status"]  # ?needs_review__exact=1: the orders waiting for staff
    list_select_related = ["buyer"]
    search_fields = ["number", "buyer__email"]
    ordering = ["-needs_review", "-created_at", "-id"]  # what waits for staff comes first
    fields = [
        "number",
        "buyer",
        "status",
        "needs_review",
        ("subtotal", "shipping", "total", "currency"),
        "shipping_address",
        ("created_at", "paid_at", "cancelled_at"),
        "refunds",
    ]
    readonly_fields = [  # already so on a view-only page; kept should its permissions ever change
        "number",
        "buyer",
        "status",
        "needs_review",
        "subtotal",
        "shipping",
        "total",
        "currency",
        "shipping_address",
        "created_at",
        "paid_at",
        "cancelled_at",
        "refunds",
    ]
    inlines = [StoreOrderInline, OrderLineInline, PaymentInline, OrderEventInline]
    actions = ["accept_reviewed_payment", "refund_what_was_received", "cancel_and_refund"]

    def has_settle_permission(self, request) -> bool:
        return _may_settle(request, Order)

    @admin.display(description="Refunds")
    def refunds(self, order: Order):
        """Every refund of every payment of the order (a payment's page lists its own)."""
        rows = Refund.objects.filter(payment__order=order).select_related("payment", "requested_by")
        if not rows:
            return "None"
        body = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>#{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td>'
            "<td>{}</td><td>{}</td></tr>",
            (
                (
                    reverse("admin:payments_refund_change", args=[refund.pk]),
                    refund.idempotency_key,
                    refund.payment.attempt,
                    refund.amount,
                    refund.payment.currency,
                    refund.get_status_display(),
                    refund.get_origin_display(),
                    refund.requested_by or "system",
                    refund.reason,
                    refund.failure,
                )
                for refund in rows
            ),
        )
        return format_html(
            "<table><thead><tr><th>Refund</th><th>Payment</th><th>Amount</th><th>Status</th><th>Origin</th>"
            "<th>Asked by</th><th>Reason</th><th>Failure</th></tr></thead><tbody>{}</tbody></table>",
            body,
        )

    @admin.action(
        description="Accept the payment under review (the order is paid with what was received)",
        permissions=["settle"],
    )
    def accept_reviewed_payment(self, request, queryset):
        def accept(order: Order) -> tuple[str, int]:
            services.checkout_review_accept(order=order, staff=request.user)
            return "payment under review accepted", messages.SUCCESS

        _run(self, request, queryset, accept)

    @admin.action(description="Refund what was received and cancel (order under review)", permissions=["settle"])
    def refund_what_was_received(self, request, queryset):
        def refund(order: Order) -> tuple[str, int]:
            services.checkout_review_refund(order=order, staff=request.user)
            return "refunded what was received and cancelled", messages.SUCCESS

        _run(self, request, queryset, refund)

    @admin.action(description="Cancel and refund (nothing shipped yet)", permissions=["settle"])
    def cancel_and_refund(self, request, queryset):
        def cancel(order: Order) -> tuple[str, int]:
            services.checkout_cancel_by_staff(order=order, staff=request.user)
            return "cancelled and refunded", messages.SUCCESS

        _run(self, request, queryset, cancel)


class RefundInline(ViewOnlyInline):
    model = Refund
    fields = ["created_at", "amount", "status", "origin", "idempotency_key", "reference", "reason", "requested_by"]
    readonly_fields = fields
    show_change_link = True


@admin.register(Payment)
class PaymentAdmin(ViewOnlyAdmin):
    list_display = [
        "order",
        "attempt",
        "provider",
        "status",
        "amount",
        "amount_received",
        "amount_refunded",
        "currency",
        "created_at",
    ]
    list_filter = ["provider", "status"]
    list_select_related = ["order"]
    search_fields = ["order__number", "reference"]
    # The client secret and the provider's raw answer (which carries it) stay out of the admin.
    exclude = ["client_secret", "response"]
    inlines = [RefundInline]


@admin.register(Refund)
class RefundAdmin(ViewOnlyAdmin):
    list_display = ["idempotency_key", "order_number", "amount", "status", "origin", "requested_by", "created_at"]
    list_filter = ["status", "origin"]
    list_select_related = ["payment__order", "requested_by"]
    search_fields = ["idempotency_key", "reference", "payment__order__number"]
    actions = ["retry_failed_refund"]

    def has_settle_permission(self, request) -> bool:
        return _may_settle(request, Refund)

    @admin.display(description="Order", ordering="payment__order__number")
    def order_number(self, refund: Refund) -> str:
        return refund.payment.order.number

    @admin.action(description="Retry the failed refund (a new refund with its own key)", permissions=["settle"])
    def retry_failed_refund(self, request, queryset):
        def retry(refund: Refund) -> tuple[str, int]:
            again = services.checkout_refund_retry(refund=refund, staff=request.user)
            if again is None:
                return "nothing left to refund: not asked again", messages.WARNING
            level = messages.SUCCESS if again.status == RefundStatus.SUCCEEDED else messages.WARNING
            return f"asked again as {again.idempotency_key}: {again.get_status_display().lower()}", level

        _run(
            self,
            request,
            queryset.select_related("payment__order"),
            retry,
            order_of=lambda refund: refund.payment.order,
        )


admin.site.panel_register(
    Panel(
        position=10,
        title="Orders needing review",
        definition=lambda: "Orders flagged needs_review: a payment staff must accept or refund.",
        model=Order,
        rows=lambda: Order.objects.filter(needs_review=True),
        query="needs_review__exact=1",
    )
)
admin.site.panel_register(
    Panel(
        position=20,
        title="Failed refunds",
        definition=lambda: "Refunds the provider refused or that could not be sent: retry them.",
        model=Refund,
        rows=lambda: Refund.objects.filter(status=RefundStatus.FAILED),
        query=f"status__exact={RefundStatus.FAILED}",
    )
)
