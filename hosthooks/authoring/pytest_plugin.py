"""Fixtures for testing hosthooks plugins, active wherever hosthooks is installed
(the ``pytest11`` entry point ``hosthooks``; ``-p no:hosthooks`` turns them off).

pytest imports this module in every run, so it imports nothing at first: each
fixture imports what it uses. Every fixture undoes what it changed, even when
the test fails.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

import pytest

if TYPE_CHECKING:
    from hosthooks.authoring.hook_calls import HookCalls
    from hosthooks.host import Host
    from hosthooks.runtime.db import Database
    from hosthooks.runtime.demo_client import DemoClient

#: The name ``hook_calls`` registers its recorder under.
HOOK_CALLS_PLUGIN: Final = "hosthooks.hook-calls"


@pytest.fixture
def hosthooks_host() -> Iterator[Host]:
    """A fresh strict host (a plugin with a problem fails to register), the default for the test."""
    from hosthooks.host import Host
    from hosthooks.host import using_host
    from hosthooks.loading.records import HostConfig

    host = Host(HostConfig(autoload=False, strict=True))
    with using_host(host):
        yield host
    host.close()


@pytest.fixture
def hook_calls(hosthooks_host: Host) -> HookCalls:
    """Every hook call on ``hosthooks_host`` from now on, and assertions on them (HookCalls)."""
    from hosthooks.authoring.hook_calls import HookCalls

    calls = HookCalls()
    hosthooks_host.register(calls, HOOK_CALLS_PLUGIN)
    # Registering replays the historic class_prepared for every model defined
    # so far: history, not what the test did.
    calls.clear()
    return calls


class MuteHooks:
    """What the ``mute_hooks`` fixture gives: call it to mute, until the test ends."""

    def __init__(self, host: Host, stack: contextlib.ExitStack) -> None:
        self._host = host
        self._stack = stack

    def __call__(self, *hooks: str, plugins: Collection[str] | None = None) -> None:
        """Mute ``hooks`` (every hook when none is named) of ``plugins`` (every
        plugin registered so far when None, but ``hook_calls``'s recorder).

        :raises KeyError: naming a hook or plugin the host does not have.
        """
        known_hooks = {caller.name for caller in self._host.hook_callers()}
        registered = [name for name, _ in self._host.plugin_manager.list_name_plugin()]
        for hook in hooks:
            if hook not in known_hooks:
                raise KeyError(f"no hook named {hook!r}")
        for plugin in plugins or ():
            if plugin not in registered:
                raise KeyError(f"no plugin named {plugin!r} is registered")
        if plugins is None:
            plugins = [name for name in registered if name != HOOK_CALLS_PLUGIN]
        self._stack.enter_context(self._host.muted(plugins=plugins, hooks=hooks or None))


@pytest.fixture
def mute_hooks(hosthooks_host: Host) -> Iterator[MuteHooks]:
    """``mute_hooks(*hooks, plugins=None)`` silences implementations until the test ends."""
    with contextlib.ExitStack() as stack:
        yield MuteHooks(hosthooks_host, stack)


class PluginSettingsSetter:
    """What the ``hosthooks_plugin_settings`` fixture gives: call it to set a
    plugin's settings on ``hosthooks_host`` until the test ends."""

    def __init__(self, host: Host, monkeypatch: pytest.MonkeyPatch) -> None:
        self._host = host
        self._monkeypatch = monkeypatch

    def __call__(self, plugin: str, **values: Any) -> None:
        """Set ``plugin``'s settings as its ``[plugins.<plugin>]`` table would (values
        of the setting's type: ``Path`` or ``str`` for paths, lists, numbers), over
        any ``HOSTHOOKS_PLUGIN_...`` variable, until the test ends; the settings
        not named keep theirs. Calls add up.

        :raises KeyError: naming a setting the plugin (registered, declaring
            settings) does not have; nothing is changed.
        :raises PluginSettingsError: when the plugin could not use the values;
            nothing is changed.
        """
        import dataclasses

        from hosthooks.configuration.typed_settings import declared_settings
        from hosthooks.configuration.typed_settings import env_prefix
        from hosthooks.configuration.typed_settings import setting_variables

        host = self._host
        declared = declared_settings(host.plugin_manager.get_plugin(plugin))
        before = host.config
        tables = {name: dict(table) for name, table in before.plugin_tables.items()}
        tables[plugin] = {**tables.get(plugin, {}), **values}
        variables = [f"{env_prefix(plugin)}{key.upper()}" for key in values]
        if declared is not None:
            known = {field.name for field in dataclasses.fields(declared)}
            for key in values:
                if key not in known:
                    raise KeyError(f"{plugin} has no setting {key!r} (it has: {sorted(known)})")
            variables = [
                variable for key in values for variable in setting_variables(plugin, declared, key)
            ]
        host.config = dataclasses.replace(before, plugin_tables=tables)
        if declared is not None:
            try:
                host.plugin_settings(plugin, declared, environ={})
            except Exception:
                host.config = before
                raise
        # The environment wins over the file: the values set here must be what is read.
        for variable in variables:
            self._monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def hosthooks_plugin_settings(
    hosthooks_host: Host, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PluginSettingsSetter]:
    """``hosthooks_plugin_settings(plugin, **values)`` sets a plugin's settings for this test."""
    before = hosthooks_host.config
    try:
        yield PluginSettingsSetter(hosthooks_host, monkeypatch)
    finally:
        hosthooks_host.config = before


@pytest.fixture
def hosthooks_db(hosthooks_host: Host, tmp_path: Path) -> Iterator[Database]:
    """The ``"default"`` database, in ``tmp_path``, migrated for every model defined so far."""
    from hosthooks.runtime.db import Database
    from hosthooks.runtime.migrations import migrate

    database = Database(tmp_path / "hosthooks.sqlite3")
    try:
        migrate(database, verbosity=0)
        yield database
    finally:
        database.close()


@pytest.fixture
def hosthooks_client(hosthooks_db: Database) -> Iterator[DemoClient]:
    """A client for the demo app on ``hosthooks_db``: it keeps its session, sends CSRF tokens."""
    from hosthooks.runtime.db import get_database
    from hosthooks.runtime.demo import make_app
    from hosthooks.runtime.demo_client import DemoClient

    app = make_app(hosthooks_db.path)
    try:
        yield DemoClient(app)
    finally:
        get_database().close()
