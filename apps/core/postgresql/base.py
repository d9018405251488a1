"""Django's PostgreSQL backend, batching by PostgreSQL's limit of parameters per statement.

With server-side binding (DATABASE_PREPARED_STATEMENTS, on by default) every value travels as a
protocol parameter, and PostgreSQL takes at most 65,535 of them in one statement. Django's
PostgreSQL backend knows no such limit (it was written for client-side binding, where values are
spliced into the SQL text), so a ``bulk_create`` of ~6,000 ten-field rows, or a cascade deletion
collecting more than 65,535 rows, failed with "number of parameters must be between 0 and 65535".
Declaring the limit (``max_query_params``, as Django's Oracle and SQLite backends do) makes
``bulk_create``, ``bulk_update``, ``in_bulk`` and the deletion collector split their statements
below it. Without server-side binding nothing changes.
"""

from __future__ import annotations

from itertools import chain

from django.db import models
from django.db.backends.postgresql import base, features, operations
from django.utils.functional import cached_property

# PostgreSQL's Bind message counts its parameters in a 16-bit integer.
MAX_PARAMETERS = 2**16 - 1


class DatabaseFeatures(features.DatabaseFeatures):
    @cached_property
    def max_query_params(self) -> int | None:
        return MAX_PARAMETERS if self.uses_server_side_binding else None


class DatabaseOperations(operations.DatabaseOperations):
    def bulk_batch_size(self, fields, objs) -> int:
        limit = self.connection.features.max_query_params
        columns = list(
            chain.from_iterable(
                field.fields if isinstance(field, models.CompositePrimaryKey) else [field] for field in fields
            )
        )
        if limit is None or not columns:
            return super().bulk_batch_size(fields, objs)
        return limit // len(columns)


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
    ops_class = DatabaseOperations
