"""Both ends of a deferred call: the stand-in a hook call runs instead of the
implementation, and the run of the implementation on a worker."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

import pluggy

from hosthooks import specs
from hosthooks.deferred import serialise
from hosthooks.deferred.events import DEFAULT_QUEUE
from hosthooks.deferred.events import DEFAULT_RETRIES
from hosthooks.deferred.events import _current
from hosthooks.deferred.events import event_of
from hosthooks.deferred.events import new_message
from hosthooks.engine.tracing import HookTrace
from hosthooks.engine.tracing import ImplTrace
from hosthooks.engine.tracing import describe_sender
from hosthooks.engine.tracing import function_name
from hosthooks.markers import DEFER_OPTION
from hosthooks.markers import DEFERRED_ARGNAMES
from hosthooks.markers import QUEUE_OPTION
from hosthooks.markers import RETRIES_OPTION
from hosthooks.transactions import on_commit

if TYPE_CHECKING:
    from hosthooks.deferred.queues import Queue
    from hosthooks.host import Host

logger: Final = logging.getLogger("hosthooks.deferred")

#: The attribute of a stand-in that holds the implementation's own argument names.
_ARGNAMES: Final = DEFERRED_ARGNAMES


def prepare(host: Host, impl: pluggy.HookImpl, hook_caller: pluggy.HookCaller) -> None:
    """Turn a ``defer=True`` implementation into a stand-in that enqueues its call.

    :raises pluggy.PluginValidationError: when the hook cannot be deferred
        (its arguments cannot all travel, or it exists to run before something),
        or the implementation is a wrapper, or the hook is firstresult.
    """
    hook = hook_caller.name
    problem = None
    if hook not in specs.DEFERRABLE_HOOKS:
        allowed = ", ".join(sorted(specs.DEFERRABLE_HOOKS))
        problem = f"defer=True is not allowed on {hook!r} (only on {allowed})"
    elif impl.wrapper or impl.hookwrapper:
        problem = "defer=True is not allowed on a wrapper"
    elif hook_caller.spec is not None and hook_caller.spec.opts.get("firstresult"):
        problem = "defer=True is not allowed on a firstresult hook"
    retries: Any = impl.opts.get(RETRIES_OPTION)
    if problem is None and retries is not None and (type(retries) is not int or retries < 0):
        problem = f"retries= must be a whole number of at least 0, not {retries!r}"
    if problem is not None:
        raise pluggy.PluginValidationError(
            impl.plugin, f"plugin {impl.plugin_name!r}: hook {hook!r}: {problem}"
        )
    spec = hook_caller.spec
    assert spec is not None
    own_names = (*impl.argnames, *impl.kwargnames)
    original = impl.function
    queue_name = str(impl.opts.get(QUEUE_OPTION) or DEFAULT_QUEUE)
    stand_in = _stand_in(host, hook, impl.plugin_name, original, own_names, queue_name, retries)
    # pluggy has no way to register another callable for a plugin's hook, so
    # the registered implementation is changed in place, before any call sees
    # it. The stand-in takes every argument of the spec: it needs `using` (to
    # wait for the right transaction) and `action`, whatever the implementation names.
    setattr(impl, "function", stand_in)  # noqa: B010 - HookImpl's fields are Final to type checkers
    setattr(impl, "argnames", (*spec.argnames, *spec.kwargnames))  # noqa: B010
    setattr(impl, "kwargnames", ())  # noqa: B010


def _stand_in(
    host: Host,
    hook: str,
    plugin: str,
    original: Callable[..., object],
    own_names: tuple[str, ...],
    queue_name: str,
    retries: int | None,
) -> Callable[..., None]:
    spec_names: tuple[str, ...] = ()

    @functools.wraps(original)
    def deferred(*args: Any) -> None:
        nonlocal spec_names
        if not spec_names:
            caller = getattr(host.plugin_manager.hook, hook)
            spec_names = (*caller.spec.argnames, *caller.spec.kwargnames)
        arguments = dict(zip(spec_names, args, strict=True))
        if hook == "m2m_changed" and not str(arguments.get("action", "")).startswith("post_"):
            return
        encoded = {
            name: serialise.encode(arguments[name], f"{plugin}: {hook}: argument {name!r}")
            for name in own_names
        }
        message = new_message(
            hook, plugin, queue_name, DEFAULT_RETRIES if retries is None else retries, encoded
        )
        queue = host_queue(host)
        using = arguments.get("using")
        on_commit(lambda: queue.enqueue(message), using if isinstance(using, str) else None)

    setattr(deferred, _ARGNAMES, own_names)
    return deferred


def host_queue(host: Host) -> Queue:
    """The queue a host's deferred calls go to, made on first use."""
    queue: Queue | None = getattr(host, "_deferred_queue", None)
    if queue is None:
        from hosthooks.deferred.queues import queue_for

        queue = queue_for(host)
        host._deferred_queue = queue  # type: ignore[attr-defined]
    return queue


def find(host: Host, hook: str, plugin: str) -> tuple[Callable[..., object], tuple[str, ...]]:
    """The deferred implementation of ``hook`` by ``plugin`` on ``host``, and its argument names.

    :raises LookupError: when the worker's host has no such implementation
        (the plugin is not installed or not loaded there, or no longer defers it).
    """
    caller = getattr(host.plugin_manager.hook, hook, None)
    for impl in [] if caller is None else caller.get_hookimpls():
        if impl.plugin_name == plugin and impl.opts.get(DEFER_OPTION):
            own_names: tuple[str, ...] = getattr(impl.function, _ARGNAMES)
            original: Callable[..., object] = impl.function.__wrapped__
            return original, own_names
    raise LookupError(f"no deferred implementation of {hook!r} by plugin {plugin!r} is loaded here")


def run(host: Host, message: dict[str, Any], attempt: int) -> None:
    """Run one deferred call on this process's host, traced and logged.

    :raises Exception: whatever the implementation raised (the queue decides
        whether to retry), or :class:`LookupError` when it cannot be found.
    """
    hook, plugin = message["hook"], message["plugin"]
    function, names = find(host, hook, plugin)
    arguments = {name: serialise.decode(message["arguments"][name]) for name in names}
    event = event_of(message, attempt)
    latency_ms = max(0.0, (time.time() - event.enqueued_at) * 1000)
    token = _current.set(event)
    started = time.perf_counter()
    outcome, error_text = "ok", None
    try:
        function(**arguments)
    except Exception as error:
        outcome, error_text = "raised", f"{type(error).__name__}: {error}"
        raise
    finally:
        _current.reset(token)
        duration_ms = (time.perf_counter() - started) * 1000
        logger.info(
            "deferred %s by plugin %r, event %s attempt %d: %s in %.2f ms, %.1f ms after enqueue%s",
            hook,
            plugin,
            event.event_id,
            attempt,
            outcome,
            duration_ms,
            latency_ms,
            f" ({error_text})" if error_text else "",
        )
        tracer = host.tracer
        if tracer is not None:
            trace = HookTrace(
                f"{hook} (deferred)",
                describe_sender(arguments.get("sender")),
                duration_ms,
                [ImplTrace(plugin, function_name(function), duration_ms, outcome, error_text)],
            )
            tracer.emit(trace)


def backoff(attempt: int) -> float:
    """Seconds to wait before retry number ``attempt`` (1, 2, 4, ... capped at 5 minutes)."""
    return float(min(300, 2 ** (attempt - 1)))
