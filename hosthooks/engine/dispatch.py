"""Dispatch: which implementations a call reaches, and what a call reports.

pluggy stays the source of truth for registration, validation and ordering;
this module knows the rest of what calling a hook means here: the order calls
run in, which implementations a sender reaches (``@hookimpl(sender=...)``),
pluggy's rules for the arguments of a call, and the note naming the plugin an
exception came from. :mod:`hosthooks.engine.plans` generates the code of calls from
these; :mod:`hosthooks.engine.callers` installs it.
"""

from __future__ import annotations

import inspect
import sys
import types
import warnings
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import Final

import pluggy

from hosthooks.markers import SENDER_OPTION

#: pluggy's ``_hookexec`` signature: hook name, implementations, arguments, firstresult.
HookExec = Callable[[str, Sequence[pluggy.HookImpl], Mapping[str, object], bool], Any]


class _AnySender:
    """The default of ``Host.has_listeners(sender=...)``: any sender, None included."""

    def __repr__(self) -> str:
        return "ANY_SENDER"


ANY_SENDER: Final = _AnySender()


class _Missing:
    """The default of a required argument in a plan's signature: the call left it out."""

    def __repr__(self) -> str:
        return "<missing hook argument>"


MISSING: Final = _Missing()

#: How the file name of every piece of generated code (plans, the pluggy path) begins.
GENERATED_PREFIX: Final = "<hosthooks "

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
    declares one (the runtime's models do: ``"app.Model"``), else a Django model's
    ``_meta.label`` (the same form), else ``module.QualName`` for a class."""
    label = getattr(sender, "hosthooks_label", None)
    if isinstance(label, str):
        return label
    if isinstance(sender, type):
        # Duck-typed: dispatch must not import Django to recognise its models.
        label = getattr(getattr(sender, "_meta", None), "label", None)
        if isinstance(label, str):
            return label
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


def for_sender(
    impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, object]
) -> Sequence[pluggy.HookImpl]:
    """The implementations a call with these arguments reaches: all of them, unless a
    ``sender`` is passed and some are filtered on another one."""
    if "sender" not in kwargs:
        return impls
    sender = kwargs["sender"]
    return [impl for impl in impls if accepts(impl, sender)]


def implementations_for(
    hook_caller: pluggy.HookCaller, sender: object, any_sender: bool
) -> Iterable[pluggy.HookImpl]:
    """The implementations a call with ``sender`` would run, in call order."""
    for impl in call_order(hook_caller):
        if any_sender or accepts(impl, sender):
            yield impl


# -- errors --------------------------------------------------------------------


#: How the note naming the plugin an error came from begins.
ATTRIBUTION: Final = "raised by plugin "


def attribute_error(error: BaseException, plugin_name: str, hook_name: str) -> None:
    """Name the plugin and hook an exception came from, as a note on the exception.

    Notes are shown under the traceback (PEP 678); a note is added once per
    hook call the exception passes through, so nested hooks read outside-in.
    The first one also counts the error against its plugin (:mod:`hosthooks.engine.health`).
    """
    note = f"raised by plugin {plugin_name!r} in hook {hook_name!r}"
    if not any(
        isinstance(known, str) and known.startswith(ATTRIBUTION)
        for known in getattr(error, "__notes__", ())
    ):
        # Imported on the first error, so that starting a host defines none of it.
        from hosthooks.engine.health import ERRORS

        # Counted once, for the plugin that raised it, not again for each
        # implementation of an outer hook it passes through.
        ERRORS.failed(plugin_name, hook_name, error)
    if sys.version_info >= (3, 11):
        error.add_note(note)
    else:  # pragma: no cover - Python 3.10 keeps notes but does not print them
        notes = list(getattr(error, "__notes__", ()))
        notes.append(note)
        error.__notes__ = notes  # type: ignore[attr-defined]


_NO_INSTANCE: Final = object()


def _running_impl(
    candidates: Sequence[pluggy.HookImpl], frame: types.FrameType
) -> pluggy.HookImpl | None:
    """Which of several implementations sharing one code object ``frame`` runs.

    Instances of one plugin class share their methods' code: the frame's first
    argument tells them apart. A function registered twice cannot be told
    apart, and naming the wrong plugin would mislead, so that case names none.
    """
    if len(candidates) == 1:
        return candidates[0]
    code = frame.f_code
    if code.co_argcount == 0:
        return None
    first_argument = frame.f_locals.get(code.co_varnames[0], _NO_INSTANCE)
    # Unwrapped: behind a stand-in (async def, when=) is the method that is bound.
    bound = [
        impl
        for impl in candidates
        if getattr(inspect.unwrap(impl.function), "__self__", _NO_INSTANCE) is first_argument
    ]
    return bound[0] if len(bound) == 1 else None


def innermost_impl(
    traceback: types.TracebackType | None, impls: Sequence[pluggy.HookImpl]
) -> pluggy.HookImpl | None:
    """Which implementation raised, found by walking the traceback (pluggy path only)."""
    by_code: dict[types.CodeType, list[pluggy.HookImpl]] = {}
    for impl in impls:
        code = getattr(inspect.unwrap(impl.function), "__code__", None)
        if code is not None:
            by_code.setdefault(code, []).append(impl)
    found = None
    while traceback is not None:
        candidates = by_code.get(traceback.tb_frame.f_code)
        if candidates:
            found = _running_impl(candidates, traceback.tb_frame) or found
        traceback = traceback.tb_next
    return found


def note_pluggy_error(
    hook_name: str, error: BaseException, impls: Sequence[pluggy.HookImpl]
) -> None:
    found = innermost_impl(error.__traceback__, impls)
    if found is not None:
        attribute_error(error, found.plugin_name, hook_name)


# -- arguments -----------------------------------------------------------------


def _warn_missing(missing: Sequence[str]) -> None:
    # The warning points at the line that called the hook, as pluggy's does:
    # above this helper and its caller are the frames of generated code (a
    # plan, or the pluggy path handing the first call after a change to one).
    frame = sys._getframe(2)
    level = 3
    while frame.f_back is not None and frame.f_code.co_filename.startswith(GENERATED_PREFIX):
        frame = frame.f_back
        level += 1
    names = ", ".join(repr(name) for name in missing)
    warnings.warn(
        f"Argument(s) {names} which are declared in the hookspec cannot be found in this hook call",
        stacklevel=level,
    )


def check_arguments(argnames: Sequence[str], kwargs: Mapping[str, object]) -> None:
    """Warn, as pluggy does, about required spec arguments a call left out."""
    missing = [name for name in argnames if name not in kwargs]
    if missing:
        _warn_missing(missing)


def collect_arguments(
    names: Sequence[str], required: Sequence[str], extra: Mapping[str, object], *values: object
) -> dict[str, object]:
    """The keyword arguments a plan was called with, as pluggy's path takes them:
    the spec's (minus the missing ones, warned about) and any extra ones."""
    kwargs = {
        name: value for name, value in zip(names, values, strict=True) if value is not MISSING
    }
    kwargs.update(extra)
    missing = [name for name in required if name not in kwargs]
    if missing:
        _warn_missing(missing)
    return kwargs
