"""Async calls: what ``await host.ahook.<name>(**kwargs)`` runs.

An async call runs a hook's implementations one after another, in exactly the
order of a synchronous call (:func:`hosthooks.engine.dispatch.call_order`: pluggy's
tryfirst/trylast and LIFO order), awaiting ``async def`` ones and calling the
others inline on the event loop (or, for ``@hookimpl(thread=True)``, in a
worker thread). Unlike Django's ``Signal.asend``, which gathers async receivers
concurrently and runs the sync ones first, nothing runs concurrently: the order
is the one ``hosthooks hooks`` shows.

Like synchronous calls, async calls run generated *plans*
(:mod:`hosthooks.engine.plans`, from the same :class:`~hosthooks.engine.plans.Shape`), with
``await`` where an implementation is awaited. Where a plan cannot stand in
(wrappers, historic hooks, tracing, a hook without a spec, a call missing an
argument or passing an extra one) the *async path* runs: a loop over the
implementations with pluggy's semantics for wrappers, results and errors.
"""

from __future__ import annotations

import functools
import time
import types
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

import pluggy

from hosthooks.engine.async_bridge import async_original
from hosthooks.engine.async_bridge import in_worker_thread
from hosthooks.engine.dispatch import for_sender
from hosthooks.engine.dispatch import is_wrapper
from hosthooks.engine.dispatch import note_pluggy_error
from hosthooks.engine.generated import ASYNC_PATH_FILENAME
from hosthooks.engine.generated import Built
from hosthooks.engine.generated import Names
from hosthooks.engine.generated import Template
from hosthooks.engine.generated import compile_template
from hosthooks.engine.generated import path_code
from hosthooks.engine.muting import Breaker
from hosthooks.engine.plans import Shape
from hosthooks.engine.plans import async_entry
from hosthooks.engine.plans import bind_entry
from hosthooks.engine.plans import dispatch_template
from hosthooks.engine.plans import path_namespace
from hosthooks.engine.plans import plan_calls
from hosthooks.engine.plans import plan_kind
from hosthooks.engine.plans import rare_values
from hosthooks.engine.plans import sender_plan_template
from hosthooks.engine.plans import sender_plans
from hosthooks.engine.plans import shape_of
from hosthooks.engine.robust import RobustCall
from hosthooks.engine.robust import RobustOutcome
from hosthooks.engine.tracing import HookTrace
from hosthooks.engine.tracing import add_impl_trace
from hosthooks.engine.tracing import describe_sender
from hosthooks.engine.tracing import impl_starting
from hosthooks.markers import THREAD_OPTION

if TYPE_CHECKING:
    from hosthooks.engine.tracing import Tracer

#: The async path's signature: hook name, implementations (as pluggy stores
#: them), arguments, firstresult; what pluggy's ``_hookexec`` is to the sync path.
AsyncRun = Callable[[str, Sequence[pluggy.HookImpl], Mapping[str, object], bool], Any]


def async_callable(impl: pluggy.HookImpl) -> tuple[Callable[..., Any], bool]:
    """What an async call calls for ``impl``, and whether it awaits the result:
    the coroutine function itself, a thread-running twin of a ``thread=True``
    implementation, or the implementation as registered, called inline."""
    original = async_original(impl.function)
    if original is not None:
        return original, True
    if impl.opts.get(THREAD_OPTION):
        return in_worker_thread(impl), True
    return impl.function, False


def _arguments(
    impl: pluggy.HookImpl, kwargs: Mapping[str, object]
) -> tuple[list[object], dict[str, object]]:
    try:
        args = [kwargs[name] for name in impl.argnames]
    except KeyError as missing:
        raise pluggy.HookCallError(
            f"hook call must provide argument {missing.args[0]!r}"
        ) from missing
    return args, {name: kwargs[name] for name in impl.kwargnames if name in kwargs}


async def _call(impl: pluggy.HookImpl, kwargs: Mapping[str, object]) -> Any:
    args, keywords = _arguments(impl, kwargs)
    function, awaited = async_callable(impl)
    if awaited:
        return await function(*args, **keywords)
    return function(*args, **keywords)


class _Wrapper:
    """A wrapper's generator (sync or async, new-style or old-style) around one call."""

    def __init__(self, impl: pluggy.HookImpl, kwargs: Mapping[str, object]) -> None:
        self.impl = impl
        args, keywords = _arguments(impl, kwargs)
        original = async_original(impl.function)
        self.is_async = original is not None
        self.generator: Any = (original or impl.function)(*args, **keywords)

    async def enter(self) -> None:
        try:
            if self.is_async:
                await self.generator.__anext__()
            else:
                next(self.generator)
        except (StopIteration, StopAsyncIteration):
            raise RuntimeError(
                f"the wrapper of plugin {self.impl.plugin_name!r} did not yield"
            ) from None

    async def leave(
        self, result: object, exception: BaseException | None
    ) -> tuple[object, BaseException | None]:
        """Hand the wrapper the outcome; the outcome it leaves."""
        if self.impl.hookwrapper:
            outcome = pluggy.Result(result, exception)
            finished, _ = await self._send(outcome, None)
            if not finished:
                await self._second_yield()
            exception = outcome.exception
            return (None if exception else outcome.get_result()), exception
        try:
            finished, value = await self._send(result, exception)
        except BaseException as raised:
            return None, raised
        if finished:
            if self.is_async:
                # An async generator cannot return a value: the result stands
                # unless the exception thrown in was swallowed.
                return (None if exception is not None else result), None
            return value, None
        if not self.is_async:
            await self._second_yield()
        # An async generator wrapper replaces the result by yielding once more.
        await self.generator.aclose()
        return value, None

    async def _send(self, value: object, exception: BaseException | None) -> tuple[bool, object]:
        """Resume the generator: whether it finished (and its return value), or what
        it yielded. A coroutine may not let StopIteration out (PEP 479): caught here."""
        if self.is_async:
            try:
                if exception is not None:
                    return False, await self.generator.athrow(exception)
                return False, await self.generator.asend(value)
            except StopAsyncIteration:
                return True, None
        try:
            if exception is not None:
                return False, self.generator.throw(exception)
            return False, self.generator.send(value)
        except StopIteration as stopped:
            return True, stopped.value

    async def _second_yield(self) -> None:
        if self.is_async:
            await self.generator.aclose()
        else:
            self.generator.close()
        raise RuntimeError(f"the wrapper of plugin {self.impl.plugin_name!r} yielded twice")


async def run_implementations(
    hook_name: str,
    impls: Sequence[pluggy.HookImpl],
    kwargs: Mapping[str, object],
    firstresult: bool,
    tracer: Tracer | None = None,
) -> Any:
    """The async path: ``impls`` (as pluggy stores them) for ``kwargs``, with
    pluggy's semantics for results, wrappers and errors.

    :raises Exception: what an implementation raised (or a wrapper left), with
        a note naming the plugin.
    """
    reached = for_sender(impls, kwargs)
    record = None
    if tracer is not None:
        record = HookTrace(hook_name, describe_sender(kwargs.get("sender")), 0.0)
        tracer.begin(record)
        if not tracer.keeps(record):
            record = None
    started = time.perf_counter()
    try:
        return await _run(reached[::-1], kwargs, firstresult, record)
    except Exception as error:
        # Among all of them, as the sync path names it: implementations sharing
        # code are told apart only where that names one for certain.
        note_pluggy_error(hook_name, error, impls)
        raise
    finally:
        if tracer is not None and record is not None:
            record.duration_ms = (time.perf_counter() - started) * 1000
            tracer.emit(record)


async def _run(
    in_call_order: Sequence[pluggy.HookImpl],
    kwargs: Mapping[str, object],
    firstresult: bool,
    record: HookTrace | None,
) -> Any:
    wrapped = any(is_wrapper(impl) for impl in in_call_order)
    wrappers: list[_Wrapper] = []
    results: list[object] = []
    exception: BaseException | None = None
    started = time.perf_counter()
    try:
        for impl in in_call_order:
            if is_wrapper(impl):
                wrapper = _Wrapper(impl, kwargs)
                await wrapper.enter()
                wrappers.append(wrapper)
                continue
            if not wrapped:
                impl_starting(record, impl.plugin_name)
            called = time.perf_counter()
            try:
                result = await _call(impl, kwargs)
            except Exception as error:
                if record is not None and not wrapped:
                    add_impl_trace(record, impl, called, "raised", error)
                raise
            if record is not None and not wrapped:
                add_impl_trace(record, impl, called, "ok" if result is None else "result")
            if result is not None:
                results.append(result)
                if firstresult:
                    break
    except BaseException as error:
        exception = error
    outcome: object = (results[0] if results else None) if firstresult else results
    for wrapper in reversed(wrappers):
        try:
            outcome, exception = await wrapper.leave(outcome, exception)
        except BaseException as error:
            # A wrapper that broke the protocol: what outer wrappers see, as in pluggy.
            outcome, exception = None, error
    if record is not None and wrapped:
        for impl in in_call_order:
            outcome_text = "wrapped" if exception is None else "raised"
            add_impl_trace(record, impl, started, outcome_text, exception)
    if exception is not None:
        raise exception
    return outcome


# -- plans -----------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _plan_template(shape: Shape, awaited: tuple[bool, ...]) -> Template:
    """An async plan: pluggy's conventions, then the calls, awaiting the ``awaited``
    ones, in one coroutine."""
    names = Names([*shape.spec_args, "self"])
    missing, rare = names.fresh("missing"), names.fresh("rare")
    calls, line_of_call, impls = plan_calls(shape, names, rare, awaited)
    values = [missing, *impls, rare]
    header, entry, installed = async_entry(shape, names, values)
    offsets = {len(entry) + line: index for line, index in line_of_call.items()}
    filename = f"<hosthooks plan {shape.hook_name}>"
    return compile_template(
        header, entry + calls, filename, offsets, values, names.namespace, installed
    )


def _callables(
    impls: Sequence[pluggy.HookImpl],
) -> tuple[list[Callable[..., Any]], tuple[bool, ...]]:
    pairs = [async_callable(impl) for impl in impls[::-1]]
    return [function for function, _ in pairs], tuple(awaited for _, awaited in pairs)


def _build_sender_plan(
    hook_caller: pluggy.HookCaller, impls: Sequence[pluggy.HookImpl]
) -> Callable[..., Any]:
    """An ``async def`` calling ``impls`` with the spec's arguments, positionally."""
    shape = shape_of(hook_caller, impls)
    functions, awaited = _callables(impls)
    template = sender_plan_template(shape, awaited)
    if not functions:
        return template.function([], hook_caller.name)
    rare = rare_values(shape, impls, template, None)
    return template.function([*functions, rare], hook_caller.name)


def build_plan(
    hook_caller: pluggy.HookCaller, impls: Sequence[pluggy.HookImpl], run: AsyncRun
) -> Built:
    """An async plan calling ``impls`` (plain ones, as pluggy stores them)."""
    shape = shape_of(hook_caller, impls)
    functions, awaited = _callables(impls)
    return bind_entry(shape, impls, _plan_template(shape, awaited), run, functions)


def build_sender_dispatch(
    hook_caller: pluggy.HookCaller, impls: Sequence[pluggy.HookImpl], run: AsyncRun
) -> Built:
    """The async twin of :func:`hosthooks.engine.plans.build_sender_dispatch`."""
    shape = shape_of(hook_caller, impls)
    plans, plan_for = sender_plans(
        impls, lambda accepted: _build_sender_plan(hook_caller, accepted)
    )
    template = dispatch_template(shape, True)
    return bind_entry(shape, impls, template, run, [plans, plan_for, id])


@functools.lru_cache(maxsize=1024)
def async_path(name: str, rebuild: bool) -> types.CodeType:
    """The async path for hook ``name``: the checks of ``HookCaller.__call__``, then
    :func:`run_implementations`; first, when ``rebuild``, a rebuild of the plan.

    An ``async def``, as a plan is: a function's code may change only to code of
    the same kind (CPython 3.14 deprecates the rest). Like an async plan it
    takes no ``self``: the hook's caller is in its namespace
    (:func:`async_path_namespace`).
    """
    first = ["if rebuild():", "    return await call(**kwargs)"] if rebuild else []
    body = [
        *first,
        "assert not hook_caller.is_historic(), "
        "'Cannot directly call a historic hook - use call_historic instead.'",
        "if defaults:",
        "    kwargs = {**defaults, **kwargs}",
        "check(kwargs)",
        "return await run(hook_name, hook_caller.get_hookimpls(), kwargs, firstresult)",
    ]
    return path_code(ASYNC_PATH_FILENAME, name, "async def __call__(**kwargs):", body)


def async_path_namespace(
    hook_caller: pluggy.HookCaller,
    run: AsyncRun,
    rebuild: Callable[[], bool],
    call: Callable[..., Any],
) -> dict[str, object]:
    """The names :func:`async_path` reads
    (as :func:`hosthooks.engine.plans.pluggy_path_namespace`)."""
    return {
        **path_namespace(hook_caller),
        "rebuild": rebuild,
        "call": call,
        "run": run,
        "hook_caller": hook_caller,
    }


def is_async_plan(code: types.CodeType) -> bool:
    return code.co_filename != ASYNC_PATH_FILENAME


def build_call(
    hook_caller: pluggy.HookCaller,
    impls: Sequence[pluggy.HookImpl],
    run: AsyncRun,
    path_only: bool,
) -> Built:
    """What ``host.ahook.<name>`` should run for ``impls`` (as pluggy stores them).

    :param path_only: run every call through the async path (tracing is on).
    """
    kind = plan_kind(hook_caller, impls, path_only)
    if kind == "sender":
        return build_sender_dispatch(hook_caller, impls, run)
    if kind == "plan":
        return build_plan(hook_caller, impls, run)
    return Built(async_path(hook_caller.name, rebuild=False), None, {})


# -- robust calls ----------------------------------------------------------------


async def fire_robust(
    hook_caller: pluggy.HookCaller,
    kwargs: Mapping[str, Any],
    tracer: Tracer | None = None,
    breaker: Breaker | None = None,
) -> list[tuple[str, RobustOutcome]]:
    """The async twin of :func:`hosthooks.engine.robust.fire_robust`: every implementation,
    in call order, awaited when async, whatever each raises; failures logged with the
    plugin's name, and the call traced to ``tracer`` when given."""
    call = RobustCall(hook_caller, kwargs, tracer, breaker)
    wrappers: list[_Wrapper] = []
    try:
        for impl in call.impls:
            called = time.perf_counter()
            try:
                if is_wrapper(impl):
                    wrapper = _Wrapper(impl, call.kwargs)
                    await wrapper.enter()
                    wrappers.append(wrapper)
                    continue
                value = await _call(impl, call.kwargs)
            except Exception as error:
                call.failed(impl, error, called)
                continue
            call.returned(impl, value, called)
        results = call.results()
        for wrapper in reversed(wrappers):
            called = time.perf_counter()
            try:
                _, left = await wrapper.leave(results, None)
            except Exception as error:
                call.failed(wrapper.impl, error, called)
                continue
            if isinstance(left, Exception):
                call.failed(wrapper.impl, left, called)
            else:
                call.left(wrapper.impl, called)
    finally:
        call.trace.emit()
    return call.outcomes
