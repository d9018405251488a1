"""unique_slug: made from a name, suffixed on clashes."""

import pytest

from apps.accounts.models import Store
from apps.accounts.tests.factories import StoreFactory
from apps.core.slugs import unique_slug

pytestmark = pytest.mark.django_db


def test_a_free_name_gets_its_plain_slug():
    assert unique_slug(model=Store, name="Corner Shop") == "corner-shop"


def test_a_taken_slug_gets_the_first_free_suffix():
    StoreFactory(slug="corner-shop")
    StoreFactory(slug="corner-shop-2")
    StoreFactory(slug="corner-shop-4")

    assert unique_slug(model=Store, name="Corner Shop") == "corner-shop-3"


def test_a_longer_slug_sharing_the_prefix_is_no_clash():
    StoreFactory(slug="corner-shop-deluxe")

    assert unique_slug(model=Store, name="Corner Shop") == "corner-shop"


def test_accents_are_dropped_and_case_lowered():
    assert unique_slug(model=Store, name="Café Zürich") == "cafe-zurich"


def test_a_name_without_latin_letters_gets_the_fallback_and_a_random_part():
    first = unique_slug(model=Store, name="東京", fallback="store")
    second = unique_slug(model=Store, name="東京", fallback="store")

    assert first.startswith("store-")
    assert len(first) == len("store-") + 6
    assert first != second


def test_long_names_leave_room_for_a_suffix_within_max_length():
    name = "word " * 40
    StoreFactory(slug=unique_slug(model=Store, name=name))

    slug = unique_slug(model=Store, name=name)

    assert slug.endswith("-2")
    assert len(slug) <= 80
    assert not slug.startswith("-")
