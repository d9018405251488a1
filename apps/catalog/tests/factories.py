from decimal import Decimal

import factory

from apps.accounts.tests.factories import StoreFactory
from apps.catalog.models import Category, Product


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
    class Meta:
        model = Product

    store = factory.SubFactory(StoreFactory)
    category = factory.SubFactory(CategoryFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    description = "A useful thing."
    price = Decimal("19.99")
    stock = 10
    status = Product.Status.ACTIVE
