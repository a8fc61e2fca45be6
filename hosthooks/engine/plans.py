"""Call plans: the generated code ``host.hook.<name>(**kwargs)`` runs.

From a hook's ordered implementations this module generates a *call plan*: a
function with pluggy's calling conventions (keyword arguments only, a missing
one warned about, an extra one passed on) whose body calls each implementation
positionally with exactly the arguments it asks for. pluggy's ``_multicall``
does that with a loop, a list comprehension per implementation and a
try/finally; a plan does it in straight-line code, so a call costs about as
much as the direct calls it makes. What a plan calls reaches it as the
defaults of its value parameters (:mod:`hosthooks.engine.generated`).

Where a plan cannot stand in for pluggy (wrappers, historic hooks, hook-call
monitoring, a hook without a spec, a call missing an argument or passing an
extra one) the *pluggy path* runs: the implementations through the plugin
manager's ``_hookexec``, from a frame at the depth of ``HookCaller.__call__``,
so that pluggy's warnings point where they would.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import Final
from typing import Literal

import pluggy
from pluggy._hooks import HookSpec

from hosthooks.engine import call_log
from hosthooks.engine.call_log import CallLog
from hosthooks.engine.dispatch import MAX_CACHED_SENDERS
from hosthooks.engine.dispatch import MISSING
from hosthooks.engine.dispatch import HookExec
from hosthooks.engine.dispatch import accepts
from hosthooks.engine.dispatch import attribute_error
from hosthooks.engine.dispatch import check_arguments
from hosthooks.engine.dispatch import collect_arguments
from hosthooks.engine.dispatch import is_wrapper
from hosthooks.engine.dispatch import note_pluggy_error
from hosthooks.engine.dispatch import sender_filter
from hosthooks.engine.generated import PLUGGY_PATH_FILENAME
from hosthooks.engine.generated import Built
from hosthooks.engine.generated import Names
from hosthooks.engine.generated import Rare
from hosthooks.engine.generated import Template
from hosthooks.engine.generated import compile_template
from hosthooks.engine.generated import path_code
from hosthooks.engine.generated import positional_error
from hosthooks.engine.generated import values_name


def _note_plan_error(
    hook_name: str,
    line_to_index: Mapping[int, int],
    impls: Sequence[pluggy.HookImpl],
    error: BaseException,
) -> None:
    # Caught in the plan's frame, the traceback starts there: its line number
    # is the line of the call that raised, which names the implementation.
    traceback = error.__traceback__
    index = line_to_index.get(traceback.tb_lineno) if traceback is not None else None
    if index is None:
        note_pluggy_error(hook_name, error, impls)
    else:
        attribute_error(error, impls[index].plugin_name, hook_name)


#: How one implementation is called: positional argument names, keyword argument names.
_Call = tuple[tuple[str, ...], tuple[str, ...]]


class Shape:
    """What a plan's code depends on: the spec's arguments and how each implementation
    takes them. Plugins of one shape share one compiled template."""

    __slots__ = ("calls", "firstresult", "hook_name", "key", "required", "spec_args")

    def __init__(
        self,
        hook_name: str,
        spec: HookSpec,
        impls: Sequence[pluggy.HookImpl],
        firstresult: bool,
    ) -> None:
        self.hook_name: Final = hook_name
        self.spec_args: Final = (*spec.argnames, *spec.kwargnames)
        self.required: Final = tuple(spec.argnames)
        self.firstresult: Final = firstresult
        self.calls: Final[tuple[_Call, ...]] = tuple(
            (
                tuple(impl.argnames),
                tuple(name for name in impl.kwargnames if name in self.spec_args),
            )
            for impl in impls
        )
        self.key: Final = (hook_name, self.spec_args, self.required, firstresult, self.calls)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Shape) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)


def plan_calls(
    shape: Shape, names: Names, rare: str, awaited: Sequence[bool] = ()
) -> tuple[list[str], dict[int, int], list[str]]:
    """Straight-line calls of every implementation, the body line of each call,
    and the value parameters holding the implementations.

    :param awaited: for an async plan, whether each call's result is awaited.
    """
    if not shape.calls:
        return ["return None" if shape.firstresult else "return []"], {}, []
    impls = [names.fresh(f"impl{index}") for index in range(len(shape.calls))]
    result, results, error = names.fresh("result"), names.fresh("results"), names.fresh("error")
    body = [] if shape.firstresult else [f"{results} = []"]
    body.append("try:")
    line_of_call: dict[int, int] = {}
    for index, (positional, keywords) in enumerate(shape.calls):
        arguments = [*positional, *(f"{name}={name}" for name in keywords)]
        # Each call on a line of its own: the traceback's line number tells
        # which implementation raised, so the plan needs no bookkeeping.
        line_of_call[len(body)] = index
        awaiting = "await " if index < len(awaited) and awaited[index] else ""
        body.append(f"    {result} = {awaiting}{impls[index]}({', '.join(arguments)})")
        body.append(f"    if {result} is not None:")
        keep = f"return {result}" if shape.firstresult else f"{results}.append({result})"
        body.append(f"        {keep}")
    body.append(f"except {names.refer('Exception', Exception)} as {error}:")
    body.append(f"    {rare}.fail({error})")
    body.append("    raise")
    body.append("return None" if shape.firstresult else f"return {results}")
    return body, line_of_call, impls


def _recorded_calls(
    shape: Shape, names: Names, rare: str
) -> tuple[list[str], dict[int, int], list[str], list[str]]:
    """:func:`plan_calls` for a recorded plan (see :mod:`hosthooks.engine.call_log`):
    the clock read before the first implementation and after each, into the
    one list appended to the log, unless its context says to skip the call. Also
    the value parameters the log's part needs: what the calls share, the log's
    ``append`` and its ``context``."""
    calls, log, context = names.fresh("calls"), names.fresh("log"), names.fresh("context")
    shared = [calls, log, context]
    clock = names.refer("clock", call_log.clock)
    returned = names.refer("RETURNED", call_log.RETURNED)
    skip = names.refer("SKIP", call_log.SKIP)
    impls = [names.fresh(f"impl{index}") for index in range(len(shape.calls))]
    result, results, error = names.fresh("result"), names.fresh("results"), names.fresh("error")
    times, where = names.fresh("times"), names.fresh("where")
    sender = "sender" if "sender" in shape.spec_args else "None"

    def logged(detail: str, indent: str) -> list[str]:
        lines = [
            f"{indent}{where} = {context}({shape.hook_name!r})",
            f"{indent}if {where} is not {skip}:",
            f"{indent}    {times}[{call_log.CONTEXT}] = {where}",
        ]
        if detail != "None":
            lines.append(f"{indent}    {times}[{call_log.DETAIL}] = {detail}")
        lines.append(f"{indent}    {log}({times})")
        return lines

    # The logged list (call_log.Logged): reader, sender, context, detail, times.
    body = [f"{times} = [{calls}, {sender}, None, None, {clock}()]"]
    if not shape.calls:
        # A call that reaches no implementation (logged only when asked for).
        body.extend(logged("None", ""))
        body.append("return None" if shape.firstresult else "return []")
        return body, {}, [], shared
    if not shape.firstresult:
        body.append(f"{results} = []")
    body.append("try:")
    line_of_call: dict[int, int] = {}
    for index, (positional, keywords) in enumerate(shape.calls):
        arguments = [*positional, *(f"{name}={name}" for name in keywords)]
        line_of_call[len(body)] = index
        body.append(f"    {result} = {impls[index]}({', '.join(arguments)})")
        body.append(f"    {times}.append({clock}())")
        body.append(f"    if {result} is not None:")
        body.append(f"        {times}.append({returned})")
        if shape.firstresult:
            body.extend(logged("None", "        "))
            body.append(f"        return {result}")
        else:
            body.append(f"        {results}.append({result})")
    body.append(f"except {names.refer('Exception', Exception)} as {error}:")
    body.append(f"    {times}.append({clock}())")
    body.append(f"    {rare}.fail({error})")
    body.extend(logged(error, "    "))
    body.append("    raise")
    body.extend(logged("None", ""))
    body.append("return None" if shape.firstresult else f"return {results}")
    return body, line_of_call, impls, shared


def _value_parameters(names: Sequence[str]) -> str:
    return "".join(f"{name}=None, " for name in names)


def _entry(shape: Shape, names: Names, values: Sequence[str]) -> tuple[str, list[str]]:
    """``def <hook>(self, <values>, /, *surplus, <spec arguments>, **extra):`` and the
    lines handing a call with a positional, missing or extra argument elsewhere
    (what they read from the function's namespace goes to ``names.namespace``).

    ``values`` start with :data:`MISSING`'s and end with :class:`Rare`'s. Every
    spec argument gets its default from the function's ``__kwdefaults__``: the
    spec's default, or :data:`MISSING`. A positional argument is the TypeError
    binding would raise (naming ``<hook>.__call__``); a missing or extra one goes
    to pluggy's path.
    """
    missing, rare = values[0], values[-1]
    surplus, extra, kwargs, error = (
        names.fresh("surplus"),
        names.fresh("extra"),
        names.fresh("kwargs"),
        names.fresh("error"),
    )
    sentinel = names.refer("MISSING", MISSING)
    raise_positional = names.refer("positional_error", positional_error)
    keywords = "".join(f"{name}, " for name in shape.spec_args)
    header = (
        f"def {shape.hook_name}(self, {_value_parameters(values)}/, "
        f"*{surplus}, {keywords}**{extra}):"
    )
    odd = [
        extra,
        f"{missing} is not {sentinel}",
        *(f"{name} is {missing}" for name in shape.required),
    ]
    return (
        header,
        [
            f"if {' or '.join(odd)}:",
            f"    if {missing} is not {sentinel}:",
            f"        {raise_positional}({shape.hook_name + '.__call__'!r}, 1, "
            f"{surplus}, ({', '.join(values)},))",
            f"    {kwargs} = {rare}.collect({', '.join([extra, *shape.spec_args])})",
            "    try:",
            f"        return {_general_call(shape, rare, kwargs)}",
            f"    except {names.refer('Exception', Exception)} as {error}:",
            f"        {rare}.note({error}, {rare}.impls)",
            "        raise",
        ],
    )


def _general_call(shape: Shape, rare: str, kwargs: str) -> str:
    return f"{rare}.run({shape.hook_name!r}, [*{rare}.impls], {kwargs}, {shape.firstresult})"


def async_entry(shape: Shape, names: Names, values: Sequence[str]) -> tuple[str, list[str], str]:
    """``async def <hook>(*, <spec arguments>, **extra):``, the lines reading its
    values from the function's namespace and handing a call with a missing or
    extra argument to the async path, and the name the values are read from
    (see :mod:`hosthooks.engine.generated`).

    ``values`` name what the values unpack into: :data:`MISSING`'s first,
    :class:`Rare`'s last. With no positional parameter, a positional argument is
    binding's TypeError, at the call, as with pluggy's ``HookCaller``; the
    function itself is ``host.ahook.<name>``, not a bound method (which costs a
    call ~10-20 ns more). The async path names the plugin an error came from itself.
    """
    missing, rare = values[0], values[-1]
    installed, extra, kwargs = (
        names.fresh(values_name()),
        names.fresh("extra"),
        names.fresh("kwargs"),
    )
    keywords = "".join(f"{name}, " for name in shape.spec_args)
    star = "*, " if keywords else ""
    header = f"async def {shape.hook_name}({star}{keywords}**{extra}):"
    arguments = ", ".join([extra, *shape.spec_args])
    odd = [extra, *(f"{name} is {missing}" for name in shape.required)]
    again = names.refer("call_again", call_again)
    return (
        header,
        [
            "try:",
            f"    {', '.join(values)}, = {installed}",
            f"except {names.refer('NameError', NameError)}:",
            f"    return await {again}({names.refer('globals', globals)}(), "
            f"{shape.spec_args!r}, {arguments})",
            f"if {' or '.join(odd)}:",
            f"    {kwargs} = {rare}.collect({arguments})",
            f"    return await {_general_call(shape, rare, kwargs)}",
        ],
        installed,
    )


def call_again(
    namespace: Mapping[str, Any],
    spec_args: Sequence[str],
    extra: Mapping[str, object],
    *arguments: object,
) -> Any:
    """The call of an async entry whose values left its function's ``namespace``
    (its coroutine started after a plan of another shape replaced it), made again
    through the function as it is now (``call`` in its path's namespace), with the
    arguments the caller left out still left out. Returns the awaitable."""
    given = {
        name: value
        for name, value in zip(spec_args, arguments, strict=True)
        if value is not MISSING
    }
    return namespace["call"](**extra, **given)


@functools.lru_cache(maxsize=512)
def _empty_plan_template(shape: Shape) -> tuple[Template, str]:
    """The plan of a hook nobody implements, and the namespace name of its :class:`Rare`.

    It calls nothing, so it takes no value parameters: ``def <hook>(self, *,
    <spec arguments>, **extra):`` makes a positional argument binding's own
    TypeError at the call, free, and only a call missing or passing an extra
    argument reads the :class:`Rare` (from the function's namespace; any plan of
    this hook nobody implements holds one alike).
    """
    names = Names([*shape.spec_args, "self"])
    rare, missing, extra = names.fresh("empty_rare"), names.fresh("missing"), names.fresh("extra")
    kwargs, error = names.fresh("kwargs"), names.fresh("error")
    keywords = "".join(f"{name}, " for name in shape.spec_args)
    star = "*, " if keywords else ""
    header = f"def {shape.hook_name}(self, {star}{keywords}**{extra}):"
    # One read of the sentinel from the namespace, then local reads: the checks
    # of every required argument cost what they cost with a value parameter.
    sentinel = names.refer("MISSING", MISSING)
    odd = [extra, *(f"{name} is {missing}" for name in shape.required)]
    body = [
        f"{missing} = {sentinel}" if shape.required else "pass",
        f"if {' or '.join(odd)}:",
        f"    {kwargs} = {rare}.collect({', '.join([extra, *shape.spec_args])})",
        "    try:",
        f"        return {_general_call(shape, rare, kwargs)}",
        f"    except {names.refer('Exception', Exception)} as {error}:",
        f"        {rare}.note({error}, {rare}.impls)",
        "        raise",
        "return None" if shape.firstresult else "return []",
    ]
    filename = f"<hosthooks plan {shape.hook_name}>"
    return compile_template(header, body, filename, {}, (), names.namespace), rare


@functools.lru_cache(maxsize=512)
def _plan_template(shape: Shape) -> Template:
    """An entry plan: pluggy's conventions, then the calls.

    Compiling costs ~100 us; plugins of the same shape share one template, so a
    host compiles each distinct shape once per process.
    """
    names = Names([*shape.spec_args, "self"])
    missing, rare = names.fresh("missing"), names.fresh("rare")
    calls, line_of_call, impls = plan_calls(shape, names, rare)
    values = [missing, *impls, rare]
    header, fallback = _entry(shape, names, values)
    offsets = {len(fallback) + line: index for line, index in line_of_call.items()}
    filename = f"<hosthooks plan {shape.hook_name}>"
    return compile_template(header, fallback + calls, filename, offsets, values, names.namespace)


@functools.lru_cache(maxsize=512)
def _recorded_plan_template(shape: Shape) -> Template:
    """:func:`_plan_template` for a recorded plan."""
    names = Names([*shape.spec_args, "self"])
    missing, rare = names.fresh("missing"), names.fresh("rare")
    calls, line_of_call, impls, shared = _recorded_calls(shape, names, rare)
    values = [missing, *impls, *shared, rare]
    header, fallback = _entry(shape, names, values)
    offsets = {len(fallback) + line: index for line, index in line_of_call.items()}
    filename = f"<hosthooks plan {shape.hook_name}>"
    return compile_template(header, fallback + calls, filename, offsets, values, names.namespace)


@functools.lru_cache(maxsize=512)
def _recorded_sender_plan_template(shape: Shape) -> Template:
    """:func:`sender_plan_template` for a recorded plan."""
    names = Names(shape.spec_args)
    rare = names.fresh("rare")
    calls, line_of_call, impls, shared = _recorded_calls(shape, names, rare)
    values = [*impls, *shared, rare]
    parameters = [*shape.spec_args, *(f"{name}=None" for name in values)]
    slash = ", /" if parameters else ""
    header = f"def {shape.hook_name}({', '.join(parameters)}{slash}):"
    filename = f"<hosthooks plan {shape.hook_name}>"
    return compile_template(header, calls, filename, line_of_call, values, names.namespace)


@functools.lru_cache(maxsize=512)
def sender_plan_template(shape: Shape, awaited: tuple[bool, ...] | None = None) -> Template:
    """A per-sender plan: the calls only, the spec's arguments positional, the
    values after them; an ``async def`` when ``awaited`` says what to await."""
    names = Names(shape.spec_args)
    rare = names.fresh("rare")
    calls, line_of_call, impls = plan_calls(shape, names, rare, awaited or ())
    values = [*impls, rare] if impls else []
    parameters = [*shape.spec_args, *(f"{name}=None" for name in values)]
    slash = ", /" if parameters else ""
    define = "def" if awaited is None else "async def"
    header = f"{define} {shape.hook_name}({', '.join(parameters)}{slash}):"
    filename = f"<hosthooks plan {shape.hook_name}>"
    return compile_template(header, calls, filename, line_of_call, values, names.namespace)


@functools.lru_cache(maxsize=128)
def dispatch_template(shape: Shape, awaiting: bool) -> Template:
    """A sender dispatcher: pluggy's conventions, then the sender's plan (awaited
    when ``awaiting``: an async dispatcher, :func:`async_entry`).

    Cached plans are keyed by ``id(sender)`` and hold the sender itself, so a
    sender equal to another is still another sender, and no user ``__hash__``
    or ``__eq__`` runs (pluggy runs none either).
    """
    names = Names([*shape.spec_args, "self"])
    missing, rare = names.fresh("missing"), names.fresh("rare")
    plans, plan_for, identity = names.fresh("plans"), names.fresh("plan_for"), names.fresh("id")
    values = [missing, plans, plan_for, identity, rare]
    installed = None
    if awaiting:
        header, entry, installed = async_entry(shape, names, values)
    else:
        header, entry = _entry(shape, names, values)
    cached, sender_plan = names.fresh("cached"), names.fresh("sender_plan")
    body = [
        *entry,
        "try:",
        f"    {cached}, {sender_plan} = {plans}[{identity}(sender)]",
        f"except {names.refer('KeyError', KeyError)}:",
        f"    {cached} = {missing}",
        f"if {cached} is not sender:",
        f"    {sender_plan} = {plan_for}(sender)",
        f"return {'await ' if awaiting else ''}{sender_plan}({', '.join(shape.spec_args)})",
    ]
    filename = f"<hosthooks dispatch {shape.hook_name}>"
    return compile_template(header, body, filename, {}, values, names.namespace, installed)


def rare_values(
    shape: Shape,
    impls: Sequence[pluggy.HookImpl],
    template: Template,
    run: Callable[..., Any] | None,
    expected: Sequence[object] = (),
) -> Rare:
    """A plan's :class:`Rare` value; ``expected``: its values before this one."""
    fail = functools.partial(_note_plan_error, shape.hook_name, template.line_to_index, impls[::-1])
    return Rare(
        fail,
        functools.partial(collect_arguments, shape.spec_args, shape.required),
        run,
        tuple(impls),
        functools.partial(note_pluggy_error, shape.hook_name),
        tuple(expected),
    )


def bind_entry(
    shape: Shape,
    impls: Sequence[pluggy.HookImpl],
    template: Template,
    run: Callable[..., Any],
    values: Sequence[object],
) -> Built:
    """An entry (plan or dispatcher) bound: MISSING, ``values``, then its Rare."""
    expected = (MISSING, *values)
    return template.bind([*expected, rare_values(shape, impls, template, run, expected)])


def shape_of(hook_caller: pluggy.HookCaller, impls: Sequence[pluggy.HookImpl]) -> Shape:
    spec = hook_caller.spec
    assert spec is not None
    return Shape(hook_caller.name, spec, impls[::-1], is_firstresult(hook_caller))


def _log_values(
    hook_caller: pluggy.HookCaller, impls: Sequence[pluggy.HookImpl], log: CallLog
) -> list[object]:
    """The values of a recorded plan's log part (see :func:`_recorded_calls`)."""
    return [call_log.PlanCalls(hook_caller.name, impls[::-1]), log.append, log.context]


def build_plan(
    hook_caller: pluggy.HookCaller,
    impls: Sequence[pluggy.HookImpl],
    hookexec: HookExec,
    log: CallLog | None = None,
) -> Built:
    """A plan calling ``impls`` (plain implementations, as pluggy stores them),
    recorded in ``log`` when given.

    An exception from an implementation propagates unchanged but for a note
    naming the plugin.
    """
    shape = shape_of(hook_caller, impls)
    functions: list[object] = [impl.function for impl in impls[::-1]]
    if not impls and (log is None or not log.empty_calls):
        template, rare = _empty_plan_template(shape)
        namespace = {**template.namespace, rare: rare_values(shape, impls, template, hookexec)}
        return Built(template.code, None, namespace)
    if log is None:
        return bind_entry(shape, impls, _plan_template(shape), hookexec, functions)
    template = _recorded_plan_template(shape)
    functions += _log_values(hook_caller, impls, log)
    return bind_entry(shape, impls, template, hookexec, functions)


def build_sender_plan(
    hook_caller: pluggy.HookCaller, impls: Sequence[pluggy.HookImpl], log: CallLog | None = None
) -> Callable[..., Any]:
    """A plan for one sender: ``impls`` called with the spec's arguments,
    positionally; recorded in ``log`` when given."""
    shape = shape_of(hook_caller, impls)
    functions: list[object] = [impl.function for impl in impls[::-1]]
    if log is None or not (functions or log.empty_calls):
        template = sender_plan_template(shape)
        if not functions:
            return template.function([], hook_caller.name)
    else:
        template = _recorded_sender_plan_template(shape)
        functions += _log_values(hook_caller, impls, log)
    rare = rare_values(shape, impls, template, None)
    return template.function([*functions, rare], hook_caller.name)


def build_sender_dispatch(
    hook_caller: pluggy.HookCaller,
    impls: Sequence[pluggy.HookImpl],
    hookexec: HookExec,
    log: CallLog | None = None,
) -> Built:
    """A plan for a hook some of whose implementations filter by sender (each
    sender's plan recorded in ``log`` when given).

    The plan for each sender is built on its first call and cached, so
    filtering costs one dictionary lookup per call.
    """
    shape = shape_of(hook_caller, impls)
    plans, plan_for = sender_plans(
        impls, lambda accepted: build_sender_plan(hook_caller, accepted, log)
    )
    template = dispatch_template(shape, False)
    return bind_entry(shape, impls, template, hookexec, [plans, plan_for, id])


def sender_plans(
    impls: Sequence[pluggy.HookImpl],
    build: Callable[[list[pluggy.HookImpl]], Callable[..., Any]],
) -> tuple[dict[int, tuple[object, Callable[..., Any]]], Callable[[object], Callable[..., Any]]]:
    """The per-sender plan cache of a sender dispatch (sync or async), and the
    function that fills it: ``build`` makes the plan of the implementations a
    sender is accepted by. Keyed by identity; the sender is kept beside its plan."""
    plans: dict[int, tuple[object, Callable[..., Any]]] = {}

    def plan_for(sender: object) -> Callable[..., Any]:
        plan = build([impl for impl in impls if accepts(impl, sender)])
        # Senders are usually a few classes; a hook sent by ever-new objects
        # (templates reloaded, say) must not keep them all alive.
        if len(plans) >= MAX_CACHED_SENDERS:
            plans.clear()
        plans[id(sender)] = (sender, plan)
        return plan

    return plans, plan_for


def is_firstresult(hook_caller: pluggy.HookCaller) -> bool:
    spec = hook_caller.spec
    return bool(spec.opts.get("firstresult")) if spec is not None else False


@functools.lru_cache(maxsize=1024)
def pluggy_path(name: str, rebuild: bool) -> types.CodeType:
    """The pluggy path for hook ``name``: what ``HookCaller.__call__`` does, from a
    frame at the same depth; first, when ``rebuild``, a rebuild of the plan.

    Its names (see :func:`pluggy_path_namespace`) are read from the namespace
    of the function running it, one per hook.
    """
    # The first call after a change builds the plan and runs it, so that
    # every call of a plain hook runs a plan, the first one included.
    first = ["if rebuild():", "    return call(**kwargs)"] if rebuild else []
    body = [
        *first,
        "assert not self.is_historic(), "
        "'Cannot directly call a historic hook - use call_historic instead.'",
        "if defaults:",
        "    kwargs = {**defaults, **kwargs}",
        "check(kwargs)",
        "impls = self.get_hookimpls()",
        "try:",
        "    return hookexec(hook_name, impls, kwargs, firstresult)",
        "except Exception as error:",
        "    note(error, impls)",
        "    raise",
    ]
    return path_code(PLUGGY_PATH_FILENAME, name, "def __call__(self, **kwargs):", body)


def path_namespace(hook_caller: pluggy.HookCaller) -> dict[str, object]:
    """The names a path (sync or async) reads that depend on the hook's spec only."""
    spec = hook_caller.spec
    return {
        "hook_name": hook_caller.name,
        "firstresult": is_firstresult(hook_caller),
        "defaults": dict(spec.kwargdefaults if spec is not None else {}),
        "check": functools.partial(
            check_arguments, tuple(spec.argnames) if spec is not None else ()
        ),
    }


def pluggy_path_namespace(
    hook_caller: pluggy.HookCaller,
    hookexec: HookExec,
    rebuild: Callable[[], bool],
    call: Callable[..., Any],
) -> dict[str, object]:
    """The names :func:`pluggy_path` reads.

    :param rebuild: installs the hook's new code and tells whether it is a plan;
        if so, the call goes to ``call`` (the hook's live caller, now running
        the plan) instead.
    """
    return {
        **path_namespace(hook_caller),
        "rebuild": rebuild,
        "call": call,
        "hookexec": hookexec,
        "note": functools.partial(note_pluggy_error, hook_caller.name),
    }


def is_plan(code: types.CodeType) -> bool:
    """Whether ``code`` is a plan (or sender dispatcher), not the pluggy path."""
    return code.co_filename != PLUGGY_PATH_FILENAME


def plan_defaults(spec: HookSpec) -> dict[str, object]:
    """The ``__kwdefaults__`` a plan's function needs: the spec's defaults, MISSING for the rest."""
    return {**dict.fromkeys(spec.argnames, MISSING), **spec.kwargdefaults}


def build_call(
    hook_caller: pluggy.HookCaller,
    impls: Sequence[pluggy.HookImpl],
    hookexec: HookExec,
    pluggy_only: bool,
    log: CallLog | None = None,
) -> Built:
    """What ``host.hook.<name>`` should run for ``impls`` (as pluggy stores them).

    :param hookexec: what runs the pluggy path (the plugin manager's ``_hookexec``).
    :param pluggy_only: run every call through pluggy (monitoring or tracing is on).
    :param log: where plans record each call (a call log is the host's only follower).
    """
    kind = plan_kind(hook_caller, impls, pluggy_only)
    if kind == "sender":
        return build_sender_dispatch(hook_caller, impls, hookexec, log)
    if kind == "plan":
        return build_plan(hook_caller, impls, hookexec, log)
    return Built(pluggy_path(hook_caller.name, rebuild=False), None, {})


def plan_kind(
    hook_caller: pluggy.HookCaller, impls: Sequence[pluggy.HookImpl], general_only: bool
) -> Literal["general", "sender", "plan"]:
    """What a hook's code should be, sync or async alike: the general path (pluggy's,
    or its async twin), a dispatch on the sender, or a straight-line plan.

    :param general_only: every call must take the general path (monitoring or tracing).
    """
    spec = hook_caller.spec
    if (
        general_only
        or spec is None
        or hook_caller.is_historic()
        or any(is_wrapper(impl) for impl in impls)
        or "self" in (*spec.argnames, *spec.kwargnames)
        # Implementations validated against no spec may want what it lacks;
        # pluggy reports that when called.
        or any(not set(impl.argnames) <= {*spec.argnames, *spec.kwargnames} for impl in impls)
    ):
        return "general"
    filtered = any(sender_filter(impl) is not None for impl in impls)
    if filtered and "sender" in spec.argnames:
        return "sender"
    return "general" if filtered else "plan"
