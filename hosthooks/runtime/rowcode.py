"""The per-row work of a model (statements, and functions written out field by
field), made once per model.

Making an instance, loading a row and writing one run for every row, and a
loop over the fields costs more there than the work it does: a tuple unpacked
per field, a dictionary made per instance. So, once per model, that loop is
unrolled into the source of a function naming each field, and compiled; the
source stays on the result (``RowCode.source``) for a reader debugging it.

Only values move here: the model hooks fire in :mod:`hosthooks.runtime.models`,
which calls these functions and keeps every semantic decision in one place.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from hosthooks.host import get_host
from hosthooks.runtime.fields import Field
from hosthooks.runtime.fields import ForeignKey

if TYPE_CHECKING:
    from hosthooks.host import Host
    from hosthooks.runtime.models import Model

#: What a parameter of a generated ``__init__`` holds when its argument was not passed.
_MISSING: Final = object()

#: Sets an instance's fields from keyword arguments, popping each one it uses.
Assign = Callable[["Model", dict[str, Any]], None]
#: Makes the instances of rows (every column, in field order) loaded from a database alias.
Load = Callable[[Iterable[Sequence[Any]], str], list["Model"]]
#: The parameters of an instance's row, as a statement takes them.
Row = Callable[["Model"], tuple[Any, ...]]


class RowCode:
    """The compiled per-row functions of one model.

    :param model: a model class whose fields are complete.
    :param state_class: what each instance's ``_state`` is an instance of.
    :param general_init: ``Model.__init__``, which :attr:`init` leaves every case
        but the common one to (positional values, unknown or doubled arguments,
        a ``pre_init`` to fire, an instance of a subclass).
    :param initialised: fires ``post_init`` for an instance, with the host given.
    """

    def __init__(
        self,
        model: type[Model],
        state_class: type,
        general_init: Callable[..., None],
        initialised: Callable[[Host, Model], None],
    ) -> None:
        meta = model._meta
        fields = meta.fields
        #: The INSERT of one row without its pk (the database gives one), and with it.
        self.insert_sql = _insert_sql(meta.table, fields[1:])
        self.insert_sql_with_pk = _insert_sql(meta.table, fields)
        assignments = ", ".join(f'"{field.column}" = ?' for field in fields[1:])
        #: The UPDATE of every field but the pk, by pk; None when there is no other field.
        self.update_sql = (
            f'UPDATE "{meta.table}" SET {assignments} WHERE "id" = ?' if assignments else None
        )
        # Every global the generated ``__init__`` reads starts with "__": its
        # parameters are the fields' names, which may be any identifier
        # (``type``, ``State``) and would hide a global of the same name.
        self._namespace: dict[str, Any] = {"model": model, "new": object.__new__}
        self._namespace["State"] = self._namespace["__State"] = state_class
        self._namespace["__type"] = type
        self._namespace["__general_init"] = general_init
        self._namespace["__initialised"] = initialised
        self._namespace["__get_host"] = get_host
        self._namespace["__MISSING"] = _MISSING
        # Fields become parameters: only names a def can take, and none that
        # could be one of the generated function's own (those start with "__").
        plain = all(
            _is_name(name) and not name.startswith("__") for field in fields for name in field.names
        )
        sources = [
            _init_source(model, fields, self._constant) if plain else "__init__ = None\n",
            _assign_source(fields, self._constant),
            _load_source(fields, self._constant),
            _row_source("insert_row", fields[1:], self._constant),
            _row_source("insert_row_with_pk", fields, self._constant),
            # UPDATE ... SET (every field but the pk) WHERE "id" = ?: the pk goes last.
            _row_source("update_row", [*fields[1:], fields[0]], self._constant),
        ]
        #: The generated functions' source.
        self.source = "\n".join(sources)
        exec(compile(self.source, f"<row code of {model._meta.label}>", "exec"), self._namespace)
        #: The model's ``__init__`` for keyword arguments naming fields, which
        #: nobody hears (pre_init) as they are passed; None when the fields'
        #: names cannot be parameters. Marked with ``row_code_of``, the model.
        self.init: Callable[..., None] | None = self._namespace["__init__"]
        if self.init is not None:
            self.init.row_code_of = model
        #: ``__init__``'s work for keyword arguments: ``_state``, then every field
        #: from its argument or its default; unused arguments are left in the dict.
        self.assign: Assign = self._namespace["assign"]
        #: Instances of rows, made without ``__init__`` (nobody hears it).
        self.load: Load = self._namespace["load"]
        #: The INSERT parameters of every field but the pk, and with it.
        self.insert_row: Row = self._namespace["insert_row"]
        self.insert_row_with_pk: Row = self._namespace["insert_row_with_pk"]
        #: The UPDATE parameters: every field but the pk, then the pk.
        self.update_row: Row = self._namespace["update_row"]

    def _constant(self, value: Any) -> str:
        """A name the generated source uses for ``value`` (a default, a conversion);
        it starts with "__", as no parameter of the generated ``__init__`` does."""
        name = f"__c{len(self._namespace)}"
        self._namespace[name] = value
        return name


def _insert_sql(table: str, fields: Sequence[Field]) -> str:
    columns = ", ".join(f'"{field.column}"' for field in fields)
    marks = ", ".join("?" for _ in fields)
    values = f"({columns}) VALUES ({marks})" if fields else "DEFAULT VALUES"
    return f'INSERT INTO "{table}" {values}'


def _is_name(attname: str) -> bool:
    # Field names come from class bodies, so they are identifiers; anything
    # else still works through getattr/setattr, only slower.
    return attname.isidentifier() and not keyword.iskeyword(attname)


def _read(target: str, attname: str) -> str:
    return f"{target}.{attname}" if _is_name(attname) else f"getattr({target}, {attname!r})"


def _store(target: str, attname: str, value: str) -> str:
    if _is_name(attname):
        return f"{target}.{attname} = {value}"
    return f"setattr({target}, {attname!r}, {value})"


def _init_source(
    model: type[Model], fields: Sequence[Field], constant: Callable[[Any], str]
) -> str:
    # Keyword parameters, not **kwargs: no dictionary made and emptied per
    # instance. Generated names start with "__", which a field's name, written
    # in a class body, never keeps (Python mangles it).
    names = [name for field in fields for name in dict.fromkeys(field.names)]
    parameters = ", ".join(f"{name}=__MISSING" for name in names)
    doubled = [
        f"({field.name} is not __MISSING and {field.attname} is not __MISSING)"
        for field in fields
        if isinstance(field, ForeignKey)
    ]
    lines = [
        f"def __init__(__self, *__args, {parameters}, **__kwargs):",
        "    __host = __get_host()",
        "    __listening = __host.listening",
        "    if (",
        "        __args",
        "        or __kwargs",
        f"        or __type(__self) is not {constant(model)}",
        '        or __listening.get("pre_init")',
        *(f"        or {condition}" for condition in doubled),
        "    ):",
        # Model.__init__ decides the rest, given the keyword arguments as passed.
        *(
            line
            for name in names
            for line in (
                f"        if {name} is not __MISSING:",
                f"            __kwargs[{name!r}] = {name}",
            )
        ),
        "        return __general_init(__self, *__args, **__kwargs)",
        "    __self._state = __State()",
    ]
    for field in fields:
        default = _default_expression(field, constant)
        if isinstance(field, ForeignKey):
            # The related instance goes through the descriptor, which checks its type.
            lines += [
                f"    if {field.name} is not __MISSING:",
                f"        __self.{field.name} = {field.name}",
                f"    elif {field.attname} is not __MISSING:",
                f"        __self.{field.attname} = {field.attname}",
                "    else:",
                f"        __self.{field.attname} = {default}",
            ]
        else:
            # A callable default is called only for instances not given a value.
            value = f"{default} if {field.name} is __MISSING else {field.name}"
            lines.append(f"    __self.{field.attname} = {value}")
    lines += ['    if __listening.get("post_init"):', "        __initialised(__host, __self)"]
    return "\n".join(lines) + "\n"


def _default_expression(field: Field, constant: Callable[[Any], str]) -> str:
    """The source of a field's value when none is given: its default, called
    anew for each instance when it is callable; None without one."""
    if not field.has_default():
        return "None"
    default = constant(field.default)
    return f"{default}()" if callable(field.default) else default


def _assign_source(fields: Sequence[Field], constant: Callable[[Any], str]) -> str:
    lines = ["def assign(instance, kwargs):", "    instance._state = State()"]
    for field in fields:
        default = _default_expression(field, constant)
        if isinstance(field, ForeignKey):
            # The related instance goes through the descriptor, which checks its type.
            lines += [
                f"    if {field.name!r} in kwargs:",
                f"        {_store('instance', field.name, f'kwargs.pop({field.name!r})')}",
                f"    elif {field.attname!r} in kwargs:",
                f"        {_store('instance', field.attname, f'kwargs.pop({field.attname!r})')}",
                "    else:",
                f"        {_store('instance', field.attname, default)}",
            ]
        elif field.has_default() and callable(field.default):
            # Called only for instances not given a value, as Django does.
            value = f"kwargs.pop({field.name!r}) if {field.name!r} in kwargs else {default}"
            lines.append(f"    {_store('instance', field.attname, value)}")
        else:
            value = f"kwargs.pop({field.name!r}, {default})"
            lines.append(f"    {_store('instance', field.attname, value)}")
    return "\n".join(lines) + "\n"


def _load_source(fields: Sequence[Field], constant: Callable[[Any], str]) -> str:
    values = [f"v{index}" for index in range(len(fields))]
    lines = [
        "def load(rows, using):",
        "    instances = []",
        "    append = instances.append",
        # Unpacking raises ValueError for a row of the wrong length.
        f"    for {', '.join(values)}{',' if len(values) == 1 else ''} in rows:",
        "        instance = new(model)",
        "        state = State()",
        "        state.db = using",
        "        state.adding = False",
        "        instance._state = state",
    ]
    for field, value in zip(fields, values, strict=True):
        if type(field).from_db is not Field.from_db:
            value = f"{constant(field.from_db)}({value})"
        lines.append(f"        {_store('instance', field.attname, value)}")
    lines += ["        append(instance)", "    return instances"]
    return "\n".join(lines) + "\n"


def _row_source(name: str, fields: Sequence[Field], constant: Callable[[Any], str]) -> str:
    items = []
    for field in fields:
        read = _read("instance", field.attname)
        to_db = constant(field.to_db)
        if field.stored_as is None:
            items.append(f"{to_db}({read})")
        else:
            # Most values are of the stored type already: no conversion call.
            stored_as = constant(field.stored_as)
            items.append(f"value if type(value := {read}) is {stored_as} else {to_db}(value)")
    body = "".join(f"        {item},\n" for item in items)
    return f"def {name}(instance):\n    return (\n{body}    )\n"
