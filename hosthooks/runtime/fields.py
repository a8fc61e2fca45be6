"""Model fields: how a Python value is stored in a column and read back."""

from __future__ import annotations

import datetime
import json
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

if TYPE_CHECKING:
    from hosthooks.runtime.backends.base import Backend
    from hosthooks.runtime.models import Model


class OnDelete:
    """What deleting a referenced row does to the rows that reference it."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


CASCADE: Final = OnDelete("CASCADE")
PROTECT: Final = OnDelete("PROTECT")
SET_NULL: Final = OnDelete("SET_NULL")

_NO_DEFAULT: Final = object()


class Field:
    """A column. Subclasses say how values convert to and from the database.

    :param null: whether the column accepts NULL (None).
    :param default: the value (or a callable making it) for instances that
        were given none.
    :param unique: whether the column has a UNIQUE constraint.
    """

    #: What kind of column it is; each backend names its type (``column_types``).
    kind = "text"
    #: Values of exactly this type are stored as they are (``to_db`` would return
    #: them unchanged), so writes skip the call; None when every value converts.
    stored_as: type | None = None

    if TYPE_CHECKING:
        # The model class replaces fields by plain instance attributes; to a
        # type checker, reading or writing one on an instance is a value.
        def __get__(self, instance: object, owner: Any) -> Any: ...
        def __set__(self, instance: object, value: Any) -> None: ...

    def __init__(
        self, *, null: bool = False, default: Any = _NO_DEFAULT, unique: bool = False
    ) -> None:
        self.null = null
        self.default = default
        self.unique = unique
        self.name = ""
        self.attname = ""
        self.model: type[Model] | None = None

    def contribute(self, model: type[Model], name: str) -> None:
        self.model = model
        self.name = name
        self.attname = name

    @property
    def column(self) -> str:
        return self.attname

    @property
    def names(self) -> tuple[str, str]:
        """What the field is called: its name and its attribute (``author``, ``author_id``)."""
        return (self.name, self.attname)

    def has_default(self) -> bool:
        return self.default is not _NO_DEFAULT

    def get_default(self) -> Any:
        if not self.has_default():
            return None
        return self.default() if callable(self.default) else self.default

    def to_db(self, value: Any) -> Any:
        return value

    def from_db(self, value: Any) -> Any:
        return value

    def column_sql(self, backend: Backend) -> str:
        parts = [f'"{self.column}"', backend.column_types[self.kind]]
        if not self.null:
            parts.append("NOT NULL")
        if self.unique:
            parts.append("UNIQUE")
        return " ".join(parts)

    def __repr__(self) -> str:
        owner = self.model.__name__ if self.model else "?"
        return f"<{type(self).__name__} {owner}.{self.name}>"


class AutoField(Field):
    """The integer primary key every model gets as ``id`` (also reachable as ``pk``)."""

    kind = "integer"
    stored_as = int

    def __init__(self) -> None:
        super().__init__(null=True)

    def column_sql(self, backend: Backend) -> str:
        return f'"{self.column}" {backend.primary_key_definition}'


class Text(Field):
    kind = "text"
    stored_as = str

    def to_db(self, value: Any) -> Any:
        return None if value is None else str(value)


class Integer(Field):
    kind = "integer"
    stored_as = int

    def to_db(self, value: Any) -> Any:
        return None if value is None else int(value)


class Float(Field):
    kind = "float"
    stored_as = float

    def to_db(self, value: Any) -> Any:
        return None if value is None else float(value)


class Boolean(Field):
    kind = "boolean"

    def to_db(self, value: Any) -> Any:
        # SQLite stores a bool as 1 or 0; PostgreSQL's BOOLEAN column takes it as it is.
        return None if value is None else bool(value)

    def from_db(self, value: Any) -> Any:
        return None if value is None else bool(value)


class DateTime(Field):
    """A datetime, stored as ISO 8601 text so that it sorts and compares as text does."""

    kind = "datetime"

    def to_db(self, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime.datetime):
            raise TypeError(f"{self!r} takes a datetime, not {type(value).__name__}")
        return value.isoformat()

    def from_db(self, value: Any) -> Any:
        return None if value is None else datetime.datetime.fromisoformat(value)


class JSON(Field):
    """Any JSON-serialisable value, stored as JSON text."""

    kind = "json"

    def to_db(self, value: Any) -> Any:
        return None if value is None and self.null else json.dumps(value)

    def from_db(self, value: Any) -> Any:
        return None if value is None else json.loads(value)


class ForeignKey(Field):
    """A reference to another model's row, stored in ``<name>_id``.

    :param to: the referenced model class.
    :param on_delete: CASCADE, PROTECT or SET_NULL (which needs ``null=True``).
    :raises TypeError: for any other ``on_delete``.
    :param related_name: the name of the reverse accessor on ``to``; ``<model>_set`` when None.
    """

    kind = "foreign_key"
    stored_as = int

    def __init__(
        self,
        to: type[Model],
        *,
        on_delete: OnDelete,
        null: bool = False,
        related_name: str | None = None,
    ) -> None:
        if not isinstance(on_delete, OnDelete):
            raise TypeError(
                f"on_delete must be one of CASCADE, PROTECT, SET_NULL, not {on_delete!r}"
            )
        if on_delete is SET_NULL and not null:
            raise ValueError("on_delete=SET_NULL needs null=True")
        super().__init__(null=null)
        self.to = to
        self.on_delete = on_delete
        self.related_name = related_name

    def contribute(self, model: type[Model], name: str) -> None:
        super().contribute(model, name)
        self.attname = f"{name}_id"

    def to_db(self, value: Any) -> Any:
        return None if value is None else int(value)

    def column_sql(self, backend: Backend) -> str:
        target = self.to._meta
        # PROTECT and CASCADE are enforced (and hooked) in Python; the
        # constraint is a backstop for writes that bypass the model layer.
        return (
            f'{super().column_sql(backend)} REFERENCES "{target.table}" ("id") '
            "DEFERRABLE INITIALLY DEFERRED"
        )


class ManyToMany:
    """A many-to-many relation through an automatically created intermediate model.

    :param to: the related model class.
    :param related_name: the name of the reverse accessor on ``to``; ``<model>_set`` when None.
    """

    if TYPE_CHECKING:
        # On an instance the attribute is a related manager, on the class a descriptor.
        def __get__(self, instance: object, owner: Any) -> Any: ...

    def __init__(self, to: type[Model], *, related_name: str | None = None) -> None:
        self.to = to
        self.related_name = related_name
        self.name = ""
        self.model: type[Model] | None = None
        self.through: type[Model] | None = None
        #: The intermediate table's columns for this side and the related side.
        self.source_column = ""
        self.target_column = ""

    def __repr__(self) -> str:
        owner = self.model.__name__ if self.model else "?"
        return f"<ManyToMany {owner}.{self.name}>"
