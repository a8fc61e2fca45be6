"""Call plans: what ``host.hook.<name>(**kwargs)`` runs.

pluggy stays the source of truth for registration, validation and ordering.
From a hook's ordered implementations this module builds a *call plan*: a small
generated function whose signature is the hookspec's and whose body calls each
implementation positionally with exactly the arguments it asks for. That is
what pluggy's ``_multicall`` does at run time with a loop, a list comprehension
per implementation and a try/finally; a plan does it with straight-line code, so
a call costs about as much as the direct calls it makes.

Plans cannot express wrappers (``wrapper=True``/``hookwrapper=True``), historic
hooks or pluggy's hook-call monitoring; for those the hook's pluggy
``HookCaller`` is used as it is.
"""

from __future__ import annotations

import functools
import inspect
import sys
import types
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any
from typing import Final

import pluggy

from hosthooks.markers import SENDER_OPTION

#: What a plan is: called with the hook's keyword arguments, returns what pluggy would.
HookCall = Callable[..., Any]


class _AnySender:
    """The default of ``Host.has_listeners(sender=...)``: any sender, None included."""

    def __repr__(self) -> str:
        return "ANY_SENDER"


ANY_SENDER: Final = _AnySender()

#: Per-sender plans a filtered hook keeps before starting afresh.
MAX_CACHED_SENDERS: Final = 1024


def call_order(hook_caller: pluggy.HookCaller) -> list[pluggy.HookImpl]:
    """A hook's implementations in the order a call runs them (pluggy stores them reversed)."""
    return hook_caller.get_hookimpls()[::-1]


def is_wrapper(impl: pluggy.HookImpl) -> bool:
    return bool(impl.wrapper or impl.hookwrapper)


def sender_filter(impl: pluggy.HookImpl) -> object | None:
    """The ``sender=`` an implementation was marked with, or None when it takes every sender."""
    return impl.opts.get(SENDER_OPTION)


def sender_label(sender: object) -> str | None:
    """The label a string filter is compared with: ``hosthooks_label`` if the sender
    declares one (models do: ``"app.Model"``), else ``module.QualName`` for a class."""
    label = getattr(sender, "hosthooks_label", None)
    if isinstance(label, str):
        return label
    if isinstance(sender, type):
        return f"{sender.__module__}.{sender.__qualname__}"
    return None


def sender_matches(wanted: object, sender: object) -> bool:
    """Whether an implementation filtered on ``wanted`` takes a call from ``sender``.

    Objects match by identity, as Django matches ``connect(sender=...)``; a tuple
    matches any of its members; a string matches an equal string sender (the
    auth hooks send module names) or a sender whose label is that string.
    """
    if isinstance(wanted, tuple):
        return any(sender_matches(member, sender) for member in wanted)
    if isinstance(wanted, str):
        if isinstance(sender, str):
            return sender == wanted
        return sender_label(sender) == wanted
    return sender is wanted


def accepts(impl: pluggy.HookImpl, sender: object) -> bool:
    wanted = sender_filter(impl)
    return wanted is None or sender_matches(wanted, sender)


def attribute_error(error: BaseException, plugin_name: str, hook_name: str) -> None:
    """Name the plugin and hook an exception came from, as a note on the exception.

    Notes are shown under the traceback (PEP 678); a note is added once per
    hook call the exception passes through, so nested hooks read outside-in.
    """
    note = f"raised by plugin {plugin_name!r} in hook {hook_name!r}"
    if sys.version_info >= (3, 11):
        error.add_note(note)
    else:  # pragma: no cover - Python 3.10 keeps notes but does not print them
        notes = list(getattr(error, "__notes__", ()))
        notes.append(note)
        error.__notes__ = notes  # type: ignore[attr-defined]


def innermost_impl(
    traceback: types.TracebackType | None, impls: Sequence[pluggy.HookImpl]
) -> pluggy.HookImpl | None:
    """Which implementation raised, found by walking the traceback (slow path only)."""
    by_code: dict[types.CodeType, pluggy.HookImpl] = {}
    for impl in impls:
        code = getattr(inspect.unwrap(impl.function), "__code__", None)
        if code is not None:
            by_code[code] = impl
    found = None
    while traceback is not None:
        found = by_code.get(traceback.tb_frame.f_code, found)
        traceback = traceback.tb_next
    return found


class _PlanSource:
    """The generated source of a plan factory, and where each call stands in it."""

    __slots__ = ("factory", "line_to_index")

    def __init__(self, factory: Callable[..., HookCall], line_to_index: dict[int, int]) -> None:
        self.factory: Final = factory
        self.line_to_index: Final = line_to_index


#: The shape of a plan: hook name, spec arguments, which of them have defaults,
#: whether the hook is firstresult, and per implementation (positional
#: arguments, keyword arguments).
_Shape = tuple[
    str, tuple[str, ...], tuple[str, ...], bool, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]
]


@functools.lru_cache(maxsize=512)
def _compile_plan(shape: _Shape) -> _PlanSource:
    """Generate and compile a plan factory for one shape.

    Compiling costs ~100 us; plugins of the same shape share one code object,
    so a host with many plugins compiles each distinct shape once per process.
    """
    hook_name, argnames, defaulted, firstresult, calls = shape
    params = [name if name not in defaulted else f"{name}=_default_{name}" for name in argnames]
    factory_params = [f"_impl{index}" for index in range(len(calls))]
    factory_params += [f"_default_{name}" for name in defaulted]
    factory_params.append("_fail")
    lines = [f"def _factory({', '.join(factory_params)}):"]
    lines.append(f"    def {hook_name}({', '.join(params)}):")
    body: list[str] = []
    line_to_index: dict[int, int] = {}
    if not firstresult:
        body.append("results = []")
    for index, (positional, keywords) in enumerate(calls):
        arguments = list(positional) + [f"{name}={name}" for name in keywords]
        # Each call on a line of its own: the traceback's line number tells
        # which implementation raised, so the plan needs no bookkeeping.
        line_to_index[len(lines) + len(body) + 2] = index
        body.append(f"result = _impl{index}({', '.join(arguments)})")
        if firstresult:
            body.append("if result is not None:")
            body.append("    return result")
        else:
            body.append("if result is not None:")
            body.append("    results.append(result)")
    if not calls:
        body = ["return None" if firstresult else "return []"]
        lines.extend(f"        {line}" for line in body)
    else:
        body.append("return None" if firstresult else "return results")
        lines.append("        try:")
        lines.extend(f"            {line}" for line in body)
        lines.append("        except Exception as error:")
        lines.append("            _fail(error)")
        lines.append("            raise")
    lines.append(f"    return {hook_name}")
    source = "\n".join(lines) + "\n"
    namespace: dict[str, Any] = {}
    code = compile(source, f"<hosthooks plan {hook_name}>", "exec")
    exec(code, namespace)
    return _PlanSource(namespace["_factory"], line_to_index)


def _shape_of(
    hook_name: str, spec: Any, impls: Sequence[pluggy.HookImpl], firstresult: bool
) -> _Shape:
    spec_args = tuple(spec.argnames) + tuple(spec.kwargnames)
    calls = tuple(
        (tuple(impl.argnames), tuple(name for name in impl.kwargnames if name in spec_args))
        for impl in impls
    )
    return (hook_name, spec_args, tuple(spec.kwargnames), firstresult, calls)


def build_plan(hook_caller: pluggy.HookCaller, impls: Sequence[pluggy.HookImpl]) -> HookCall:
    """A generated function calling ``impls`` (plain implementations, in call order).

    Its signature is the hookspec's (defaults included), so a call with an
    argument the spec does not declare, or without one it requires, raises
    ``TypeError`` naming the hook. An exception from an implementation
    propagates unchanged but for a note naming the plugin.
    """
    spec = hook_caller.spec
    assert spec is not None
    firstresult = bool(spec.opts.get("firstresult"))
    shape = _shape_of(hook_caller.name, spec, impls, firstresult)
    source = _compile_plan(shape)
    hook_name = hook_caller.name
    line_to_index = source.line_to_index
    plugin_names = [impl.plugin_name for impl in impls]
    impl_list = list(impls)

    def fail(error: BaseException) -> None:
        # Caught in the plan's frame, the traceback starts there: its line
        # number is the line of the call that raised.
        traceback = error.__traceback__
        index = line_to_index.get(traceback.tb_lineno) if traceback is not None else None
        if index is None:
            found = innermost_impl(traceback, impl_list)
            if found is None:
                return
            attribute_error(error, found.plugin_name, hook_name)
            return
        attribute_error(error, plugin_names[index], hook_name)

    defaults = [spec.kwargdefaults[name] for name in spec.kwargnames]
    return source.factory(*(impl.function for impl in impls), *defaults, fail)


@functools.lru_cache(maxsize=128)
def _compile_sender_dispatch(
    hook_name: str, argnames: tuple[str, ...], defaulted: tuple[str, ...]
) -> Callable[..., HookCall]:
    params = [name if name not in defaulted else f"{name}=_default_{name}" for name in argnames]
    factory_params = ["_plans", "_plan_for"] + [f"_default_{name}" for name in defaulted]
    source = "\n".join(
        [
            f"def _factory({', '.join(factory_params)}):",
            f"    def {hook_name}({', '.join(params)}):",
            "        try:",
            "            plan = _plans[sender]",
            "        except KeyError:",
            "            plan = _plan_for(sender, True)",
            "        except TypeError:",
            "            plan = _plan_for(sender, False)",
            f"        return plan({', '.join(argnames)})",
            f"    return {hook_name}",
        ]
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<hosthooks dispatch {hook_name}>", "exec"), namespace)
    factory: Callable[..., HookCall] = namespace["_factory"]
    return factory


def build_sender_dispatch(
    hook_caller: pluggy.HookCaller, impls: Sequence[pluggy.HookImpl]
) -> HookCall:
    """A plan for a hook some of whose implementations filter by sender.

    The plan for each sender is built on its first call and cached, so
    filtering costs one dictionary lookup per call. Unhashable senders are
    matched on every call.
    """
    spec = hook_caller.spec
    assert spec is not None
    plans: dict[object, HookCall] = {}
    impl_list = list(impls)

    def plan_for(sender: object, cache: bool) -> HookCall:
        plan = build_plan(hook_caller, [impl for impl in impl_list if accepts(impl, sender)])
        if cache:
            # Senders are usually a few classes; a hook sent by ever-new objects
            # (templates reloaded, say) must not keep them all alive.
            if len(plans) >= MAX_CACHED_SENDERS:
                plans.clear()
            plans[sender] = plan
        return plan

    argnames = tuple(spec.argnames) + tuple(spec.kwargnames)
    factory = _compile_sender_dispatch(hook_caller.name, argnames, tuple(spec.kwargnames))
    defaults = [spec.kwargdefaults[name] for name in spec.kwargnames]
    return factory(plans, plan_for, *defaults)


def build_pluggy_call(hook_caller: pluggy.HookCaller) -> HookCall:
    """The hook's pluggy caller, with errors attributed to the plugin that raised.

    Used where a plan cannot stand in for pluggy: wrappers, monitoring.
    """

    def call(**kwargs: Any) -> Any:
        try:
            return hook_caller(**kwargs)
        except Exception as error:
            found = innermost_impl(error.__traceback__, hook_caller.get_hookimpls())
            if found is not None:
                attribute_error(error, found.plugin_name, hook_caller.name)
            raise

    call.__name__ = call.__qualname__ = hook_caller.name
    return call


def build_call(hook_caller: pluggy.HookCaller, monitored: bool) -> HookCall | pluggy.HookCaller:
    """What ``host.hook.<name>`` should be for this hook right now."""
    if hook_caller.spec is None or hook_caller.is_historic():
        return hook_caller
    impls = call_order(hook_caller)
    if monitored or any(is_wrapper(impl) for impl in impls):
        return build_pluggy_call(hook_caller)
    if any(sender_filter(impl) is not None for impl in impls):
        return build_sender_dispatch(hook_caller, impls)
    return build_plan(hook_caller, impls)


def implementations_for(
    hook_caller: pluggy.HookCaller, sender: object, any_sender: bool
) -> Iterable[pluggy.HookImpl]:
    """The implementations a call with ``sender`` would run, in call order."""
    for impl in call_order(hook_caller):
        if any_sender or accepts(impl, sender):
            yield impl
