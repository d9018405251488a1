from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import Product
from apps.catalog.tests.factories import ProductFactory
from apps.core.models import IdempotencyKey
from apps.orders.models import Order
from apps.orders.services import order_place
from apps.orders.tests.factories import ADDRESS, fill_cart, stock_set

pytestmark = pytest.mark.django_db


def checkout(client, key, body=None):
    return client.post(
        "/api/v1/checkout/", body or {"shipping_address": ADDRESS}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


def test_replay_returns_the_first_answer_and_makes_no_second_order(buyer, buyer_client):
    product = ProductFactory(stock=5)
    fill_cart(buyer, (product, 2))
    first = checkout(buyer_client, "k-1")
    fill_cart(buyer, (product, 1))  # the cart changes; the replay must not check it out

    again = checkout(buyer_client, "k-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Order.objects.count() == 1
    assert Product.objects.get(pk=product.pk).stock == 3


def test_same_key_with_another_body_is_a_conflict(buyer, buyer_client):
    fill_cart(buyer, (ProductFactory(), 1))
    assert checkout(buyer_client, "k-2").status_code == 201

    response = checkout(buyer_client, "k-2", {"shipping_address": {**ADDRESS, "city": "Elsewhere"}})

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_conflict"
    assert Order.objects.count() == 1


def test_keys_belong_to_one_user(buyer, buyer_client, client_for):
    other = UserFactory()
    fill_cart(buyer, (ProductFactory(), 1))
    fill_cart(other, (ProductFactory(), 1))
    assert checkout(buyer_client, "shared").status_code == 201
    assert checkout(client_for(other), "shared").status_code == 201
    assert Order.objects.count() == 2


def test_a_key_over_255_characters_is_refused(buyer, buyer_client):
    fill_cart(buyer, (ProductFactory(), 1))
    response = checkout(buyer_client, "k" * 256)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert not Order.objects.exists()
    assert checkout(buyer_client, "k" * 255).status_code == 201


def test_a_rejected_body_does_not_burn_the_key(buyer, buyer_client):
    fill_cart(buyer, (ProductFactory(), 1))
    assert checkout(buyer_client, "k-3", {"shipping_address": {"city": "x"}}).status_code == 400
    assert checkout(buyer_client, "k-3").status_code == 201


def test_conflicts_with_state_are_replayed_too(buyer, buyer_client):
    assert checkout(buyer_client, "k-4").status_code == 400  # empty cart: bad input, not stored
    product = ProductFactory(stock=1)
    fill_cart(buyer, (product, 1))
    stock_set(product, 0)
    first = checkout(buyer_client, "k-5")
    stock_set(product, 5)

    again = checkout(buyer_client, "k-5")

    assert first.status_code == again.status_code == 409
    assert again["Idempotent-Replayed"] == "true"
    assert not Order.objects.exists()


def test_keys_expire_after_a_day(buyer, buyer_client):
    fill_cart(buyer, (ProductFactory(), 1))
    assert checkout(buyer_client, "k-6").status_code == 201
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    Order.objects.update(idempotency_key="")  # the old order no longer answers for the key
    fill_cart(buyer, (ProductFactory(), 1))

    response = checkout(buyer_client, "k-6")

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Order.objects.count() == 2


def test_a_retry_after_a_crash_finds_the_order_the_first_attempt_made(buyer, buyer_client):
    """The first request committed its order but died before answering (no stored response)."""
    fill_cart(buyer, (ProductFactory(), 1))
    made = order_place(buyer=buyer, shipping_address=ADDRESS, idempotency_key="k-7")

    response = checkout(buyer_client, "k-7")

    assert response.status_code == 201
    assert response.json()["number"] == made.number
    assert Order.objects.count() == 1


def test_pay_replays_a_decline(buyer, buyer_client):
    fill_cart(buyer, (ProductFactory(), 1))
    number = checkout(buyer_client, "k-8").json()["number"]
    url = f"/api/v1/orders/{number}/pay/"

    first = buyer_client.post(url, {"payment_method": "pm_card_chargeDeclined"}, HTTP_IDEMPOTENCY_KEY="pay-1")
    again = buyer_client.post(url, {"payment_method": "pm_card_chargeDeclined"}, HTTP_IDEMPOTENCY_KEY="pay-1")

    assert first.status_code == again.status_code == 402
    assert first.json() == again.json() == {"detail": "Your card was declined.", "code": "card_declined"}
    assert again["Idempotent-Replayed"] == "true"
    assert buyer_client.post(url, {"payment_method": "pm_card_visa"}, HTTP_IDEMPOTENCY_KEY="pay-2").status_code == 200


@pytest.mark.parametrize("key", ["clé", "k\x7f", "   ", "k\t1"])
def test_a_key_that_is_not_printable_ascii_is_refused(buyer, buyer_client, key):
    fill_cart(buyer, (ProductFactory(), 1))
    response = checkout(buyer_client, key)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert not Order.objects.exists()
