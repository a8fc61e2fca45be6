"""hosthooks: Django's built-in signals as pluggy hooks, with entry-point plugins.

Importing hosthooks loads no plugin: :func:`get_host` discovers them on first use.
Each public name is imported on first use, so that a plugin importing
``hookimpl`` (or the command printing its version) pays only for what it uses.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from hosthooks import hooks as hooks
    from hosthooks.authoring.hook_calls import HookCall as HookCall
    from hosthooks.authoring.hook_calls import HookCalls as HookCalls
    from hosthooks.configuration.typed_settings import PluginSettingsError as PluginSettingsError
    from hosthooks.configuration.typed_settings import setting as setting
    from hosthooks.engine.async_bridge import AsyncImplementationError as AsyncImplementationError
    from hosthooks.engine.callers import HostPluginManager as HostPluginManager
    from hosthooks.engine.dispatch import ANY_SENDER as ANY_SENDER
    from hosthooks.engine.dispatch import sender_label as sender_label
    from hosthooks.host import Host as Host
    from hosthooks.host import create_default_host as create_default_host
    from hosthooks.host import create_host as create_host
    from hosthooks.host import get_host as get_host
    from hosthooks.host import plugin_setting_given as plugin_setting_given
    from hosthooks.host import plugin_settings as plugin_settings
    from hosthooks.host import set_default_host as set_default_host
    from hosthooks.host import using_host as using_host
    from hosthooks.instances import field_names as field_names
    from hosthooks.instances import field_values as field_values
    from hosthooks.instances import instance_pk as instance_pk
    from hosthooks.instances import is_adding as is_adding
    from hosthooks.instances import model_label as model_label
    from hosthooks.loading.records import HostConfig as HostConfig
    from hosthooks.loading.records import PluginLoadError as PluginLoadError
    from hosthooks.loading.records import PluginRecord as PluginRecord
    from hosthooks.loading.records import Problem as Problem
    from hosthooks.loading.records import ProblemKind as ProblemKind
    from hosthooks.loading.records import Source as Source
    from hosthooks.loading.records import Status as Status
    from hosthooks.markers import ENTRY_POINT_GROUP as ENTRY_POINT_GROUP
    from hosthooks.markers import PROJECT as PROJECT
    from hosthooks.markers import hookimpl as hookimpl
    from hosthooks.markers import hookspec as hookspec
    from hosthooks.transactions import on_commit as on_commit

#: The distribution's version, kept equal to pyproject.toml's by a test: read
#: here, not from the installed metadata, so that printing it imports nothing.
__version__ = "0.1.0"

#: Public name -> the module defining it.
_WHERE = {
    # A module of its own: the typed markers, @hooks.<name>.
    "hooks": "hosthooks.hooks",
    "AsyncImplementationError": "hosthooks.engine.async_bridge",
    "HostPluginManager": "hosthooks.engine.callers",
    "HostConfig": "hosthooks.loading.records",
    "PluginLoadError": "hosthooks.loading.records",
    "PluginRecord": "hosthooks.loading.records",
    "Problem": "hosthooks.loading.records",
    "ProblemKind": "hosthooks.loading.records",
    "Source": "hosthooks.loading.records",
    "Status": "hosthooks.loading.records",
    "ANY_SENDER": "hosthooks.engine.dispatch",
    "sender_label": "hosthooks.engine.dispatch",
    "HookCall": "hosthooks.authoring.hook_calls",
    "HookCalls": "hosthooks.authoring.hook_calls",
    "Host": "hosthooks.host",
    "create_default_host": "hosthooks.host",
    "create_host": "hosthooks.host",
    "get_host": "hosthooks.host",
    "plugin_setting_given": "hosthooks.host",
    "plugin_settings": "hosthooks.host",
    "set_default_host": "hosthooks.host",
    "using_host": "hosthooks.host",
    "field_names": "hosthooks.instances",
    "field_values": "hosthooks.instances",
    "instance_pk": "hosthooks.instances",
    "is_adding": "hosthooks.instances",
    "model_label": "hosthooks.instances",
    "ENTRY_POINT_GROUP": "hosthooks.markers",
    "PROJECT": "hosthooks.markers",
    "hookimpl": "hosthooks.markers",
    "hookspec": "hosthooks.markers",
    "PluginSettingsError": "hosthooks.configuration.typed_settings",
    "setting": "hosthooks.configuration.typed_settings",
    "on_commit": "hosthooks.transactions",
}

__all__ = [
    "ANY_SENDER",
    "ENTRY_POINT_GROUP",
    "PROJECT",
    "AsyncImplementationError",
    "HookCall",
    "HookCalls",
    "Host",
    "HostConfig",
    "HostPluginManager",
    "PluginLoadError",
    "PluginRecord",
    "PluginSettingsError",
    "Problem",
    "ProblemKind",
    "Source",
    "Status",
    "create_default_host",
    "create_host",
    "field_names",
    "field_values",
    "get_host",
    "hookimpl",
    "hooks",
    "hookspec",
    "instance_pk",
    "is_adding",
    "model_label",
    "on_commit",
    "plugin_setting_given",
    "plugin_settings",
    "sender_label",
    "set_default_host",
    "setting",
    "using_host",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'hosthooks' has no attribute {name!r}")
    imported = importlib.import_module(module)
    value = imported if module == f"{__name__}.{name}" else getattr(imported, name)
    globals()[name] = value  # the next lookup is an ordinary one
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
