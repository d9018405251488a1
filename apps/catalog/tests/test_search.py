import importlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.catalog import filters
from apps.catalog.filters import prefix_tsquery, search_terms
from apps.catalog.models import Product
from apps.catalog.tests.factories import ProductFactory, variants_set

pytestmark = pytest.mark.django_db

LIST = "/api/v1/products/"
on_sqlite = pytest.mark.skipif("connection.vendor == 'postgresql'", reason="the fallback runs off PostgreSQL only")


def slugs(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["slug"] for row in response.json()["results"]]


@pytest.fixture
def goods(tree):
    made = [
        ("nails", "Steel Nails", "Drive them with a hammer, or a nail gun."),
        ("claw-hammer", "Claw Hammer", "Forged steel head."),
        ("mallet", "Rubber Mallet", "Soft blows only."),
        ("hammock", "Garden Hammock", "Cotton, two metres."),
        ("draft-hammer", "Draft Hammer", "Not for sale yet."),
    ]
    for slug, name, description in made:
        ProductFactory(slug=slug, name=name, description=description, category=tree["hammers"])
    Product.objects.filter(slug="draft-hammer").update(status="draft")


def test_search_terms_keep_letters_and_digits_only():
    assert search_terms("Hammer's & | !(claw):* 16oz <-> 'x' \\ _") == ["hammer", "s", "claw", "16oz", "x"]
    assert search_terms("!!! ::: ***") == []
    assert len(search_terms("a " * 50)) == 8


def test_prefix_tsquery_quotes_every_term_and_prefixes_the_last():
    assert prefix_tsquery(["claw", "hamm"]) == "'claw' & 'hamm':*"


@pytest.mark.postgres
def test_name_matches_rank_above_description_matches(api_client, goods):
    assert slugs(api_client.get(LIST, {"search": "hammer"})) == ["claw-hammer", "nails"]


@pytest.mark.postgres
def test_the_last_word_may_begin_a_word_of_the_name(api_client, goods):
    # Two name matches of equal rank: the newer first. "nails" says "hammer" in its description
    # only: a whole word matches there, the beginning of one does not.
    assert slugs(api_client.get(LIST, {"search": "hamm"})) == ["hammock", "claw-hammer"]
    assert slugs(api_client.get(LIST, {"search": "hammer"})) == ["claw-hammer", "nails"]
    assert slugs(api_client.get(LIST, {"search": "claw hamm"})) == ["claw-hammer"]
    assert slugs(api_client.get(LIST, {"search": "nails hammer"})) == ["nails"]
    assert slugs(api_client.get(LIST, {"search": "nails hamm"})) == []
    assert slugs(api_client.get(LIST, {"search": "hamm claw"})) == []  # only the last word is a prefix


@pytest.mark.postgres
def test_a_last_word_of_one_letter_is_a_plain_prefix(api_client, goods):
    assert slugs(api_client.get(LIST, {"search": "claw h"})) == ["claw-hammer"]
    assert slugs(api_client.get(LIST, {"search": "rubber m"})) == ["mallet"]


@pytest.mark.postgres
def test_a_last_word_that_is_a_stop_word_drops_out(api_client, goods):
    assert slugs(api_client.get(LIST, {"search": "hammer with"})) == ["claw-hammer", "nails"]


@pytest.mark.postgres
def test_the_index_is_asked_exact_entries_only(api_client, goods):
    with CaptureQueriesContext(connection) as queries:
        api_client.get(LIST, {"search": "claw hamm"})

    page = next(query["sql"] for query in queries.captured_queries if "ts_rank" in query["sql"])
    matching = page[page.index(" WHERE ") : page.rindex(" ORDER BY ")]
    assert "'~hamm'" in matching  # the name's word prefix, an exact GIN entry (migration 0005)
    assert ":*" not in matching  # a :* prefix would make GIN read every posting of "claw"


@pytest.mark.postgres
def test_search_stems_english_words(api_client, goods):
    assert slugs(api_client.get(LIST, {"search": "hammers nail"})) == ["nails"]


@pytest.mark.postgres
def test_explicit_ordering_wins_over_relevance(api_client, goods):
    variants_set(Product.objects.get(slug="nails"), price="1.00")

    assert slugs(api_client.get(LIST, {"search": "hammer", "ordering": "price"})) == ["nails", "claw-hammer"]


@pytest.mark.postgres
def test_the_trigger_keeps_the_vector_current_on_rename(seller_client, seller, tree, api_client):
    ProductFactory(store=seller.store, slug="widget", name="Widget", description="", category=tree["hammers"])

    seller_client.patch("/api/v1/products/widget/", {"name": "Sprocket", "description": "Gear for bikes"})

    assert slugs(api_client.get(LIST, {"search": "sprock"})) == ["widget"]
    assert slugs(api_client.get(LIST, {"search": "gear"})) == ["widget"]
    assert slugs(api_client.get(LIST, {"search": "widget"})) == []


@pytest.mark.postgres
def test_the_vector_weights_the_name_a_the_description_b_and_holds_the_name_prefixes(goods):
    with connection.cursor() as cursor:
        cursor.execute("SELECT search_vector::text FROM catalog_product WHERE slug = 'mallet'")
        assert cursor.fetchone()[0] == (
            "'blow':4B 'mallet':2A 'rubber':1A 'soft':3B "
            "'~ma' '~mal' '~mall' '~malle' '~mallet' '~ru' '~rub' '~rubb' '~rubbe' '~rubber'"
        )


@pytest.mark.postgres
def test_the_migration_recomputes_every_vector_and_can_be_reversed(goods):
    prefixes = importlib.import_module("apps.catalog.migrations.0005_search_name_prefixes")

    def vector() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT search_vector::text FROM catalog_product WHERE slug = 'mallet'")
            return cursor.fetchone()[0]

    with connection.schema_editor() as editor:
        prefixes.backwards(None, editor)
    assert vector() == "'blow':4B 'mallet':2A 'rubber':1A 'soft':3B"
    with connection.schema_editor() as editor:
        prefixes.forwards(None, editor)
    assert "'~mallet'" in vector()


@pytest.mark.parametrize(
    "text",
    ["hammer & !", "') | to_tsquery('x", "hammer:* | !nails", "<-> (a | b)", "\\'; DROP TABLE catalog_product; --"],
)
def test_query_syntax_in_the_search_is_only_words(api_client, goods, text):
    response = api_client.get(LIST, {"search": text})

    assert response.status_code == 200
    assert Product.objects.count() == 5


def test_a_search_without_words_finds_nothing(api_client, goods):
    response = api_client.get(LIST, {"search": ":*&|!"})

    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_drafts_never_match(api_client, goods):
    assert "draft-hammer" not in slugs(api_client.get(LIST, {"search": "draft"}))


@on_sqlite
def test_fallback_is_case_insensitive_contains_with_name_matches_first(api_client, goods):
    assert slugs(api_client.get(LIST, {"search": "HAMM"})) == ["hammock", "claw-hammer", "nails"]
    assert slugs(api_client.get(LIST, {"search": "steel claw"})) == ["claw-hammer"]


def test_a_search_answers_from_at_most_max_search_results_matches(api_client, goods, monkeypatch):
    monkeypatch.setattr(filters, "MAX_SEARCH_RESULTS", 2)

    response = api_client.get(LIST, {"search": "hamm"})  # three products match

    assert response.json()["count"] == 2
    assert set(slugs(response)) < {"hammock", "claw-hammer", "nails"}


def test_the_capped_candidates_pass_every_other_filter_first(api_client, goods, tree, monkeypatch):
    ProductFactory(slug="kitchen-hammer", name="Meat Hammer", category=tree["kitchen"])
    monkeypatch.setattr(filters, "MAX_SEARCH_RESULTS", 1)

    # The hammers category's matches come first in the index; the kitchen's is still found.
    assert slugs(api_client.get(LIST, {"search": "hammer", "category": "kitchen"})) == ["kitchen-hammer"]
    assert slugs(api_client.get(LIST, {"search": "hammer", "max_price": "0.01"})) == []
