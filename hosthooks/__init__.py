"""hosthooks: Django's built-in signals as pluggy hooks, with entry-point plugins.

Importing hosthooks loads no plugin: :func:`get_host` discovers them on first use.
"""

from __future__ import annotations

from hosthooks.callers import HostPluginManager
from hosthooks.discovery import HostConfig
from hosthooks.discovery import PluginLoadError
from hosthooks.discovery import PluginRecord
from hosthooks.discovery import Problem
from hosthooks.discovery import ProblemKind
from hosthooks.discovery import Source
from hosthooks.discovery import Status
from hosthooks.dispatch import ANY_SENDER
from hosthooks.dispatch import sender_label
from hosthooks.hook_calls import HookCall
from hosthooks.hook_calls import HookCalls
from hosthooks.host import Host
from hosthooks.host import create_default_host
from hosthooks.host import create_host
from hosthooks.host import get_host
from hosthooks.host import plugin_settings
from hosthooks.host import set_default_host
from hosthooks.host import using_host
from hosthooks.markers import ENTRY_POINT_GROUP
from hosthooks.markers import PROJECT
from hosthooks.markers import hookimpl
from hosthooks.markers import hookspec
from hosthooks.plugin_settings import PluginSettingsError
from hosthooks.plugin_settings import setting
from hosthooks.transactions import on_commit

__all__ = [
    "ANY_SENDER",
    "ENTRY_POINT_GROUP",
    "PROJECT",
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
    "get_host",
    "hookimpl",
    "hookspec",
    "on_commit",
    "plugin_settings",
    "sender_label",
    "set_default_host",
    "setting",
    "using_host",
]
