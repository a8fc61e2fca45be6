"""Writes :mod:`hosthooks.hooks`: typed hook calls and typed implementation markers,
generated from the hookspecs so that mypy and pyright can check both sides of a hook.

pluggy's calls take ``**kwargs`` and its implementations are any callable, so
neither checker can see a misspelt argument. Every hookspec here is annotated,
so this module writes, per hook:

- a ``HookCaller`` subclass whose ``__call__`` takes the spec's arguments by
  keyword and returns what pluggy returns (``host.hook.<name>``), and the
  matching async method (``host.ahook.<name>``);
- a callback ``Protocol`` of an implementation: the spec's arguments,
  keyword-only, returning the spec's result or an awaitable of it;
- a decorator, ``hooks.<name>``, an alternative spelling of ``@hookimpl`` whose
  argument is bound by that protocol.

Why a typed decorator per hook, not a mypy plugin or a class to inherit: it is
plain typing, so mypy and pyright read it alike with no plugin to install; the
implementation keeps its own type (a generic bound, not a cast), so tests may
still call it; and the check sits where the author writes the hook. The price:
typing cannot say "any subset of these names", so an implementation checked
this way takes every argument, or ends with ``**_: object`` to take the rest
unnamed (pluggy passes only the arguments an implementation names).

``python -m hosthooks.authoring.typed_hooks`` rewrites ``hosthooks/hooks.py``;
a test fails while the committed file and :func:`render` disagree.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Final

from hosthooks import specs

_HEADER: Final = '''\
"""Typed hook implementations, generated from the hookspecs.

Do not edit: ``python -m hosthooks.authoring.typed_hooks`` writes this file, and a
test fails while it and :mod:`hosthooks.specs` disagree.

``@hooks.<name>`` is ``@hookimpl`` for that hook, checked by mypy and pyright
against its spec: an implementation takes the spec's arguments (any order, any names it
does not use gathered by ``**_: object``), with types the spec's values fit,
and returns the spec's result (``async def`` too)::

    from typing import Any

    from hosthooks import hooks

    @hooks.post_save
    def audit(sender: type[Any], instance: Any, created: bool, **_: object) -> None: ...

    @hooks.post_delete.options(sender="blog.Article", defer=True)
    def forget(instance: Any, **_: object) -> None: ...

Wrappers keep ``@hookimpl(wrapper=True)``: their results are not the spec's.
The calls' side, ``host.hook`` and ``host.ahook``, is typed by :mod:`hosthooks.typed_calls`.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import Final
from typing import TypeVar

from hosthooks import typed_implementations
from hosthooks.markers import SenderFilter
from hosthooks.markers import hookimpl

_Marked = TypeVar("_Marked", bound="_TypedMarker")


class _TypedMarker:
    """``@hookimpl(specname=<hook>, **options)``: the runtime half of every ``hooks.<name>``."""

    __slots__ = ("_name", "_options")

    def __init__(self, name: str, options: dict[str, Any] | None = None) -> None:
        self._name: Final = name
        self._options: Final = options or {}

    def _mark(self, function: Callable[..., object]) -> None:
        hookimpl(function, specname=self._name, **self._options)

    def options(
        self: _Marked,
        *,
        sender: SenderFilter | None = None,
        tryfirst: bool = False,
        trylast: bool = False,
        defer: bool = False,
        queue: str | None = None,
        retries: int | None = None,
        before: Sequence[str] = (),
        after: Sequence[str] = (),
        thread: bool = False,
        when: Callable[[], object] | None = None,
    ) -> _Marked:
        """The same marker with :data:`hosthooks.hookimpl`'s options (as it checks them)."""
        options = {
            "sender": sender,
            "tryfirst": tryfirst,
            "trylast": trylast,
            "defer": defer,
            "queue": queue,
            "retries": retries,
            "before": before,
            "after": after,
            "thread": thread,
            "when": when,
        }
        return type(self)(self._name, options)

    def __repr__(self) -> str:
        return f"<typed hookimpl marker {self._name}>"
'''

_PROTOCOLS_HEADER: Final = '''\
"""What each ``@hooks.<name>`` accepts, generated from the hookspecs: callback
protocols of the spec's arguments, keyword-only, returning the spec's result or
an awaitable of it (and, for ``.method``, a plugin class's ``self`` first).

Do not edit: ``python -m hosthooks.authoring.typed_hooks`` writes this file, and a
test fails while it and :mod:`hosthooks.specs` disagree.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any
from typing import Protocol
from typing import TextIO
'''

_CALLS_HEADER: Final = '''\
"""The types of ``host.hook`` (:class:`Hooks`) and ``host.ahook`` (:class:`AsyncHooks`),
generated from the hookspecs: mypy and pyright check each call's hook name,
argument names and types, and result.

Do not edit: ``python -m hosthooks.authoring.typed_hooks`` writes this file, and a
test fails while it and :mod:`hosthooks.specs` disagree. Types only: nothing at
run time is an instance of these classes (``host.hook.<name>`` is a live
``pluggy.HookCaller``), and the host imports this module only for the checkers.
"""

from __future__ import annotations

from typing import Any
from typing import Protocol
from typing import TextIO

import pluggy
'''


def _spec_parameters(hook: str) -> list[inspect.Parameter]:
    family = specs.family_of(hook)
    assert family is not None
    function = getattr(specs.FAMILIES[family], hook)
    return list(inspect.signature(function).parameters.values())


def _spec_result(hook: str) -> str:
    family = specs.family_of(hook)
    assert family is not None
    annotation = inspect.signature(getattr(specs.FAMILIES[family], hook)).return_annotation
    return "None" if annotation is inspect.Signature.empty else str(annotation)


def _camel(hook: str) -> str:
    return "".join(part.capitalize() for part in hook.split("_"))


def _keyword_parameters(
    hook: str, *, defaults: bool, indent: str, positional: tuple[str, ...] = ()
) -> str:
    """``self``, ``positional`` then the spec's arguments, keyword-only, one a line
    (as ruff writes them)."""
    lines = ["self", *positional, "*"]
    for parameter in _spec_parameters(hook):
        default = " = ..." if defaults and parameter.default is not inspect.Parameter.empty else ""
        lines.append(f"{parameter.name}: {parameter.annotation}{default}")
    inner = indent + "    "
    return "\n" + "".join(f"{inner}{line},\n" for line in lines) + indent


def _is(hook: str, option: str) -> bool:
    family = specs.family_of(hook)
    assert family is not None
    opts: dict[str, object] = getattr(specs.FAMILIES[family], hook).hosthooks_spec
    return bool(opts.get(option))


def _implementation_result(result: str) -> str:
    # ruff's RUF036: None goes last in a union.
    return "Awaitable[None] | None" if result == "None" else f"{result} | Awaitable[{result}]"


def _call_result(hook: str) -> str:
    result = _spec_result(hook)
    # pluggy: the first non-None result for firstresult hooks, else every non-None one.
    return f"{result} | None" if _is(hook, "firstresult") else f"list[{result}]"


def _protocol_block(hook: str) -> str:
    name = _camel(hook)
    parameters = _keyword_parameters(hook, defaults=False, indent="    ")
    method_parameters = _keyword_parameters(
        hook, defaults=False, indent="    ", positional=("plugin: Any", "/")
    )
    result = _implementation_result(_spec_result(hook))
    return f'''

class {name}Implementation(Protocol):
    """What ``@hooks.{hook}`` accepts."""

    def __call__({parameters}) -> {result}: ...


class {name}Method(Protocol):
    """What ``@hooks.{hook}.method`` accepts: a plugin class's method."""

    def __call__({method_parameters}) -> {result}: ...
'''


def _type_variable(name: str, bound: str) -> str:
    line = f'{name} = TypeVar("{name}", bound={bound})'
    # As ruff would wrap it.
    return line if len(line) <= 100 else f'{name} = TypeVar(\n    "{name}", bound={bound}\n)'


def _marker_block(hook: str) -> str:
    name = _camel(hook)
    function = _type_variable(f"_{name}T", f"typed_implementations.{name}Implementation")
    method = _type_variable(f"_{name}MethodT", f"typed_implementations.{name}Method")
    return f'''

{function}
{method}


class {name}Marker(_TypedMarker):
    """``@hookimpl`` for ``{hook}``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _{name}T, /) -> _{name}T:
        self._mark(function)
        return function

    def method(self, function: _{name}MethodT, /) -> _{name}MethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


{hook}: Final = {name}Marker("{hook}")
'''


def _caller_block(hook: str) -> str:
    name = _camel(hook)
    if _is(hook, "historic"):
        # pluggy refuses a direct call of a historic hook: call_historic only.
        return f'''

class {name}Caller(pluggy.HookCaller):
    """``host.hook.{hook}``: historic, fired through ``call_historic`` only."""
'''
    # Narrower than HookCaller's **kwargs on purpose; a declaration, with no body.
    parameters = _keyword_parameters(hook, defaults=True, indent="    ")
    parameters = "  # type: ignore[override,empty-body]" + parameters
    return f'''

class {name}Caller(pluggy.HookCaller):
    """``host.hook.{hook}``: a ``HookCaller`` whose calls are typed."""

    def __call__({parameters}) -> {_call_result(hook)}: ...
'''


def _relays(hooks: list[str]) -> str:
    lines = [
        "",
        "",
        "class Hooks(Protocol):",
        '    """``host.hook``: every hook\'s live caller."""',
        "",
    ]
    for hook in hooks:
        lines += ["    @property", f"    def {hook}(self) -> {_camel(hook)}Caller: ...", ""]
    lines += [
        "",
        "class AsyncHooks(Protocol):",
        '    """``host.ahook``: every hook\'s async caller."""',
    ]
    for hook in hooks:
        if not _is(hook, "historic"):
            parameters = _keyword_parameters(hook, defaults=True, indent="    ")
            lines += ["", f"    async def {hook}({parameters}) -> {_call_result(hook)}: ..."]
    return "\n".join(lines) + "\n"


def hook_names() -> list[str]:
    """Every hook of :mod:`hosthooks.specs`, family by family, in source order."""
    return [hook for module in specs.FAMILIES.values() for hook in specs.hook_names(module)]


def render() -> dict[str, str]:
    """The generated modules' sources, by file name under ``hosthooks/``, for the
    specs as they are now: ``hooks.py`` (the markers), ``typed_implementations.py``
    (what they accept) and ``typed_calls.py`` (the calls).
    """
    hooks = hook_names()
    markers = [_HEADER, *(_marker_block(hook) for hook in hooks)]
    protocols = [_PROTOCOLS_HEADER, *(_protocol_block(hook) for hook in hooks)]
    calls = [_CALLS_HEADER, *(_caller_block(hook) for hook in hooks), _relays(hooks)]
    return {
        "hooks.py": "".join(markers),
        "typed_implementations.py": "".join(protocols),
        "typed_calls.py": "".join(calls),
    }


def package_directory() -> Path:
    """Where the generated modules live: the ``hosthooks`` package."""
    return Path(__file__).resolve().parent.parent


def main(write: Callable[[str], object] = sys.stdout.write) -> None:
    """Rewrite the generated modules from :func:`render`."""
    for name, source in render().items():
        path = package_directory() / name
        path.write_text(source, encoding="utf-8")
        write(f"wrote {path}\n")


if __name__ == "__main__":
    main()
