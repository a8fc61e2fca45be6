"""Silencing implementations for a while without changing anyone's place in the
call order: the registered implementation is swapped for a stand-in that does
nothing, and swapped back."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Generator
from collections.abc import Iterable
from typing import Any

import pluggy


def _silent(*args: Any, **kwargs: Any) -> None:
    return None


def _silent_wrapper(*args: Any, **kwargs: Any) -> Generator[None, Any, Any]:
    # A new-style wrapper hands back what the implementations it wraps returned.
    return (yield)


def _silent_hookwrapper(*args: Any, **kwargs: Any) -> Generator[None, Any, None]:
    yield


def silence(
    callers: Iterable[pluggy.HookCaller],
    plugins: Collection[str] | None,
    hooks: Collection[str] | None,
) -> tuple[Callable[[], None], list[str]]:
    """Make the implementations of ``plugins`` (every plugin when None) for
    ``hooks`` (every hook when None) do nothing; the caller rebuilds what it
    built from them (call plans).

    :returns: the function that puts every silenced implementation back, and
        the names of the hooks whose implementations changed.
    """
    swapped: list[tuple[pluggy.HookImpl, Callable[..., object]]] = []
    changed: list[str] = []
    for caller in callers:
        if hooks is not None and caller.name not in hooks:
            continue
        for impl in caller.get_hookimpls():
            if plugins is not None and impl.plugin_name not in plugins:
                continue
            stand_in = (
                _silent_wrapper
                if impl.wrapper
                else _silent_hookwrapper
                if impl.hookwrapper
                else _silent
            )
            swapped.append((impl, impl.function))
            if caller.name not in changed:
                changed.append(caller.name)
            # pluggy has no way to swap a registered implementation: changed in
            # place, as deferred implementations are.
            setattr(impl, "function", stand_in)  # noqa: B010 - Final to type checkers

    def restore() -> None:
        for impl, function in swapped:
            setattr(impl, "function", function)  # noqa: B010

    return restore, changed
