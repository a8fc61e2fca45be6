"""The keys a queryset's ``update()`` or ``delete()`` changed, read without a query of their own.

Django's ``update()`` and ``delete()`` return counts, never keys. Where the
database can return rows from an UPDATE or DELETE (SQLite from 3.35, and
PostgreSQL), the statements Django compiles for the queryset's own table get
``RETURNING <primary key column>`` appended as they run: on Django's cursor, in
Django's transaction, through Django's documented ``connection.execute_wrapper()``.
The statement count stays Django's, so code counting queries sees no difference.

A ``delete()`` that cannot take Django's fast path loads its rows first (Django's
own SELECT, which it needs to cascade and to send its per-row signals): their
keys are noted as Django loads them, and the keys returned by the DELETEs of the
table keep out rows a cascade deleted from the same table (a model referring to
itself).

An ``update()`` that sets only fields of parent models (multi-table
inheritance) runs no UPDATE of the queryset's own table: the keys are those the
UPDATE of the first parent's table returns, the same keys where the parent is
reached through primary keys (as Django's parent links are).

Elsewhere (MySQL and MariaDB, Oracle, third-party backends, SQLite before 3.35),
and for a parent reached otherwise, :func:`update_keys` and :func:`delete_keys`
return None, and the caller reads the keys with one SELECT before the statement.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from types import TracebackType
from typing import Any
from typing import Final

from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import ModelIterable

#: The backends whose UPDATE and DELETE take a RETURNING clause, as Django writes them.
_RETURNING_VENDORS: Final = frozenset({"sqlite", "postgresql"})


class _Loaded:
    """The keys of the rows a deletion loaded first; None until it loads them."""

    __slots__ = ("keys",)

    def __init__(self) -> None:
        self.keys: list[Any] | None = None


#: Set while a deletion noting the rows it loads runs: the first rows loaded by the
#: queryset being deleted are its own (the cascades' rows are loaded later, by
#: querysets of their own).
_loading: Final = contextvars.ContextVar[_Loaded | None]("hosthooks_loading", default=None)


@functools.cache
def _noting(iterable: type[ModelIterable]) -> type[ModelIterable]:
    """``iterable`` noting the key of each row, the first time a deletion loads rows."""

    def __iter__(self: ModelIterable) -> Iterator[Any]:
        loaded = _loading.get()
        if loaded is None or loaded.keys is not None:
            yield from iterable.__iter__(self)
            return
        loaded.keys = keys = []
        for instance in iterable.__iter__(self):
            keys.append(instance.pk)
            yield instance

    return type(f"Noting{iterable.__name__}", (iterable,), {"__iter__": __iter__})


class ReturnedKeys:
    """While entered: each statement of one verb (``UPDATE`` or ``DELETE FROM``) on
    the queryset's table run on its database's connection returns the primary keys
    it changed, collected in :attr:`keys` (converted as Django converts loaded values).
    """

    def __init__(self, queryset: QuerySet[Any], verb: str, model: Any = None) -> None:
        self._queryset = queryset
        connection = connections[queryset.db]
        self._connection = connection
        meta = (model or queryset.model)._meta
        pk = meta.pk
        assert pk is not None  # every concrete model has one
        #: How Django's statements of that verb on the table begin (a DELETE of every
        #: row is that alone).
        self._statement = f"{verb} {connection.ops.quote_name(meta.db_table)}"
        self._returning = f" RETURNING {connection.ops.quote_name(pk.column)}"
        # The column as a SELECT of it would read it (a parent link reads as its
        # parent's key), converted the way Django's compiler converts it.
        column = pk.get_col(meta.db_table)
        self._converters: list[Callable[..., Any]] = [
            *connection.ops.get_db_converters(column),
            *column.get_db_converters(connection),
        ]
        self._column = column
        #: The keys returned so far, in the order the rows were returned.
        self.keys: list[Any] = []
        self._wrapping: Any = None
        self._loaded: _Loaded | None = None
        self._loading_token: contextvars.Token[_Loaded | None] | None = None
        self._iterable: type[ModelIterable] | None = None

    def _returns(self, sql: str) -> bool:
        statement = self._statement
        return sql.startswith(statement) and (
            len(sql) == len(statement) or sql[len(statement)] == " "
        )

    def _execute(
        self,
        execute: Callable[[str, Any, bool, Mapping[str, Any]], Any],
        sql: str,
        params: Any,
        many: bool,
        context: Mapping[str, Any],
    ) -> Any:
        if many or not self._returns(sql):
            return execute(sql, params, many, context)
        result = execute(sql + self._returning, params, many, context)
        # Read to the end here: the row count Django reads next is final only then
        # (SQLite counts the rows as they are returned).
        rows = context["cursor"].fetchall()
        convert = self._convert
        self.keys.extend(convert(row[0]) for row in rows)
        return result

    def _convert(self, value: Any) -> Any:
        for converter in self._converters:
            value = converter(value, self._column, self._connection)
        return value

    def note_loaded_rows(self) -> None:
        """Also note the keys of the rows the deletion loads first, if it does."""
        self._loaded = _Loaded()

    @property
    def loaded(self) -> list[Any] | None:
        """The keys of the rows the deletion loaded first, or None when it loaded none
        (Django's fast path)."""
        return None if self._loaded is None else self._loaded.keys

    def __enter__(self) -> ReturnedKeys:
        if self._loaded is not None:
            queryset = self._queryset
            # The deletion's own queryset is a copy of this one, iterable included.
            self._iterable = queryset._iterable_class
            queryset._iterable_class = _noting(queryset._iterable_class)
            self._loading_token = _loading.set(self._loaded)
        self._wrapping = self._connection.execute_wrapper(self._execute)
        self._wrapping.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._wrapping.__exit__(kind, error, traceback)
        if self._loading_token is not None:
            _loading.reset(self._loading_token)
            self._queryset._iterable_class = self._iterable


def _can_return(queryset: QuerySet[Any]) -> bool:
    connection = connections[queryset.db]
    return connection.vendor in _RETURNING_VENDORS and bool(
        connection.features.can_return_columns_from_insert
    )


def update_keys(queryset: QuerySet[Any], values: Mapping[str, Any]) -> ReturnedKeys | None:
    """What collects the keys ``queryset.update(**values)`` changes, or None where
    the database cannot return them, or where the UPDATEs Django runs do not name
    the queryset's rows by their own keys."""
    if not _can_return(queryset):
        return None
    meta = queryset.model._meta
    own = meta.concrete_model
    try:
        # In the order of the values: Django updates the parents' tables in it.
        written = list(
            dict.fromkeys(meta.get_field(name).model._meta.concrete_model for name in values)
        )
    except Exception:
        # An unknown field: Django's update() says so, and nothing is written.
        return None
    if not written or own in written:
        return ReturnedKeys(queryset, "UPDATE")
    parent = written[0]
    if all(path.join_field.primary_key for path in meta.get_path_to_parent(parent)):
        return ReturnedKeys(queryset, "UPDATE", parent)
    return None


def delete_keys(queryset: QuerySet[Any]) -> ReturnedKeys | None:
    """What collects the keys ``queryset.delete()`` deletes from its own rows, or None
    where the database cannot return them."""
    if not _can_return(queryset) or not issubclass(queryset._iterable_class, ModelIterable):
        return None
    returned = ReturnedKeys(queryset, "DELETE FROM")
    returned.note_loaded_rows()
    return returned


def deleted_own_keys(returned: ReturnedKeys) -> list[Any]:
    """The keys of the queryset's own rows a deletion deleted: those its DELETEs
    returned, less the rows a cascade deleted from the same table."""
    loaded = returned.loaded
    if loaded is None:
        # The fast path: one DELETE of the queryset's rows, nothing loaded.
        return returned.keys
    deleted = set(returned.keys)
    return [key for key in loaded if key in deleted]
