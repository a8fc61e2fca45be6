"""Both ends of a deferred call: the stand-in a hook call runs instead of the
implementation (it writes the call to the outbox), and the run of the
implementation on a worker, which moves the call's delivery record along."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import os
import random
import threading
import time
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

import pluggy

from hosthooks import operations
from hosthooks import specs
from hosthooks.deferred import serialise
from hosthooks.deferred.events import DEFAULT_QUEUE
from hosthooks.deferred.events import DEFAULT_RETRIES
from hosthooks.deferred.events import DeferredEvent
from hosthooks.deferred.events import _current
from hosthooks.deferred.outbox import Outbox
from hosthooks.deferred.outbox import OutboxMissing
from hosthooks.deferred.outbox import Started
from hosthooks.deferred.outbox import one_line
from hosthooks.deferred.serialise import NotLoadedHere
from hosthooks.engine import otel
from hosthooks.engine.async_bridge import async_original
from hosthooks.engine.tracing import HookTrace
from hosthooks.engine.tracing import ImplTrace
from hosthooks.engine.tracing import describe_sender
from hosthooks.engine.tracing import function_name
from hosthooks.markers import DEFER_OPTION
from hosthooks.markers import DEFERRED_ARGNAMES
from hosthooks.markers import QUEUE_OPTION
from hosthooks.markers import RETRIES_OPTION
from hosthooks.transactions import DataLayer
from hosthooks.transactions import layer_for
from hosthooks.transactions import on_commit_named

if TYPE_CHECKING:
    from hosthooks.host import Host

logger: Final = logging.getLogger("hosthooks.deferred")
#: How soon a call postponed for a mute that lasts until unmuted is offered again.
MUTED_RETRY: Final = 30.0

#: The outbox of each data layer and alias deferred calls were written to: made
#: once, not on every call (an outbox holds no connection).
_outboxes: dict[tuple[DataLayer, str | None], Outbox] = {}

#: The attribute of a stand-in that holds the implementation's own argument names.
_ARGNAMES: Final = DEFERRED_ARGNAMES


def prepare(host: Host, impl: pluggy.HookImpl, hook_caller: pluggy.HookCaller) -> None:
    """Turn a ``defer=True`` implementation into a stand-in that writes its call to the outbox.

    :raises pluggy.PluginValidationError: when the hook cannot be deferred
        (its arguments cannot all travel, or it exists to run before something),
        or the implementation is a wrapper, or the hook is firstresult, or
        Celery is missing while ``queue_backend`` is ``"celery"``.
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
    if problem is None and host.config.queue_backend == "celery" and not _celery_installed():
        problem = (
            "defer=True needs Celery for queue_backend 'celery', and it is not installed: "
            "pip install 'hosthooks[celery]' (or set queue_backend = \"eager\" to run "
            "deferred calls in process)"
        )
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


def _celery_installed() -> bool:
    try:
        import celery  # noqa: F401
    except ImportError:
        return False
    return True


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
    tries = DEFAULT_RETRIES if retries is None else retries
    # What an argument that cannot travel is called in the error: made once
    # here, not on every call (the call's whole cost is the caller's).
    wheres = tuple((name, f"{plugin}: {hook}: argument {name!r}") for name in own_names)

    # updated=(): the stand-in must not inherit the attributes of what it wraps
    # (an async implementation's coroutine stand-in marks itself by one, and the
    # async path would then call the implementation inline).
    @functools.wraps(original, updated=())
    def deferred(*args: Any) -> None:
        nonlocal spec_names
        if not spec_names:
            caller = getattr(host.plugin_manager.hook, hook)
            spec_names = (*caller.spec.argnames, *caller.spec.kwargnames)
        arguments = dict(zip(spec_names, args, strict=True))
        if hook == "m2m_changed" and not str(arguments.get("action", "")).startswith("post_"):
            return
        encoded = {name: serialise.encode(arguments[name], where) for name, where in wheres}
        using = arguments.get("using")
        write(
            host,
            hook,
            plugin,
            queue_name,
            tries,
            encoded,
            using if isinstance(using, str) else None,
        )

    setattr(deferred, _ARGNAMES, own_names)
    return deferred


def write(
    host: Host,
    hook: str,
    plugin: str,
    queue_name: str,
    retries: int,
    arguments: dict[str, Any],
    using: str | None,
) -> str:
    """Write one deferred call to the outbox of the database ``using``, in the
    transaction open on it in this thread; its event id.

    With the eager queue it then runs in process once that transaction commits,
    through the same delivery record.

    :raises OutboxMissing: when no data layer has a database to write it to.
    :raises Exception: the database's error when the row cannot be written (the
        table is missing, say): the caller's write fails with it, whole.
    """
    event_id = new_event_id()
    layer = layer_for(using)
    if layer is None:
        raise OutboxMissing(
            f"{plugin}: {hook}: a deferred call needs a database to be written to, and "
            f"none is open under {using or 'default'!r} (the runtime's Database, or Django)"
        )
    outbox = _outboxes.get((layer, using))
    if outbox is None:
        outbox = _outboxes.setdefault((layer, using), Outbox(layer, using))
    message = {"arguments": arguments}
    outbox.add(event_id, hook, plugin, queue_name, retries, message, current_traceparent())
    if host.config.queue_backend == "eager":

        def run_now() -> None:
            run_eagerly(host, outbox, event_id)

        on_commit_named(run_now, using, plugin, hook)
    return event_id


def new_event_id() -> str:
    """A call's event id: 32 hex digits, the time in milliseconds (48 bits) then
    80 random bits, as a UUIDv7 orders them. Ids of later milliseconds sort
    later, so the outbox's unique index on them grows at its end: the caller's
    INSERT touches the index page it touched last, not a page of its own
    anywhere in the index (a page journaled and written at COMMIT: with
    100,000 rows kept, random ids doubled what the INSERT added to the commit
    on SQLite)."""
    return f"{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


def current_traceparent() -> str | None:
    """The W3C trace context of the call being deferred, when it is traced (else None):
    the span of the hook call, current while its implementations run
    (:mod:`hosthooks.engine.otel`)."""
    return otel.current_traceparent()


def run_eagerly(host: Host, outbox: Outbox, event_id: str) -> str:
    """Run a call in this process now, every attempt at once (the eager queue);
    the state its record ends in (as :func:`deliver` says it)."""
    states: tuple[str, ...] = ("pending",)
    while (state := deliver(host, outbox, event_id, states, eager=True)) == "failed":
        states = ("failed",)
    return state


def run_retried(host: Host, outbox: Outbox, event_ids: Sequence[str]) -> dict[str, str] | None:
    """Run the calls just sent back to the queue (:meth:`Outbox.retry`) in this
    process, now, when the queue is eager: no worker would ever take them. The
    state each ends in, by event id; None when a worker takes them (not eager).
    """
    if host.config.queue_backend != "eager":
        return None
    return {event_id: run_eagerly(host, outbox, event_id) for event_id in event_ids}


def find(host: Host, hook: str, plugin: str) -> tuple[Callable[..., object], tuple[str, ...]]:
    """The deferred implementation of ``hook`` by ``plugin`` on ``host``, and its argument names.

    :raises NotLoadedHere: when the worker's host has no such implementation
        (the plugin is not installed or not loaded there, or no longer defers it).
    """
    caller = getattr(host.plugin_manager.hook, hook, None)
    for impl in [] if caller is None else caller.get_hookimpls():
        if impl.plugin_name == plugin and impl.opts.get(DEFER_OPTION):
            # Its own stand-in, not the one that silences it while it is muted.
            stand_in = operations.written_function(impl)
            own_names: tuple[str, ...] = getattr(stand_in, _ARGNAMES)
            original: Callable[..., object] = getattr(stand_in, "__wrapped__")  # noqa: B009
            # An async implementation runs as itself, not through the stand-in
            # that runs it from synchronous hook calls.
            return async_original(original) or original, own_names
    raise NotLoadedHere(
        f"no deferred implementation of {hook!r} by plugin {plugin!r} is loaded here"
    )


def deliver(
    host: Host,
    outbox: Outbox,
    event_id: str,
    from_states: tuple[str, ...] = ("sent",),
    *,
    eager: bool = False,
    running: set[str] | None = None,
) -> str:
    """Take one call from the outbox and run it (see :func:`deliver_many`); the
    state its record ends in, or ``"skipped"`` when it was not in one of
    ``from_states`` (taken or done already)."""
    outcomes = deliver_many(host, outbox, [event_id], from_states, eager=eager, running=running)
    return outcomes.get(event_id, "skipped")


def deliver_many(
    host: Host,
    outbox: Outbox,
    event_ids: Sequence[str],
    from_states: tuple[str, ...] = ("sent",),
    *,
    eager: bool = False,
    running: set[str] | None = None,
) -> dict[str, str]:
    """Take calls from the outbox (one statement for all), run them one after
    another, and record how each ended; the state each record ends in, by event
    id (calls not in one of ``from_states`` are left out: taken or done already).

    Only what the implementation raises counts against its retries: when the
    plugin or a model is not loaded here the call is ``held`` (then ``dead``
    once held longer than ``deliveries_held_grace``). The calls that ran well
    are recorded ``done`` together, at the end. Nothing raises from here but
    the database's errors.

    :param running: the event ids this worker is running, whose leases it renews.
    """
    started = outbox.start(event_ids, from_states)
    if running is not None:
        running.update(call.event_id for call in started)
    outcomes: dict[str, str] = {}
    try:
        for call in started:
            outcomes[call.event_id] = _run_started(host, outbox, call, eager)
        outbox.finish_done([event_id for event_id, state in outcomes.items() if state == "done"])
    finally:
        if running is not None:
            running.difference_update(call.event_id for call in started)
    return outcomes


def _run_started(host: Host, outbox: Outbox, started: Started, eager: bool) -> str:
    """Run one taken call; record it unless it ran well (the caller records those)."""
    config = host.config
    now = time.time()
    try:
        function, names = find(host, started.hook, started.plugin)
        muted = operations.muted_until(host, started.plugin, started.hook)
        if muted is not None:
            # Muted here (by an operator, or the circuit breaker after failures in
            # a row): the call waits, its attempt not counted, and is tried again
            # when the mute ends, or every MUTED_RETRY seconds while it lasts.
            outbox.postpone(started.event_id, min(muted, now + MUTED_RETRY))
            logger.info(
                "deferred %s by plugin %r, event %s: postponed, the plugin is muted here",
                started.hook,
                started.plugin,
                started.event_id,
            )
            return "pending"
        stored = started.message["arguments"]
        arguments = {name: serialise.decode(stored[name]) for name in names}
        try:
            run(host, started, function, arguments)
        except Exception as error:
            operations.deferred_run_ended(host, started.plugin, started.hook, error)
            raise
        operations.deferred_run_ended(host, started.plugin, started.hook, None)
    except NotLoadedHere as error:
        held_since = started.held_since or now
        dead = now - held_since >= config.deliveries_held_grace
        # Offered again often enough for a worker that has it to take it within
        # the grace period, and never sooner than a second.
        retry_at = now + max(1.0, min(30.0, config.deliveries_held_grace / 5))
        outbox.hold(started.event_id, one_line(error), retry_at, dead)
        logger.warning(
            "deferred %s by plugin %r, event %s: %s: %s",
            started.hook,
            started.plugin,
            started.event_id,
            "dead (held longer than the grace period)" if dead else "held",
            error,
        )
        return "dead" if dead else "held"
    except Exception as error:
        if started.attempts > started.retries:
            outbox.finish(started.event_id, "dead", error=one_line(error))
            logger.error(
                "deferred %s by plugin %r, event %s: dead after %d attempts: %s",
                started.hook,
                started.plugin,
                started.event_id,
                started.attempts,
                one_line(error),
            )
            return "dead"
        wait = 0.0 if eager else backoff(started.attempts, config.retry_backoff_max)
        outbox.finish(
            started.event_id, "failed", error=one_line(error), next_attempt_at=time.time() + wait
        )
        return "failed"
    return "done"


def run(
    host: Host, started: Started, function: Callable[..., object], arguments: dict[str, Any]
) -> None:
    """Run one deferred call on this process's host, traced and logged.

    :raises Exception: whatever the implementation raised.
    """
    hook, plugin = started.hook, started.plugin
    event = DeferredEvent(
        event_id=started.event_id,
        hook=hook,
        plugin=plugin,
        queue=started.queue,
        attempt=started.attempts,
        retries=started.retries,
        enqueued_at=started.created_at,
    )
    latency_ms = max(0.0, (time.time() - event.enqueued_at) * 1000)
    token = _current.set(event)
    started_at = time.perf_counter()
    outcome, error_text = "ok", None
    span = otel.deferred_span(
        host.plugin_manager.callers.tracer,
        hook,
        plugin,
        started.traceparent,
        {"hosthooks.event_id": event.event_id, "hosthooks.attempt": event.attempt},
    )
    try:
        with span:
            result = function(**arguments)
            if inspect.iscoroutine(result):
                _await(result)
    except Exception as error:
        outcome, error_text = "raised", f"{type(error).__name__}: {error}"
        raise
    finally:
        _current.reset(token)
        duration_ms = (time.perf_counter() - started_at) * 1000
        logger.info(
            "deferred %s by plugin %r, event %s attempt %d: %s in %.2f ms, %.1f ms after enqueue%s",
            hook,
            plugin,
            event.event_id,
            event.attempt,
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


def _await(coroutine: Coroutine[Any, Any, object]) -> None:
    """Run an async implementation's coroutine to its end from this thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coroutine)
        return
    # An event loop runs in this thread (an eager call after an async commit):
    # the coroutine gets a loop of its own in another thread.
    outcome: list[BaseException] = []

    def in_thread() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=in_thread, name="hosthooks-deferred-async")
    thread.start()
    thread.join()
    if outcome:
        raise outcome[0]


def backoff(attempt: int, cap: float = 3600.0) -> float:
    """Seconds to wait before the attempt after ``attempt``: 1, 2, 4, ... seconds
    doubled each time up to ``cap``, each picked at random from its upper half
    (jitter: calls that failed together are not retried together)."""
    ceiling = min(cap, 2.0 ** (attempt - 1))
    return ceiling / 2 + random.random() * ceiling / 2
