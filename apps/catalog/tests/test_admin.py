import json
from decimal import Decimal

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.catalog import services
from apps.catalog.models import Category, Product, Variant, options_key
from apps.catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/admin/catalog/category/",
        "/admin/catalog/category/add/",
        "/admin/catalog/product/",
        "/admin/catalog/product/add/",
    ],
)
def test_staff_manage_the_catalog_in_the_admin(admin_client, product, path):
    assert admin_client.get(path).status_code == 200
    assert admin_client.get(f"/admin/catalog/product/{product.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/catalog/category/{product.category_id}/change/").status_code == 200


def test_staff_add_a_child_category_in_the_admin(admin_client, tree):
    response = admin_client.post(
        "/admin/catalog/category/add/",
        {
            "name": "Saws",
            "slug": "saws",
            "treebeard_position": "sorted-child",
            "treebeard_ref_node": tree["hand-tools"].pk,
        },
    )

    assert response.status_code == 302
    saws = Category.objects.get(slug="saws")
    assert Category.objects.get_parent(saws).slug == "hand-tools"


def _product_form(product, variants: list[dict], **changes) -> dict:
    """The change form's POST: the product's fields, its variants inline, no image forms."""
    data = {
        "store": product.store_id,
        "category": product.category_id,
        "name": product.name,
        "description": product.description,
        "options": json.dumps(product.options),
        "status": product.status,
        "variants-TOTAL_FORMS": len(variants),
        "variants-INITIAL_FORMS": sum(1 for variant in variants if variant.get("id")),
        "variants-MIN_NUM_FORMS": 1,
        "variants-MAX_NUM_FORMS": 1000,
        "images-TOTAL_FORMS": 0,
        "images-INITIAL_FORMS": 0,
        "images-MIN_NUM_FORMS": 0,
        "images-MAX_NUM_FORMS": 1000,
        **changes,
    }
    for number, variant in enumerate(variants):
        fields = {"is_active": "on", "stock": 0, **variant, "product": product.pk}
        if fields.get("options") is not None:
            fields["options"] = json.dumps(fields["options"])
        if fields["is_active"] is False:
            del fields["is_active"]
        data.update({f"variants-{number}-{name}": value for name, value in fields.items() if value is not None})
    return data


@pytest.fixture
def mug_in_colours(store, tree):
    return services.product_create(
        store=store,
        name="Mug",
        category=tree["kitchen"],
        status="active",
        options=[{"name": "Colour", "values": ["Red", "Blue", "Green"]}],
        variants=[
            {"options": {"Colour": "Red"}, "price": Decimal("8.00"), "stock": 3},
            {"options": {"Colour": "Blue"}, "price": Decimal("9.00"), "stock": 4},
        ],
    )


def _existing(product) -> list[dict]:
    return [
        {"id": v.pk, "sku": v.sku, "options": v.options, "price": v.price, "stock": v.stock}
        for v in product.variants.order_by("id")
    ]


def test_saving_variants_in_the_admin_refreshes_the_product(admin_client, mug_in_colours):
    url = f"/admin/catalog/product/{mug_in_colours.pk}/change/"
    variants = [
        *_existing(mug_in_colours),
        {"sku": "MUG-G", "options": {"colour": "green"}, "price": "5.50", "stock": 2},
    ]

    response = admin_client.post(url, _product_form(mug_in_colours, variants))

    assert response.status_code == 302
    green = Variant.objects.get(sku="MUG-G")
    assert (green.options, green.options_key, green.store_id) == (
        {"Colour": "Green"},
        options_key({"Colour": "Green"}),
        mug_in_colours.store_id,
    )
    mug_in_colours.refresh_from_db()
    assert (mug_in_colours.price, mug_in_colours.stock) == (Decimal("5.50"), 9)


@pytest.mark.parametrize(
    "extra",
    [
        {"sku": "MUG-X", "options": {"Colour": "Purple"}, "price": "5.00"},  # not one of its values
        {"sku": "MUG-X", "options": {}, "price": "5.00"},  # an option missing
        {"sku": "MUG-X", "options": {"colour": "RED"}, "price": "5.00"},  # a taken combination
        {"sku": "other-product", "options": {"Colour": "Green"}, "price": "5.00"},  # sku of another product
        {"sku": "bad sku", "options": {"Colour": "Green"}, "price": "5.00"},
    ],
)
def test_the_admin_keeps_the_variant_rules(admin_client, mug_in_colours, extra):
    ProductFactory(store=mug_in_colours.store, slug="other-product")
    url = f"/admin/catalog/product/{mug_in_colours.pk}/change/"

    response = admin_client.post(url, _product_form(mug_in_colours, [*_existing(mug_in_colours), extra]))

    assert response.status_code == 200  # the form again, with the errors
    assert mug_in_colours.variants.count() == 2


def test_the_admin_keeps_one_active_variant(admin_client, mug_in_colours):
    url = f"/admin/catalog/product/{mug_in_colours.pk}/change/"
    variants = [{**variant, "is_active": False} for variant in _existing(mug_in_colours)]

    response = admin_client.post(url, _product_form(mug_in_colours, variants))

    assert response.status_code == 200
    assert mug_in_colours.variants.filter(is_active=True).count() == 2


def test_price_and_stock_are_read_only_in_the_admin(admin_client, mug_in_colours):
    url = f"/admin/catalog/product/{mug_in_colours.pk}/change/"

    response = admin_client.post(url, _product_form(mug_in_colours, _existing(mug_in_colours), price="1.00", stock=99))

    assert response.status_code == 302
    mug_in_colours.refresh_from_db()
    assert (mug_in_colours.price, mug_in_colours.stock) == (Decimal("8.00"), 7)


def test_staff_add_a_product_with_its_variants_in_the_admin(admin_client, store, tree):
    data = {
        "store": store.pk,
        "category": tree["kitchen"].pk,
        "name": "Tea Cup",
        "description": "",
        "options": json.dumps([{"name": "Colour", "values": ["White", "Black"]}]),
        "status": "active",
        "variants-TOTAL_FORMS": 2,
        "variants-INITIAL_FORMS": 0,
        "variants-MIN_NUM_FORMS": 1,
        "variants-MAX_NUM_FORMS": 1000,
        "images-TOTAL_FORMS": 0,
        "images-INITIAL_FORMS": 0,
        "images-MIN_NUM_FORMS": 0,
        "images-MAX_NUM_FORMS": 1000,
    }
    for number, (colour, price, stock) in enumerate([("White", "6.00", 2), ("black", "7.00", 3)]):
        data.update(
            {
                f"variants-{number}-sku": f"CUP-{number}",
                f"variants-{number}-options": json.dumps({"colour": colour}),
                f"variants-{number}-price": price,
                f"variants-{number}-stock": stock,
                f"variants-{number}-is_active": "on",
            }
        )

    response = admin_client.post("/admin/catalog/product/add/", data)

    assert response.status_code == 302
    cup = Product.objects.get(name="Tea Cup")
    assert (cup.slug, cup.price, cup.stock) == ("tea-cup", Decimal("6.00"), 5)
    assert sorted(cup.variants.values_list("options__Colour", flat=True)) == ["Black", "White"]
