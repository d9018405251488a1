"""Unique, stable slugs: made once from a name, with a numeric suffix on clashes."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.text import slugify


def unique_slug(*, model: type[models.Model], name: str, max_length: int = 80, fallback: str = "item") -> str:
    """A slug for ``name`` not yet used by ``model.slug``: ``base``, ``base-2``, ``base-3``, ...

    Names that slugify to nothing (symbols, non-Latin scripts) get ``fallback`` plus a random part.
    Callers still rely on the unique constraint, and retry, for two writers racing to one slug.
    """
    base = slugify(name)[: max_length - 8].strip("-")
    if not base:
        base = f"{fallback}-{secrets.token_hex(3)}"
    taken = set(model._default_manager.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    for number in range(2, len(taken) + 2):
        candidate = f"{base}-{number}"
        if candidate not in taken:
            return candidate
    return f"{base}-{secrets.token_hex(3)}"  # pragma: no cover - the loop always finds a gap
