"""What plugins look like as data: the JSON ``hosthooks plugins`` prints, which the
runtime serves too. Shared by the CLI and the runtime, so neither imports the other."""

from __future__ import annotations

from typing import Any

from hosthooks.discovery import PluginRecord
from hosthooks.discovery import ProblemKind
from hosthooks.discovery import Source
from hosthooks.discovery import Status
from hosthooks.host import Host


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


def plugin_info(host: Host, record: PluginRecord) -> dict[str, Any]:
    """A plugin as ``hosthooks plugins --json`` shows it."""
    return {
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
        # What check reports for the plugin, but the error that made it fail:
        # that is "error" already.
        "problems": [
            str(problem)
            for problem in host.check([record.name])
            if problem.kind is not ProblemKind.LOAD_ERROR
        ],
    }


def plugins_json(
    host: Host, include_builtin: bool = False, hook: str | None = None
) -> list[dict[str, Any]]:
    """The list ``hosthooks plugins --json`` prints (also served by the runtime)."""
    return [plugin_info(host, record) for record in listed_records(host, include_builtin, hook)]
