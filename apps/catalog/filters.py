"""Query-string filters of the product lists (django-filter), applied by the selectors.

Every parameter is validated by its form field: a malformed value is a 400 naming the parameter,
never ignored and never a 500. Search is PostgreSQL full-text (weighted, ranked; the last word
may be the beginning of a word of the name) with a case-insensitive ``contains`` fallback on other
databases.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import django_filters
from django import forms
from django.contrib.postgres.search import SearchQuery, SearchQueryField, SearchRank
from django.db import connections
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    Expression,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from rest_framework.exceptions import ValidationError

from apps.accounts.models import Store
from apps.catalog.models import MAX_OPTIONS, Category, Product, Variant, option_pair_key

SEARCH_CONFIG = "english"  # the same configuration as the trigger that fills search_vector
MAX_SEARCH_LENGTH = 200
MAX_SEARCH_TERMS = 8
# A search answers from at most this many matching products, ranked: the first ones the search
# index yields (with every other filter applied; apps/catalog/pagination.py). The cost of a search
# then stays bounded however common its words are: a word in 10% of a million products ranks
# 1,000 rows, not 100,000.
MAX_SEARCH_RESULTS = 1000
# The shortest word being typed that is looked up among the name's word prefixes (migration 0005
# indexes prefixes of two characters and more); a shorter one is a plain ``:*`` prefix.
MIN_INDEXED_PREFIX = 2
SEARCH_TERM = re.compile(r"[^\W_]+")  # letters and digits only: nothing tsquery would parse as syntax

ORDERINGS = {
    "price": ("price", "id"),
    "-price": ("-price", "-id"),
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "relevance": ("-relevance", "-created_at", "-id"),
}
DEFAULT_ORDERING = "-created_at"
BOOLEAN_CHOICES = [("true", "true"), ("false", "false")]
INVALID_CHOICE = "Select a valid choice. That choice is not one of the available choices."


def search_terms(text: str) -> list[str]:
    """The words of a search: lower-cased runs of letters and digits, at most MAX_SEARCH_TERMS."""
    return SEARCH_TERM.findall(text.lower())[:MAX_SEARCH_TERMS]


def whole_words_tsquery(terms: list[str]) -> str:
    """``'a' & 'b'`` for to_tsquery: every word whole (stemmed by the configuration). Terms hold
    only letters and digits, quoted besides."""
    return " & ".join(f"'{term}'" for term in terms)


def prefix_tsquery(terms: list[str]) -> str:
    """``'a' & 'b' & 'c':*`` for to_tsquery: every word must match, the last one as a prefix
    (so ``hamm`` finds ``hammer``)."""
    return whole_words_tsquery(terms) + ":*"


class TypedWordsQuery(Expression):
    """The tsquery that match_tsquery describes, as one SQL expression: ``CASE WHEN`` the last word
    is a stop word ``THEN`` the other words ``ELSE`` they ``&&`` the last one whole or begun. Values
    are bound as parameters; the terms hold only letters and digits (search_terms) besides."""

    output_field = SearchQueryField()

    def __init__(self, words: list[str], last: str):
        super().__init__()
        self.words, self.last = words, last

    def as_sql(self, compiler, connection):
        last = "to_tsquery(%s::regconfig, %s)"
        last_params = [SEARCH_CONFIG, f"'{self.last}'"]
        whole_or_begun = f"({last} || %s::tsquery)"  # the prefix lexeme is cast, not parsed or stemmed
        whole_or_begun_params = [*last_params, f"'~{self.last}'"]
        if self.words:
            words = "to_tsquery(%s::regconfig, %s)"
            words_params = [SEARCH_CONFIG, whole_words_tsquery(self.words)]
            if_stop_word, otherwise = words, f"{words} && {whole_or_begun}"
            params = [*last_params, *words_params, *words_params, *whole_or_begun_params]
        else:
            if_stop_word, otherwise = last, whole_or_begun
            params = [*last_params, *last_params, *whole_or_begun_params]
        return f"CASE WHEN numnode({last}) = 0 THEN {if_stop_word} ELSE {otherwise} END", params


class Matches(Func):
    """``vector @@ query`` as a boolean expression (the ``search_vector=`` lookup would wrap any
    query that is not a SearchQuery in plainto_tsquery)."""

    arg_joiner = " @@ "
    template = "(%(expressions)s)"
    output_field = BooleanField()


def match_tsquery(terms: list[str]) -> Expression:
    """What the GIN index is asked: every word whole, the last one (being typed) whole or as the
    beginning of a word of the name: ``'a' & ('hamm' | '~hamm')``. Every entry is exact, so GIN
    skips through a common word's postings (fast scan) instead of reading them all, as a ``:*``
    prefix would make it. A last word that is a stop word ("with") drops out, as it would from
    any query. A one-letter last word is a ``:*`` prefix: no such entry is indexed."""
    *words, last = terms
    if len(last) < MIN_INDEXED_PREFIX:
        return SearchQuery(prefix_tsquery(terms), search_type="raw", config=SEARCH_CONFIG)
    return TypedWordsQuery(words, last)


def product_search(queryset: QuerySet[Product], text: str) -> QuerySet[Product]:
    """Products of ``queryset`` matching every word of ``text``, annotated with ``relevance``
    (higher is better)."""
    terms = search_terms(text)
    if not terms:
        return queryset.none().annotate(relevance=Value(0, output_field=IntegerField()))
    if connections[queryset.db].vendor == "postgresql":
        matches = Matches(F("search_vector"), match_tsquery(terms))
        # Ranked by the words with the last one as a ``:*`` prefix (the prefix lexemes carry no
        # position, so they add nothing to a rank): in memory, on the candidates only.
        ranking = SearchQuery(prefix_tsquery(terms), search_type="raw", config=SEARCH_CONFIG)
        relevance = SearchRank(F("search_vector"), ranking)
    else:
        matches = in_name = Q()
        for term in terms:
            matches &= Q(name__icontains=term) | Q(description__icontains=term)
            in_name &= Q(name__icontains=term)
        relevance = Case(When(in_name, then=Value(1)), default=Value(0), output_field=IntegerField())
    # Not capped here: the lists' paginator (apps/catalog/pagination.py) takes the first
    # MAX_SEARCH_RESULTS matches and ranks them, in the statement that finds the page.
    return queryset.filter(matches).annotate(relevance=relevance)


def category_exists(slug: str) -> bool:
    return Category.objects.filter(slug=slug).exists()


def public_store_exists(slug: str) -> bool:
    return Store.objects.filter(slug=slug, is_active=True).exists()


class _SlugOfField(forms.CharField):
    """A slug naming a row that ``exists`` (one query); any other value is invalid."""

    default_error_messages = {"invalid_choice": INVALID_CHOICE}
    exists: Callable[[str], bool]

    def clean(self, value):
        slug = super().clean(value)
        if not slug:
            return None
        if not self.exists(slug):
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return slug


class CategorySubtreeField(_SlugOfField):
    """A category's slug."""

    exists = staticmethod(category_exists)


class CategorySubtreeFilter(django_filters.Filter):
    """Products of a category and all its descendants. The category is named by its slug in the
    SQL (a subquery on the materialized path), not by ids looked up first: the statement is then a
    function of the query string alone, which lets the public list compile it once (listing.py)."""

    field_class = CategorySubtreeField

    def filter(self, queryset, value):
        if not value:
            return queryset
        return queryset.filter(category_id__in=category_subtree_ids(value))


def category_subtree_ids(slug: str) -> QuerySet:
    """The ids of the category ``slug`` and its descendants, as a subquery."""
    subtree_root = Category.objects.filter(slug=slug).values("path")[:1]
    return Category.objects.filter(path__startswith=Subquery(subtree_root)).values("pk")


class PublicStoreField(_SlugOfField):
    """An active store's slug. Not stripped: a slug with spaces names no store."""

    exists = staticmethod(public_store_exists)

    def __init__(self, **kwargs):
        super().__init__(strip=False, **kwargs)


class PublicStoreFilter(django_filters.Filter):
    """Products of one active store, named by its slug in the SQL (as CategorySubtreeFilter)."""

    field_class = PublicStoreField

    def filter(self, queryset, value):
        return queryset.filter(store__slug=value) if value else queryset


# Parameters that django-filter would skip when sent empty (?max_price=) but the schema types as
# enums or numbers, which "" is not: refused with the message each kind of field gives.
EMPTY_REFUSED = {
    "in_stock": INVALID_CHOICE,
    "ordering": INVALID_CHOICE,
    "status": INVALID_CHOICE,
    "min_price": "Enter a number.",
    "max_price": "Enter a number.",
}


def option_pairs_parse(values: list[str]) -> list[tuple[str, str]]:
    """``name:value`` strings (split at the first ':'; both trimmed, non-empty), at most
    MAX_OPTIONS. Raises ValidationError on ``option``."""
    if len(values) > MAX_OPTIONS:
        raise ValidationError({"option": [f"At most {MAX_OPTIONS} option filters."]})
    pairs = []
    for text in values:
        name, colon, value = text.partition(":")
        if not colon or not name.strip() or not value.strip():
            raise ValidationError({"option": [f"'{text}' is not name:value, e.g. size:M."]})
        pairs.append((name.strip(), value.strip()))
    return pairs


def with_option_values(queryset: QuerySet[Product], pairs: list[tuple[str, str]]) -> QuerySet[Product]:
    """Products with an active, in-stock variant having every (name, value) of ``pairs``
    (case-insensitive): one EXISTS on the variants, every pair a condition on the same variant."""
    if not pairs:
        return queryset
    conditions = [Q(options_key__contains=option_pair_key(name, value)) for name, value in pairs]
    return queryset.filter(
        Exists(Variant.objects.filter(*conditions, product=OuterRef("pk"), is_active=True, stock__gt=0))
    )


class _ProductFilterBase(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", max_length=MAX_SEARCH_LENGTH)
    # Repeatable: read with getlist in filter_queryset (a form field keeps only the last value).
    option = django_filters.CharFilter(method="filter_nothing")
    category = CategorySubtreeFilter(field_name="category_id", lookup_expr="in")
    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte", max_digits=12, decimal_places=2)
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte", max_digits=12, decimal_places=2)
    in_stock = django_filters.ChoiceFilter(choices=BOOLEAN_CHOICES, method="filter_in_stock")
    ordering = django_filters.ChoiceFilter(choices=[(key, key) for key in ORDERINGS], method="filter_nothing")

    class Meta:
        model = Product
        fields: list[str] = []

    def is_valid(self) -> bool:
        # django-filter skips a choice or number sent empty (?in_stock=, ?max_price=) as if it were
        # absent; the schema's enums and numbers have no "", so it is refused like any bad value.
        valid = super().is_valid()
        self.option_pairs  # noqa: B018 -- raises ValidationError on ``option`` for a malformed one
        for name, message in EMPTY_REFUSED.items():
            if name in self.filters and self.data.get(name) == "":
                self.form.add_error(name, message)
                valid = False
        return valid

    @property
    def option_pairs(self) -> list[tuple[str, str]]:
        getlist = getattr(self.data, "getlist", None)
        if getlist is not None:
            values = getlist("option")
        else:
            value = self.data.get("option")
            values = [] if value is None else value if isinstance(value, list) else [value]
        return option_pairs_parse(values)

    def filter_search(self, queryset, name, value):
        return queryset  # applied last, in filter_queryset, on the other filters' result

    def filter_in_stock(self, queryset, name, value):
        return queryset.filter(stock__gt=0) if value == "true" else queryset.filter(stock=0)

    def filter_nothing(self, queryset, name, value):
        return queryset  # ordering is applied last, in filter_queryset, once search has annotated

    def get_form_class(self):
        # The form's fields depend on the filterset class only: build the class once, not per request.
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        ordering = self.form.cleaned_data.get("ordering") or ""
        searching = bool(self.form.cleaned_data.get("search"))
        if ordering == "relevance" and not searching:
            ordering = DEFAULT_ORDERING
        if not ordering:
            ordering = "relevance" if searching else DEFAULT_ORDERING
        queryset = with_option_values(queryset, self.option_pairs)
        if searching:  # last, on the other filters' result
            queryset = product_search(queryset, self.form.cleaned_data["search"])
        return queryset.order_by(*ORDERINGS[ordering])


class ProductFilter(_ProductFilterBase):
    """The public catalog's filters."""

    store = PublicStoreFilter()


class SellerProductFilter(_ProductFilterBase):
    """A seller's own products: the catalog filters plus ``status``."""

    status = django_filters.ChoiceFilter(choices=Product.Status.choices)


def filter_apply(
    filterset_class: type[django_filters.FilterSet], *, data: Mapping[str, Any] | None, queryset: QuerySet
) -> QuerySet:
    """Apply a filterset; raises ValidationError ``{parameter: [message]}`` for malformed values.

    Without any of its parameters (the plain first page, the hottest request) only the default
    ordering applies, and the filterset is not built at all."""
    if not data or not any(name in data for name in filterset_class.base_filters):
        return queryset.order_by(*ORDERINGS[DEFAULT_ORDERING])
    filterset = filterset_class(data=data, queryset=queryset)
    if not filterset.is_valid():
        raise ValidationError(_messages(filterset.errors))
    return filterset.qs


def _messages(errors) -> dict[str, list[str]]:
    return {field: [str(message) for message in messages] for field, messages in errors.items()}
