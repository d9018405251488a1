"""The buyer's journey, driven by the Python client generated from the OpenAPI schema (.ci/client).

Usage: python .ci/client_journey.py BASE_URL (the generated package ``bazaar_client`` importable).
Every step goes through the generated functions and models, typed as the schema says; a step that
answers anything else (status or shape) stops the journey with exit status 1. The payment steps use
the simulated provider's Stripe test-card semantics: a declined card, then a card that pays.
"""

from __future__ import annotations

import secrets
import sys
from decimal import Decimal

from bazaar_client import AuthenticatedClient, Client
from bazaar_client.api.auth import auth_register_create, auth_token_create
from bazaar_client.api.cart import cart_items_create, cart_retrieve, cart_shipping_options_list
from bazaar_client.api.checkout import checkout_create
from bazaar_client.api.orders import orders_list, orders_pay_create, orders_retrieve
from bazaar_client.api.products import products_list, products_retrieve
from bazaar_client.models import (
    CartItemAddInputRequest,
    CartOutput,
    CheckoutToAddressInputRequest,
    CheckoutToAddressInputRequestShippingRates,
    Error,
    LoginInputRequest,
    OrderDetailOutput,
    OrderStatusEnum,
    PaginatedOrderOutputList,
    PaginatedProductListOutputList,
    PayInputRequest,
    PaymentStatusEnum,
    ProductDetailOutput,
    ProductsListInStock,
    RegisterInputRequest,
    ShippingAddressRequest,
    TokenPairOutput,
    UserOutput,
)
from bazaar_client.types import Response

COUNTRY = "US"


class JourneyError(Exception):
    pass


def step(name: str) -> None:
    print(f"client: {name}", flush=True)


def expect(response: Response, status: int, model: type):
    """The parsed body of a response with this status, of the model the schema names for it."""
    if response.status_code != status or not isinstance(response.parsed, model):
        body = response.content.decode(errors="replace")[:500]
        raise JourneyError(f"expected {status} {model.__name__}, got {response.status_code}: {body}")
    return response.parsed


def journey(base_url: str) -> None:
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
    email = f"journey-{secrets.token_hex(6)}@example.com"
    password = f"Journey-{secrets.token_urlsafe(12)}"

    step(f"register {email}")
    user = expect(
        auth_register_create.sync_detailed(
            client=anonymous, body=RegisterInputRequest(email=email, password=password, first_name="Jo")
        ),
        201,
        UserOutput,
    )
    assert user.email == email
    assert not user.is_seller

    step("get a token pair")
    tokens = expect(
        auth_token_create.sync_detailed(client=anonymous, body=LoginInputRequest(email=email, password=password)),
        200,
        TokenPairOutput,
    )
    buyer = AuthenticatedClient(base_url=base_url, token=tokens.access, raise_on_unexpected_status=True)

    step("find a product sold in variants (options), in stock")
    page = expect(
        products_list.sync_detailed(client=buyer, in_stock=ProductsListInStock.TRUE, page_size=50),
        200,
        PaginatedProductListOutputList,
    )
    product, variant = None, None
    for summary in page.results:
        detail = expect(products_retrieve.sync_detailed(client=buyer, slug=summary.slug), 200, ProductDetailOutput)
        in_stock = [v for v in detail.variants if v.is_active and v.in_stock and v.options.additional_properties]
        if in_stock:
            product, variant = detail, in_stock[0]
            break
    if product is None:
        raise JourneyError("no product with in-stock variants on the first page (is the demo seeded?)")
    print(f"client:   {product.slug}, variant {variant.sku} {variant.options.additional_properties} at {variant.price}")

    step("add it to the cart")
    cart = expect(
        cart_items_create.sync_detailed(
            client=buyer, body=CartItemAddInputRequest(product=product.slug, variant=variant.sku, quantity=2)
        ),
        201,
        CartOutput,
    )
    assert cart.item_count == 2, cart
    assert cart.items[0].variant.sku == variant.sku
    assert Decimal(cart.subtotal) == 2 * Decimal(variant.price), cart.subtotal

    step(f"list shipping options to {COUNTRY}")
    stores = cart_shipping_options_list.sync_detailed(client=buyer, country=COUNTRY)
    if stores.status_code != 200 or not isinstance(stores.parsed, list):
        raise JourneyError(f"shipping options: {stores.status_code} {stores.content[:300]!r}")
    rates = CheckoutToAddressInputRequestShippingRates()
    for store in stores.parsed:
        if not store.options:
            raise JourneyError(f"store {store.store.slug} does not ship to {COUNTRY}")
        option = store.options[-1]  # the dearest: not the default, so the choice must arrive
        print(f"client:   {store.store.slug}: {option.name} at {option.price}")
        rates[store.store.slug] = option.id
    chosen = {store.store.slug: Decimal(store.options[-1].price) for store in stores.parsed}

    step("check out to an address, paying later")
    order = expect(
        checkout_create.sync_detailed(
            client=buyer,
            idempotency_key=f"journey-{secrets.token_hex(8)}",
            body=CheckoutToAddressInputRequest(
                shipping_address=ShippingAddressRequest(
                    full_name="Jo Journey", line1="1 Main St", city="Springfield", postal_code="12345", country="us"
                ),
                shipping_rates=rates,
            ),
        ),
        201,
        OrderDetailOutput,
    )
    print(f"client:   order {order.number}: {order.status} total {order.total} {order.currency}")
    assert order.status == OrderStatusEnum.PENDING_PAYMENT, order.status
    assert order.shipping_address.country == COUNTRY
    assert Decimal(order.shipping) == sum(chosen.values()), (order.shipping, chosen)
    assert Decimal(order.total) == Decimal(order.subtotal) + Decimal(order.shipping)
    assert expect(cart_retrieve.sync_detailed(client=buyer), 200, CartOutput).item_count == 0

    step("pay with a card that is declined (pm_card_chargeDeclined): 402")
    declined = expect(
        orders_pay_create.sync_detailed(
            client=buyer, number=order.number, body=PayInputRequest(payment_method="pm_card_chargeDeclined")
        ),
        402,
        Error,
    )
    print(f"client:   {declined.code}: {declined.detail}")

    step("pay with a test card that pays (4242 4242 4242 4242)")
    paid = expect(
        orders_pay_create.sync_detailed(
            client=buyer,
            number=order.number,
            idempotency_key=f"journey-{secrets.token_hex(8)}",
            body=PayInputRequest(payment_method="4242424242424242"),
        ),
        200,
        OrderDetailOutput,
    )
    assert paid.status == OrderStatusEnum.PAID, paid.status
    assert paid.payment.status == PaymentStatusEnum.SUCCEEDED, paid.payment

    step("order detail")
    detail = expect(orders_retrieve.sync_detailed(client=buyer, number=order.number), 200, OrderDetailOutput)
    assert detail.status == OrderStatusEnum.PAID
    assert [line.variant_sku for line in detail.items] == [variant.sku]
    assert [(event.from_, event.to) for event in detail.events][-1] == ("pending_payment", "paid"), detail.events
    print(f"client:   {detail.number} {detail.status}, payment {detail.payment.status} {detail.payment.amount}")

    step("the order is in the buyer's list")
    orders = expect(orders_list.sync_detailed(client=buyer), 200, PaginatedOrderOutputList)
    assert [o.number for o in orders.results] == [order.number]


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: client_journey.py BASE_URL", file=sys.stderr)
        return 2
    try:
        journey(sys.argv[1])
    except (JourneyError, AssertionError) as error:
        print(f"client: FAILED: {error!r}", file=sys.stderr)
        return 1
    print("client: the buyer's journey passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
