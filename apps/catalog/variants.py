"""Writes of a product's options and variants (API.md, Variants), and the rules they keep.

- Options are ``[{"name", "values": [str]}]``: names and values trimmed, 1..MAX_OPTION_NAME
  characters, names unique within the product and values within their option (case-insensitive),
  at most MAX_OPTIONS options of at most MAX_OPTION_VALUES values.
- A variant names exactly one value of every option of its product (``{}`` when it has none); no
  two variants of a product share a combination (``options_key``, inactive ones included); skus
  are unique within the store, generated from the product's slug and the option values when
  omitted; a product has at most MAX_VARIANTS variants and keeps at least one active one.
- Every write takes the product's variants' row locks, then the product's (the order checkout
  takes them: variants, then the product rows products_refresh updates), refreshes the product's
  derived price and stock (apps.catalog.stock.products_refresh) and retires the cached catalog.

Violations raise ValidationError naming the field (``options``, ``variants``, ``sku``, ...);
deactivating or deleting the last active variant raises LastVariant (409).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils.text import slugify
from rest_framework.exceptions import ValidationError

from apps.accounts.models import Store
from apps.catalog.cache import catalog_changed
from apps.catalog.exceptions import LastVariant
from apps.catalog.locks import lock_product_with_variants
from apps.catalog.models import (
    MAX_OPTION_VALUES,
    MAX_OPTIONS,
    MAX_VARIANTS,
    Product,
    ProductImage,
    Variant,
    options_key,
)
from apps.catalog.stock import products_refresh
from apps.core.models import is_referenced

MAX_OPTION_NAME = 50  # characters of an option name or value
MAX_SKU = 64
SUFFIX_ROOM = 4  # "-100": a generated sku's suffix on a clash
SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
SKU_MESSAGE = "A sku is letters, digits, '.', '_' and '-', beginning with a letter or digit."
VARIANT_FIELDS = ("sku", "price", "stock", "image_id", "is_active")


class RuleBroken(ValueError):
    """A rule a variant breaks, with its message; the caller names the field."""


@dataclass(frozen=True)
class VariantSpec:
    """A variant to make: its options (canonical spelling, in the product's option order)."""

    options: dict[str, str]
    price: Decimal
    stock: int
    sku: str | None = None


# --- Rules ----------------------------------------------------------------------------------


def _text(value: Any, *, what: str) -> str:
    text = str(value).strip()
    if not text:
        raise RuleBroken(f"{what} must not be blank.")
    if len(text) > MAX_OPTION_NAME:
        raise RuleBroken(f"{what} has at most {MAX_OPTION_NAME} characters.")
    return text


def options_clean(options: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The options trimmed and checked (module docstring). Raises ValidationError on ``options``."""
    options = list(options)
    try:
        if len(options) > MAX_OPTIONS:
            raise RuleBroken(f"A product has at most {MAX_OPTIONS} options.")
        cleaned, names = [], set()
        for option in options:
            name = _text(option["name"], what="An option name")
            if name.lower() in names:
                raise RuleBroken(f"Option '{name}' is given twice.")
            names.add(name.lower())
            values, seen = [], set()
            if not option["values"]:
                raise RuleBroken(f"Option '{name}' needs at least one value.")
            if len(option["values"]) > MAX_OPTION_VALUES:
                raise RuleBroken(f"Option '{name}' has at most {MAX_OPTION_VALUES} values.")
            for raw in option["values"]:
                value = _text(raw, what=f"A value of option '{name}'")
                if value.lower() in seen:
                    raise RuleBroken(f"Option '{name}' has the value '{value}' twice.")
                seen.add(value.lower())
                values.append(value)
            cleaned.append({"name": name, "values": values})
    except RuleBroken as broken:
        raise ValidationError({"options": [str(broken)]}) from None
    return cleaned


def variant_options_match(*, product_options: list[dict[str, Any]], given: dict[str, Any]) -> dict[str, str]:
    """``given`` ({name: value}) in the product's spelling and option order: one value of every
    option, names and values matched case-insensitively after trimming. Raises RuleBroken."""
    by_name = {option["name"].lower(): option for option in product_options}
    chosen: dict[str, str] = {}
    for raw_name, raw_value in given.items():
        option = by_name.get(str(raw_name).strip().lower())
        if option is None:
            raise RuleBroken(f"The product has no option '{str(raw_name).strip()}'.")
        if option["name"] in chosen:
            raise RuleBroken(f"Option '{option['name']}' is given twice.")
        values = {value.lower(): value for value in option["values"]}
        value = values.get(str(raw_value).strip().lower())
        if value is None:
            raise RuleBroken(f"Option '{option['name']}' has no value '{str(raw_value).strip()}'.")
        chosen[option["name"]] = value
    missing = [option["name"] for option in product_options if option["name"] not in chosen]
    if missing:
        raise RuleBroken(f"A variant names a value of every option; missing: {', '.join(missing)}.")
    return {option["name"]: chosen[option["name"]] for option in product_options}


def sku_clean(sku: str) -> str:
    """A seller's sku, trimmed. Raises RuleBroken when it is not URL-safe or too long."""
    sku = sku.strip()
    if not sku or len(sku) > MAX_SKU or not SKU_PATTERN.match(sku):
        raise RuleBroken(SKU_MESSAGE if sku and len(sku) <= MAX_SKU else f"A sku has 1 to {MAX_SKU} characters.")
    return sku


def sku_base(*, slug: str, options: dict[str, str]) -> str:
    """The readable sku a variant gets when none is given: the product's slug and its option
    values (``classic-tee-m-red``; the slug alone without options), at most MAX_SKU characters."""
    parts = [slug, *(slugify(value) or "x" for value in options.values())]
    return "-".join(parts)[:MAX_SKU].strip("-") or "item"


def skus_generate(*, store: Store, slug: str, specs: list[VariantSpec], taken: set[str]) -> list[str]:
    """A sku for each spec: its own (checked against the store's skus and the others given) or a
    generated one, with ``-2``, ``-3``... on a clash. One query for the store's skus that could
    clash. Raises RuleBroken naming the variant whose sku is taken."""
    bases = {sku_base(slug=slug, options=spec.options) for spec in specs if spec.sku is None}
    given = [spec.sku for spec in specs if spec.sku is not None]
    could_clash = models.Q(sku__in=given)
    for base in bases:  # a base and its suffixed forms (a long base is cut before its suffix)
        could_clash |= models.Q(sku__startswith=base[: MAX_SKU - SUFFIX_ROOM])
    existing = set(Variant.objects.filter(could_clash, store=store).values_list("sku", flat=True))
    used = existing | taken
    for number, spec in enumerate(specs, start=1):
        if spec.sku is not None and (spec.sku in used or given.count(spec.sku) > 1):
            raise RuleBroken(f"Variant {number}: sku '{spec.sku}' is already used in this store.")
    used |= set(given)
    skus = []
    for spec in specs:
        if spec.sku is not None:
            skus.append(spec.sku)
            continue
        base = sku_base(slug=slug, options=spec.options)
        sku, suffix = base, 1
        while sku in used:
            suffix += 1
            sku = f"{base[: MAX_SKU - len(str(suffix)) - 1]}-{suffix}"
        used.add(sku)
        skus.append(sku)
    return skus


def variant_specs_clean(*, product_options: list[dict[str, Any]], variants: list[dict[str, Any]]) -> list[VariantSpec]:
    """The variants of a new product checked against its options (one value of every option, no
    combination twice, at most MAX_VARIANTS, at least one). Raises ValidationError on ``variants``."""
    specs, combinations = [], set()
    try:
        if not variants:
            raise RuleBroken("A product needs at least one variant.")
        if len(variants) > MAX_VARIANTS:
            raise RuleBroken(f"A product has at most {MAX_VARIANTS} variants.")
        for number, variant in enumerate(variants, start=1):
            try:
                options = variant_options_match(product_options=product_options, given=variant.get("options") or {})
                sku = sku_clean(variant["sku"]) if variant.get("sku") is not None else None
            except RuleBroken as broken:
                raise RuleBroken(f"Variant {number}: {broken}") from None
            key = options_key(options)
            if key in combinations:
                raise RuleBroken(f"Variant {number}: another variant has the same options.")
            combinations.add(key)
            specs.append(VariantSpec(options=options, price=variant["price"], stock=variant.get("stock", 0), sku=sku))
    except RuleBroken as broken:
        raise ValidationError({"variants": [str(broken)]}) from None
    return specs


def variants_bulk_make(*, product: Product, specs: list[VariantSpec]) -> list[Variant]:
    """Insert a new product's variants (skus from skus_generate). Raises ValidationError on
    ``variants`` for a sku the store uses."""
    try:
        skus = skus_generate(store=product.store, slug=product.slug, specs=specs, taken=set())
    except RuleBroken as broken:
        raise ValidationError({"variants": [str(broken)]}) from None
    return Variant.objects.bulk_create(
        [
            Variant(
                product=product,
                store=product.store,
                sku=sku,
                options=spec.options,
                options_key=options_key(spec.options),
                price=spec.price,
                stock=spec.stock,
            )
            for spec, sku in zip(specs, skus, strict=True)
        ]
    )


def options_extend(*, current: list[dict[str, Any]], given: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The options a PATCH may set: the same options (names as they are, same order) with every
    current value kept in its place and new values added after them. Anything else (a new or
    removed option, a renamed or removed value) would leave variants without a valid combination.
    Raises ValidationError on ``options``."""
    cleaned = options_clean(given)
    message = (
        "Options can only gain values: send every option, in its order, with all its current values "
        "first and new values after them."
    )
    if [option["name"].lower() for option in cleaned] != [option["name"].lower() for option in current]:
        raise ValidationError({"options": [message]})
    merged = []
    for old, new in zip(current, cleaned, strict=True):
        head = [value.lower() for value in new["values"][: len(old["values"])]]
        if head != [value.lower() for value in old["values"]]:
            raise ValidationError({"options": [message]})
        merged.append({"name": old["name"], "values": old["values"] + new["values"][len(old["values"]) :]})
    return merged


# --- Writes ---------------------------------------------------------------------------------


def _changed(product: Product) -> None:
    products_refresh(product_ids=[product.pk])
    catalog_changed()


def _image_check(*, product: Product, image_id: int | None) -> None:
    if image_id is not None and not ProductImage.objects.filter(product=product, pk=image_id).exists():
        raise ValidationError({"image_id": ["Not an image of this product."]})


def variant_create(
    *,
    product: Product,
    options: dict[str, Any],
    price: Decimal,
    stock: int = 0,
    sku: str | None = None,
    image_id: int | None = None,
) -> Variant:
    """Add a variant to a product: one value of every option (ValidationError on ``options``), a
    combination no other variant has (inactive ones included), a sku unused in the store (``sku``;
    generated when omitted), an image of this product (``image_id``), at most MAX_VARIANTS
    (``variants``)."""
    with transaction.atomic():
        product, variants = lock_product_with_variants(pk=product.pk)
        if len(variants) >= MAX_VARIANTS:
            raise ValidationError({"variants": [f"A product has at most {MAX_VARIANTS} variants."]})
        try:
            chosen = variant_options_match(product_options=product.options, given=options)
        except RuleBroken as broken:
            raise ValidationError({"options": [str(broken)]}) from None
        if any(variant.options_key == options_key(chosen) for variant in variants.values()):
            raise ValidationError({"options": ["Another variant of this product has the same options."]})
        try:
            spec = VariantSpec(options=chosen, price=price, stock=stock, sku=sku_clean(sku) if sku else None)
            (sku,) = skus_generate(store=product.store, slug=product.slug, specs=[spec], taken=set())
        except RuleBroken as broken:
            raise ValidationError({"sku": [str(broken).removeprefix("Variant 1: ")]}) from None
        _image_check(product=product, image_id=image_id)
        try:
            with transaction.atomic():
                variant = Variant.objects.create(
                    product=product,
                    store=product.store,
                    sku=sku,
                    options=chosen,
                    options_key=options_key(chosen),
                    price=price,
                    stock=stock,
                    image_id=image_id,
                )
        except IntegrityError:  # another product of the store took the sku meanwhile
            raise ValidationError({"sku": [f"Sku '{sku}' is already used in this store."]}) from None
        _changed(product)
    return variant


def _last_active_check(*, variant: Variant, variants: dict[int, Variant]) -> None:
    others = [other for other in variants.values() if other.pk != variant.pk and other.is_active]
    if variant.is_active and not others:
        raise LastVariant()


def variant_update(*, variant: Variant, data: dict[str, Any]) -> Variant:
    """Change a variant's ``sku`` (unused in the store), ``price``, ``stock``, ``image_id`` (an
    image of this product) or ``is_active``; deactivating the last active variant raises
    LastVariant. Options are not changed: a different combination is a new variant."""
    with transaction.atomic():
        product, variants = lock_product_with_variants(pk=variant.product_id)
        variant = variants[variant.pk]
        changed = [field for field in VARIANT_FIELDS if field in data and data[field] != getattr(variant, field)]
        if "sku" in changed:
            try:
                data["sku"] = sku_clean(data["sku"])
            except RuleBroken as broken:
                raise ValidationError({"sku": [str(broken)]}) from None
            if Variant.objects.filter(store_id=variant.store_id, sku=data["sku"]).exclude(pk=variant.pk).exists():
                raise ValidationError({"sku": [f"Sku '{data['sku']}' is already used in this store."]})
        if "image_id" in changed:
            _image_check(product=product, image_id=data["image_id"])
        if "is_active" in changed and not data["is_active"]:
            _last_active_check(variant=variant, variants=variants)
        for field in changed:
            setattr(variant, field, data[field])
        if changed:
            try:
                with transaction.atomic():
                    variant.save(update_fields=[*changed, "updated_at"])
            except IntegrityError:  # the sku was taken meanwhile
                raise ValidationError({"sku": [f"Sku '{variant.sku}' is already used in this store."]}) from None
            _changed(product)
    return variant


def variant_is_referenced(*, variant: Variant) -> bool:
    """True when a row that must keep pointing at the variant exists (an order line): any model
    referencing Variant with on_delete=PROTECT or RESTRICT counts (apps.core.models.is_referenced)."""
    return is_referenced(variant)


def variant_delete(*, variant: Variant) -> bool:
    """Delete a variant, or deactivate it when an order references it (variant_is_referenced).
    The last active variant is neither (LastVariant). Returns True when deleted."""
    with transaction.atomic():
        product, variants = lock_product_with_variants(pk=variant.product_id)
        variant = variants[variant.pk]
        _last_active_check(variant=variant, variants=variants)
        deleted = not variant_is_referenced(variant=variant)
        if deleted:
            try:
                with transaction.atomic():
                    variant.delete()
            except (models.ProtectedError, models.RestrictedError):
                deleted = False  # referenced by a model variant_is_referenced missed
        if not deleted and variant.is_active:
            variant.is_active = False
            variant.save(update_fields=["is_active", "updated_at"])
        _changed(product)
    return deleted


def product_variant_set(*, product: Product, price: Decimal | None, stock: int | None) -> None:
    """Round 1's ``price``/``stock`` on a product sold in one form: they change its one variant.
    The caller holds the locks (product_update)."""
    fields = {name: value for name, value in (("price", price), ("stock", stock)) if value is not None}
    if fields:
        Variant.objects.filter(product=product).update(**fields)
        products_refresh(product_ids=[product.pk])
