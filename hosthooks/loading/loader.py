"""Loading a host's plugins, in order: the built-in plugins, then entry points
(with the block list, the allow-list and compatibility), then directories of
``.py`` files; each recorded as it loads (:mod:`hosthooks.loading.records`),
a failure as ``failed``, a problem found as the plugin loads."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Final

import pluggy

from hosthooks.engine.callers import HostPluginManager
from hosthooks.engine.robust import one_line
from hosthooks.loading.installed import InstalledEntryPoint
from hosthooks.loading.problems import diagnose
from hosthooks.loading.problems import plugin_traceback
from hosthooks.loading.records import BUILTIN_PLUGINS
from hosthooks.loading.records import HostConfig
from hosthooks.loading.records import IncompatiblePlugin
from hosthooks.loading.records import PluginLoadError
from hosthooks.loading.records import PluginRecord
from hosthooks.loading.records import Problem
from hosthooks.loading.records import ProblemKind
from hosthooks.loading.records import Source
from hosthooks.loading.records import Status
from hosthooks.loading.records import hosthooks_requirement
from hosthooks.loading.records import hosthooks_version
from hosthooks.loading.records import import_file
from hosthooks.loading.records import import_object
from hosthooks.loading.records import installed_entry_points
from hosthooks.markers import PROJECT

#: Where plugin failures and problems are logged as they are found; a front end
#: that shows them itself (the CLI) silences this one logger.
plugins_logger: Final = logging.getLogger(f"{PROJECT}.plugins")


class PluginLoading:
    """The part of :class:`hosthooks.Host` that finds and loads plugins."""

    # What the host provides (see hosthooks.host.Host).
    config: HostConfig
    _records: dict[str, PluginRecord]
    _failures: list[PluginRecord]
    _known_labels: frozenset[str] | None
    _lock: threading.RLock

    if TYPE_CHECKING:

        @property
        def plugin_manager(self) -> HostPluginManager: ...

        def _register(self, plugin: object, name: str | None) -> str: ...

        def block(self, name: str) -> None: ...

        def ordering_problems(self, plugin_name: str | None = None) -> list[Problem]: ...

    def load_builtin_plugins(self) -> list[PluginRecord]:
        """Register the runtime's built-in plugins (:data:`BUILTIN_PLUGINS`), unless blocked."""
        records = []
        for name, target in BUILTIN_PLUGINS.items():
            record = PluginRecord(name, Source.BUILTIN, Status.ACTIVE, origin=target)
            records.append(self._load(record, functools.partial(import_object, target)))
        return records

    def load_plugins(self) -> list[PluginRecord]:
        """Discover plugins as :attr:`config` says: the built-in ones (unless
        ``config.builtin_plugins`` is off), entry points
        (unless autoload is off), then the plugins directory, skipping blocked
        names before import.

        A plugin that fails to import or to validate is recorded as ``failed``
        and left out whole; every other plugin still loads.

        :returns: the records of the plugins this call looked at.
        :raises PluginLoadError: on the first failure when ``config.strict`` is on.
        """
        seen: list[PluginRecord] = []
        for name in sorted(self.config.disabled):
            if not self.plugin_manager.is_blocked(name):
                self.block(name)
        if self.config.builtin_plugins:
            seen.extend(self.load_builtin_plugins())
        if self.config.autoload:
            allowed = self.config.allowed
            for point in installed_entry_points():
                if allowed is not None and point.point.name not in allowed:
                    seen.append(self._not_allowed(point))
                    continue
                seen.append(self._load_entry_point(point))
        if self.config.plugins_dir is not None:
            seen.extend(self.load_directory(self.config.plugins_dir))
        return seen

    def _entry_point_record(self, installed: InstalledEntryPoint) -> PluginRecord:
        record = PluginRecord(
            name=installed.point.name,
            source=Source.ENTRY_POINT,
            status=Status.ACTIVE,
            dist=installed.dist,
            version=installed.version,
            origin=installed.point.value,
        )
        requirement = hosthooks_requirement(installed.requires)
        if requirement is not None:
            record.requires, record.compatible = requirement
        return record

    def _load_entry_point(self, installed: InstalledEntryPoint) -> PluginRecord:
        return self._load(self._entry_point_record(installed), installed.point.load)

    def _not_allowed(self, point: InstalledEntryPoint) -> PluginRecord:
        """An entry point the allow-list leaves out: never imported, listed as blocked."""
        record = self._entry_point_record(point)
        record.status = Status.BLOCKED
        with self._lock:
            self._records.setdefault(record.name, record)
        return record

    def load_directory(self, directory: Path) -> list[PluginRecord]:
        """Load every ``*.py`` file of ``directory`` (not starting with ``_``) as a plugin
        named after the file, in name order.

        :raises PluginLoadError: on the first failure when ``config.strict`` is on.
        """
        if not directory.is_dir():
            record = PluginRecord(
                str(directory), Source.DIRECTORY, Status.FAILED, origin=str(directory)
            )
            missing = NotADirectoryError(f"plugins directory {str(directory)!r} does not exist")
            return [self._fail(record, missing)]
        records = []
        for path in sorted(directory.glob("*.py")):
            if path.name.startswith("_"):
                continue
            record = PluginRecord(path.stem, Source.DIRECTORY, Status.ACTIVE, origin=str(path))
            records.append(self._load(record, functools.partial(import_file, path)))
        return records

    def _load(self, record: PluginRecord, load: Callable[[], object]) -> PluginRecord:
        with self._lock:
            if self.plugin_manager.is_blocked(record.name):
                record.status = Status.BLOCKED
                self._records[record.name] = record
                return record
            existing = self._records.get(record.name)
            if existing is not None:
                where = existing.dist or existing.origin or existing.source.value
                error = ValueError(f"plugin name {record.name!r} is already taken by {where}")
                return self._fail(record, error)
            if not record.compatible:
                # Refused before import: code written for another hosthooks may
                # fail in ways that name nothing useful, or not fail at all.
                incompatible = IncompatiblePlugin(
                    f"requires {record.requires}, but hosthooks {hosthooks_version()} is installed"
                )
                return self._fail(record, incompatible)
            try:
                plugin = load()
            except Exception as error:
                return self._fail(record, error)
            try:
                self._register(plugin, record.name)
            except pluggy.PluginValidationError as error:
                # pluggy names the first bad argument in several lines; the
                # problems name every one, each with the closest known name.
                record.problems = self._diagnose(plugin, record.name, record.dist)
                refusals = [p for p in record.problems if p.kind is ProblemKind.UNKNOWN_ARGUMENT]
                return self._fail(record, error, refusals[0].detail if refusals else None)
            except Exception as error:
                return self._fail(record, error)
            self._records[record.name] = record
            self._examine(record, plugin)
            return record

    def _fail(
        self, record: PluginRecord, error: Exception, message: str | None = None
    ) -> PluginRecord:
        record.status, record.error = Status.FAILED, message or one_line(error)
        record.traceback = plugin_traceback(error)
        self._failures.append(record)
        for problem in record.all_problems():
            plugins_logger.warning("%s", problem)
        if self.config.strict:
            raise PluginLoadError(record) from error
        return record

    def _diagnose(self, plugin: object, name: str, dist: str | None) -> list[Problem]:
        return diagnose(self.plugin_manager, plugin, name, dist, self._known_labels)

    def _examine(self, record: PluginRecord, plugin: object, *, fatal: bool = True) -> None:
        """Find what is wrong with an active plugin, logging what is new; in strict
        mode (unless not ``fatal``) the first problem unregisters the plugin and is raised."""
        reported = {str(problem) for problem in record.problems}
        # Registered: the host holds its implementations already, so the
        # plugin's attributes are not read a second time.
        held = [
            (caller.name, impl)
            for caller, impl in self.plugin_manager.callers.implementations_of(plugin)
        ]
        record.problems = diagnose(
            self.plugin_manager, plugin, record.name, record.dist, self._known_labels, held
        )
        # Cycles depend on the other plugins loaded, so they are found anew by
        # check(), not kept with the record; here they are reported once, at load.
        cycles = self.ordering_problems(record.name)
        if (record.problems or cycles) and self.config.strict and fatal:
            self.plugin_manager.unregister(name=record.name)
            del self._records[record.name]
            raise PluginLoadError(record, [*record.problems, *cycles][0])
        for problem in [*record.problems, *cycles]:
            if str(problem) not in reported:
                plugins_logger.warning("%s", problem)
