"""What can be wrong with a plugin's implementations, found when it loads rather
than when an implementation silently never runs: hooks no spec declares,
arguments a hook does not have, ``sender=`` labels that name no known model;
and what to show of a plugin that failed.

Each problem suggests the closest known name, since nearly every one is a typo.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Collection
from collections.abc import Iterable
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pluggy

from hosthooks.engine import dispatch
from hosthooks.loading.records import Problem
from hosthooks.loading.records import ProblemKind
from hosthooks.specs import MODEL_SENDER_HOOKS


def closest(name: str, known: Collection[str]) -> str | None:
    """The known name ``name`` is most likely a misspelling of, or None."""
    import difflib  # only a misspelling pays for it

    matches = difflib.get_close_matches(name, known, n=1)
    return matches[0] if matches else None


#: Frames of the host's loading machinery start with this (or are importlib's, frozen).
_PACKAGE_DIR: Final = str(Path(__file__).parent) + os.sep


def plugin_traceback(error: BaseException) -> str:
    """The traceback of a plugin's failure from the plugin's first frame on: the
    host's loading machinery above it says nothing the plugin's author can use."""
    summary = traceback.TracebackException.from_exception(error)
    frames = list(summary.stack)
    while len(frames) > 1 and frames[0].filename.startswith((_PACKAGE_DIR, "<frozen ")):
        del frames[0]
    summary.stack = traceback.StackSummary.from_list(frames)
    return "".join(summary.format())


def note_on(error: BaseException, note: str) -> None:
    """Add a note to ``error`` (PEP 678), shown under its traceback."""
    if sys.version_info >= (3, 11):
        error.add_note(note)
    else:  # pragma: no cover - Python 3.10 keeps notes but does not print them
        error.__notes__ = [*getattr(error, "__notes__", ()), note]  # type: ignore[attr-defined]


def _implementations(
    manager: pluggy.PluginManager, plugin: object, plugin_name: str
) -> Iterator[tuple[str, pluggy.HookImpl]]:
    """``(hook name, implementation)`` for every ``@hookimpl`` of ``plugin``, found
    the way registration finds them, so that a plugin pluggy refused can be
    examined too."""
    for attribute in dir(plugin):
        try:
            opts = manager.parse_hookimpl_opts(plugin, attribute)
        except Exception:  # an attribute that raises when read is no implementation
            continue
        if opts is None:
            continue
        function = getattr(plugin, attribute)
        impl = pluggy.HookImpl(plugin, plugin_name, function, opts)
        yield opts.get("specname") or attribute, impl


def _labels(wanted: object) -> Iterator[str]:
    if isinstance(wanted, str):
        yield wanted
    elif isinstance(wanted, tuple):
        for member in wanted:
            yield from _labels(member)


def _specified(manager: pluggy.PluginManager) -> list[str]:
    """The names of the hooks ``manager`` has a specification for."""
    return [
        name
        for name, caller in vars(manager.hook).items()
        if isinstance(caller, pluggy.HookCaller) and caller.spec is not None
    ]


def diagnose(
    manager: pluggy.PluginManager,
    plugin: object,
    plugin_name: str,
    dist: str | None = None,
    known_labels: Collection[str] | None = None,
    implementations: Iterable[tuple[str, pluggy.HookImpl]] | None = None,
) -> list[Problem]:
    """Every problem of ``plugin``'s implementations, in the order of their names.

    :param manager: the manager holding the hookspecs to check against.
    :param plugin: the plugin object, registered or not.
    :param plugin_name: the name problems are reported under.
    :param dist: the plugin's distribution, if any.
    :param known_labels: the labels of every model the host knows; None when
        they are unknown, and then labels are not checked.
    :param implementations: ``(hook name, implementation)`` of a registered
        plugin, as its host holds them; None reads them from ``plugin`` (a
        plugin pluggy refused has no other).
    """
    problems = []
    if implementations is None:
        implementations = _implementations(manager, plugin, plugin_name)
    for hook, impl in implementations:
        # Looked up one by one: this runs for every plugin loaded, and most
        # implement a hook or two of the many specified.
        caller = getattr(manager.hook, hook, None)
        spec = caller.spec if isinstance(caller, pluggy.HookCaller) else None
        if spec is None:
            if not impl.optionalhook:
                problems.append(
                    Problem(
                        plugin_name,
                        dist,
                        "unknown hook",
                        hook=hook,
                        suggestion=closest(hook, _specified(manager)),
                        kind=ProblemKind.UNKNOWN_HOOK,
                    )
                )
            continue
        allowed = (*spec.argnames, *spec.kwargnames)
        for argument in impl.argnames:
            if argument not in allowed:
                problems.append(
                    Problem(
                        plugin_name,
                        dist,
                        f"unknown argument {argument!r}",
                        hook=hook,
                        suggestion=closest(argument, allowed),
                        kind=ProblemKind.UNKNOWN_ARGUMENT,
                    )
                )
        if known_labels is None or hook not in MODEL_SENDER_HOOKS:
            continue
        for label in _labels(dispatch.sender_filter(impl)):
            if label not in known_labels:
                problems.append(
                    Problem(
                        plugin_name,
                        dist,
                        f"sender {label!r} names no known model",
                        hook=hook,
                        suggestion=closest(label, known_labels),
                        kind=ProblemKind.UNKNOWN_SENDER,
                    )
                )
    return problems
