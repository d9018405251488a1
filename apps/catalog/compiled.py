"""Querysets compiled to SQL once and run many times (issue 14: the catalogue's hot reads).

Building a queryset and compiling it costs a worker more than PostgreSQL takes to answer the
small statements of a product page or a list page (bench/README.md). A ``Compiled`` keeps what
Django made of a ``.values()`` queryset (the SQL, its parameters, the column names and the
converters Django applies to what is read, as ValuesIterable does) and runs it again. A value
that changes from one request to the next is compiled as a *slot*: a marker value whose position
among the parameters is recorded, so that each run binds its own value there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet


@dataclass(frozen=True)
class Compiled:
    sql: str
    params: tuple
    names: tuple[str, ...]
    converters: tuple
    slots: Mapping[Any, int] = field(default_factory=dict)

    @classmethod
    def of(cls, queryset: QuerySet, *, using: str, slots: Mapping[Any, Any] | None = None) -> Compiled:
        """Compile ``queryset`` (a ``.values()`` one) for the connection ``using``. ``slots`` names
        the marker values it was built with; each must be bound exactly once (AssertionError)."""
        query = queryset.query
        compiler = query.get_compiler(using)
        sql, params = compiler.as_sql()
        names = query.selected or (*query.extra_select, *query.values_select, *query.annotation_select)
        converters = compiler.get_converters([column[0] for column in compiler.select[: compiler.col_count]])
        positions = {}
        for name, marker in (slots or {}).items():
            found = [index for index, value in enumerate(params) if value == marker]
            if len(found) != 1:
                raise AssertionError(f"slot {name} is bound {len(found)} times in {sql}")
            positions[name] = found[0]
        return cls(sql, tuple(params), tuple(names), tuple(converters.items()), positions)

    def rows(self, connection, *, bind: Mapping[Any, Any] | None = None, suffix: str = "", extra=()) -> list[dict]:
        """Run the statement (``suffix`` appended, ``extra`` parameters after its own) with each
        slot bound to ``bind[name]``; the rows as ``.values()`` gives them."""
        params = list(self.params)
        for name, value in (bind or {}).items():
            params[self.slots[name]] = value
        with connection.cursor() as cursor:
            cursor.execute(self.sql + suffix, [*params, *extra])
            found = cursor.fetchall()
        names, converters = self.names, self.converters
        rows = []
        for values in found:
            if converters:
                values = list(values)
                for position, (functions, expression) in converters:
                    value = values[position]
                    for convert in functions:
                        value = convert(value, expression, connection)
                    values[position] = value
            rows.append(dict(zip(names, values, strict=True)))
        return rows
