"""The security matrix: who may call what, and what hostile input gets (docs/security.md).

1. Roles x endpoints: every (endpoint, method) of API.md is one row of ``MATRIX`` with the exact
   status for each of the six roles; every cell is its own test (``orders-detail-GET-other_buyer-404``),
   and every refused or read-only request must leave the database exactly as it was.
2. Forged, expired and misused tokens.
3. Brute force on login: per email, per IP, not reset by a spoofed X-Forwarded-For.
4. Enumeration: password reset and login answer alike for known and unknown emails.
5. CORS, 6. security headers, 7. malformed and oversized bodies, 8. resource exhaustion (cart
   lines, page sizes), 9. hostile image uploads.
"""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jwt
import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from PIL import Image
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.accounts.models import Address, Store, User
from apps.accounts.tests.factories import DEFAULT_PASSWORD, AddressFactory, StoreFactory, UserFactory
from apps.cart.models import Cart, CartItem
from apps.catalog.models import Category, Product, ProductImage, Review, Variant
from apps.catalog.stock import products_refresh
from apps.catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory
from apps.orders.models import LineStatus, Order, OrderEvent, OrderLine, OrderStatus, StoreOrder
from apps.orders.tests.factories import ADDRESS
from apps.payments.models import Payment, WebhookEvent
from apps.shipping.models import ShippingRate

pytestmark = pytest.mark.django_db

API = "/api/v1"
ROLES = ("anonymous", "buyer", "other_buyer", "seller", "other_seller", "staff")
NEW_PASSWORD = "quartz-lantern-meadow-7"


# --- The world every matrix cell runs in --------------------------------------------------------


def _make_order(*, buyer: User, product: Product, status: str, line_status: str = LineStatus.PENDING) -> Order:
    """An order of one line of ``product``, written directly (the flows have their own tests)."""
    order = Order.objects.create(
        buyer=buyer,
        status=status,
        currency="USD",
        subtotal=product.price,
        shipping=Decimal("0.00"),
        total=product.price,
        shipping_address=ADDRESS,
        paid_at=None if status == OrderStatus.PENDING_PAYMENT else timezone.now(),
    )
    store_order = StoreOrder.objects.create(
        order=order,
        store=product.store,
        store_name=product.store.name,
        store_slug=product.store.slug,
        subtotal=product.price,
        shipping=Decimal("0.00"),
        total=product.price,
        shipping_method={"name": "Standard", "min_days": None, "max_days": None},
        commission_rate=Decimal("10.00"),
        commission=Decimal("0.00"),
    )
    variant = product.variants.get()
    OrderLine.objects.create(
        order=order,
        store_order=store_order,
        product=product,
        variant=variant,
        variant_sku=variant.sku,
        store=product.store,
        product_name=product.name,
        product_slug=product.slug,
        store_name=product.store.name,
        store_slug=product.store.slug,
        unit_price=product.price,
        quantity=1,
        line_total=product.price,
        currency="USD",
        status=line_status,
    )
    return order


def build_world() -> SimpleNamespace:
    """Two buyers, two sellers, staff, and for each role the objects it owns or must not touch."""
    buyer, other_buyer, staff = UserFactory(), UserFactory(), UserFactory(is_staff=True)
    store, other_store = StoreFactory(), StoreFactory()
    category = CategoryFactory(slug="tools")
    empty_category = CategoryFactory(slug="empty")
    product = ProductFactory(store=store, category=category, slug="hammer", stock=10)
    other_product = ProductFactory(store=other_store, category=category, slug="saw", stock=10)
    draft = ProductFactory(store=store, category=category, slug="secret", status=Product.Status.DRAFT)
    image = ProductImage.objects.create(product=product, image="products/hammer.png", width=8, height=8)
    # A product sold in two sizes (the variant endpoints), and a shipping rate of the seller's store.
    tee = ProductFactory(
        store=store,
        category=category,
        slug="tee",
        default_variant=False,
        options=[{"name": "Size", "values": ["S", "M", "L"]}],
    )
    for size in ("S", "M"):
        VariantFactory(product=tee, sku=f"TEE-{size}", options={"Size": size}, price=Decimal("9.00"), stock=5)
    products_refresh(product_ids=[tee.pk])
    rate = ShippingRate.objects.create(store=store, name="Post", price=Decimal("4.00"), min_days=2, max_days=4)
    cart = Cart.objects.create(user=buyer)
    cart_item = CartItem.objects.create(cart=cart, product=product, variant=product.variants.get(), quantity=1)
    return SimpleNamespace(
        users={
            "buyer": buyer,
            "other_buyer": other_buyer,
            "seller": store.owner,
            "other_seller": other_store.owner,
            "staff": staff,
        },
        buyer=buyer,
        store=store,
        category=category,
        empty_category=empty_category,
        product=product,
        other_product=other_product,
        draft=draft,
        image=image,
        rate=rate,
        address=AddressFactory(user=buyer),
        cart_item=cart_item,
        pending=_make_order(buyer=buyer, product=product, status=OrderStatus.PENDING_PAYMENT),
        paid=_make_order(buyer=buyer, product=product, status=OrderStatus.PAID),
        shipped=_make_order(buyer=buyer, product=product, status=OrderStatus.SHIPPED, line_status=LineStatus.SHIPPED),
        delivered=_make_order(
            buyer=buyer, product=product, status=OrderStatus.DELIVERED, line_status=LineStatus.DELIVERED
        ),
        buyer_refresh=str(RefreshToken.for_user(buyer)),
    )


def database_state() -> dict[str, list[tuple]]:
    """Every row the API can write, with the fields that matter, in a comparable form."""
    tables = {
        User: ("email", "is_active", "is_staff", "is_seller", "first_name", "last_name", "password"),
        Address: ("user_id", "full_name", "line1", "city", "postal_code", "country", "is_default"),
        Store: ("owner_id", "name", "slug", "description"),
        Category: ("path", "name", "slug"),
        Product: ("store_id", "category_id", "name", "slug", "description", "price", "stock", "status"),
        ProductImage: ("product_id", "image", "position", "alt_text"),
        Review: ("product_id", "author_id", "rating"),
        Cart: ("user_id",),
        Variant: ("product_id", "sku", "price", "stock", "is_active"),
        ShippingRate: ("store_id", "name", "price", "is_active"),
        StoreOrder: ("order_id", "status", "total", "carrier"),
        CartItem: ("cart_id", "variant_id", "quantity"),
        Order: ("number", "buyer_id", "status", "total"),
        OrderLine: ("order_id", "status", "quantity", "tracking_number"),
        OrderEvent: ("order_id", "to_status"),
        Payment: ("order_id", "status", "amount"),
        WebhookEvent: ("event_id",),
        OutstandingToken: ("jti",),
        BlacklistedToken: ("token_id",),
    }
    state = {
        model.__name__: list(model.objects.order_by("pk").values_list("pk", *fields))
        for model, fields in tables.items()
    }
    state["media"] = stored_files()
    return state


def stored_files() -> list[str]:
    root = Path(default_storage.location)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- The table ----------------------------------------------------------------------------------


def png(size=(32, 24)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def image_upload(data: bytes, name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/png")


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    path: Callable[[SimpleNamespace], str]
    statuses: tuple[int, ...]  # in the order of ROLES
    body: Callable[[SimpleNamespace], Any] | None = None
    format: str = "json"
    settings: dict[str, Any] = field(default_factory=dict)

    def expected(self) -> dict[str, int]:
        return dict(zip(ROLES, self.statuses, strict=True))


def row(name, method, path, *statuses, body=None, **options) -> Row:
    """One line of the table; ``path`` (a string or a function of the world) is under /api/v1/
    unless it starts with a slash."""
    resolve = path if callable(path) else (lambda w: path)
    return Row(name, method, lambda w: _absolute(resolve(w)), statuses, body, **options)


def _absolute(path: str) -> str:
    return path if path.startswith("/") else f"{API}/{path}"


def _reset_token(w) -> dict:
    return {
        "uid": urlsafe_base64_encode(force_bytes(w.buyer.pk)),
        "token": default_token_generator.make_token(w.buyer),
        "new_password": NEW_PASSWORD,
    }


def _product_body(name="Renamed") -> dict:
    return {"name": name, "description": "New.", "price": "9.99", "category": "tools", "stock": 3, "status": "active"}


def _address(w) -> str:
    return f"users/me/addresses/{w.address.pk}/"


def _item(w) -> str:
    return f"cart/items/{w.cart_item.pk}/"


def _image(w) -> str:
    return f"products/hammer/images/{w.image.pk}/"


def _store(w) -> str:
    return f"stores/{w.store.slug}/"


def _rate(w) -> str:
    return f"users/me/store/shipping-rates/{w.rate.pk}/"


def _seller_order(w) -> str:
    return f"seller/orders/{w.paid.number}/"


def _ship(w) -> str:
    return f"seller/orders/{w.paid.number}/ship/"


def _refunds(w) -> str:
    return f"seller/orders/{w.paid.number}/refunds/"


def _refund_body(w) -> dict:
    return {"lines": [{"id": w.paid.lines.get().pk, "quantity": 1}], "reason": "damaged"}


def _order(which: str, action: str = "") -> Callable[[SimpleNamespace], str]:
    return lambda w: f"orders/{getattr(w, which).number}/{action}"


# fmt: off
# The statuses are in the order of ROLES: anonymous, buyer, other_buyer, seller, other_seller, staff.
MATRIX = [
    #   name                           method    path (under /api/v1/)                    anon buy  obuy sell osel staff
    row("auth-register",               "POST",   "auth/register/",                        201, 201, 201, 201, 201, 201,
        body=lambda w: {"email": "newcomer@example.com", "password": NEW_PASSWORD}),
    row("auth-token",                  "POST",   "auth/token/",                           200, 200, 200, 200, 200, 200,
        body=lambda w: {"email": w.buyer.email, "password": DEFAULT_PASSWORD}),
    row("auth-token-refresh",          "POST",   "auth/token/refresh/",                   200, 200, 200, 200, 200, 200,
        body=lambda w: {"refresh": w.buyer_refresh}),
    # The buyer's refresh token: only the buyer may kill it.
    row("auth-logout",                 "POST",   "auth/logout/",                          401, 204, 400, 400, 400, 400,
        body=lambda w: {"refresh": w.buyer_refresh}),
    row("auth-password-reset",         "POST",   "auth/password-reset/",                  202, 202, 202, 202, 202, 202,
        body=lambda w: {"email": w.buyer.email}),
    # The mailed token is the authority, whoever presents it.
    row("auth-password-reset-confirm", "POST",   "auth/password-reset/confirm/",          204, 204, 204, 204, 204, 204,
        body=_reset_token),
    row("users-me",                    "GET",    "users/me/",                             401, 200, 200, 200, 200, 200),
    # Read-only fields in the body are ignored (test_read_only_fields_are_never_written).
    row("users-me",                    "PATCH",  "users/me/",                             401, 200, 200, 200, 200, 200,
        body=lambda w: {"first_name": "Changed", "is_staff": True, "is_seller": True}),
    row("users-me",                    "DELETE", "users/me/",                             401, 204, 204, 204, 204, 204),
    row("users-me-password",           "POST",   "users/me/password/",                    401, 204, 204, 204, 204, 204,
        body=lambda w: {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}),
    row("addresses",                   "GET",    "users/me/addresses/",                   401, 200, 200, 200, 200, 200),
    row("addresses",                   "POST",   "users/me/addresses/",                   401, 201, 201, 201, 201, 201,
        body=lambda w: {**ADDRESS}),
    row("addresses-detail",            "GET",    _address,                                401, 200, 404, 404, 404, 404),
    row("addresses-detail",            "PATCH",  _address,                                401, 200, 404, 404, 404, 404,
        body=lambda w: {"city": "Elsewhere"}),
    row("addresses-detail",            "DELETE", _address,                                401, 204, 404, 404, 404, 404),
    row("users-me-store",              "POST",   "users/me/store/",                       401, 201, 201, 409, 409, 201,
        body=lambda w: {"name": "Brand New Store"}),
    row("users-me-store",              "GET",    "users/me/store/",                       401, 404, 404, 200, 200, 404),
    row("users-me-store",              "PATCH",  "users/me/store/",                       401, 404, 404, 200, 200, 404,
        body=lambda w: {"description": "Changed."}),
    # A store's shipping rates are its owner's alone: anyone else's (or no store) is a 404.
    row("shipping-rates",              "GET",    "users/me/store/shipping-rates/",        401, 404, 404, 200, 200, 404),
    row("shipping-rates",              "POST",   "users/me/store/shipping-rates/",        401, 404, 404, 201, 201, 404,
        body=lambda w: {"name": "Courier", "price": "7.00", "min_days": 1, "max_days": 2}),
    row("shipping-rates-detail",       "GET",    _rate,                                   401, 404, 404, 200, 404, 404),
    row("shipping-rates-detail",       "PATCH",  _rate,                                   401, 404, 404, 200, 404, 404,
        body=lambda w: {"price": "5.00"}),
    row("shipping-rates-detail",       "DELETE", _rate,                                   401, 404, 404, 204, 404, 404),
    row("stores",                      "GET",    "stores/",                               200, 200, 200, 200, 200, 200),
    row("stores-detail",               "GET",    _store,                                  200, 200, 200, 200, 200, 200),
    row("categories",                  "GET",    "categories/",                           200, 200, 200, 200, 200, 200),
    row("categories",                  "POST",   "categories/",                           401, 403, 403, 403, 403, 201,
        body=lambda w: {"name": "Garden"}),
    row("categories-detail",           "GET",    "categories/tools/",                     200, 200, 200, 200, 200, 200),
    row("categories-detail",           "PATCH",  "categories/tools/",                     401, 403, 403, 403, 403, 200,
        body=lambda w: {"name": "Hardware"}),
    row("categories-detail",           "DELETE", "categories/empty/",                     401, 403, 403, 403, 403, 204),
    row("products",                    "GET",    "products/",                             200, 200, 200, 200, 200, 200),
    row("products",                    "POST",   "products/",                             401, 403, 403, 201, 201, 403,
        body=lambda w: _product_body("Brand New Thing")),
    row("products-detail",             "GET",    "products/hammer/",                      200, 200, 200, 200, 200, 200),
    row("products-detail",             "PATCH",  "products/hammer/",                      401, 403, 403, 200, 403, 200,
        body=lambda w: {"name": "Renamed", "price": "1.00"}),
    row("products-detail",             "PUT",    "products/hammer/",                      401, 403, 403, 200, 403, 200,
        body=lambda w: _product_body()),
    row("products-detail",             "DELETE", "products/hammer/",                      401, 403, 403, 204, 403, 204),
    # A draft is invisible (404, not 403) to all but its owner; staff may still moderate it.
    row("products-draft",              "GET",    "products/secret/",                      404, 404, 404, 200, 404, 404),
    row("products-draft",              "PATCH",  "products/secret/",                      401, 404, 404, 200, 404, 200,
        body=lambda w: {"name": "Leaked"}),
    row("products-images",             "POST",   "products/hammer/images/",               401, 403, 403, 201, 403, 403,
        body=lambda w: {"image": image_upload(png())}, format="multipart"),
    row("products-images-detail",      "DELETE", _image,                                  401, 403, 403, 204, 403, 403),
    row("products-reviews",            "GET",    "products/hammer/reviews/",              200, 200, 200, 200, 200, 200),
    # Only a buyer who received the product may review it.
    row("products-reviews",            "POST",   "products/hammer/reviews/",              401, 201, 403, 403, 403, 403,
        body=lambda w: {"rating": 5, "title": "Great", "body": "Hits nails."}),
    row("products-variants",           "GET",    "products/tee/variants/",                401, 403, 403, 200, 403, 200),
    row("products-variants",           "POST",   "products/tee/variants/",                401, 403, 403, 201, 403, 201,
        body=lambda w: {"options": {"Size": "L"}, "price": "9.50", "stock": 2}),
    row("products-variants-detail",    "PATCH",  "products/tee/variants/TEE-S/",          401, 403, 403, 200, 403, 200,
        body=lambda w: {"price": "8.00"}),
    row("products-variants-detail",    "DELETE", "products/tee/variants/TEE-S/",          401, 403, 403, 204, 403, 204),
    row("seller-products",             "GET",    "seller/products/",                      401, 403, 403, 200, 200, 403),
    row("cart",                        "GET",    "cart/",                                 401, 200, 200, 200, 200, 200),
    row("cart",                        "DELETE", "cart/",                                 401, 204, 204, 204, 204, 204),
    # The seller's own product: nobody buys from themself (400 own_product).
    row("cart-items",                  "POST",   "cart/items/",                           401, 201, 201, 400, 201, 201,
        body=lambda w: {"product": "hammer", "quantity": 1}),
    row("cart-shipping-options",       "GET",    "cart/shipping-options/?country=US",     401, 200, 200, 200, 200, 200),
    row("cart-items-detail",           "PATCH",  _item,                                   401, 200, 404, 404, 404, 404,
        body=lambda w: {"quantity": 2}),
    row("cart-items-detail",           "DELETE", _item,                                   401, 200, 404, 404, 404, 404),
    # The buyer's saved address: nobody else may ship to it (or learn that it exists).
    row("checkout",                    "POST",   "checkout/",                             401, 201, 404, 404, 404, 404,
        body=lambda w: {"address_id": w.address.pk}),
    row("orders",                      "GET",    "orders/",                               401, 200, 200, 200, 200, 200),
    row("orders-detail",               "GET",    _order("pending"),                       401, 200, 404, 404, 404, 404),
    row("orders-pay",                  "POST",   _order("pending", "pay/"),               401, 200, 404, 404, 404, 404,
        body=lambda w: {"payment_method": "pm_card_visa"}),
    row("orders-cancel",               "POST",   _order("pending", "cancel/"),            401, 200, 404, 404, 404, 404),
    row("orders-confirm-delivery",     "POST",   _order("shipped", "confirm-delivery/"),  401, 200, 404, 404, 404, 404),
    row("seller-orders",               "GET",    "seller/orders/",                        401, 403, 403, 200, 200, 403),
    row("seller-orders-detail",        "GET",    _seller_order,                           401, 403, 403, 200, 404, 403),
    row("seller-orders-ship",          "POST",   _ship,                                   401, 403, 403, 200, 404, 403,
        body=lambda w: {"carrier": "DHL", "tracking_number": "T1"}),
    row("seller-orders-refunds",       "GET",    _refunds,                                401, 403, 403, 200, 404, 200),
    # The world's paid order was written without a payment: nothing to refund (409 invalid_transition).
    row("seller-orders-refunds",       "POST",   _refunds,                                401, 403, 403, 409, 404, 409,
        body=_refund_body),
    row("orders-returns",              "GET",    _order("shipped", "returns/"),           401, 200, 404, 404, 404, 404),
    row("seller-returns",              "GET",    "seller/returns/",                       401, 403, 403, 200, 200, 403),
    # A seller's money: its own store's figures only, whoever else asks.
    row("store-balance",               "GET",    "users/me/store/balance/",               401, 403, 403, 200, 200, 403),
    row("store-ledger",                "GET",    "users/me/store/ledger/",                401, 403, 403, 200, 200, 403),
    row("store-payout-account",        "POST",   "users/me/store/payout-account/",        401, 403, 403, 201, 201, 403),
    row("seller-stats",                "GET",    "seller/stats/?from=2026-01-01&to=2026-01-31",
        401, 403, 403, 200, 200, 403),
    # Unsigned, on the default (simulated) deployment: refused whoever sends it, never a 500.
    row("payments-stripe-webhook",     "POST",   "payments/stripe/webhook/",              400, 400, 400, 400, 400, 400,
        body=lambda w: {"id": "evt_forged", "type": "payment_intent.succeeded"}),
    row("healthz",                     "GET",    "/healthz",                              200, 200, 200, 200, 200, 200),
    row("schema",                      "GET",    "/api/schema/",                          200, 200, 200, 200, 200, 200),
    # Only the scraper's token opens the metrics, never a user's JWT (not even staff's).
    row("metrics",                     "GET",    "/metrics",                              401, 401, 401, 401, 401, 401,
        settings={"METRICS_TOKEN": "scrape-token"}),
]
# fmt: on

CELLS = [
    pytest.param(entry, role, status, id=f"{entry.name}-{entry.method}-{role}-{status}")
    for entry in MATRIX
    for role, status in entry.expected().items()
]


@pytest.mark.parametrize(("entry", "role", "expected"), CELLS)
def test_matrix(entry: Row, role: str, expected: int, settings, client_for):
    for name, value in entry.settings.items():
        setattr(settings, name, value)
    world = build_world()
    client = client_for(None if role == "anonymous" else world.users[role])
    body = entry.body(world) if entry.body else None
    before = database_state()

    response = getattr(client, entry.method.lower())(entry.path(world), body, format=entry.format)

    assert response.status_code == expected, response.content[:500]
    if expected >= 400 or entry.method == "GET":
        assert database_state() == before
    if expected >= 400:
        assert response["Content-Type"] == "application/json"
        assert {"detail", "code"} <= response.json().keys() or expected == 400


def test_read_only_fields_are_never_written(client_for):
    world = build_world()
    client = client_for(world.buyer)

    client.patch(f"{API}/users/me/", {"is_staff": True, "is_seller": True, "email": "x@evil.example", "id": 1})

    world.buyer.refresh_from_db()
    assert (world.buyer.is_staff, world.buyer.is_seller, world.buyer.email.endswith("@example.com")) == (
        False,
        False,
        True,
    )


# --- 2. Tokens ----------------------------------------------------------------------------------

ME = f"{API}/users/me/"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _forged_tokens(user: User, staff: User) -> dict[str, str]:
    valid = AccessToken.for_user(user)
    expired = AccessToken.for_user(user)
    expired.set_exp(from_time=timezone.now() - timedelta(hours=1), lifetime=timedelta(minutes=15))
    header, _, signature = str(valid).split(".")
    as_staff = _b64({**valid.payload, "user_id": str(staff.pk)})
    return {
        "expired": str(expired),
        "signed-with-another-key": jwt.encode(valid.payload, "not-the-secret-key-" * 3, algorithm="HS256"),
        "payload-swapped-keeping-the-signature": f"{header}.{as_staff}.{signature}",
        "alg-none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(valid.payload)}.",
        "refresh-as-access": str(RefreshToken.for_user(user)),
        "garbage": "not.a.token",
    }


@pytest.mark.parametrize(
    "kind",
    [
        "expired",
        "signed-with-another-key",
        "payload-swapped-keeping-the-signature",
        "alg-none",
        "refresh-as-access",
        "garbage",
    ],
)
def test_a_forged_or_misused_token_is_401(kind):
    user, staff = UserFactory(), UserFactory(is_staff=True)
    token = _forged_tokens(user, staff)[kind]

    response = APIClient().get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 401
    assert response.json()["code"] in {"token_not_valid", "authentication_failed"}
    assert response["Cache-Control"] == "no-store"
    assert staff.email not in response.content.decode()


def test_the_access_token_of_a_deactivated_user_is_401():
    user = UserFactory()
    access = str(AccessToken.for_user(user))
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert APIClient().get(ME, HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 401


def test_the_access_token_of_an_account_deleted_through_the_api_is_401(client_for):
    user = UserFactory()
    client = client_for(user)

    assert client.delete(ME).status_code == 204
    assert client.get(ME).status_code == 401
    assert client.get(f"{API}/cart/").status_code == 401


# --- 3. Brute force ------------------------------------------------------------------------------

LOGIN = f"{API}/auth/token/"


class Clock:
    """DRF throttles' timer, moved by hand."""

    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self, throttle):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    now = Clock()
    monkeypatch.setattr(SimpleRateThrottle, "timer", lambda self: now(self))
    return now


def _login(email: str, password: str, ip: str, **headers):
    return APIClient().post(LOGIN, {"email": email, "password": password}, REMOTE_ADDR=ip, **headers)


def test_after_the_email_limit_even_the_right_password_is_refused_from_any_ip(rates, clock, settings):
    settings.NUM_PROXIES = 0
    rates(login_email="3/min", login_ip="100/min")
    user = UserFactory()

    failures = [_login(user.email, "wrong-password-1", f"10.0.0.{n}").status_code for n in range(1, 4)]
    refused = _login(user.email.upper(), DEFAULT_PASSWORD, "10.9.9.9")
    clock.now += 30
    still_refused = _login(user.email, DEFAULT_PASSWORD, "10.9.9.8")
    clock.now += 31
    later = _login(user.email, DEFAULT_PASSWORD, "10.9.9.7")

    assert failures == [401, 401, 401]
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) == 60
    assert "access" not in refused.json()
    assert still_refused.status_code == 429
    assert int(still_refused["Retry-After"]) == 30
    assert later.status_code == 200


def test_after_the_ip_limit_the_right_password_is_refused_whatever_the_email(rates, clock):
    rates(login_email="100/min", login_ip="3/min")
    user = UserFactory()

    failures = [_login(f"guess{n}@example.com", "wrong-password-1", "10.0.0.1").status_code for n in range(3)]
    refused = _login(user.email, DEFAULT_PASSWORD, "10.0.0.1")
    elsewhere = _login(user.email, DEFAULT_PASSWORD, "10.0.0.2")

    assert failures == [401, 401, 401]
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert elsewhere.status_code == 200


def test_a_spoofed_forwarded_for_does_not_reset_the_ip_limit(rates, clock, settings):
    settings.NUM_PROXIES = 0
    rates(login_email="100/min", login_ip="3/min")
    user = UserFactory()

    for n in range(3):
        _login(f"guess{n}@example.com", "wrong-password-1", "10.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    refused = _login(user.email, DEFAULT_PASSWORD, "10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")

    assert refused.status_code == 429


# --- 4. Enumeration ------------------------------------------------------------------------------

IGNORED_HEADERS = {"X-Request-ID", "Date"}


def _comparable(response) -> tuple:
    headers = {name: value for name, value in response.headers.items() if name not in IGNORED_HEADERS}
    return response.status_code, response.content, headers


def test_password_reset_answers_identically_for_known_and_unknown_emails(django_capture_on_commit_callbacks):
    user = UserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        known = APIClient().post(f"{API}/auth/password-reset/", {"email": user.email})
    unknown = APIClient().post(f"{API}/auth/password-reset/", {"email": "nobody@example.com"})

    assert known.status_code == 202
    assert _comparable(known) == _comparable(unknown)


def test_login_fails_identically_for_an_unknown_email_and_a_wrong_password():
    user = UserFactory()

    wrong_password = APIClient().post(LOGIN, {"email": user.email, "password": "wrong-password-1"})
    unknown_email = APIClient().post(LOGIN, {"email": "nobody@example.com", "password": "wrong-password-1"})

    assert wrong_password.status_code == 401
    assert _comparable(wrong_password) == _comparable(unknown_email)


# --- 5. CORS -------------------------------------------------------------------------------------

STOREFRONT = "https://shop.example"


@pytest.mark.parametrize("method", ["get", "options"])
@pytest.mark.parametrize(
    ("origin", "allowed"),
    [(STOREFRONT, True), ("https://evil.example", False), ("null", False), ("https://shop.example.evil", False)],
)
def test_cors_answers_only_the_configured_origin(settings, method, origin, allowed):
    settings.CORS_ALLOWED_ORIGINS = [STOREFRONT]

    response = getattr(Client(), method)(
        f"{API}/products/", HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )

    assert response.get("Access-Control-Allow-Origin") == (origin if allowed else None)
    assert "Access-Control-Allow-Credentials" not in response


# --- 6. Security headers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "authenticated", "status"),
    [
        (f"{API}/products/", False, 200),
        (f"{API}/users/me/", True, 200),
        (f"{API}/orders/", True, 200),
        (f"{API}/users/me/", False, 401),
        (f"{API}/nowhere/", False, 404),
    ],
)
def test_api_responses_carry_the_security_headers(path, authenticated, status, client_for):
    client = client_for(UserFactory()) if authenticated else APIClient()

    response = client.get(path)

    assert response.status_code == status
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Content-Type"] == "application/json"
    if authenticated:
        assert response["Cache-Control"] == "no-store"


def test_hsts_is_sent_over_https_under_production_settings():
    with override_settings(
        SECURE_HSTS_SECONDS=31_536_000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True, SECURE_HSTS_PRELOAD=True
    ):
        client = APIClient()  # a new client loads the middleware, and SecurityMiddleware its settings
        secure = client.get(f"{API}/products/", secure=True)
        plain = client.get(f"{API}/products/")

    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "Strict-Transport-Security" not in plain  # browsers ignore it over HTTP


def test_plain_http_is_redirected_to_https_under_production_settings():
    with override_settings(SECURE_SSL_REDIRECT=True):
        response = APIClient().get(f"{API}/products/")

    assert response.status_code == 301
    assert response["Location"].startswith("https://")


# --- 7. Bodies: too large, malformed, wrong type --------------------------------------------------


def _assert_json_error(response, status: int) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()


def test_a_json_body_over_the_limit_is_413_and_changes_nothing(settings, client_for):
    client = client_for(UserFactory())
    before = database_state()
    body = json.dumps({"name": "x" * settings.MAX_JSON_BODY_BYTES})

    response = client.generic("POST", f"{API}/users/me/store/", body, content_type="application/json")

    _assert_json_error(response, 413)
    assert response.json()["code"] == "request_too_large"
    assert database_state() == before


def test_an_upload_over_the_limit_is_413_and_stores_nothing(settings, client_for):
    settings.MAX_UPLOAD_BODY_BYTES = 64 * 1024
    world = build_world()
    client = client_for(world.users["seller"])
    before = database_state()

    response = client.post(
        f"{API}/products/hammer/images/", {"image": image_upload(b"\x89PNG" + b"\0" * 100_000)}, format="multipart"
    )

    _assert_json_error(response, 413)
    assert database_state() == before


@pytest.mark.parametrize("path", [f"{API}/cart/items/", f"{API}/auth/register/", f"{API}/auth/token/"])
@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b'{"product": "hammer", "quantity":', "application/json", 400),
        (b'{"product": "\xff\xfe\xfa", "email": "\xc3\x28"}', "application/json", 400),
        (b"[" * 100_000, "application/json", 400),
        (b"product=hammer&quantity=1", "application/x-www-form-urlencoded", 415),
        (b"product=hammer", "text/plain", 415),
        (b"<cart><product>hammer</product></cart>", "application/xml", 415),
    ],
    ids=["truncated", "invalid-utf8", "nested", "form", "text", "xml"],
)
def test_malformed_or_mistyped_bodies_are_json_errors_never_500(path, body, content_type, status, client_for):
    user = UserFactory()
    client = client_for(user) if "cart" in path else APIClient()
    before = database_state()

    response = client.generic("POST", path, body, content_type=content_type)

    _assert_json_error(response, status)
    assert database_state() == before


def test_a_malformed_content_length_is_400():
    response = APIClient().generic(
        "POST", f"{API}/auth/token/", b"{}", content_type="application/json", CONTENT_LENGTH="12abc"
    )

    _assert_json_error(response, 400)


# --- 8. Resource exhaustion: cart lines, page sizes -------------------------------------------------


def _many_products(store: Store, category: Category, count: int) -> list[Product]:
    """``count`` products sold in one form (each with its one variant), written in bulk."""
    products = Product.objects.bulk_create(
        Product(
            store=store, category=category, name=f"Bulk {n}", slug=f"bulk-{n}", price="1.00", stock=5, status="active"
        )
        for n in range(count)
    )
    Variant.objects.bulk_create(
        Variant(product=product, store=store, sku=product.slug, price=product.price, stock=product.stock)
        for product in products
    )
    return products


def test_the_cart_holds_at_most_100_lines_and_the_101st_changes_nothing(client_for):
    world = build_world()
    products = _many_products(world.store, world.category, 101)
    cart = Cart.objects.create(user=world.users["other_buyer"])
    CartItem.objects.bulk_create(
        CartItem(cart=cart, product=product, variant=product.variants.get(), quantity=1) for product in products[:100]
    )
    client = client_for(world.users["other_buyer"])
    before = database_state()

    response = client.post(f"{API}/cart/items/", {"product": products[100].slug, "quantity": 1})

    assert response.status_code == 400
    assert "product" in response.json()
    assert database_state() == before


def test_a_100000_line_cart_in_one_body_is_413(client_for):
    client = client_for(UserFactory())
    body = json.dumps([{"product": f"bulk-{n}", "quantity": 99} for n in range(100_000)])

    response = client.generic("POST", f"{API}/cart/items/", body, content_type="application/json")

    _assert_json_error(response, 413)
    assert not CartItem.objects.exists()


@pytest.fixture
def big_catalog(db):
    """A seller with 101 active products: one more than the largest page."""
    world = build_world()
    _many_products(world.store, world.category, 101)
    return world


@pytest.mark.parametrize("path", ["products/", "seller/products/", "stores/"])
def test_a_huge_page_size_is_capped_at_100(big_catalog, path, client_for):
    client = client_for(big_catalog.users["seller"])

    response = client.get(f"{API}/{path}?page_size=100000")

    assert response.status_code == 200
    assert len(response.json()["results"]) <= 100
    if path != "stores/":
        assert len(response.json()["results"]) == 100


@pytest.mark.parametrize(
    "path",
    ["products/", "seller/products/", "stores/", "orders/", "seller/orders/", "products/hammer/reviews/"],
)
@pytest.mark.parametrize(
    ("page", "status"),
    [("500", 404), ("99999999", "page_too_deep"), ("9" * 40, "page_too_deep"), ("0", 400), ("-1", 400), ("abc", 400)],
)
def test_a_page_out_of_range_is_404_and_a_malformed_one_400_json_not_500(big_catalog, path, page, status, client_for):
    """Past the last page: 404 (DRF's "Invalid page"); past the 10,000th row: 400 ``page_too_deep``;
    not a positive integer: 400 naming ``page``."""
    client = client_for(big_catalog.users["seller"])

    response = client.get(f"{API}/{path}?page={page}")

    if status == 404:
        _assert_json_error(response, 404)
    elif status == "page_too_deep":
        _assert_json_error(response, 400)
        assert response.json()["code"] == "page_too_deep"
    else:
        assert response.status_code == 400
        assert "page" in response.json()


# --- 9. Hostile image uploads ---------------------------------------------------------------------


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _png_claiming(width: int, height: int, pixels: bytes = b"\x00" * 64) -> bytes:
    """A PNG whose header says ``width`` x ``height`` 8-bit grey, with ``pixels`` as its data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(pixels))
        + _png_chunk(b"IEND", b"")
    )


def _decompression_bomb() -> bytes:
    """About 40 KB that would inflate to 42 million pixels (6,500 x 6,500 zero bytes)."""
    side = 6_500
    compressor = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", data) + _png_chunk(b"IEND", b"")


def _upload(client, data: bytes, name: str = "photo.png"):
    return client.post(f"{API}/products/hammer/images/", {"image": image_upload(data, name)}, format="multipart")


def test_an_image_with_appended_script_is_re_encoded_without_it(client_for):
    world = build_world()
    client = client_for(world.users["seller"])
    clean = png()
    polluted = (
        clean[:33]
        + _png_chunk(b"tEXt", b"Comment\x00<script>alert(1)</script>")
        + clean[33:]
        + b"<?php system($_GET['c']); ?><script>alert(2)</script>"
    )

    response = _upload(client, polluted)

    assert response.status_code == 201
    stored = ProductImage.objects.get(pk=response.json()["id"])
    with default_storage.open(stored.image.name, "rb") as file:
        content = file.read()
    assert b"<?php" not in content
    assert b"script" not in content
    assert Image.open(io.BytesIO(content)).size == (32, 24)


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (_png_claiming(10_001, 10_001), "huge.png"),
        (_png_claiming(1, 50_000_000), "tall.png"),
        (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "photo.png"),
        (b"<?php system($_GET['c']); ?>", "photo.php.png"),
        (b"GIF89a" + b"\x00" * 64, "photo.gif"),
    ],
    ids=["10001x10001-header", "1x50M-header", "svg-script", "php", "gif"],
)
def test_oversized_or_foreign_images_are_400_and_store_nothing(data, name, client_for):
    world = build_world()
    client = client_for(world.users["seller"])
    before = database_state()

    response = _upload(client, data, name)

    _assert_json_error(response, 400)
    assert "image" in response.json()
    assert database_state() == before


def test_a_decompression_bomb_is_400_before_decoding(client_for):
    world = build_world()
    client = client_for(world.users["seller"])
    bomb = _decompression_bomb()
    before = database_state()

    response = _upload(client, bomb)

    assert len(bomb) < 200_000
    _assert_json_error(response, 400)
    assert response.json() == {"image": ["The image has more than 40,000,000 pixels."]}
    assert database_state() == before
