"""Many-to-many relations: the intermediate model, the descriptors and the related
manager, and ``m2m_changed``.

Part of the model layer: :mod:`hosthooks.runtime.models` and this module are the
only places the model hooks fire. Relation changes fire ``pre_``/``post_`` add,
remove and clear, with Django's ``pk_set``.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from typing import Any

from hosthooks.host import get_host
from hosthooks.runtime.db import DEFAULT_ALIAS
from hosthooks.runtime.db import Database
from hosthooks.runtime.db import get_database
from hosthooks.runtime.deletion import PARAMETERS_PER_STATEMENT
from hosthooks.runtime.deletion import batches
from hosthooks.runtime.deletion import marks
from hosthooks.runtime.fields import CASCADE
from hosthooks.runtime.fields import ForeignKey
from hosthooks.runtime.fields import ManyToMany
from hosthooks.runtime.models import Model
from hosthooks.runtime.models import ModelBase
from hosthooks.runtime.queries import QuerySet


class ManyToManyDescriptor:
    """``book.tags`` (forward) or ``tag.books`` (reverse): a related manager."""

    def __init__(self, relation: ManyToMany, reverse: bool) -> None:
        self.relation = relation
        self.reverse = reverse

    def __get__(self, instance: Model | None, owner: type[Model]) -> Any:
        if instance is None:
            return self
        return ManyRelatedManager(instance, self.relation, self.reverse)

    def __set__(self, instance: Model, value: Any) -> None:
        raise TypeError(
            f"direct assignment to {self.relation!r} is not allowed; use .set() instead"
        )


def contribute_relation(model: Any, name: str, relation: ManyToMany) -> None:
    """Set up ``model.<name>``: the intermediate model, and the descriptors on both sides."""
    relation.model = model
    relation.name = name
    source = model.__name__.lower()
    target = relation.to.__name__.lower()
    if source == target:
        target = f"to_{target}"
    through_namespace: dict[str, Any] = {
        "__module__": model.__module__,
        "__qualname__": f"{model.__name__}_{name}",
        "_auto_created": True,
        # The intermediate model belongs to the app of the model declaring the relation.
        "Meta": type("Meta", (), {"app_label": model._meta.app_label}),
        source: ForeignKey(model, on_delete=CASCADE),
        target: ForeignKey(relation.to, on_delete=CASCADE),
    }
    through: Any = ModelBase(f"{model.__name__}_{name}", (Model,), through_namespace)
    relation.through = through
    relation.source_column = f"{source}_id"
    relation.target_column = f"{target}_id"
    # One row per related pair, as Django's intermediate tables have.
    through._meta.unique_together.append((relation.source_column, relation.target_column))
    model._meta.many_to_many.append(relation)
    setattr(model, name, ManyToManyDescriptor(relation, reverse=False))
    reverse_name = relation.related_name or f"{model.__name__.lower()}_set"
    setattr(relation.to, reverse_name, ManyToManyDescriptor(relation, reverse=True))


class ManyRelatedManager:
    """One side of a many-to-many relation, for one instance: add, remove, clear, set, query."""

    def __init__(self, instance: Model, relation: ManyToMany, reverse: bool) -> None:
        if instance.pk is None:
            raise ValueError(
                f"{type(instance).__name__} needs a primary key before its relation "
                f"{relation.name!r} can be used; save it first"
            )
        assert relation.through is not None
        assert relation.model is not None
        self.instance = instance
        self.relation = relation
        self.reverse = reverse
        self.through = relation.through
        self.model: type[Model] = relation.model if reverse else relation.to
        source, target = relation.source_column, relation.target_column
        self.own_column, self.other_column = (target, source) if reverse else (source, target)
        self.using = instance._state.db or DEFAULT_ALIAS

    def _queryset(self) -> QuerySet:
        return QuerySet(self.model, self.using)._where_in_subquery(
            f'"id" IN (SELECT "{self.other_column}" FROM "{self.through._meta.table}" '
            f'WHERE "{self.own_column}" = ?)',
            [self.instance.pk],
        )

    def all(self) -> QuerySet:
        return self._queryset()

    def filter(self, **lookups: Any) -> QuerySet:
        return self._queryset().filter(**lookups)

    def count(self) -> int:
        return self._queryset().count()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._queryset())

    def _ids(self, objects: Iterable[Any]) -> list[Any]:
        ids = []
        for item in objects:
            if isinstance(item, Model):
                if not isinstance(item, self.model):
                    raise TypeError(
                        f"{self.relation!r} takes {self.model.__name__} instances, not {item!r}"
                    )
                if item.pk is None:
                    raise ValueError(f"{item!r} must be saved before it is related")
                ids.append(item.pk)
            elif item is None:
                raise ValueError(f"{self.relation!r} cannot relate None")
            else:
                ids.append(int(item))
        return ids

    def _current(self) -> set[Any]:
        rows = get_database(self.using).execute(
            f'SELECT "{self.other_column}" FROM "{self.through._meta.table}" '
            f'WHERE "{self.own_column}" = ?',
            [self.instance.pk],
        )
        return {row[0] for row in rows}

    def _changed(self, action: str, pk_set: set[Any] | None) -> None:
        host = get_host()
        if host.has_listeners("m2m_changed"):
            host.hook.m2m_changed(
                sender=self.through,
                instance=self.instance,
                action=action,
                reverse=self.reverse,
                model=self.model,
                pk_set=pk_set,
                using=self.using,
                raw=False,
            )

    def _rows(self) -> QuerySet:
        return QuerySet(self.through, self.using).filter(**{self.own_column: self.instance.pk})

    def add(self, *objects: Any) -> None:
        """Relate ``objects``; ``pk_set`` holds the ids not already related (maybe none).

        Reads only the submitted ids, never every pair stored, so an add costs
        the same however many pairs exist; with nobody listening to
        ``m2m_changed``, it reads nothing and lets SQLite skip existing pairs.
        """
        if not objects:
            return
        ids = list(dict.fromkeys(self._ids(objects)))
        database = get_database(self.using)
        listening = get_host().has_listeners("m2m_changed", self.through)
        with database.atomic(savepoint=False):
            if not listening:
                self._insert(database, ids, skip_existing=True)
                return
            existing = self._existing(database, ids)
            missing = {pk for pk in ids if pk not in existing}
            self._changed("pre_add", missing)
            # The set as the pre_add implementations left it, as Django inserts.
            self._insert(database, sorted(missing), skip_existing=False)
            self._changed("post_add", missing)

    def _existing(self, database: Database, ids: Sequence[Any]) -> set[Any]:
        """Which of ``ids`` are related already (only they are read)."""
        table = self.through._meta.table
        found: set[Any] = set()
        # One parameter goes to this side's id.
        for batch in batches(ids, PARAMETERS_PER_STATEMENT - 1):
            rows = database.execute(
                f'SELECT "{self.other_column}" FROM "{table}" WHERE "{self.own_column}" = ? '
                f'AND "{self.other_column}" IN ({marks(len(batch))})',
                [self.instance.pk, *batch],
            )
            found.update(row[0] for row in rows)
        return found

    def _insert(self, database: Database, ids: Sequence[Any], *, skip_existing: bool) -> None:
        own_pk = self.instance.pk
        host = get_host()
        if host.has_listeners("pre_init", self.through) or host.has_listeners(
            "post_init", self.through
        ):
            # Django makes an intermediate instance per pair: those listening see
            # them (they are written below, without save hooks).
            for other in ids:
                self.through(**{self.own_column: own_pk, self.other_column: other})
        table, columns = self.through._meta.table, (self.own_column, self.other_column)
        statement = (
            database.backend.insert_skipping_duplicates(table, columns)
            if skip_existing
            else f'INSERT INTO "{table}" ("{columns[0]}", "{columns[1]}") VALUES (?, ?)'
        )
        database.executemany(statement, [(own_pk, other) for other in ids])

    def remove(self, *objects: Any) -> None:
        """Unrelate ``objects``; ``pk_set`` holds every id submitted."""
        if not objects:
            return
        ids = set(self._ids(objects))
        with get_database(self.using).atomic(savepoint=False):
            self._changed("pre_remove", ids)
            self._rows().filter(**{f"{self.other_column}__in": sorted(ids)}).delete()
            self._changed("post_remove", ids)

    def clear(self) -> None:
        """Unrelate everything; ``pk_set`` is None."""
        with get_database(self.using).atomic(savepoint=False):
            self._changed("pre_clear", None)
            self._rows().delete()
            self._changed("post_clear", None)

    def create(self, **values: Any) -> Any:
        """A new related instance: saved (``pre_save``/``post_save``), then added
        (``m2m_changed``), in one transaction."""
        with get_database(self.using).atomic(savepoint=False):
            instance = QuerySet(self.model, self.using).create(**values)
            self.add(instance)
        return instance

    def set(self, objects: Iterable[Any], *, clear: bool = False) -> None:
        """Make the relation exactly ``objects``: removes the others, then adds the new
        ones; with ``clear=True``, clears everything, then adds them all."""
        wanted = self._ids(objects)
        with get_database(self.using).atomic(savepoint=False):
            if clear:
                self.clear()
                if wanted:
                    self.add(*wanted)
                return
            current = self._current()
            stale = current - set(wanted)
            if stale:
                self.remove(*sorted(stale))
            new = [pk for pk in dict.fromkeys(wanted) if pk not in current]
            if new:
                self.add(*new)
