"""Deleting rows: what ``on_delete`` collects, and ``pre_delete``/``post_delete``.

Part of the model layer: :mod:`hosthooks.runtime.models` and this module are the
only places the model hooks fire. Statements go in batches, so deleting many rows
costs a few statements, not one per row, and never more parameters than any
SQLite build accepts.
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from hosthooks.host import get_host
from hosthooks.runtime.db import DatabaseError
from hosthooks.runtime.db import get_database
from hosthooks.runtime.fields import CASCADE
from hosthooks.runtime.fields import PROTECT
from hosthooks.runtime.fields import SET_NULL
from hosthooks.runtime.fields import ForeignKey

if TYPE_CHECKING:
    from hosthooks.runtime.models import Model

#: Most parameters one statement takes: SQLite's limit before 3.32 (999), which
#: every build accepts.
PARAMETERS_PER_STATEMENT: Final = 999
#: Rows one DELETE of collected (loaded) rows removes, as Django batches them.
ROWS_PER_DELETE: Final = 100


class ProtectedError(DatabaseError):
    """A deletion would remove rows a PROTECT foreign key references; nothing was deleted.

    :ivar protected_objects: the referencing instances that forbid it.
    """

    def __init__(self, message: str, protected_objects: set[Model]) -> None:
        super().__init__(message)
        self.protected_objects = protected_objects


def batches(values: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """``values`` in consecutive slices of at most ``size``."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def marks(count: int) -> str:
    """``?, ?, ?`` for ``count`` parameters."""
    return ", ".join("?" * count)


class Collector:
    """Gathers what a deletion removes, following ``on_delete``, then deletes it.

    As Django's collector does, rows that nobody hears deleted and that nothing
    references are deleted by one statement without being loaded; every other
    row is loaded (so ``pre_init``/``post_init`` fire for it) and deleted with
    its hooks. Intermediate (many-to-many) rows never fire the delete hooks.
    """

    def __init__(self, using: str, origin: Any) -> None:
        self.using = using
        self.origin = origin
        self.data: dict[type[Model], dict[Any, Model]] = {}
        #: (model, column, values): rows deleted by one statement, unloaded.
        self.fast_deletes: list[tuple[type[Model], str, list[Any]]] = []
        self.nullify: list[tuple[ForeignKey, list[Any]]] = []

    def can_fast_delete(self, model: type[Model]) -> bool:
        """Whether ``model``'s rows can go without loading: no delete hook listens
        for it and no foreign key points at it."""
        host = get_host()
        if host.has_listeners("pre_delete", model) or host.has_listeners("post_delete", model):
            return False
        return not model._meta.referencing_fields()

    def collect(self, instances: Sequence[Model]) -> None:
        """Add ``instances`` (of one model) and, by ``on_delete``, what references them.

        :raises ProtectedError: naming every protected foreign key and referencing
            instance found at this step, once all of them are known.
        """
        if not instances:
            return
        model = type(instances[0])
        seen = self.data.setdefault(model, {})
        new = [instance for instance in instances if instance.pk not in seen]
        for instance in new:
            seen[instance.pk] = instance
        if not new:
            return
        pks = [instance.pk for instance in new]
        protected: dict[str, set[Model]] = {}
        for field in model._meta.referencing_fields():
            related_model = field.model
            assert related_model is not None
            if field.on_delete is CASCADE and self.can_fast_delete(related_model):
                self.fast_deletes.append((related_model, field.column, pks))
                continue
            related = [
                row
                for batch in batches(pks, PARAMETERS_PER_STATEMENT)
                for row in related_model.objects.using(self.using).filter(
                    **{f"{field.attname}__in": batch}
                )
            ]
            if not related:
                continue
            path = f"{related_model.__name__}.{field.name}"
            if field.on_delete is PROTECT:
                protected.setdefault(path, set()).update(related)
            elif field.on_delete is SET_NULL:
                self.nullify.append((field, [row.pk for row in related]))
            else:
                try:
                    self.collect(related)
                except ProtectedError as error:
                    # Reported at this level, through the key the cascade
                    # followed, as Django does: the path to what protects.
                    protected.setdefault(path, set()).update(error.protected_objects)
        if protected:
            names = ", ".join(f"'{name}'" for name in protected)
            raise ProtectedError(
                f"Cannot delete some instances of model '{model.__name__}' because they "
                f"are referenced through protected foreign keys: {names}.",
                set().union(*protected.values()),
            )

    def delete(self) -> tuple[int, dict[str, int]]:
        """Fire ``pre_delete`` for every collected instance, delete every row, and fire
        ``post_delete`` for each instance once its row is gone, in one transaction.

        :returns: the number of rows deleted, and the count per model label.
        """
        database = get_database(self.using)
        host = get_host()
        # Dependents were collected after what they depend on: delete them first.
        order = list(reversed(self.data))
        counts: dict[str, int] = {}

        def count(model: type[Model], deleted: int) -> None:
            if deleted:
                counts[model._meta.label] = counts.get(model._meta.label, 0) + deleted

        with database.atomic(savepoint=False):
            if host.has_listeners("pre_delete"):
                for model in order:
                    if model._meta.auto_created:
                        continue
                    for instance in self.data[model].values():
                        host.hook.pre_delete(
                            sender=model, instance=instance, using=self.using, origin=self.origin
                        )
            for model, column, values in self.fast_deletes:
                for batch in batches(values, PARAMETERS_PER_STATEMENT):
                    statement = (
                        f'DELETE FROM "{model._meta.table}" '
                        f'WHERE "{column}" IN ({marks(len(batch))})'
                    )
                    count(model, database.execute(statement, batch).rowcount)
            for field, pks in self.nullify:
                assert field.model is not None
                for batch in batches(pks, PARAMETERS_PER_STATEMENT):
                    database.execute(
                        f'UPDATE "{field.model._meta.table}" SET "{field.column}" = NULL '
                        f'WHERE "id" IN ({marks(len(batch))})',
                        batch,
                    )
            for model in order:
                instances = self.data[model]
                for batch in batches(list(instances), ROWS_PER_DELETE):
                    statement = (
                        f'DELETE FROM "{model._meta.table}" WHERE "id" IN ({marks(len(batch))})'
                    )
                    count(model, database.execute(statement, batch).rowcount)
                if not model._meta.auto_created and host.has_listeners("post_delete"):
                    for instance in instances.values():
                        host.hook.post_delete(
                            sender=model, instance=instance, using=self.using, origin=self.origin
                        )
        for model in order:
            for instance in self.data[model].values():
                instance.pk = None
        return sum(counts.values()), counts
