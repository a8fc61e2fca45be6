"""Robust calls: every implementation of a hook, whatever each one raises.

What ``Host.fire_robust`` runs, and the bookkeeping it shares with its async
twin (:func:`hosthooks.engine.async_calls.fire_robust`): the outcomes in call order,
each failure logged with its plugin's name, and the call's trace. The two
differ only in how an implementation or a wrapper is called.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any
from typing import Final

import pluggy

from hosthooks.engine.dispatch import implementations_for
from hosthooks.engine.dispatch import is_wrapper
from hosthooks.engine.muting import Breaker
from hosthooks.engine.tracing import StepTrace
from hosthooks.engine.tracing import Tracer
from hosthooks.markers import PROJECT

logger: Final = logging.getLogger(PROJECT)

#: The value a robust call reports for an implementation: its result or the exception it raised.
RobustOutcome = object


def one_line(error: BaseException) -> str:
    """``ExceptionType: first line of the message``, with pluggy's multi-line
    validation messages folded into one line."""
    message = "; ".join(line.strip() for line in str(error).splitlines() if line.strip())
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


class RobustCall:
    """One robust call of a hook: its arguments, the implementations it runs in
    call order, and the outcomes and trace it gathers as they run.

    :param hook_caller: the hook's pluggy caller.
    :param kwargs: the arguments given; the spec's defaults fill in the rest.
    :param tracer: where the call's trace goes; None: not traced.
    :param breaker: told of each failure and success; None: the circuit breaker is off.
    """

    def __init__(
        self,
        hook_caller: pluggy.HookCaller,
        kwargs: Mapping[str, Any],
        tracer: Tracer | None,
        breaker: Breaker | None = None,
    ) -> None:
        self.name: Final = hook_caller.name
        self.breaker: Final = breaker
        spec = hook_caller.spec
        self.kwargs: Final = {**(spec.kwargdefaults if spec else {}), **kwargs}
        sender = self.kwargs.get("sender")
        self.impls: Final = list(
            implementations_for(hook_caller, sender, "sender" not in self.kwargs)
        )
        self.outcomes: Final[list[tuple[str, RobustOutcome]]] = []
        self.trace: Final = StepTrace(tracer, self.name, sender)

    def returned(self, impl: pluggy.HookImpl, value: object, started: float) -> None:
        """A plain implementation returned ``value``."""
        self.outcomes.append((impl.plugin_name, value))
        self.trace.step(impl, started, value)
        if self.breaker is not None:
            self.breaker.succeeded(impl, self.name)

    def failed(self, impl: pluggy.HookImpl, error: Exception, started: float) -> None:
        """An implementation or wrapper raised ``error`` (or misbehaved): logged, and
        reported in its place."""
        logger.error(
            "plugin %r raised in hook %r: %s",
            impl.plugin_name,
            self.name,
            one_line(error),
            exc_info=error,
        )
        self.outcomes.append((impl.plugin_name, error))
        self.trace.step(impl, started, error)
        # Imported on the first error, so that starting a host defines none of it.
        from hosthooks.engine.health import ERRORS

        ERRORS.failed(impl.plugin_name, self.name, error)
        if self.breaker is not None:
            self.breaker.failed(impl, self.name)

    def left(self, wrapper: pluggy.HookImpl, started: float) -> None:
        """A wrapper finished its teardown as it should."""
        self.trace.step(wrapper, started, None, wrapper=True)

    def results(self) -> list[object]:
        """What the wrappers receive: the plain implementations' results that are
        not None, failures left out."""
        return [
            value
            for _, value in self.outcomes
            if value is not None and not isinstance(value, BaseException)
        ]


def fire_robust(
    hook_caller: pluggy.HookCaller,
    kwargs: Mapping[str, Any],
    tracer: Tracer | None = None,
    breaker: Breaker | None = None,
) -> list[tuple[str, RobustOutcome]]:
    """What ``Host.fire_robust`` runs: every implementation, in call order, whatever
    each raises; failures logged with the plugin's name, and the call traced to
    ``tracer`` when given. A wrapper that raises, does not yield or yields more than
    once is reported as failed; what it returns is not used.

    :returns: ``(plugin name, result or exception)`` pairs in call order.
    """
    call = RobustCall(hook_caller, kwargs, tracer, breaker)
    teardowns: list[tuple[pluggy.HookImpl, Any]] = []
    try:
        for impl in call.impls:
            args = [call.kwargs[arg] for arg in impl.argnames]
            keywords = {key: call.kwargs[key] for key in impl.kwargnames if key in call.kwargs}
            value: Any
            called = time.perf_counter()
            try:
                value = impl.function(*args, **keywords)
                if is_wrapper(impl):
                    next(value)
                    teardowns.append((impl, value))
                    continue
            except StopIteration:
                call.failed(impl, RuntimeError("the wrapper did not yield"), called)
                continue
            except Exception as error:
                call.failed(impl, error, called)
                continue
            call.returned(impl, value, called)
        results = call.results()
        for impl, generator in reversed(teardowns):
            called = time.perf_counter()
            try:
                generator.send(pluggy.Result(results, None) if impl.hookwrapper else results)
            except StopIteration:
                call.left(impl, called)
                continue
            except Exception as error:
                call.failed(impl, error, called)
                continue
            generator.close()
            call.failed(impl, RuntimeError("the wrapper yielded more than once"), called)
    finally:
        call.trace.emit()
    return call.outcomes
