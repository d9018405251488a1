from decimal import Decimal

import factory

from apps.accounts.tests.factories import StoreFactory
from apps.catalog.models import Category, Product, Variant, options_key
from apps.catalog.stock import products_refresh


class CategoryFactory(factory.django.DjangoModelFactory):
    """A root category, or a child of ``parent``: placed through treebeard, which owns the path."""

    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    parent = None

    @classmethod
    def _create(cls, model_class, parent=None, **fields):
        if parent is None:
            return model_class.objects.add_root(create_kwargs=fields)
        return model_class.objects.add_child(parent, create_kwargs=fields)


class ProductFactory(factory.django.DjangoModelFactory):
    """An active product sold in one form: one variant without options holding ``price`` and
    ``stock`` (sku: the slug), as round 1's products are."""

    class Meta:
        model = Product
        skip_postgeneration_save = True

    store = factory.SubFactory(StoreFactory)
    category = factory.SubFactory(CategoryFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    description = "A useful thing."
    price = Decimal("19.99")
    stock = 10
    status = Product.Status.ACTIVE

    @factory.post_generation
    def default_variant(product, create, extracted, **kwargs):
        if create and extracted is not False:
            Variant.objects.create(
                product=product, store=product.store, sku=product.slug[:64], price=product.price, stock=product.stock
            )


class VariantFactory(factory.django.DjangoModelFactory):
    """A variant of ``product`` (made with ``ProductFactory(default_variant=False)`` and ``options``
    when it has options); the caller refreshes the product's derived columns
    (apps.catalog.stock.products_refresh) when it needs them."""

    class Meta:
        model = Variant

    product = factory.SubFactory(ProductFactory, default_variant=False)
    store = factory.SelfAttribute("product.store")
    sku = factory.Sequence(lambda n: f"SKU-{n}")
    options = factory.LazyFunction(dict)
    options_key = factory.LazyAttribute(lambda v: options_key(v.options))
    price = Decimal("19.99")
    stock = 10


def variants_set(*products: Product, **fields) -> None:
    """Set ``fields`` (price, stock, ...) on the variants of ``products`` (their one variant, for
    products sold in one form) and refresh the products' derived price and stock, as every
    writer of variants does."""
    Variant.objects.filter(product__in=products).update(**fields)
    products_refresh(product_ids=[product.pk for product in products])
