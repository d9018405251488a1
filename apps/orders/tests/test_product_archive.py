import pytest

from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import Product
from apps.catalog.tests.factories import ProductFactory
from apps.orders.models import OrderLine
from apps.orders.services import order_place
from apps.orders.tests.factories import ADDRESS, fill_cart

pytestmark = pytest.mark.django_db


def test_deleting_an_ordered_product_archives_it_and_orders_keep_their_lines(client_for):
    product, untouched = ProductFactory(), ProductFactory()
    buyer = UserFactory()
    fill_cart(buyer, (product, 1))
    order = order_place(buyer=buyer, shipping_address=ADDRESS)
    seller = client_for(product.store.owner)

    assert seller.delete(f"/api/v1/products/{product.slug}/").status_code == 204
    assert client_for(untouched.store.owner).delete(f"/api/v1/products/{untouched.slug}/").status_code == 204

    assert Product.objects.get(pk=product.pk).status == Product.Status.ARCHIVED
    assert not Product.objects.filter(pk=untouched.pk).exists()
    assert OrderLine.objects.get(order=order).product_id == product.pk
    assert client_for(buyer).get(f"/api/v1/products/{product.slug}/").status_code == 404
    detail = client_for(buyer).get(f"/api/v1/orders/{order.number}/").json()
    assert detail["items"][0]["product_slug"] == product.slug
