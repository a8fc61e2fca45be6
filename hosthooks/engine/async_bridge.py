"""Async implementations reached by synchronous calls.

An ``async def`` implementation is registered with pluggy behind a synchronous
stand-in, so that everything that calls implementations synchronously (call
plans, pluggy's own path, tracing, ``fire_robust``, historic replays) needs no
second code path. The stand-in keeps the coroutine function it stands for
(:func:`async_original`), which async calls await instead.

A synchronous call reaching the stand-in runs the coroutine to completion with
asgiref's ``async_to_sync``, as Django's ``Signal.send`` runs async receivers:
on a loop of its own when no event loop runs anywhere near, on the outer loop
when the call comes from a thread asgiref's ``sync_to_async`` runs (a view
served over ASGI). When an event loop is running in the calling thread, waiting
for the coroutine there would deadlock that loop, and not waiting would leave it
never awaited: the stand-in raises :class:`AsyncImplementationError` instead.

An implementation with a ``when=`` condition stands behind a stand-in too,
which asks the condition first: a skipped ``async def`` implementation costs a
synchronous call no event loop, and an async call no coroutine of its own.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from collections.abc import Generator
from typing import Any
from typing import Final
from typing import cast

import pluggy

from hosthooks.markers import WHEN_OPTION

#: The attribute of a stand-in holding the async function it stands for.
_ORIGINAL: Final = "__hosthooks_async__"
#: The attribute of a synchronous implementation's stand-in asking its condition
#: first: the implementation it stands for.
_CONDITIONED: Final = "__hosthooks_when__"

#: A ``when=`` condition.
Condition = Callable[[], object]


class AsyncImplementationError(RuntimeError):
    """A synchronous hook call reached an async implementation it cannot run:
    an event loop is running in the calling thread, or the implementation is an
    async generator wrapper (which only ``await host.ahook.<name>(...)`` runs)."""


def is_async_function(function: object) -> bool:
    return inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function)


def async_original(function: object) -> Callable[..., Any] | None:
    """The async function ``function`` stands in for, or None when it is not a stand-in."""
    original: Callable[..., Any] | None = getattr(function, _ORIGINAL, None)
    return original


def is_async_implementation(impl: pluggy.HookImpl) -> bool:
    """Whether an implementation was written ``async def`` (a coroutine or async
    generator function), behind whatever stand-in or decoration it is registered."""
    function: object = impl.function
    while True:
        if is_async_function(function) or async_original(function) is not None:
            return True
        unwrapped = getattr(function, "__wrapped__", None)
        if unwrapped is None:
            return False
        function = unwrapped


def _refuse_inside_loop(hook_name: str, plugin_name: str) -> None:
    # asyncio and asgiref are imported when an async implementation first runs:
    # a host that has none starts without them.
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise AsyncImplementationError(
        f"hook {hook_name!r} was called synchronously in a thread running an event loop, "
        f"and plugin {plugin_name!r} implements it with async def: "
        f"use 'await host.ahook.{hook_name}(...)' there"
    )


def _coroutine_stand_in(
    hook_name: str, plugin_name: str, function: Callable[..., Any], when: Condition | None
) -> Callable[..., Any]:
    @functools.wraps(function)
    def run_to_completion(*args: Any, **kwargs: Any) -> Any:
        # Asked before anything else: an implementation with nothing to do
        # must not cost a thread and an event loop.
        if when is not None and not when():
            return None
        _refuse_inside_loop(hook_name, plugin_name)
        from asgiref.sync import async_to_sync

        return async_to_sync(function)(*args, **kwargs)

    return run_to_completion


def _generator_stand_in(
    hook_name: str, plugin_name: str, function: Callable[..., Any]
) -> Callable[..., Any]:
    # A generator function, so that pluggy accepts it as a wrapper. Stepping an
    # async generator from synchronous code would need one event loop kept for
    # the whole call; asgiref closes the loop it makes after each step.
    @functools.wraps(function)
    def refuse(*args: Any, **kwargs: Any) -> Generator[None, Any, Any]:
        _refuse_inside_loop(hook_name, plugin_name)
        raise AsyncImplementationError(
            f"plugin {plugin_name!r} wraps hook {hook_name!r} with an async generator, "
            f"which only 'await host.ahook.{hook_name}(...)' runs"
        )
        yield  # pragma: no cover - makes this a generator function

    return refuse


def _conditional_coroutine(function: Callable[..., Any], when: Condition) -> Callable[..., Any]:
    """What an async call awaits for an ``async def`` implementation with a condition."""

    @functools.wraps(function)
    async def when_true(*args: Any, **kwargs: Any) -> Any:
        if not when():
            return None
        return await function(*args, **kwargs)

    return when_true


def _conditional(function: Callable[..., Any], when: Condition) -> Callable[..., Any]:
    @functools.wraps(function)
    def when_true(*args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs) if when() else None

    return when_true


def in_worker_thread(impl: pluggy.HookImpl) -> Callable[..., Any]:
    """What an async call awaits for a ``thread=True`` implementation: the
    implementation run in a worker thread, after its condition (if it has one)
    is asked on the event loop, so that a skipped implementation costs no thread."""
    # Imported here: a host whose hooks are only called synchronously starts without it.
    from asgiref.sync import sync_to_async

    function = getattr(impl.function, _CONDITIONED, impl.function)
    when = cast("Condition | None", impl.opts.get(WHEN_OPTION))
    # Not thread-sensitive: a blocking implementation must not hold up the
    # others (and every request's views) queued for asgiref's one sync thread.
    threaded = sync_to_async(function, thread_sensitive=False)
    return threaded if when is None else _conditional_coroutine(threaded, when)


def stand_in_for(hook_name: str, impl: pluggy.HookImpl) -> None:
    """Register ``impl`` behind a stand-in if it needs one: a synchronous stand-in
    if it is ``async def``, one asking its condition first if it has ``when=``
    (idempotent: a stand-in is left as it is)."""
    function = impl.function
    if async_original(function) is not None or hasattr(function, _CONDITIONED):
        return
    when = cast("Condition | None", impl.opts.get(WHEN_OPTION))
    if inspect.iscoroutinefunction(function):
        stand_in = _coroutine_stand_in(hook_name, impl.plugin_name, function, when)
        original = function if when is None else _conditional_coroutine(function, when)
        setattr(stand_in, _ORIGINAL, original)
    elif inspect.isasyncgenfunction(function):
        stand_in = _generator_stand_in(hook_name, impl.plugin_name, function)
        setattr(stand_in, _ORIGINAL, function)
    elif when is not None:
        stand_in = _conditional(function, when)
        setattr(stand_in, _CONDITIONED, function)
    else:
        return
    # pluggy has no way to swap a registered implementation: changed in place,
    # before any call sees it, as deferred implementations are.
    setattr(impl, "function", stand_in)  # noqa: B010 - Final to type checkers
