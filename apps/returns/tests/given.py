"""Helpers for returns tests: a paid order placed and shipped through the real API."""

from __future__ import annotations

from dataclasses import dataclass

from apps.accounts.models import User
from apps.orders.tests.factories import ADDRESS, fill_cart


@dataclass
class Delivered:
    number: str
    mug_line: int  # 3 mugs at 10.00, from the first store
    book_line: int  # 1 book at 5.00, from the second store
    seller: User  # the mugs' seller
    other_seller: User  # the book's seller


def place_paid(client, buyer, *pairs) -> str:
    fill_cart(buyer, *pairs)
    response = client.post(
        "/api/v1/checkout/", {"shipping_address": ADDRESS, "payment_method": "pm_card_visa"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "paid"
    return response.json()["number"]


def ship(client_for, seller, number: str) -> None:
    assert client_for(seller).post(f"/api/v1/seller/orders/{number}/ship/", {}, format="json").status_code == 200
