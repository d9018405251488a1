"""ORJSONRenderer writes exactly the bytes DRF's JSONRenderer writes, for the API's answers and for
every kind of value DRF's encoder knows."""

from __future__ import annotations

import datetime
import decimal
import ipaddress
import uuid
from collections import OrderedDict
from zoneinfo import ZoneInfo

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from apps.core.renderers import ORJSONRenderer

UTC = datetime.UTC
MOMENT = datetime.datetime(2026, 12, 1, 3, 55, 20, 948471, tzinfo=UTC)

ORDER_DETAIL = {
    "number": "BZ-2026-000123",
    "status": "paid",
    "currency": "EUR",
    "subtotal": "1234.50",
    "shipping": "0.00",
    "total": "1234.50",
    "paid_at": MOMENT,
    "created_at": MOMENT.replace(microsecond=0),
    "cancelled_at": None,
    "buyer_note": 'Bitte klingeln — Tür links. 日本語 😀 "quoted" back\\slash\n\ttab',
    "shipping_address": {"full_name": "Zoë Ångström", "line2": "", "country": "DE", "postal_code": None},
    "lines": [
        {
            "product": {"slug": "claw-hammer", "name": "Claw Hammer"},
            "quantity": 2,
            "unit_price": "12.50",
            "line_total": "25.00",
            "options": {"size": "M", "colour": "red"},
            "is_active": True,
        }
    ],
    "store_orders": [],
    "refund": {"amount": decimal.Decimal("12.50"), "reason": gettext_lazy("Not found.")},
}


def drf(data, media_type=None, context=None) -> bytes:
    return JSONRenderer().render(data, media_type, context)


def fast(data, media_type=None, context=None) -> bytes:
    return ORJSONRenderer().render(data, media_type, context)


@pytest.mark.parametrize(
    "data",
    [
        ORDER_DETAIL,
        ReturnDict(ORDER_DETAIL, serializer=None),
        ReturnList([ORDER_DETAIL, {"id": 1}], serializer=None),
        OrderedDict([("b", 1), ("a", [1, 2.5, None, True, False])]),
        {"count": 0, "next": None, "previous": None, "results": []},
        # datetimes as DRF's encoder writes them: Z for UTC, other offsets kept, naive ones bare,
        # microseconds only when there are some
        [MOMENT, MOMENT.replace(microsecond=0), MOMENT.replace(microsecond=1000), MOMENT.replace(tzinfo=None)],
        [MOMENT.astimezone(ZoneInfo("Asia/Kolkata")), MOMENT.astimezone(ZoneInfo("America/St_Johns"))],
        [datetime.date(2026, 1, 2), datetime.time(3, 4, 5), datetime.time(3, 4, 5, 6), datetime.timedelta(hours=1.5)],
        # Decimals as DRF's encoder writes them (floats; serializers send money as strings before)
        [decimal.Decimal("12.50"), decimal.Decimal("0.1"), decimal.Decimal("1E-7"), decimal.Decimal("123456789.99")],
        [0.1, 1.0, 1e16, 1e-7, 2.5e-5, 1e22, 5e-324, -0.0, 12345.678],
        [0, -1, 2**63 - 1, -(2**63), 2**64, 10**30],  # beyond 64 bits: DRF writes those
        {1: "int key", "x": {None: "null key", True: "bool key", 2.5: "float key"}},
        [uuid.UUID("12345678-1234-5678-1234-567812345678"), ipaddress.ip_address("10.0.0.1")],
        [gettext_lazy("Not found."), b"bytes", (1, 2), {"set"}],
        ["\u2028 line \u2029 paragraph", "\x00\x01\x1f\x7f", "/slash", "é€😀", ""],
        {"deep": [[[[[[[[[[{"a": "b"}]]]]]]]]]]},
    ],
    ids=lambda data: type(data).__name__,
)
def test_same_bytes_as_drf(data):
    assert fast(data) == drf(data)


def test_a_generator_is_written_as_a_list():
    assert fast({"a": (n for n in range(3))}) == drf({"a": (n for n in range(3))}) == b'{"a":[0,1,2]}'


def test_none_is_an_empty_body():
    assert fast(None) == drf(None) == b""


@pytest.mark.parametrize(
    ("media_type", "context"),
    [("application/json; indent=4", None), ("application/json", {"indent": 2}), ("application/json; indent=0", None)],
)
def test_indented_answers_are_drfs(media_type, context):
    assert fast(ORDER_DETAIL, media_type, context) == drf(ORDER_DETAIL, media_type, context)


def test_what_drf_refuses_orjson_refuses_the_same_way():
    aware_time = datetime.time(3, 4, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware times"):
        drf([aware_time])
    with pytest.raises(ValueError, match="timezone-aware times"):
        fast([aware_time])
    with pytest.raises(TypeError):
        fast([object()])
    with pytest.raises(UnicodeEncodeError):  # a lone surrogate
        fast(["\ud800"])


def test_the_one_documented_difference_non_finite_floats_are_null():
    with pytest.raises(ValueError, match="Out of range float"):
        drf([float("nan")])
    assert fast([float("nan"), float("inf")]) == b"[null,null]"


def test_it_is_the_apis_default_renderer(settings):
    from rest_framework.settings import api_settings

    assert [ORJSONRenderer] == api_settings.DEFAULT_RENDERER_CLASSES


@pytest.fixture
def shop(db):
    from apps.catalog.models import Product, ProductImage
    from apps.catalog.stock import products_refresh
    from apps.catalog.tests.factories import ProductFactory, VariantFactory

    product = ProductFactory(
        name="Tasse «Ölmühle» — 日本 😀",
        slug="tasse",
        description='Line one\nline two \u2028 and a "quote"',
        options=[{"name": "size", "values": ["S", "M"]}],
        default_variant=False,
    )
    VariantFactory(product=product, sku="tasse-s", price=decimal.Decimal("12.50"), options={"size": "S"})
    VariantFactory(product=product, sku="tasse-m", price=decimal.Decimal("1000.00"), options={"size": "M"})
    products_refresh(product_ids=[product.pk])
    Product.objects.filter(pk=product.pk).update(rating_avg=decimal.Decimal("4.25"), rating_count=4)
    ProductImage.objects.create(product=product, image="a.png", thumbnail="t/a.webp", width=1, height=1)
    ProductFactory(name="Plain", slug="plain")
    return product


@pytest.mark.parametrize(
    "path", ["/api/v1/products/", "/api/v1/products/?search=tasse", "/api/v1/products/tasse/", "/api/v1/categories/"]
)
def test_the_apis_answers_are_drfs_bytes(api_client, shop, path):
    response = api_client.get(path)  # written by ORJSONRenderer

    assert response.status_code == 200
    assert "Ölmühle" in response.content.decode() or path.endswith("categories/")
    assert response.content == drf(response.data)


def test_an_error_answer_is_drfs_bytes(api_client, shop):
    response = api_client.get("/api/v1/products/", {"page": "x", "min_price": "cheap"})

    assert response.status_code == 400
    assert response.content == drf(response.data)
