"""Call plans: the generated code ``host.hook.<name>(**kwargs)`` runs.

From a hook's ordered implementations this module generates a *call plan*: a
function with pluggy's calling conventions (keyword arguments only, a missing
one warned about, an extra one passed on) whose body calls each implementation
positionally with exactly the arguments it asks for. pluggy's ``_multicall``
does that with a loop, a list comprehension per implementation and a
try/finally; a plan does it in straight-line code, so a call costs about as
much as the direct calls it makes.

A plan's code object carries the implementations it calls among its
constants, so installing a plan is one assignment of a function's
``__code__``: a call runs the old plan or the new one, never half of each.

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
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import Final
from typing import Literal

import pluggy
from pluggy._hooks import HookSpec

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


class _Names:
    """Names for generated code that no spec argument (or earlier name) already uses."""

    def __init__(self, taken: Iterable[str]) -> None:
        self._taken = set(taken)

    def fresh(self, base: str) -> str:
        name = base
        while name in self._taken:
            name += "_"
        self._taken.add(name)
        return name


class _ConstantDict(dict[Any, Any]):
    """A dict a code object can carry among its constants, which must be hashable:
    hashed and compared by identity (no code compares these by value)."""

    def __hash__(self) -> int:  # type: ignore[override]
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other


def _unpack(group: int, names: Sequence[str]) -> str:
    """A statement loading ``names`` from slot group ``group``: one constant tuple,
    filled per plan (see :class:`Template`)."""
    placeholders = tuple(f"\0hosthooks slot {group}.{index}" for index in range(len(names)))
    return f"{', '.join(names)}, = {placeholders!r}"


class Template:
    """A compiled function whose constant tuples of placeholders are filled per plan.

    Generated code refers to :data:`MISSING` as ``...``, the one constant that
    ``is`` may compare with without a SyntaxWarning; filling puts MISSING there.
    """

    __slots__ = ("code", "line_to_index", "slot_indexes")

    def __init__(self, code: types.CodeType, line_to_index: dict[int, int]) -> None:
        self.code: Final = code
        found: dict[int, int] = {}
        for index, const in enumerate(code.co_consts):
            if const is Ellipsis:
                found[-1] = index
            elif isinstance(const, tuple) and const and str(const[0]).startswith("\0hosthooks"):
                found[int(str(const[0]).split()[-1].split(".")[0])] = index
        self.slot_indexes: Final = found
        #: Source line of each implementation call -> its index in call order.
        self.line_to_index: Final = line_to_index

    def fill(self, *groups: Sequence[object]) -> types.CodeType:
        """This code with each group's values where its placeholders were."""
        consts = list(self.code.co_consts)
        for group, values in enumerate(groups):
            # A group the code never loads (a plan calling nobody) stays out.
            if group in self.slot_indexes:
                consts[self.slot_indexes[group]] = tuple(values)
        if -1 in self.slot_indexes:
            consts[self.slot_indexes[-1]] = MISSING
        return self.code.replace(co_consts=tuple(consts))


def _compile(header: str, body: list[str], filename: str, calls: dict[int, int]) -> Template:
    source = "\n".join([header, *(f"    {line}" for line in body)]) + "\n"
    module = compile(source, filename, "exec")
    code = next(const for const in module.co_consts if isinstance(const, types.CodeType))
    # Body line i is source line i + 2 (the header is line 1).
    return Template(code, {line + 2: index for line, index in calls.items()})


#: How one implementation is called: positional argument names, keyword argument names.
_Call = tuple[tuple[str, ...], tuple[str, ...]]


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


#: Slot group 0 of a plan: its implementations; group 1: what only errors and
#: the fallback to pluggy need, loaded only then.
_RARE_SLOTS: Final = ("fail", "collect", "hookexec", "impls", "note")


def _calls(
    shape: Shape, names: _Names, rare: Mapping[str, str], awaited: Sequence[bool] = ()
) -> tuple[list[str], dict[int, int]]:
    """Straight-line calls of every implementation, and the body line of each call.

    :param awaited: for an async plan, whether each call's result is awaited.
    """
    if not shape.calls:
        return ["return None" if shape.firstresult else "return []"], {}
    impls = [names.fresh(f"impl{index}") for index in range(len(shape.calls))]
    result, results, error = names.fresh("result"), names.fresh("results"), names.fresh("error")
    body = [_unpack(0, impls)]
    if not shape.firstresult:
        body.append(f"{results} = []")
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
    body.append(f"except Exception as {error}:")
    body.append(f"    {_unpack(1, list(rare.values()))}")
    body.append(f"    {rare['fail']}({error})")
    body.append("    raise")
    body.append("return None" if shape.firstresult else f"return {results}")
    return body, line_of_call


def _entry(
    shape: Shape, names: _Names, rare: Mapping[str, str], awaiting: bool = False
) -> tuple[str, list[str]]:
    """``def <hook>(self, *, <spec arguments>, **extra):`` and the lines handing a
    call with a missing or an extra argument to pluggy's path.

    Keyword-only parameters and a positional ``self`` give pluggy's calling
    conventions: a positional argument is a TypeError (naming ``<hook>.__call__``,
    the function's qualified name).
    Every parameter gets its default from the function's ``__kwdefaults__``:
    the spec's default, or :data:`MISSING` (``...`` in the source).
    An async entry (``awaiting``) is an ``async def`` awaiting its fallback, the
    async path, which names the plugin an error came from itself; it takes no
    ``self``: ``host.ahook.<name>`` is the function itself, not a bound method
    (which costs a call ~10-20 ns more).
    """
    extra, kwargs, error = names.fresh("extra"), names.fresh("kwargs"), names.fresh("error")
    keyword_only = f"*, {', '.join(shape.spec_args)}, " if shape.spec_args else ""
    left_out = [extra, *(f"{name} is ..." for name in shape.required)]
    fallback = [
        f"if {' or '.join(left_out)}:",
        f"    {_unpack(1, list(rare.values()))}",
        f"    {kwargs} = {rare['collect']}({', '.join([extra, *shape.spec_args])})",
    ]
    run = f"{rare['hookexec']}({shape.hook_name!r}, [*{rare['impls']}], {kwargs}, "
    run += f"{shape.firstresult})"
    if awaiting:
        header = f"async def {shape.hook_name}({keyword_only}**{extra}):"
        return header, [*fallback, f"    return await {run}"]
    header = f"def {shape.hook_name}(self, {keyword_only}**{extra}):"
    return header, [
        *fallback,
        "    try:",
        f"        return {run}",
        f"    except Exception as {error}:",
        f"        {rare['note']}({error}, {rare['impls']})",
        "        raise",
    ]


@functools.lru_cache(maxsize=512)
def _plan_template(shape: Shape) -> Template:
    """An entry plan: pluggy's conventions, then the calls.

    Compiling costs ~100 us; plugins of the same shape share one template, so a
    host compiles each distinct shape once per process.
    """
    names = _Names([*shape.spec_args, "self"])
    rare = {name: names.fresh(name) for name in _RARE_SLOTS}
    header, fallback = _entry(shape, names, rare)
    calls, line_of_call = _calls(shape, names, rare)
    offsets = {len(fallback) + line: index for line, index in line_of_call.items()}
    return _compile(header, fallback + calls, f"<hosthooks plan {shape.hook_name}>", offsets)


@functools.lru_cache(maxsize=512)
def _sender_plan_template(shape: Shape) -> Template:
    """A per-sender plan: the calls only, the spec's arguments positional."""
    names = _Names(shape.spec_args)
    rare = {name: names.fresh(name) for name in _RARE_SLOTS}
    calls, line_of_call = _calls(shape, names, rare)
    header = f"def {shape.hook_name}({', '.join(shape.spec_args)}):"
    filename = f"<hosthooks plan {shape.hook_name}>"
    return _compile(header, calls, filename, line_of_call)


@functools.lru_cache(maxsize=128)
def _dispatch_template(shape: Shape) -> Template:
    """A sender dispatcher: pluggy's conventions, then the sender's plan.

    Cached plans are keyed by ``id(sender)`` and hold the sender itself, so a
    sender equal to another is still another sender, and no user ``__hash__``
    or ``__eq__`` runs (pluggy runs none either).
    """
    names = _Names([*shape.spec_args, "self"])
    rare = {name: names.fresh(name) for name in _RARE_SLOTS}
    header, fallback = _entry(shape, names, rare)
    plans, plan_for, identity = names.fresh("plans"), names.fresh("plan_for"), names.fresh("id")
    cached, sender_plan = names.fresh("cached"), names.fresh("sender_plan")
    body = [
        *fallback,
        _unpack(0, [plans, plan_for, identity]),
        "try:",
        f"    {cached}, {sender_plan} = {plans}[{identity}(sender)]",
        "except KeyError:",
        f"    {cached} = ...",
        f"if {cached} is not sender:",
        f"    {sender_plan} = {plan_for}(sender)",
        f"return {sender_plan}({', '.join(shape.spec_args)})",
    ]
    return _compile(header, body, f"<hosthooks dispatch {shape.hook_name}>", {})


def _rare_values(
    shape: Shape, impls: Sequence[pluggy.HookImpl], template: Template, hookexec: HookExec | None
) -> list[object]:
    fail = functools.partial(_note_plan_error, shape.hook_name, template.line_to_index, impls[::-1])
    return [
        fail,
        functools.partial(collect_arguments, shape.spec_args, shape.required),
        hookexec,
        tuple(impls),
        functools.partial(note_pluggy_error, shape.hook_name),
    ]


def _shape(hook_caller: pluggy.HookCaller, impls: Sequence[pluggy.HookImpl]) -> Shape:
    spec = hook_caller.spec
    assert spec is not None
    return Shape(hook_caller.name, spec, impls[::-1], _is_firstresult(hook_caller))


def build_plan(
    hook_caller: pluggy.HookCaller, impls: Sequence[pluggy.HookImpl], hookexec: HookExec
) -> types.CodeType:
    """The code of a plan calling ``impls`` (plain implementations, as pluggy stores them).

    An exception from an implementation propagates unchanged but for a note
    naming the plugin.
    """
    shape = _shape(hook_caller, impls)
    template = _plan_template(shape)
    functions = [impl.function for impl in impls[::-1]]
    return template.fill(functions, _rare_values(shape, impls, template, hookexec))


def build_sender_plan(
    hook_caller: pluggy.HookCaller, impls: Sequence[pluggy.HookImpl]
) -> Callable[..., Any]:
    """A plan for one sender: ``impls`` called with the spec's arguments, positionally."""
    shape = _shape(hook_caller, impls)
    template = _sender_plan_template(shape)
    functions = [impl.function for impl in impls[::-1]]
    code = template.fill(functions, _rare_values(shape, impls, template, None))
    return types.FunctionType(code, {}, hook_caller.name)


def build_sender_dispatch(
    hook_caller: pluggy.HookCaller, impls: Sequence[pluggy.HookImpl], hookexec: HookExec
) -> types.CodeType:
    """The code of a plan for a hook some of whose implementations filter by sender.

    The plan for each sender is built on its first call and cached, so
    filtering costs one dictionary lookup per call.
    """
    shape = _shape(hook_caller, impls)
    plans, plan_for = sender_plans(impls, lambda accepted: build_sender_plan(hook_caller, accepted))
    template = _dispatch_template(shape)
    return template.fill([plans, plan_for, id], _rare_values(shape, impls, template, hookexec))


def sender_plans(
    impls: Sequence[pluggy.HookImpl],
    build: Callable[[list[pluggy.HookImpl]], Callable[..., Any]],
) -> tuple[dict[int, tuple[object, Callable[..., Any]]], Callable[[object], Callable[..., Any]]]:
    """The per-sender plan cache of a sender dispatch (sync or async), and the
    function that fills it: ``build`` makes the plan of the implementations a
    sender is accepted by. Keyed by identity; the sender is kept beside its plan."""
    plans: dict[int, tuple[object, Callable[..., Any]]] = _ConstantDict()

    def plan_for(sender: object) -> Callable[..., Any]:
        plan = build([impl for impl in impls if accepts(impl, sender)])
        # Senders are usually a few classes; a hook sent by ever-new objects
        # (templates reloaded, say) must not keep them all alive.
        if len(plans) >= MAX_CACHED_SENDERS:
            plans.clear()
        plans[id(sender)] = (sender, plan)
        return plan

    return plans, plan_for


def _is_firstresult(hook_caller: pluggy.HookCaller) -> bool:
    spec = hook_caller.spec
    return bool(spec.opts.get("firstresult")) if spec is not None else False


PLUGGY_PATH_FILENAME: Final = "<hosthooks pluggy path>"

#: The pluggy path, for every hook: what ``HookCaller.__call__`` does, from a frame
#: at the same depth, plus a rebuild of the plan when it is out of date.
_PLUGGY_PATH: Final = _compile(
    "def __call__(self, **kwargs):",
    [
        _unpack(
            0, ["rebuild", "call", "hookexec", "hook_name", "firstresult", "defaults", "check"]
        ),
        # The first call after a change builds the plan and runs it, so that
        # every call of a plain hook runs a plan, the first one included.
        "if rebuild is not None and rebuild():",
        "    return call(**kwargs)",
        "assert not self.is_historic(), "
        "'Cannot directly call a historic hook - use call_historic instead.'",
        "if defaults:",
        "    kwargs = {**defaults, **kwargs}",
        "check(kwargs)",
        "impls = self.get_hookimpls()",
        "try:",
        "    return hookexec(hook_name, impls, kwargs, firstresult)",
        "except Exception as error:",
        f"    {_unpack(1, ['note'])}",
        "    note(error, impls)",
        "    raise",
    ],
    PLUGGY_PATH_FILENAME,
    {},
)


def pluggy_path(
    hook_caller: pluggy.HookCaller,
    hookexec: HookExec,
    rebuild: Callable[[], bool] | None = None,
    call: Callable[..., Any] | None = None,
) -> types.CodeType:
    """The code of the pluggy path for this hook.

    :param rebuild: called first, when given: installs the hook's new code and
        tells whether it is a plan; if so, the call goes to ``call`` (the hook's
        live caller, now running the plan) instead.
    """
    spec = hook_caller.spec
    code = _PLUGGY_PATH.fill(
        [
            rebuild,
            call,
            hookexec,
            hook_caller.name,
            _is_firstresult(hook_caller),
            _ConstantDict(spec.kwargdefaults if spec is not None else {}),
            functools.partial(check_arguments, tuple(spec.argnames) if spec is not None else ()),
        ],
        [functools.partial(note_pluggy_error, hook_caller.name)],
    )
    # Named after its hook, like a plan: tracebacks read as the hook's call.
    return code.replace(co_name=hook_caller.name)


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
) -> types.CodeType:
    """The code ``host.hook.<name>`` should run for ``impls`` (as pluggy stores them).

    :param hookexec: what runs the pluggy path (the plugin manager's ``_hookexec``).
    :param pluggy_only: run every call through pluggy (monitoring or tracing is on).
    """
    kind = plan_kind(hook_caller, impls, pluggy_only)
    if kind == "sender":
        return build_sender_dispatch(hook_caller, impls, hookexec)
    if kind == "plan":
        return build_plan(hook_caller, impls, hookexec)
    return pluggy_path(hook_caller, hookexec)


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
