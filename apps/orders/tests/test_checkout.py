from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.tests.factories import AddressFactory, StoreFactory, UserFactory
from apps.cart.models import CartItem
from apps.catalog.exceptions import OutOfStock
from apps.catalog.models import Product
from apps.catalog.tests.factories import ProductFactory
from apps.orders.exceptions import EmptyCart
from apps.orders.models import NUMBER_ALPHABET, Order, OrderLine
from apps.orders.services import order_place, order_place_once
from apps.orders.tests.factories import ADDRESS, fill_cart, stock_set
from apps.payments.models import Payment

pytestmark = pytest.mark.django_db


def test_out_of_stock_changes_nothing(buyer):
    plenty, scarce = ProductFactory(stock=5), ProductFactory(stock=3)
    fill_cart(buyer, (plenty, 1), (scarce, 2))
    stock_set(scarce, 1)  # sold elsewhere since it was added

    with pytest.raises(OutOfStock) as raised:
        order_place(buyer=buyer, shipping_address=ADDRESS)

    assert raised.value.extra == {
        "products": [{"product": scarce.slug, "variant": scarce.slug, "requested": 2, "available": 1}]
    }
    assert Product.objects.get(pk=plenty.pk).stock == 5
    assert Product.objects.get(pk=scarce.pk).stock == 1
    assert not Order.objects.exists()
    assert CartItem.objects.filter(cart__user=buyer).count() == 2


def test_insufficient_stock_through_the_api_lists_every_short_line(buyer, buyer_client):
    first, second, fine = ProductFactory(stock=4), ProductFactory(stock=4), ProductFactory(stock=4)
    fill_cart(buyer, (first, 3), (second, 4), (fine, 1))
    stock_set(first, 2)
    Product.objects.filter(pk=second.pk).update(status=Product.Status.ARCHIVED)

    response = buyer_client.post("/api/v1/checkout/", {"shipping_address": ADDRESS})

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "insufficient_stock"
    assert sorted(body["products"], key=lambda p: p["product"]) == sorted(
        [
            {"product": first.slug, "variant": first.slug, "requested": 3, "available": 2},
            {"product": second.slug, "variant": second.slug, "requested": 4, "available": 0},
        ],
        key=lambda p: p["product"],
    )
    assert Product.objects.get(pk=fine.pk).stock == 4
    assert not Order.objects.exists()


def test_empty_cart_is_400(buyer, buyer_client):
    with pytest.raises(EmptyCart):
        order_place(buyer=buyer, shipping_address=ADDRESS)
    response = buyer_client.post("/api/v1/checkout/", {"shipping_address": ADDRESS})
    assert response.status_code == 400
    assert response.json()["code"] == "empty_cart"


def test_client_prices_and_totals_are_ignored(buyer, buyer_client):
    product = ProductFactory(price=Decimal("10.00"), stock=3)
    fill_cart(buyer, (product, 2))

    response = buyer_client.post(
        "/api/v1/checkout/",
        {
            "shipping_address": ADDRESS,
            "total": "0.01",
            "subtotal": "0.01",
            "items": [{"product": product.slug, "unit_price": "0.01", "quantity": 2}],
            "price": "0.01",
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["total"] == "20.00"
    assert body["items"][0]["unit_price"] == "10.00"
    assert Order.objects.get().total == Decimal("20.00")


def test_lines_snapshot_name_price_and_store(buyer, buyer_client):
    product = ProductFactory(name="Old name", price=Decimal("7.25"))
    store_name = product.store.name
    fill_cart(buyer, (product, 1))
    number = buyer_client.post("/api/v1/checkout/", {"shipping_address": ADDRESS}).json()["number"]

    Product.objects.filter(pk=product.pk).update(name="New name", price=Decimal("99.00"))
    product.store.name = "Renamed store"
    product.store.save()

    item = buyer_client.get(f"/api/v1/orders/{number}/").json()["items"][0]
    assert (item["product_name"], item["unit_price"], item["store"]["name"]) == ("Old name", "7.25", store_name)


def test_shipping_from_own_address_is_snapshotted(buyer, buyer_client):
    address = AddressFactory(user=buyer, city="Berlin", country="DE")
    fill_cart(buyer, (ProductFactory(), 1))

    response = buyer_client.post("/api/v1/checkout/", {"address_id": address.pk})

    assert response.status_code == 201
    assert response.json()["shipping_address"]["city"] == "Berlin"
    address.city = "Hamburg"
    address.save()
    assert Order.objects.get().shipping_address["city"] == "Berlin"


def test_another_users_address_is_404_and_nothing_changes(buyer, buyer_client):
    product = ProductFactory(stock=2)
    fill_cart(buyer, (product, 1))
    stranger_address = AddressFactory()

    response = buyer_client.post("/api/v1/checkout/", {"address_id": stranger_address.pk})

    assert response.status_code == 404
    assert Product.objects.get(pk=product.pk).stock == 2
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "body",
    [{}, {"shipping_address": ADDRESS, "address_id": 1}, {"shipping_address": {**ADDRESS, "country": "XX"}}],
)
def test_address_is_required_exactly_once_and_valid(buyer, body, buyer_client):
    fill_cart(buyer, (ProductFactory(), 1))
    response = buyer_client.post("/api/v1/checkout/", body, format="json")
    assert response.status_code == 400
    assert not Order.objects.exists()


def test_decline_at_checkout_still_creates_a_payable_order(buyer, buyer_client):
    product = ProductFactory(stock=2)
    fill_cart(buyer, (product, 1))

    response = buyer_client.post(
        "/api/v1/checkout/", {"shipping_address": ADDRESS, "payment_method": "pm_card_chargeDeclined"}
    )

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending_payment"
    assert body["payment"]["status"] == "failed"
    assert body["payment"]["failure_code"] == "card_declined"
    assert Product.objects.get(pk=product.pk).stock == 1

    paid = buyer_client.post(f"/api/v1/orders/{body['number']}/pay/", {"payment_method": "pm_card_visa"})
    assert paid.status_code == 200
    assert paid.json()["status"] == "paid"
    assert paid.json()["payment"]["status"] == "succeeded"


def test_unknown_payment_method_at_checkout_is_400_before_anything_changes(buyer, buyer_client):
    product = ProductFactory(stock=2)
    fill_cart(buyer, (product, 1))
    response = buyer_client.post("/api/v1/checkout/", {"shipping_address": ADDRESS, "payment_method": "pm_card_bogus"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_payment_method"
    assert not Order.objects.exists()
    assert Product.objects.get(pk=product.pk).stock == 2


def test_checkout_without_method_starts_a_pending_payment(buyer, buyer_client):
    fill_cart(buyer, (ProductFactory(price=Decimal("3.00")), 2))
    body = buyer_client.post("/api/v1/checkout/", {"shipping_address": ADDRESS}).json()
    assert body["payment"] == {
        "provider": "simulated",
        "status": "pending",
        "amount": "6.00",
        "failure_code": "",
        "client_secret": None,
    }


def test_a_crash_after_taking_stock_leaves_everything_as_it_was(buyer):
    product = ProductFactory(stock=5)
    fill_cart(buyer, (product, 2))

    with (
        mock.patch.object(OrderLine.objects, "bulk_create", side_effect=RuntimeError("power cut")),
        pytest.raises(RuntimeError),
    ):
        order_place(buyer=buyer, shipping_address=ADDRESS)

    assert Product.objects.get(pk=product.pk).stock == 5
    assert CartItem.objects.filter(cart__user=buyer).count() == 1
    assert not Order.objects.exists()


def test_order_numbers_are_random_not_sequential(buyer):
    numbers = []
    for _ in range(3):
        fill_cart(buyer, (ProductFactory(), 1))
        numbers.append(order_place(buyer=buyer, shipping_address=ADDRESS).number)
    assert len(set(numbers)) == 3
    assert all(len(n) == 12 and set(n) <= set(NUMBER_ALPHABET) for n in numbers)


def _cart_from_stores(buyer, *, lines: int, stores: int) -> None:
    shops = StoreFactory.create_batch(stores)
    fill_cart(buyer, *[(ProductFactory(store=shops[index % stores]), 1) for index in range(lines)])


def _checkout_queries(client_for, buyer, *, lines: int, stores: int, key: str | None = None) -> int:
    _cart_from_stores(buyer, lines=lines, stores=stores)
    client = client_for(buyer)
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            "/api/v1/checkout/",
            {"shipping_address": ADDRESS, "payment_method": "pm_card_visa"},
            format="json",
            **headers,
        )
    assert response.status_code == 201
    assert response.json()["status"] == "paid"
    return len(queries)


def test_placing_ten_lines_from_three_stores_costs_14_statements(buyer):
    """The key's holder looked up (none), then in one transaction (a savepoint here, inside the
    test's): the cart locked, its items, the variants locked, the shipping rates, ONE stock update,
    ONE products refresh, the order, store orders and lines in bulk, the cart emptied, the event:
    14 on SQLite and on PostgreSQL (issue 14: at most 20; 16 before it)."""
    _cart_from_stores(buyer, lines=10, stores=3)

    with CaptureQueriesContext(connection) as queries:
        placed = order_place_once(buyer=buyer, shipping_address=ADDRESS, idempotency_key="k-1", request_hash="h")

    assert len(queries) == 14
    assert placed.order.lines.count() == 10
    assert placed.order.store_orders.count() == 3


# The whole POST /checkout/ paying at once, as counted inside a test's transaction (each of the
# request's transactions is a savepoint pair here; the mails, rendered after commit, are not run).
# 36 on SQLite and PostgreSQL, whatever the lines and stores (54-60 before issue 14):
#  1 the user (JWT);
# 14 placing (savepoint, cart locked, items, variants locked, shipping rates, ONE stock update, ONE
#    products refresh, order, store orders, lines, cart emptied, event, the payment attempt opened,
#    release);
#  3 the provider's start (simulated: savepoint, insert, release; in production the insert alone);
#  1 its answer recorded (one conditional UPDATE, no lock);
#  2 the provider's confirm (simulated: a conditional UPDATE, the row);
# 10 the success stored and applied in one transaction (savepoint, order locked, payment locked,
#    the paid event, the order, store orders for the sale, the payment, ledger keys checked, capture
#    and sale entries in one insert, release);
#  5 the answer (order, lines, store orders, payments, events).
CHECKOUT_STATEMENTS = 36
# With an Idempotency-Key: its claim (savepoint, insert, release), the order holding it looked up
# (none), the answer stored on the claim.
CHECKOUT_WITH_KEY_STATEMENTS = CHECKOUT_STATEMENTS + 5


def test_checkout_query_budget(client_for):
    """The whole POST /checkout/ with an immediate payment costs the same whatever the number of
    lines or stores: stock moves in one statement, store orders and lines are written in bulk,
    the payment attempt is opened in the placing transaction, and the provider's success is
    stored and applied to the order in one more (CHECKOUT_STATEMENTS)."""
    one = _checkout_queries(client_for, UserFactory(), lines=1, stores=1)
    ten = _checkout_queries(client_for, UserFactory(), lines=10, stores=3)
    assert (one, ten) == (CHECKOUT_STATEMENTS, CHECKOUT_STATEMENTS)
    assert Payment.objects.count() == 2


def test_checkout_with_an_idempotency_key_costs_five_more_statements(client_for):
    assert _checkout_queries(client_for, UserFactory(), lines=1, stores=1, key="k-1") == CHECKOUT_WITH_KEY_STATEMENTS


@pytest.mark.django_db(transaction=True)
def test_checkout_and_pay_commit_twice_in_32_statements(client_for, settings):
    """As in production (no surrounding test transaction): placing the order and opening its
    payment is one transaction, storing and applying the provider's success the other (8 before
    issue 14); the provider's start, the pending answer and the confirm run one statement each
    without one. 32 statements: the 36 above less the savepoint pairs (6), plus the paid order's
    mails read after commit (the order with its buyer, the lines), rendered inline without a broker."""
    settings.PAYMENT_PROVIDER = "simulated"
    buyer = UserFactory()
    _cart_from_stores(buyer, lines=3, stores=2)
    client = client_for(buyer)
    real_commit = connection.commit
    with (
        mock.patch.object(connection, "commit", side_effect=real_commit) as commits,
        CaptureQueriesContext(connection) as queries,
    ):
        response = client.post(
            "/api/v1/checkout/", {"shipping_address": ADDRESS, "payment_method": "pm_card_visa"}, format="json"
        )

    assert (response.status_code, response.json()["status"]) == (201, "paid")
    statements = [query["sql"] for query in queries.captured_queries if query["sql"] not in ("BEGIN", "COMMIT")]
    assert commits.call_count == 2
    assert len(statements) == 32  # Django logs each BEGIN and COMMIT too: 36 round trips in all
    assert not any(sql.startswith("SAVEPOINT") for sql in statements)


def test_a_product_whose_store_closed_cannot_be_checked_out(buyer):
    product = ProductFactory(stock=3)
    fill_cart(buyer, (product, 1))
    product.store.is_active = False
    product.store.save()

    with pytest.raises(OutOfStock) as raised:
        order_place(buyer=buyer, shipping_address=ADDRESS)

    assert raised.value.extra["products"] == [
        {"product": product.slug, "variant": product.slug, "requested": 1, "available": 0}
    ]
    assert Product.objects.get(pk=product.pk).stock == 3
