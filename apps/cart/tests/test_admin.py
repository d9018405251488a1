"""The Django admin shows carts with their lines' variants."""

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.cart.models import Cart
from apps.cart.services import cart_item_add
from apps.catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_a_cart_with_its_variant_lines_renders(admin_client, buyer):
    cart_item_add(user=buyer, product_slug=ProductFactory(slug="mug").slug, quantity=1)
    cart = Cart.objects.get(user=buyer)

    assert admin_client.get("/admin/cart/cart/").status_code == 200
    assert admin_client.get(f"/admin/cart/cart/{cart.pk}/change/").status_code == 200
