"""Statements stay under PostgreSQL's 65,535 parameters with server-side binding
(apps/core/postgresql/base.py): Django's PostgreSQL backend does not batch below it."""

import pytest
from django.db import connection

from apps.accounts.tests.factories import StoreFactory
from apps.catalog.models import Category, Product
from apps.catalog.tests.factories import ProductFactory
from apps.core.postgresql.base import MAX_PARAMETERS

pytestmark = pytest.mark.postgres


def _columns(model) -> list:
    return [field for field in model._meta.concrete_fields if not field.primary_key]


@pytest.mark.django_db
def test_batches_are_sized_by_the_parameter_limit_when_values_are_bound_on_the_server():
    assert connection.features.uses_server_side_binding  # DATABASE_PREPARED_STATEMENTS' default
    assert connection.features.max_query_params == MAX_PARAMETERS == 65535
    columns = _columns(Product)
    rows = [Product() for _ in range(10_000)]

    assert connection.ops.bulk_batch_size(columns, rows) == 65535 // len(columns)
    # The deletion collector's batches of primary keys, one parameter each.
    assert connection.ops.bulk_batch_size([Product._meta.pk], rows) == 65535


@pytest.mark.django_db
def test_a_bulk_create_of_more_values_than_one_statement_takes_succeeds():
    template = ProductFactory(store=StoreFactory())
    columns = len(_columns(Product))
    count = MAX_PARAMETERS // columns + 10  # one statement would need more than 65,535 parameters
    assert count * columns > MAX_PARAMETERS

    Product.objects.bulk_create(
        Product(
            store_id=template.store_id,
            category=Category.objects.get(pk=template.category_id),
            name=f"Bulk {number}",
            slug=f"bulk-{number}",
            price=template.price,
            status=Product.Status.ACTIVE,
        )
        for number in range(count)
    )

    assert Product.objects.filter(slug__startswith="bulk-").count() == count
    ids = list(Product.objects.values_list("pk", flat=True))
    assert len(Product.objects.in_bulk(ids * 16)) == count + 1  # 70,000 ids: in_bulk batches them too
