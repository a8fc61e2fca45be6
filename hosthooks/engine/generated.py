"""Generated code and how values reach it: the mechanism under call plans.

A plan calls objects known only when it is built (the implementations, the
helpers errors need). They reach its code as the defaults of its positional-only
*value parameters*: binding a function's ``__defaults__`` to its last positional
parameters is the language's own rule on every call, so a template is compiled
once per shape of plugins and shared, and no detail of how a compiler lays out
constants matters (code that filled a tuple constant with implementations
called placeholder strings on CPython 3.14, whose compiler loads an unpacking
of one to three names as separate constants). A :class:`Template` checks when it
is compiled that its code takes exactly the values generated for it, in order,
and :meth:`Template.bind` refuses any other number: a plan cannot run with a
value missing or out of place.

Installing a plan (:func:`install`) assigns the function's ``__defaults__``, then
its ``__code__``, while the function runs a *path* (the pluggy path or the async
path), which takes no value parameters and so ignores ``__defaults__``; a call
reads a function's code and defaults together, so it runs the old plan or the
new one, never half of each. A path reads its own values from the namespace its
function was created with, one per hook.

A caller's positional argument would land on a value parameter: the first one
is :data:`MISSING` in every plan entry, and an entry that finds anything else
there raises the TypeError binding would have raised (:func:`positional_error`).
The plan of a hook nobody implements calls nothing and takes no value
parameters: there binding raises that TypeError itself.

An async entry (``host.ahook.<name>``) cannot do that: its body runs when the
call is awaited, and a positional argument must be a TypeError at the call, as
binding makes it. So it takes no parameter but the spec's keyword-only ones (and
``**extra``, where a caller's keyword of any other name goes), and its values
come as one tuple read from the function's namespace when the coroutine starts,
as the async path reads the implementations when it starts. Each compiled entry
reads a name of its own (:func:`values_name`), so an entry never unpacks values
made for other code. Installing a plan removes the other entries' names, and
putting the function back on its path removes them all (:func:`forget_values`):
a coroutine made before a change of the hook's implementations or mutes and
started after it finds its name gone (or holding the values of now) and makes
the call again through the function as it is now, and no old implementation is
kept alive by the namespace. The entry is itself the coroutine function, so an
await of ``host.ahook.<name>`` runs one coroutine and no frame in front of it,
and reading its values from the namespace binds nothing more per call than the
caller's keywords.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import types
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import Final
from typing import NamedTuple
from typing import NoReturn

import pluggy

PLUGGY_PATH_FILENAME: Final = "<hosthooks pluggy path>"
ASYNC_PATH_FILENAME: Final = "<hosthooks async path>"


class Names:
    """Names for generated code that no spec argument (or earlier name) already uses."""

    def __init__(self, taken: Iterable[str]) -> None:
        self._taken = set(taken)
        #: What the names made by :meth:`refer` stand for: the generated function's
        #: namespace. Even a builtin is referred to this way, since a spec argument
        #: of its name (``Exception``, say) would hide it.
        self.namespace: dict[str, object] = {}

    def fresh(self, base: str) -> str:
        name = base
        while name in self._taken:
            name += "_"
        self._taken.add(name)
        return name

    def refer(self, base: str, value: object) -> str:
        """A fresh name for ``value``, read from the generated function's namespace."""
        name = self.fresh(base)
        self.namespace[name] = value
        return name


class Rare(NamedTuple):
    """What a plan needs only when something goes wrong: its last value parameter."""

    #: Names the plugin an implementation's exception came from.
    fail: Callable[[BaseException], None] | None
    #: A call missing an argument or passing an extra one: its keyword arguments.
    collect: Callable[..., dict[str, object]] | None
    #: Runs such a call the general way (pluggy's ``_hookexec``, or the async path).
    run: Callable[..., Any] | None
    impls: tuple[pluggy.HookImpl, ...]
    #: Names the plugin an exception from the general way came from.
    note: Callable[..., None] | None
    #: The plan's other values, in order: a positional argument replaced some of them.
    expected: tuple[object, ...]


def positional_error(
    qualname: str, takes: int, surplus: tuple[object, ...], values: tuple[object, ...]
) -> NoReturn:
    """Raise the TypeError binding raises for positional arguments, for a plan
    whose value parameters (``values``, ``Rare`` last) took some of them."""
    rare = values[-1]
    if isinstance(rare, Rare) and len(rare.expected) == len(values) - 1:
        replaced = [got is not wanted for got, wanted in zip(values, rare.expected, strict=False)]
        given = len(replaced) - replaced[::-1].index(True)
    else:
        given = len(values) + len(surplus)
    total = takes + given
    plural = "" if takes == 1 else "s"
    raise TypeError(
        f"{qualname}() takes {takes} positional argument{plural} "
        f"but {total} {'was' if total == 1 else 'were'} given"
    )


class Built(NamedTuple):
    """A hook's code and what it runs with: the defaults of its value parameters,
    and names its code reads from the function's namespace (an async entry's
    values among them)."""

    code: types.CodeType
    defaults: tuple[object, ...] | None
    namespace: Mapping[str, object]


#: How the namespace names of async entries' values begin (:func:`values_name`).
VALUES_PREFIX: Final = "plan_values_"
_entries = itertools.count()


def values_name() -> str:
    """A namespace name for one compiled async entry's values, used by no other code."""
    return f"{VALUES_PREFIX}{next(_entries)}"


class Template:
    """A compiled plan whose value parameters are bound per hook (:meth:`bind`).

    With ``values_name``, the values are one tuple in the function's namespace
    under that name, and the code takes no positional parameter (a positional
    argument is binding's TypeError); ``values`` then names what the code
    unpacks that tuple into.

    :raises RuntimeError: when the compiled code does not take ``values`` as its
        last positional parameters, all of them positional-only; with
        ``values_name``, when it takes any positional parameter or does not read
        that name.
    """

    __slots__ = ("code", "line_to_index", "namespace", "values", "values_name")

    def __init__(
        self,
        code: types.CodeType,
        values: Sequence[str],
        line_to_index: dict[int, int],
        namespace: Mapping[str, object],
        values_name: str | None = None,
    ) -> None:
        count, positional = len(values), code.co_argcount
        if values_name is not None:
            if positional or code.co_flags & inspect.CO_VARARGS or values_name not in code.co_names:
                raise RuntimeError(
                    f"generated code {code.co_name!r} does not read its values from "
                    f"{values_name!r}, taking nothing positional"
                )
        else:
            taken = code.co_varnames[positional - count : positional] if count else ()
            if tuple(taken) != tuple(values) or (count and code.co_posonlyargcount != positional):
                raise RuntimeError(
                    f"generated code {code.co_name!r} does not take its values {tuple(values)} "
                    f"as its last positional-only parameters (it takes {taken})"
                )
        self.code: Final = code
        self.values: Final = tuple(values)
        self.values_name: Final = values_name
        #: Source line of each implementation call -> its index in call order.
        self.line_to_index: Final = line_to_index
        #: Names the code reads from its function's namespace.
        self.namespace: Final = namespace

    def bind(self, values: Sequence[object]) -> Built:
        """This code with ``values`` as the defaults of its value parameters.

        :raises RuntimeError: when the number of values is not the number of parameters.
        """
        if len(values) != len(self.values):
            raise RuntimeError(
                f"generated code {self.code.co_name!r} takes {len(self.values)} values, "
                f"not {len(values)}"
            )
        if self.values_name is None:
            return Built(self.code, tuple(values), self.namespace)
        # A plain tuple: CPython unpacks only an exact tuple without an iterator.
        return Built(self.code, None, {**self.namespace, self.values_name: tuple(values)})

    def function(self, values: Sequence[object], name: str) -> types.FunctionType:
        """A new function running this code with ``values`` (positional value parameters)."""
        built = self.bind(values)
        return types.FunctionType(built.code, dict(built.namespace), name, built.defaults)


def compile_template(
    header: str,
    body: list[str],
    filename: str,
    calls: dict[int, int],
    values: Sequence[str] = (),
    namespace: Mapping[str, object] | None = None,
    values_name: str | None = None,
) -> Template:
    source = "\n".join([header, *(f"    {line}" for line in body)]) + "\n"
    # Executed, not searched for among a module's constants: the def statement
    # makes the function, and its code is the function's own.
    defined: dict[str, Any] = {}
    exec(compile(source, filename, "exec"), defined)
    [function] = [value for value in defined.values() if isinstance(value, types.FunctionType)]
    # Body line i is source line i + 2 (the header is line 1).
    return Template(
        function.__code__,
        values,
        {line + 2: index for line, index in calls.items()},
        dict(namespace or {}),
        values_name,
    )


def install(function: types.FunctionType, built: Built) -> None:
    """Make ``function`` run ``built``: names, defaults, then code. Async entries'
    values other than ``built``'s leave the namespace (no old implementation is
    kept alive by it).

    :raises RuntimeError: unless ``function`` runs a path now: a path ignores
        defaults, so no call ever binds one plan's code to another's values.
    """
    if function.__code__.co_filename not in (PLUGGY_PATH_FILENAME, ASYNC_PATH_FILENAME):
        raise RuntimeError(f"{function.__name__!r} is not on a path: a plan cannot replace it")
    function.__globals__.update(built.namespace)
    forget_values(function, keep=built.namespace)
    function.__defaults__ = built.defaults
    function.__code__ = built.code


def forget_values(function: types.FunctionType, keep: Collection[str] = ()) -> None:
    """Remove async entries' values, other than ``keep``'s, from ``function``'s
    namespace: a coroutine made before that starts later finds its values gone and
    makes the call again through the function as it is now, and no implementation
    is kept alive by them."""
    namespace = function.__globals__
    for name in [name for name in namespace if name.startswith(VALUES_PREFIX)]:
        if name not in keep:
            del namespace[name]


def path_code(filename: str, name: str, header: str, body: list[str]) -> types.CodeType:
    """The code of a path: no value parameters (its names are the namespace's),
    named after its hook, like a plan: tracebacks read as the hook's call."""
    return _path_template(filename, header, tuple(body)).replace(co_name=name)


@functools.lru_cache(maxsize=16)
def _path_template(filename: str, header: str, body: tuple[str, ...]) -> types.CodeType:
    # Compiled once per kind of path, then renamed per hook: every host adopts
    # each of its ~30 hooks with a sync and an async path, and compiling each
    # anew cost a fresh process 10% of get_host().
    return compile_template(header, list(body), filename, {}).code
