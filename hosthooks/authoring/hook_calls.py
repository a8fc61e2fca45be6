"""A plugin that records every hook call with its arguments, and says what fired,
in what order, and what did not: what tests assert against."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any
from typing import NamedTuple

from hosthooks import specs
from hosthooks.markers import hookimpl


class HookCall(NamedTuple):
    """One call of a hook: its name and every argument it was fired with."""

    hook: str
    arguments: dict[str, Any]


class HookCalls:
    """A plugin implementing every built-in hook, recording each call in order.

    Register it on a host (``host.register(HookCalls())``); the ``hook_calls``
    fixture does. Every implementation takes every argument of its spec, so a
    record holds exactly what the hook was fired with.

    :param tryfirst: record before the other implementations run, so a call
        is recorded even when one of them raises.
    """

    def __init__(self, *, tryfirst: bool = True) -> None:
        self.calls: list[HookCall] = []
        for module in specs.FAMILIES.values():
            for name in specs.hook_names(module):
                spec_function = getattr(module, name)
                # Instance attributes, not methods: pluggy reads the names an
                # implementation takes from its signature, and a bound method's
                # would lose the first argument.
                setattr(self, name, hookimpl(tryfirst=tryfirst)(self._recorder(spec_function)))

    def _recorder(self, spec_function: Callable[..., None]) -> Callable[..., None]:
        hook = spec_function.__name__
        names = list(inspect.signature(spec_function).parameters)

        def record(*args: Any, **kwargs: Any) -> None:
            self.record(hook, {**dict(zip(names, args, strict=False)), **kwargs})

        # The spec's signature is what pluggy reads through __wrapped__: the
        # recorder asks for every argument the hook has.
        record.__wrapped__ = spec_function  # type: ignore[attr-defined]
        record.__name__ = record.__qualname__ = hook
        return record

    def record(self, hook: str, arguments: dict[str, Any]) -> None:
        """Called for every hook call; a subclass may keep something else."""
        self.calls.append(HookCall(hook, arguments))

    def clear(self) -> None:
        """Forget every call recorded so far."""
        self.calls.clear()

    def hooks(self) -> list[str]:
        """The names of the hooks called, in call order."""
        return [call.hook for call in self.calls]

    def named(self, hook: str) -> list[dict[str, Any]]:
        """The arguments of each call of ``hook``, in call order."""
        return [call.arguments for call in self.calls if call.hook == hook]

    def matching(self, hook: str, **arguments: Any) -> list[HookCall]:
        """The calls of ``hook`` whose arguments include these (compared with ``==``)."""
        return [
            call
            for call in self.calls
            if call.hook == hook
            and all(
                key in call.arguments and call.arguments[key] == value
                for key, value in arguments.items()
            )
        ]

    def assert_fired(self, hook: str, times: int | None = None, **arguments: Any) -> HookCall:
        """Assert that ``hook`` was called with these arguments (``times`` times,
        when given); the first such call.

        :raises AssertionError: listing the hooks that were called.
        """
        found = self.matching(hook, **arguments)
        if not found or (times is not None and len(found) != times):
            wanted = _describe(hook, arguments)
            count = "never called" if not found else f"called {len(found)} time(s), not {times}"
            raise AssertionError(f"{wanted} was {count}; calls: {self._summary()}")
        return found[0]

    def assert_not_fired(self, hook: str, **arguments: Any) -> None:
        """Assert that ``hook`` was never called with these arguments.

        :raises AssertionError: naming the first such call.
        """
        found = self.matching(hook, **arguments)
        if found:
            raise AssertionError(
                f"{_describe(hook, arguments)} was called: {_describe(hook, found[0].arguments)}"
            )

    def assert_order(self, *hooks: str) -> None:
        """Assert that these hooks were called in this order (others may come
        between them).

        :raises AssertionError: naming the first hook not called after the previous one.
        """
        position = 0
        called = self.hooks()
        for hook in hooks:
            try:
                position = called.index(hook, position) + 1
            except ValueError:
                after = f" after {called[position - 1]!r}" if position else ""
                raise AssertionError(
                    f"{hook!r} was not called{after}; calls: {self._summary()}"
                ) from None

    def _summary(self) -> str:
        return ", ".join(self.hooks()) or "none"


def _describe(hook: str, arguments: dict[str, Any]) -> str:
    shown = ", ".join(f"{key}={value!r}" for key, value in arguments.items())
    return f"{hook}({shown})"
