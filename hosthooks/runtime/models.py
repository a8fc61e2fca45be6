"""Models on SQLite or PostgreSQL, and the model hooks.

The model layer is this module with :mod:`~hosthooks.runtime.queries`,
:mod:`~hosthooks.runtime.deletion` and :mod:`~hosthooks.runtime.relations`; the
model hooks fire in this module and the last two only:
``class_prepared``, ``pre_init``, ``post_init``, ``pre_save`` and ``post_save``
here, ``pre_delete`` and ``post_delete`` in deletion, ``m2m_changed`` in
relations. Django's semantics: ``QuerySet.update()`` and ``bulk_create()`` fire
nothing, ``save(update_fields=[])`` fires nothing, deletions fire for every
collected row (cascades included) with the same ``origin``, and relation changes
fire ``pre_``/``post_`` add, remove and clear. Every write runs in a transaction,
so a hook that raises leaves the database exactly as it was.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar
from typing import Final

from hosthooks.host import announce_class_prepared
from hosthooks.host import get_host
from hosthooks.runtime.db import DEFAULT_ALIAS
from hosthooks.runtime.db import Database
from hosthooks.runtime.db import DatabaseError
from hosthooks.runtime.db import get_database
from hosthooks.runtime.deletion import Collector
from hosthooks.runtime.fields import AutoField
from hosthooks.runtime.fields import Field
from hosthooks.runtime.fields import ForeignKey
from hosthooks.runtime.fields import ManyToMany
from hosthooks.runtime.rowcode import RowCode

if TYPE_CHECKING:
    from hosthooks.host import Host
    from hosthooks.runtime.queries import QuerySet

#: Every model class by label (``"app.Model"``), intermediate models included.
registry: Final[dict[str, type[Model]]] = {}


class ObjectDoesNotExist(LookupError):
    """``get()`` found no row."""


class MultipleObjectsReturned(LookupError):
    """``get()`` found more than one row."""


def _app_label(model: type[Model]) -> str:
    # Django's ``class Meta: app_label = "..."`` names the app wherever the class lives.
    declared = getattr(model.__dict__.get("Meta"), "app_label", None)
    if isinstance(declared, str) and declared:
        return declared
    parts = model.__module__.split(".")
    if len(parts) > 1 and parts[-1] == "models":
        parts = parts[:-1]
    return parts[-1]


class Options:
    """What a model class knows of itself: ``Model._meta``."""

    def __init__(self, model: type[Model], auto_created: bool) -> None:
        self.model = model
        self.app_label = _app_label(model)
        self.model_name = model.__name__.lower()
        self.label = f"{self.app_label}.{model.__name__}"
        self.table = f"{self.app_label}_{self.model_name}"
        self.auto_created = auto_created
        self.fields: list[Field] = []
        self.many_to_many: list[ManyToMany] = []
        #: Column groups that must be unique together (an intermediate model's pair).
        self.unique_together: list[tuple[str, ...]] = []

    @functools.cached_property
    def row_code(self) -> RowCode:
        """The per-row work of this model, compiled (fields are complete once asked)."""
        return RowCode(self.model, ModelState, Model.__init__, _initialised)

    @functools.cached_property
    def init_plan(self) -> tuple[tuple[str, str, bool, Any, bool], ...]:
        """For ``__init__`` given positional values, each field's ``(name, attname,
        is a foreign key, default, default is a callable to call)``."""
        return tuple(
            (
                field.name,
                field.attname,
                isinstance(field, ForeignKey),
                field.default if field.has_default() else None,
                field.has_default() and callable(field.default),
            )
            for field in self.fields
        )

    @property
    def pk(self) -> Field:
        return self.fields[0]

    def field(self, name: str) -> Field:
        """The field called ``name`` (or whose column is ``name``, as ``author_id``).

        :raises LookupError: naming the model and the fields it has.
        """
        if name == "pk":
            return self.fields[0]
        for field in self.fields:
            if name in (field.name, field.attname):
                return field
        known = ", ".join(field.name for field in self.fields)
        raise LookupError(f"{self.label} has no field {name!r} (fields: {known})")

    def referencing_fields(self) -> list[ForeignKey]:
        """Foreign keys of every registered model that point at this one."""
        return [
            field
            for model in registry.values()
            for field in model._meta.fields
            if isinstance(field, ForeignKey) and field.to is self.model
        ]

    def relations(self) -> list[ManyToMany]:
        """Many-to-many relations of every registered model that involve this one."""
        return [
            relation
            for model in registry.values()
            for relation in model._meta.many_to_many
            if self.model in (relation.model, relation.to)
        ]


class ModelState:
    """Per-instance bookkeeping: the database it came from and cached related objects.

    The defaults are class attributes, so making one (for every instance made
    or loaded) runs no ``__init__``; an instance's own values shadow them.
    """

    #: The alias of the database the instance was loaded from or saved to.
    db: str | None = None
    #: Whether the instance is yet to be saved.
    adding: bool = True
    _related: dict[str, Model] | None = None

    @property
    def related(self) -> dict[str, Model]:
        """Related instances loaded through foreign keys, by field name."""
        # Made on first use: most loaded rows never follow a foreign key.
        if self._related is None:
            self._related = {}
        return self._related


class ForwardDescriptor:
    """``book.author``: the referenced instance, loaded on first access and cached."""

    def __init__(self, field: ForeignKey) -> None:
        self.field = field

    def __get__(self, instance: Model | None, owner: type[Model]) -> Any:
        if instance is None:
            return self
        target_id = instance.__dict__.get(self.field.attname)
        if target_id is None:
            return None
        cached = instance._state.related.get(self.field.name)
        if cached is not None and cached.pk == target_id:
            return cached
        target = self.field.to.objects.using(instance._state.db or DEFAULT_ALIAS).get(pk=target_id)
        instance._state.related[self.field.name] = target
        return target

    def __set__(self, instance: Model, value: Model | None) -> None:
        if value is not None and not isinstance(value, self.field.to):
            raise TypeError(f"{self.field!r} takes a {self.field.to.__name__}, not {value!r}")
        instance.__dict__[self.field.attname] = None if value is None else value.pk
        if value is None:
            instance._state.related.pop(self.field.name, None)
        else:
            instance._state.related[self.field.name] = value


class ModelBase(type):
    """Builds a model class: its fields, primary key, descriptors and intermediate models.

    Fires ``class_prepared`` (historic) once the class is complete.
    """

    def __new__(
        mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any
    ) -> ModelBase:
        if not any(isinstance(base, ModelBase) for base in bases):
            return super().__new__(mcs, name, bases, namespace)
        auto_created = bool(namespace.pop("_auto_created", False))
        declared = {
            key: value for key, value in namespace.items() if isinstance(value, Field | ManyToMany)
        }
        for key in declared:
            del namespace[key]
        cls: Any = super().__new__(mcs, name, bases, namespace, **kwargs)
        meta = Options(cls, auto_created)
        cls._meta = meta
        cls.hosthooks_label = meta.label
        cls.DoesNotExist = type(
            "DoesNotExist", (ObjectDoesNotExist,), {"__module__": cls.__module__}
        )
        cls.MultipleObjectsReturned = type(
            "MultipleObjectsReturned", (MultipleObjectsReturned,), {"__module__": cls.__module__}
        )
        primary_key = AutoField()
        primary_key.contribute(cls, "id")
        meta.fields.append(primary_key)
        for attribute, value in declared.items():
            if isinstance(value, ManyToMany):
                continue
            value.contribute(cls, attribute)
            meta.fields.append(value)
            if isinstance(value, ForeignKey):
                setattr(cls, attribute, ForwardDescriptor(value))
        registry[meta.label] = cls
        relations = {key: value for key, value in declared.items() if isinstance(value, ManyToMany)}
        if relations:
            # Relations build on this module (their intermediate rows are models),
            # so they are imported once a model first declares one.
            from hosthooks.runtime.relations import contribute_relation

            for attribute, relation in relations.items():
                contribute_relation(cls, attribute, relation)
        # Always announced, listeners or not: a plugin registered later, on any
        # host, replays it. Announcing creates no host, so defining a model
        # (while a module imports) discovers no plugin.
        announce_class_prepared(cls)
        return cls  # type: ignore[no-any-return]


class ManagerDescriptor:
    """``Model.objects``: a fresh QuerySet on the default database for each access."""

    def __get__(self, instance: Model | None, owner: type[Model]) -> QuerySet:
        if instance is not None:
            raise AttributeError("objects is reachable from the model class, not an instance")
        # Queries build on this module (they make instances of its models), so
        # the module holding them is imported where a query starts.
        from hosthooks.runtime.queries import QuerySet

        return QuerySet(owner)


class Model(metaclass=ModelBase):
    """Base class of models: subclass it and declare fields as class attributes.

    Every model gets an integer primary key ``id``, also reachable as ``pk``.
    """

    _meta: ClassVar[Options]
    hosthooks_label: ClassVar[str]
    DoesNotExist: ClassVar[type[ObjectDoesNotExist]]
    MultipleObjectsReturned: ClassVar[type[MultipleObjectsReturned]]
    objects: ClassVar[Any] = ManagerDescriptor()
    id: Any
    _state: ModelState

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # A model that keeps this __init__ gets one of its own at its first
        # instance (RowCode.init): keyword parameters per field for the common
        # call, which leaves every other case, and any pre_init to fire, here.
        cls = type(self)
        if "__init__" not in cls.__dict__:
            inherited = cls.__init__
            if inherited is Model.__init__ or hasattr(inherited, "row_code_of"):
                init = cls._meta.row_code.init
                if init is not None:
                    setattr(cls, "__init__", init)  # noqa: B010 (mypy refuses the plain assignment)
        host = get_host()
        listening = host.listening
        if listening.get("pre_init"):
            host.hook.pre_init(sender=cls, args=args, kwargs=kwargs)
        # Consumed in place, as Django does: a pre_init implementation that keeps
        # ``kwargs`` sees what was left unused (nothing, once __init__ succeeds).
        if args:
            self._assign_positional(args, kwargs)
        else:
            cls._meta.row_code.assign(self, kwargs)
        if kwargs:
            self._assign_leftover(kwargs)
        if listening.get("post_init"):
            _initialised(host, self)

    def _assign_positional(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Set the first fields from ``args`` (rows loaded for listeners come so), the
        rest as :attr:`RowCode.assign` does from ``kwargs``."""
        cls = type(self)
        values = self.__dict__
        values["_state"] = ModelState()
        plan = cls._meta.init_plan
        if len(args) > len(plan):
            raise TypeError(f"{cls.__name__}() takes at most {len(plan)} positional arguments")
        for (_, attname, _, _, _), value in zip(plan, args, strict=False):
            values[attname] = value
        for name, attname, is_foreign_key, default, call_default in plan[len(args) :]:
            if name in kwargs:
                value = kwargs.pop(name)
                if is_foreign_key:
                    setattr(self, name, value)
                    continue
                values[attname] = value
            elif is_foreign_key and attname in kwargs:
                values[attname] = kwargs.pop(attname)
            else:
                values[attname] = default() if call_default else default

    def _assign_leftover(self, kwargs: dict[str, Any]) -> None:
        """Take ``pk=`` from what the fields left of ``kwargs``.

        :raises TypeError: for anything else left, naming it.
        """
        cls = type(self)
        if "pk" in kwargs:
            self.__dict__["id"] = kwargs.pop("pk")
        if kwargs:
            relations = {relation.name for relation in cls._meta.many_to_many}
            name = next(iter(kwargs))
            if name in relations:
                raise TypeError(
                    f"direct assignment to {cls.__name__}.{name} is not allowed; use .set()"
                )
            raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {name!r}")

    @classmethod
    def _from_db(cls, using: str, rows: Iterable[Sequence[Any]]) -> list[Model]:
        """Instances of ``rows`` (every column, in field order) loaded from ``using``.

        Django builds them through ``__init__``, so ``pre_init`` (with the
        values as ``args``) and ``post_init`` fire for each; when nobody hears
        either and the model keeps Model's ``__init__``, that is all
        ``__init__`` would do, and the values are set directly instead.

        :raises ValueError: for a row without one value per field.
        """
        host = get_host()
        init = cls.__init__
        models_own = init is Model.__init__ or init is cls._meta.row_code.init
        if (
            models_own
            and not host.has_listeners("pre_init", cls)
            and not host.has_listeners("post_init", cls)
        ):
            return cls._meta.row_code.load(rows, using)
        converters = [
            (index, field.from_db)
            for index, field in enumerate(cls._meta.fields)
            if type(field).from_db is not Field.from_db
        ]
        make = object.__new__
        instances: list[Model] = []
        for row in rows:
            values: Sequence[Any] = row
            if converters:
                values = list(row)
                for index, convert in converters:
                    values[index] = convert(values[index])
            if models_own:
                # Where the generated __init__ would hand positional values on to.
                instance = make(cls)
                Model.__init__(instance, *values)
            else:
                instance = cls(*values)
            instance._state.db = using
            instance._state.adding = False
            instances.append(instance)
        return instances

    @property
    def pk(self) -> Any:
        return self.__dict__.get("id")

    @pk.setter
    def pk(self, value: Any) -> None:
        self.__dict__["id"] = value

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: pk={self.pk!r}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Model) or type(other) is not type(self):
            return NotImplemented
        # Without a primary key, an instance is equal to itself only, as in Django.
        if self.pk is None:
            return self is other
        return bool(self.pk == other.pk)

    def __hash__(self) -> int:
        if self.pk is None:
            raise TypeError("a model instance without a primary key is unhashable")
        return hash((type(self), self.pk))

    def save(
        self,
        *,
        using: str | None = None,
        update_fields: Iterable[str] | None = None,
        raw: bool = False,
    ) -> None:
        """Insert the row (no pk, or a pk no row has) or update it.

        Fires ``pre_save`` before the write and ``post_save`` after it, inside
        one transaction: if either raises (or the write fails), nothing is
        written. ``update_fields=[]`` writes and fires nothing.

        :param using: the database alias; where the instance came from, else ``"default"``.
        :param update_fields: only write these fields (the row must exist).
        :param raw: save exactly as presented, as fixture loading does.
        :raises ValueError: for an unknown field in ``update_fields``, or
            ``update_fields`` on an instance without a primary key.
        :raises IntegrityError: when a constraint refuses the row.
        """
        cls = type(self)
        meta = cls._meta
        names: frozenset[str] | None = None
        if update_fields is not None:
            # Sent to the hooks as given ("author_id" stays "author_id"), as Django does.
            names = frozenset(update_fields)
            if not names:
                return
            try:
                chosen = [meta.field(name) for name in names]
            except LookupError as error:
                raise ValueError(f"update_fields: {error}") from None
            if meta.pk in chosen:
                raise ValueError("update_fields cannot include the primary key")
            if self.pk is None:
                raise ValueError("update_fields needs an instance with a primary key")
        alias = using or self._state.db or DEFAULT_ALIAS
        database = get_database(alias)
        block = database.joined_block()
        if block is None:
            # Outside any block, the save is a transaction of its own: this same
            # save (Model's, not an override's again), inside one.
            with database.atomic(savepoint=False):
                Model.save(self, using=alias, update_fields=names, raw=raw)
            return
        # Inside an enclosing atomic() block, no savepoint: a failure marks that
        # block for rollback instead, as Django's save() does (try/except rather
        # than a context manager: it costs nothing until something raises).
        cls = type(self)
        host = get_host()
        listening = host.listening
        try:
            if listening.get("pre_save"):
                host.hook.pre_save(
                    sender=cls, instance=self, raw=raw, using=alias, update_fields=names
                )
            if self.id is None:
                code = cls._meta.row_code
                self.id = block.insert(code.insert_sql, code.insert_row(self))
                created = True
            else:
                created = self._write_with_pk(database, names)
            state = self._state
            state.db = alias
            state.adding = False
            if listening.get("post_save"):
                host.hook.post_save(
                    sender=cls,
                    instance=self,
                    created=created,
                    raw=raw,
                    using=alias,
                    update_fields=names,
                )
        except BaseException:
            block.mark_for_rollback()
            raise

    def _write_with_pk(self, database: Database, names: frozenset[str] | None) -> bool:
        """Update the row, or insert it with its pk when there is none; whether it was inserted.

        :raises DatabaseError: with ``update_fields`` (``names``), when there is no row.
        """
        meta = type(self)._meta
        pk = self.id
        code = meta.row_code
        if names is None and code.update_sql is not None:
            updated = database.execute(code.update_sql, code.update_row(self)).rowcount > 0
        elif names is not None:
            fields = [field for field in meta.fields[1:] if not names.isdisjoint(field.names)]
            assignments = ", ".join(f'"{field.column}" = ?' for field in fields)
            values = [field.to_db(getattr(self, field.attname)) for field in fields]
            updated = (
                database.execute(
                    f'UPDATE "{meta.table}" SET {assignments} WHERE "id" = ?', [*values, pk]
                ).rowcount
                > 0
            )
        else:
            found = database.execute(f'SELECT 1 FROM "{meta.table}" WHERE "id" = ?', [pk])
            updated = found.fetchone() is not None
        if updated:
            return False
        if names is not None:
            raise DatabaseError(f"save(update_fields=...) found no {meta.label} row with pk={pk!r}")
        database.execute(code.insert_sql_with_pk, code.insert_row_with_pk(self))
        database.after_explicit_ids(meta.table)
        return True

    def delete(self, *, using: str | None = None) -> tuple[int, dict[str, int]]:
        """Delete this row and, by ``on_delete``, the rows referencing it.

        Fires ``pre_delete`` for every collected instance before any DELETE and
        ``post_delete`` after each, all with ``origin=self``, in one transaction.

        :returns: the number of rows deleted, and the count per model label.
        :raises ValueError: when the instance has no primary key.
        :raises ProtectedError: when a PROTECT reference forbids it; nothing is deleted.
        """
        if self.pk is None:
            raise ValueError(f"{type(self).__name__} cannot be deleted: it has no primary key")
        collector = Collector(using or self._state.db or DEFAULT_ALIAS, origin=self)
        collector.collect([self])
        return collector.delete()

    def refresh_from_db(self, *, using: str | None = None) -> None:
        """Reload every field from the database.

        :raises ObjectDoesNotExist: (the model's ``DoesNotExist``) when the row is gone.
        """
        alias = using or self._state.db or DEFAULT_ALIAS
        fresh = type(self).objects.using(alias).get(pk=self.pk)
        for field in type(self)._meta.fields:
            self.__dict__[field.attname] = fresh.__dict__[field.attname]
        self._state.related.clear()
        self._state.db = alias


def _initialised(host: Host, instance: Model) -> None:
    host.hook.post_init(sender=type(instance), instance=instance)


def app_of(model: type[Model]) -> Any:
    """The app a model belongs to: the module it is defined in."""
    return sys.modules[model.__module__]
