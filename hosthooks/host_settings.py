"""A host's view of its plugins' settings: each plugin's typed settings read from
the configuration and the environment, shown with secrets redacted, and the
problems found in them (see :mod:`hosthooks.configuration.typed_settings`)."""

from __future__ import annotations

import os
from collections.abc import Collection
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

from hosthooks.configuration.typed_settings import PluginSettingsError
from hosthooks.configuration.typed_settings import declared_settings
from hosthooks.configuration.typed_settings import load_plugin_settings
from hosthooks.configuration.typed_settings import setting_given
from hosthooks.configuration.typed_settings import settings_rows
from hosthooks.configuration.typed_settings import shown_settings
from hosthooks.loading.records import HostConfig
from hosthooks.loading.records import PluginRecord
from hosthooks.loading.records import Problem
from hosthooks.loading.records import ProblemKind
from hosthooks.loading.records import Status

if TYPE_CHECKING:
    from hosthooks.engine.callers import HostPluginManager

_Settings = TypeVar("_Settings")


class PluginSettingsAccess:
    """The part of :class:`hosthooks.Host` that reads and reports its plugins' settings."""

    # What the host provides (see hosthooks.host.Host).
    config: HostConfig

    if TYPE_CHECKING:

        @property
        def plugin_manager(self) -> HostPluginManager: ...

        def plugins(self) -> list[PluginRecord]: ...

    def plugin_settings(
        self,
        name: str,
        settings_class: type[_Settings],
        environ: Mapping[str, str] | None = None,
    ) -> _Settings:
        """A plugin's settings (see :mod:`hosthooks.configuration.typed_settings`):
        defaults, then its ``[plugins.<name>]`` table, then
        ``HOSTHOOKS_PLUGIN_<NAME>__<KEY>`` variables.

        Read anew on each call, so that a value changed in the environment is seen.

        :param name: the plugin's name, as ``hosthooks plugins`` lists it.
        :param settings_class: the plugin's settings dataclass.
        :param environ: the environment; ``os.environ`` when None.
        :raises PluginSettingsError: with one line per problem.
        """
        return load_plugin_settings(
            name,
            settings_class,
            self.config.plugin_tables.get(name, {}),
            os.environ if environ is None else environ,
            self.config.config_dir,
        )

    def plugin_setting_given(
        self,
        name: str,
        settings_class: type[Any],
        key: str,
        environ: Mapping[str, str] | None = None,
    ) -> bool:
        """Whether a plugin's setting ``key`` is set at all (in its ``[plugins.<name>]``
        table or the environment), without reading or checking the value: cheap
        enough to ask before every call, as a ``@hookimpl(when=...)`` condition.

        :raises KeyError: when ``settings_class`` has no setting ``key``.
        """
        return setting_given(
            name,
            settings_class,
            key,
            self.config.plugin_tables.get(name, {}),
            os.environ if environ is None else environ,
        )

    def shown_plugin_settings(self, name: str) -> dict[str, Any] | None:
        """A plugin's settings as shown to people, secrets redacted; None when the
        plugin declares none or they are unusable (:meth:`check` says why)."""
        settings_class = declared_settings(self.plugin_manager.get_plugin(name))
        if settings_class is None:
            return None
        try:
            return shown_settings(self.plugin_settings(name, settings_class))
        except PluginSettingsError:
            return None

    def plugin_settings_report(self) -> dict[str, dict[str, Any]]:
        """Every active plugin's settings as ``hosthooks config`` shows them:
        ``{"plugins.NAME.KEY": {"value", "source", "file", "problem"}}``, secrets
        redacted; a setting that is unusable shows what was given and why
        (``problem``, None for a usable one)."""
        report: dict[str, dict[str, Any]] = {}
        for record in self.plugins():
            if record.status is not Status.ACTIVE:
                continue
            settings_class = declared_settings(self.plugin_manager.get_plugin(record.name))
            if settings_class is None:
                continue
            table = self.config.plugin_tables.get(record.name, {})
            rows = settings_rows(
                record.name, settings_class, table, os.environ, self.config.config_dir
            )
            file = self.config.config_file
            for key, (value, source, problem) in rows.items():
                report[f"plugins.{record.name}.{key}"] = {
                    "value": value,
                    "source": source,
                    "file": str(file) if source == "file" and file else None,
                    "problem": problem,
                }
        return report

    def settings_problems(self, names: Collection[str] | None = None) -> list[Problem]:
        """What is wrong with the settings of the active plugins (only those
        ``names`` when given), one problem per setting; and, when ``names`` is
        None, each ``[plugins.<name>]`` table of a plugin not installed."""
        problems: list[Problem] = []
        for record in self.plugins():
            if record.status is not Status.ACTIVE or (
                names is not None and record.name not in names
            ):
                continue
            settings_class = declared_settings(self.plugin_manager.get_plugin(record.name))
            if settings_class is None:
                continue
            try:
                self.plugin_settings(record.name, settings_class)
            except PluginSettingsError as error:
                prefix = f"{record.name}: "
                problems.extend(
                    Problem(
                        record.name,
                        record.dist,
                        problem.removeprefix(prefix),
                        kind=ProblemKind.SETTINGS,
                    )
                    for problem in error.problems
                )
        known = {record.name for record in self.plugins()}
        for name in sorted(set(self.config.plugin_tables) - known):
            problems.append(
                Problem(
                    name,
                    None,
                    f"[plugins.{name}] configures a plugin that is not installed",
                    kind=ProblemKind.SETTINGS,
                )
            )
        return problems
