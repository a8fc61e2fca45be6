"""What hooks and plugins look like as data: the JSON ``hosthooks hooks`` and
``hosthooks plugins`` print, which the runtime's inspector serves too. Shared by
the CLI and the runtime, so neither imports the other."""

from __future__ import annotations

import datetime
import inspect
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import pluggy

from hosthooks import specs
from hosthooks.engine import dispatch
from hosthooks.engine import ordering
from hosthooks.engine.async_bridge import async_original
from hosthooks.engine.async_bridge import is_async_implementation
from hosthooks.engine.muting import MUTED_ORIGINALS
from hosthooks.engine.tracing import describe_sender
from hosthooks.engine.tracing import function_name
from hosthooks.host import Host
from hosthooks.loading.records import PluginRecord
from hosthooks.loading.records import ProblemKind
from hosthooks.loading.records import Source
from hosthooks.loading.records import Status
from hosthooks.markers import DEFER_OPTION
from hosthooks.markers import THREAD_OPTION
from hosthooks.markers import WHEN_OPTION


def listed_records(
    host: Host, include_builtin: bool = False, hook: str | None = None
) -> list[PluginRecord]:
    """The plugins ``hosthooks plugins`` lists and ``hosthooks check`` checks.

    Built-in plugins are left out unless ``include_builtin``, or unless something
    is wrong with one: an operator must see that too.

    :param hook: only the plugins implementing this hook.
    """
    return [
        record
        for record in host.plugins()
        if (include_builtin or record.source is not Source.BUILTIN or record.all_problems())
        and (hook is None or hook in host.hooks_of(record.name))
    ]


def plugin_infos(host: Host, records: Sequence[PluginRecord]) -> list[dict[str, Any]]:
    """These plugins as ``hosthooks plugins --json`` shows them.

    The host is checked once for them all: checking plugin by plugin would
    check every plugin's settings once per plugin listed.
    """
    problems: dict[str, list[str]] = {record.name: [] for record in records}
    for problem in host.check(list(problems)):
        # What check reports for the plugin, but the error that made it fail:
        # that is "error" already.
        if problem.kind is not ProblemKind.LOAD_ERROR and problem.plugin in problems:
            problems[problem.plugin].append(str(problem))
    return [
        {
            "name": record.name,
            "dist": record.dist,
            "version": record.version,
            "source": record.source.value,
            "status": record.status.value,
            "error": record.error,
            "hooks": host.hooks_of(record.name) if record.status is Status.ACTIVE else [],
            "settings": host.shown_plugin_settings(record.name),
            "requires": record.requires,
            "compatible": record.compatible,
            "location": plugin_location(host, record),
            "problems": problems[record.name],
            **mute_info(host, record.name),
        }
        for record in records
    ]


def mute_info(host: Host, name: str) -> dict[str, Any]:
    """``muted``, ``muted_by``, ``muted_until`` (ISO 8601, UTC, or null) of a plugin."""
    mute = host.switchboard.plugin_mute(name)
    return {
        "muted": mute is not None,
        "muted_by": None if mute is None else mute.by,
        "muted_until": None if mute is None or mute.until is None else iso_time(mute.until),
    }


def iso_time(seconds: float) -> str:
    """Seconds since the epoch as ISO 8601 in UTC, to the second."""
    moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return moment.isoformat(timespec="seconds")


def plugin_location(host: Host, record: PluginRecord) -> str | None:
    """Where a plugin's code lives: the file of its module (for an object, its
    class's module), else the file it was to be loaded from; None if unknown."""
    plugin = host.plugin_manager.get_plugin(record.name)
    if plugin is not None:
        module = plugin if isinstance(plugin, ModuleType) else None
        if module is None:
            defined_in = plugin.__module__ if isinstance(plugin, type) else type(plugin).__module__
            module = sys.modules.get(defined_in)
        location = getattr(module, "__file__", None)
        if isinstance(location, str):
            return location
    if record.source is Source.DIRECTORY:
        return record.origin
    return None


def plugins_json(
    host: Host, include_builtin: bool = False, hook: str | None = None
) -> list[dict[str, Any]]:
    """The list ``hosthooks plugins --json`` prints (also served by the runtime)."""
    return plugin_infos(host, listed_records(host, include_builtin, hook))


def spec_callers(host: Host) -> list[tuple[str, pluggy.HookCaller]]:
    """(family, hook caller) for every built-in hook, in the specs' order."""
    return [
        (family, getattr(host.plugin_manager.hook, name))
        for family, module in specs.FAMILIES.items()
        for name in specs.hook_names(module)
    ]


def impl_function_name(impl: pluggy.HookImpl) -> str:
    """The function an implementation was written as, whatever stands in for it."""
    function = MUTED_ORIGINALS.get(impl, impl.function)
    # A deferred implementation's registered function is the stand-in that
    # enqueues, an async one's the stand-in that runs it from synchronous calls.
    if impl.opts.get(DEFER_OPTION):
        return function_name(inspect.unwrap(function))
    return function_name(async_original(function) or function)


def impl_options(impl: pluggy.HookImpl) -> list[str]:
    """An implementation's options, one short string each, as every listing shows
    them (``hosthooks hooks``, the JSON's ``options``, the console): pluggy's
    flags, ``async``, ``thread``, ``defer``, ``when=``, ``sender=``, and the
    ``before=``/``after=`` constraints that placed it."""
    options = [
        flag for flag in ("tryfirst", "trylast", "wrapper", "hookwrapper") if getattr(impl, flag)
    ]
    if is_async_implementation(impl):
        options.append("async")
    if impl.opts.get(THREAD_OPTION):
        options.append("thread")
    if impl.opts.get(DEFER_OPTION):
        options.append("defer")
    when = impl.opts.get(WHEN_OPTION)
    if when is not None:
        # Why an implementation listed may not run: the condition it waits for.
        options.append(f"when={condition_name(when)}")
    sender = dispatch.sender_filter(impl)
    if sender is not None:
        options.append(f"sender={describe_sender(sender)}")
    before, after = ordering.constraints(impl)
    if before:
        options.append(f"before={','.join(before)}")
    if after:
        options.append(f"after={','.join(after)}")
    return options


def condition_name(condition: object) -> str:
    """A ``when=`` condition as listings name it: its qualified name."""
    name = getattr(condition, "__qualname__", None)
    return name if isinstance(name, str) else repr(condition)


def impl_info(impl: pluggy.HookImpl) -> dict[str, Any]:
    """An implementation as ``hosthooks hooks --json`` shows it; ``sender`` and
    ``when`` as listings show them, ``options`` as :func:`impl_options` does."""
    sender = dispatch.sender_filter(impl)
    when = impl.opts.get(WHEN_OPTION)
    return {
        "plugin": impl.plugin_name,
        "function": impl_function_name(impl),
        "sender": None if sender is None else describe_sender(sender),
        "tryfirst": impl.tryfirst,
        "trylast": impl.trylast,
        "wrapper": bool(impl.wrapper or impl.hookwrapper),
        "async": is_async_implementation(impl),
        "defer": bool(impl.opts.get(DEFER_OPTION)),
        "before": list(ordering.constraints(impl)[0]),
        "after": list(ordering.constraints(impl)[1]),
        "when": None if when is None else condition_name(when),
        "options": impl_options(impl),
    }


def hook_info(host: Host, family: str, caller: pluggy.HookCaller) -> dict[str, Any]:
    """A hook as ``hosthooks hooks --json`` shows it: implementations in call order."""
    spec = caller.spec
    assert spec is not None
    return {
        "name": caller.name,
        "family": family,
        "args": [*spec.argnames, *spec.kwargnames],
        "historic": caller.is_historic(),
        "firstresult": bool(spec.opts.get("firstresult")),
        "doc": inspect.cleandoc(spec.function.__doc__ or ""),
        "impls": [impl_info(impl) for impl in host.implementations(caller.name)],
    }


def hooks_json(host: Host) -> list[dict[str, Any]]:
    """The list ``hosthooks hooks --json`` prints (also served by the inspector)."""
    return [hook_info(host, family, caller) for family, caller in spec_callers(host)]
