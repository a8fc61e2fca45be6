"""Queries: a model's rows read, filtered, counted, created, updated and deleted.

Part of the model layer (see :mod:`hosthooks.runtime.models`). ``create()`` saves
(``pre_save``, ``post_save``) and ``delete()`` deletes as
:mod:`hosthooks.runtime.deletion` does. ``bulk_create()``, ``bulk_update()``,
``update()`` and ``delete()`` fire none of Django's save signals, as in Django, and
this module is the only place that fires hosthooks' own bulk and queryset hooks
(:mod:`hosthooks.specs.bulk`) around them: each asked first whether anyone
listens, so that they cost a dictionary lookup while nobody does.
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Sequence
from typing import Any
from typing import Final

from hosthooks.host import Host
from hosthooks.host import get_host
from hosthooks.markers import DEFERRED_ARGNAMES
from hosthooks.runtime.backends.base import INTEGER_RANGE
from hosthooks.runtime.db import DEFAULT_ALIAS
from hosthooks.runtime.db import IntegrityError
from hosthooks.runtime.db import get_database
from hosthooks.runtime.deletion import Collector
from hosthooks.runtime.fields import ForeignKey
from hosthooks.runtime.models import Model

#: The condition of ``name__in=[]``: false for every row, known before any query.
_NOTHING: Final[tuple[str, list[Any]]] = ("1 = 0", [])
_LOOKUPS: Final = {"exact": "=", "gt": ">", "lt": "<", "gte": ">=", "lte": "<="}
#: The field kinds stored as integers, compared with values beyond INTEGER_RANGE in Python.
_INTEGER_KINDS: Final = frozenset({"integer", "foreign_key"})


def _beyond_integers(value: Any) -> int:
    """1 when ``value`` is an int above every value an integer column holds, -1
    below them all, else 0 (in range, or not an int)."""
    if isinstance(value, int) and not isinstance(value, bool):
        low, high = INTEGER_RANGE
        if value > high:
            return 1
        if value < low:
            return -1
    return 0


def _names_argument(host: Host, hook: str, argument: str) -> bool:
    """Whether an implementation of ``hook`` takes ``argument`` (a deferred one: itself,
    not the stand-in that enqueues it, which takes every argument)."""
    for impl in host.implementations(hook):
        names = getattr(impl.function, DEFERRED_ARGNAMES, None)
        if argument in (names if names is not None else (*impl.argnames, *impl.kwargnames)):
            return True
    return False


class QuerySet:
    """A lazy query over one model's rows. Filtering returns a new QuerySet."""

    def __init__(self, model: type[Model], using: str = DEFAULT_ALIAS) -> None:
        self.model = model
        self._using = using
        self._where: list[tuple[str, list[Any]]] = []
        self._order: list[str] = []
        self._limit: int | None = None
        self._offset = 0
        #: A filter matches nothing (``pk__in=[]``): like Django, run no SQL at all.
        self._matches_nothing = False

    def _clone(self) -> QuerySet:
        clone = QuerySet(self.model, self._using)
        clone._where = list(self._where)
        clone._order = list(self._order)
        clone._limit = self._limit
        clone._offset = self._offset
        clone._matches_nothing = self._matches_nothing
        return clone

    def __repr__(self) -> str:
        return f"<QuerySet {self.model._meta.label} using={self._using!r}>"

    # -- building -----------------------------------------------------------

    def using(self, alias: str) -> QuerySet:
        clone = self._clone()
        clone._using = alias
        return clone

    def all(self) -> QuerySet:
        return self._clone()

    def __getitem__(self, window: slice) -> QuerySet:
        """The rows from ``window.start`` (default 0) up to ``window.stop``, as
        ``LIMIT`` and ``OFFSET``: a page of an ordered query.

        :raises TypeError: for anything but a slice with a stop, no step, and
            no negative bound.
        """
        if not isinstance(window, slice):
            raise TypeError("a QuerySet takes a slice [start:stop] of non-negative integers")
        start, stop = window.start or 0, window.stop
        if (
            window.step is not None
            or not isinstance(start, int)
            or not isinstance(stop, int)
            or start < 0
            or stop < 0
        ):
            raise TypeError("a QuerySet takes a slice [start:stop] of non-negative integers")
        clone = self._clone()
        clone._offset = self._offset + start
        end = self._offset + stop
        if self._limit is not None:
            end = min(end, self._offset + self._limit)
        clone._limit = max(0, end - clone._offset)
        return clone

    def filter(self, **lookups: Any) -> QuerySet:
        """Rows matching every lookup: ``name=value``, ``name__in``, ``__gt``, ``__lt``,
        ``__gte``, ``__lte``, ``__contains``; a foreign key takes an instance or a pk.

        :raises LookupError: for an unknown field; :raises ValueError: for an unknown lookup.
        """
        clone = self._clone()
        for key, value in lookups.items():
            condition = self._condition(key, value)
            clone._where.append(condition)
            if condition is _NOTHING:
                clone._matches_nothing = True
        return clone

    def exclude(self, **lookups: Any) -> QuerySet:
        """Rows matching none of the combined lookups."""
        clone = self._clone()
        parts = [self._condition(key, value) for key, value in lookups.items()]
        if parts:
            sql = " AND ".join(part for part, _ in parts)
            params = [param for _, part_params in parts for param in part_params]
            clone._where.append((f"NOT ({sql})", params))
        return clone

    def _where_in_subquery(self, sql: str, params: list[Any]) -> QuerySet:
        clone = self._clone()
        clone._where.append((sql, params))
        return clone

    def order_by(self, *names: str) -> QuerySet:
        """Sort by fields; ``"-name"`` sorts descending."""
        clone = self._clone()
        clone._order = []
        for name in names:
            descending = name.startswith("-")
            field = self.model._meta.field(name.lstrip("-"))
            clone._order.append(f'"{field.column}" {"DESC" if descending else "ASC"}')
        return clone

    def _condition(self, key: str, value: Any) -> tuple[str, list[Any]]:
        name, _, lookup = key.partition("__")
        lookup = lookup or "exact"
        field = self.model._meta.field(name)
        column = f'"{field.column}"'

        def convert(item: Any) -> Any:
            if isinstance(item, Model):
                return item.pk
            return field.to_db(item) if not isinstance(field, ForeignKey) else item

        integer = field.kind in _INTEGER_KINDS
        if lookup == "in":
            items = [convert(item) for item in value]
            if integer:
                # A value no integer column holds matches no row.
                items = [item for item in items if not _beyond_integers(item)]
            if not items:
                return _NOTHING
            return (f"{column} IN ({', '.join('?' for _ in items)})", items)
        if lookup == "contains":
            escaped = str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            return (f"{column} LIKE ? ESCAPE '\\'", [f"%{escaped}%"])
        if lookup not in _LOOKUPS:
            raise ValueError(f"unknown lookup {lookup!r} in {key!r}")
        if value is None and lookup == "exact":
            return (f"{column} IS NULL", [])
        converted = convert(value)
        side = _beyond_integers(converted) if integer else 0
        if side:
            # As Django does (and PostgreSQL, which compares such values, would
            # answer): equal to nothing, above or below every stored value.
            below_all = side < 0
            if lookup == "exact" or below_all == (lookup in {"lt", "lte"}):
                return _NOTHING
            return (f"{column} IS NOT NULL", [])
        return (f"{column} {_LOOKUPS[lookup]} ?", [converted])

    def _where_clause(self) -> tuple[str, list[Any]]:
        """`` WHERE ...`` with its parameters, or ``""`` when nothing filters."""
        if not self._where:
            return "", []
        clause = " WHERE " + " AND ".join(f"({part})" for part, _ in self._where)
        return clause, [param for _, part_params in self._where for param in part_params]

    def _sql(self, select: str) -> tuple[str, list[Any]]:
        where, params = self._where_clause()
        return f'SELECT {select} FROM "{self.model._meta.table}"{where}', params

    # -- reading ------------------------------------------------------------

    def __iter__(self) -> Iterator[Any]:
        columns = ", ".join(f'"{field.column}"' for field in self.model._meta.fields)
        sql, params = self._sql(columns)
        # Unordered unless asked, as in Django: rows come in the order the database finds them.
        if self._order:
            sql += " ORDER BY " + ", ".join(self._order)
        if self._limit is not None:
            sql += f" LIMIT {int(self._limit)}"
            if self._offset:
                sql += f" OFFSET {int(self._offset)}"
        if self._matches_nothing:
            return iter(())
        rows = get_database(self._using).execute(sql, params).fetchall()
        return iter(self.model._from_db(self._using, rows))

    def count(self) -> int:
        if self._matches_nothing:
            return 0
        sql, params = self._sql("COUNT(*)")
        result: int = get_database(self._using).execute(sql, params).fetchone()[0]
        return result

    def exists(self) -> bool:
        if self._matches_nothing:
            return False
        sql, params = self._sql("1")
        return get_database(self._using).execute(sql + " LIMIT 1", params).fetchone() is not None

    def first(self) -> Any:
        """The first row (by primary key unless ordered), or None."""
        clone = self if self._order else self.order_by("pk")
        clone = clone._clone()
        clone._limit = 1
        return next(iter(clone), None)

    def get(self, **lookups: Any) -> Any:
        """The one row matching ``lookups``.

        :raises ObjectDoesNotExist: the model's ``DoesNotExist``, when none matches.
        :raises MultipleObjectsReturned: the model's, when several match.
        """
        clone = self.filter(**lookups)
        clone._limit = 2
        found = list(clone)
        if not found:
            raise self.model.DoesNotExist(
                f"{self.model._meta.label} matching {lookups!r} does not exist"
            )
        if len(found) > 1:
            raise self.model.MultipleObjectsReturned(
                f"more than one {self.model._meta.label} matches {lookups!r}"
            )
        return found[0]

    # -- writing ------------------------------------------------------------

    def create(self, **values: Any) -> Any:
        """A new instance, saved (``pre_save``/``post_save`` fire)."""
        instance = self.model(**values)
        instance.save(using=self._using)
        return instance

    def get_or_create(
        self, defaults: dict[str, Any] | None = None, **lookups: Any
    ) -> tuple[Any, bool]:
        """The row matching ``lookups``, or a new one made of ``lookups`` and ``defaults``.

        Another connection may insert the same row between the look-up and the
        insert (on PostgreSQL, where writers do not queue): when a unique
        constraint then refuses the insert, the row it committed is returned.

        :raises IntegrityError: when the insert is refused and no row matches
            ``lookups`` even then (another constraint refused it).
        """
        database = get_database(self._using)
        try:
            return self.get(**lookups), False
        except self.model.DoesNotExist:
            pass
        try:
            # A savepoint of its own: the refused insert is undone alone, and
            # the transaction around it can still read and write.
            with database.atomic():
                return self.create(**{**lookups, **(defaults or {})}), True
        except IntegrityError:
            try:
                return self.get(**lookups), False
            except self.model.DoesNotExist:
                pass
            raise

    def bulk_create(self, instances: Sequence[Model]) -> list[Model]:
        """Insert many rows in one transaction, without ``pre_save``/``post_save`` (as in
        Django); ``pre_bulk_create`` and ``post_bulk_create`` fire around the inserts.
        """
        database = get_database(self._using)
        code = self.model._meta.row_code
        row = code.insert_row
        host = get_host()
        listening = host.listening
        objs = list(instances)
        with database.atomic(savepoint=False):
            if objs and listening.get("pre_bulk_create"):
                host.hook.pre_bulk_create(sender=self.model, objs=objs, using=self._using)
            ids = database.insert_many(code.insert_sql, [row(instance) for instance in objs])
            for instance, pk in zip(objs, ids, strict=True):
                instance.pk = pk
                instance._state.db, instance._state.adding = self._using, False
            if objs and listening.get("post_bulk_create"):
                host.hook.post_bulk_create(sender=self.model, objs=objs, using=self._using)
        return objs

    def bulk_update(self, instances: Sequence[Model], fields: Sequence[str]) -> int:
        """Write ``fields`` of each instance to its row, in one transaction, without
        ``pre_save``/``post_save`` (as in Django); ``pre_bulk_update`` and
        ``post_bulk_update`` fire around the updates.

        :returns: the number of rows written.
        :raises ValueError: when no field is named, a field is the primary key,
            or an instance has no primary key; nothing is written.
        :raises LookupError: for an unknown field.
        """
        if not fields:
            raise ValueError("Field names must be given to bulk_update().")
        meta = self.model._meta
        chosen = [meta.field(name) for name in fields]
        if any(field.name == "id" for field in chosen):
            raise ValueError("bulk_update() cannot be used with primary key fields.")
        objs = list(instances)
        if any(instance.pk is None for instance in objs):
            raise ValueError("All bulk_update() objects must have a primary key set.")
        if not objs:
            return 0
        assignments = ", ".join(f'"{field.column}" = ?' for field in chosen)
        sql = f'UPDATE "{meta.table}" SET {assignments} WHERE "id" = ?'
        database = get_database(self._using)
        host = get_host()
        listening = host.listening
        names = frozenset(field.name for field in chosen)
        written = 0
        with database.atomic(savepoint=False):
            if listening.get("pre_bulk_update"):
                host.hook.pre_bulk_update(
                    sender=self.model, objs=objs, fields=names, using=self._using
                )
            for instance in objs:
                params = [_db_value(field, getattr(instance, field.attname)) for field in chosen]
                written += database.execute(sql, [*params, instance.pk]).rowcount
            if listening.get("post_bulk_update"):
                host.hook.post_bulk_update(
                    sender=self.model, objs=objs, fields=names, using=self._using
                )
        return written

    def update(self, **values: Any) -> int:
        """Set fields on every matching row in one statement, without ``pre_save``/
        ``post_save`` (as in Django); ``pre_queryset_update`` and
        ``post_queryset_update`` fire around it.

        :returns: the number of rows changed.
        """
        meta = self.model._meta
        assignments, params = [], []
        for name, value in values.items():
            field = meta.field(name)
            assignments.append(f'"{field.column}" = ?')
            params.append(_db_value(field, value))
        if self._matches_nothing:
            return 0
        where, where_params = self._where_clause()
        sql = f'UPDATE "{meta.table}" SET {", ".join(assignments)}{where}'
        database = get_database(self._using)
        host = get_host()
        listening = host.listening
        with database.atomic(savepoint=False):
            if listening.get("pre_queryset_update"):
                host.hook.pre_queryset_update(
                    sender=self.model, queryset=self, values=dict(values), using=self._using
                )
            if not listening.get("post_queryset_update"):
                count: int = database.execute(sql, [*params, *where_params]).rowcount
                return count
            pks = None
            if _names_argument(host, "post_queryset_update", "pks"):
                # The statement reads the keys itself: no SELECT before, no race.
                rows = database.execute(sql + ' RETURNING "id"', [*params, *where_params])
                pks = [pk for (pk,) in rows.fetchall()]
                count = len(pks)
            else:
                count = database.execute(sql, [*params, *where_params]).rowcount
            host.hook.post_queryset_update(
                sender=self.model,
                queryset=self,
                values=dict(values),
                using=self._using,
                pks=pks,
                count=count,
            )
        return count

    def delete(self) -> tuple[int, dict[str, int]]:
        """Delete every matching row, as ``Model.delete()`` does, with ``origin`` this QuerySet.

        Rows nobody hears deleted and nothing references go in one statement;
        a filter that matches nothing (``pk__in=[]``) runs no SQL, not even a transaction.
        """
        if self._matches_nothing:
            return 0, {}
        host = get_host()
        listening = host.listening
        if listening.get("pre_queryset_delete") or listening.get("post_queryset_delete"):
            return self._delete_heard(host)
        collector = Collector(self._using, origin=self)
        if collector.can_fast_delete(self.model):
            where, params = self._where_clause()
            database = get_database(self._using)
            with database.atomic(savepoint=False):
                deleted: int = database.execute(
                    f'DELETE FROM "{self.model._meta.table}"{where}', params
                ).rowcount
            return deleted, ({self.model._meta.label: deleted} if deleted else {})
        collector.collect(list(self))
        return collector.delete()

    def _delete_heard(self, host: Host) -> tuple[int, dict[str, int]]:
        """:meth:`delete` with ``pre_queryset_delete``/``post_queryset_delete`` around it,
        in one transaction; the fast path stays the fast path."""
        database = get_database(self._using)
        label = self.model._meta.label
        with database.atomic(savepoint=False):
            if host.listening.get("pre_queryset_delete"):
                host.hook.pre_queryset_delete(sender=self.model, queryset=self, using=self._using)
            heard = host.listening.get("post_queryset_delete")
            wants_pks = heard and _names_argument(host, "post_queryset_delete", "pks")
            pks: list[Any] | None = None
            collector = Collector(self._using, origin=self)
            if collector.can_fast_delete(self.model):
                where, params = self._where_clause()
                sql = f'DELETE FROM "{self.model._meta.table}"{where}'
                if wants_pks:
                    pks = [pk for (pk,) in database.execute(sql + ' RETURNING "id"', params)]
                    deleted = len(pks)
                else:
                    deleted = database.execute(sql, params).rowcount
                counts = {label: deleted} if deleted else {}
            else:
                collector.collect(list(self))
                if wants_pks:
                    pks = list(collector.data.get(self.model, {}))
                deleted, counts = collector.delete()
            if heard:
                host.hook.post_queryset_delete(
                    sender=self.model, using=self._using, pks=pks, count=deleted
                )
        return deleted, counts


def _db_value(field: Any, value: Any) -> Any:
    """What a column stores for ``value``: an instance's primary key, else the field's."""
    return value.pk if isinstance(value, Model) else field.to_db(value)
