"""What the host records of each plugin, and the vocabulary of loading: a
plugin's source, status and problems, its record, the loading configuration
(:class:`HostConfig`), the built-in plugins by name, the requirement on
hosthooks, and how a plugin's module or file is imported. Nothing here loads
a plugin; :mod:`hosthooks.loading.loader` does."""

from __future__ import annotations

import enum
import functools
import importlib
import importlib.util
import sys
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from hosthooks.loading.installed import InstalledEntryPoint
from hosthooks.loading.installed import scan
from hosthooks.markers import ENTRY_POINT_GROUP

if TYPE_CHECKING:
    from hosthooks.configuration.files import Configuration

#: Plugins the runtime brings, by name -> ``"module:attribute"``. Registered by
#: load_plugins before any entry point, listed by ``hosthooks plugins --all``,
#: blockable by name like any plugin.
BUILTIN_PLUGINS: Final = {
    # Django's update_last_login, connected to user_logged_in.
    "hosthooks.last-login": "hosthooks.loading.builtins:last_login",
}


class Source(str, enum.Enum):
    """Where a plugin came from."""

    ENTRY_POINT = "entry-point"
    DIRECTORY = "directory"
    BUILTIN = "built-in"
    REGISTERED = "registered"


class Status(str, enum.Enum):
    """What became of a plugin."""

    ACTIVE = "active"
    BLOCKED = "blocked"
    FAILED = "failed"


class ProblemKind(str, enum.Enum):
    """What is wrong with an implementation."""

    #: It implements a hook no spec declares (and is not ``optionalhook``); never called.
    UNKNOWN_HOOK = "unknown-hook"
    #: It asks for an argument its hook does not have: pluggy refuses the whole plugin.
    UNKNOWN_ARGUMENT = "unknown-argument"
    #: Its ``sender=`` label names no model the host knows; never called.
    UNKNOWN_SENDER = "unknown-sender"
    #: The plugin failed to load (import error, refused by pluggy for another reason).
    LOAD_ERROR = "load-error"
    #: Its settings are unusable, or settings configure a plugin that is not installed.
    SETTINGS = "settings"
    #: Its ``before=``/``after=`` constraints and others' form a cycle; pluggy's order is kept.
    ORDERING_CYCLE = "ordering-cycle"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a plugin, as ``hosthooks check`` reports it.

    ``str(problem)`` is one line: ``<plugin>: <hook>: <message> (did you mean '<x>'?)``,
    without the parts that do not apply.
    """

    plugin: str
    dist: str | None
    message: str
    #: The hook the implementation is for, or None for the plugin as a whole.
    hook: str | None = None
    #: The closest known name, when the problem is a misspelling.
    suggestion: str | None = None
    kind: ProblemKind = ProblemKind.LOAD_ERROR

    @property
    def detail(self) -> str:
        """The line without the plugin's name: ``<hook>: <message> (did you mean '<x>'?)``."""
        hint = f" (did you mean {self.suggestion!r}?)" if self.suggestion else ""
        where = f"{self.hook}: " if self.hook else ""
        return f"{where}{self.message}{hint}"

    def __str__(self) -> str:
        return f"{self.plugin}: {self.detail}"


@dataclass
class PluginRecord:
    """What the host knows of one plugin, active or not."""

    name: str
    source: Source
    status: Status
    dist: str | None = None
    version: str | None = None
    #: Where it was loaded from: the entry point's value or the file's path.
    origin: str | None = None
    #: One line saying why the plugin failed, or None.
    error: str | None = None
    #: The plugin's requirement on hosthooks (``"hosthooks>=0.1,<1"``), or None.
    requires: str | None = None
    #: Whether the installed hosthooks satisfies :attr:`requires`.
    compatible: bool = True
    #: What is wrong with its implementations, whether it loaded or not.
    problems: list[Problem] = field(default_factory=list)
    #: The traceback of the error that made it fail, as text, or None.
    traceback: str | None = None

    def all_problems(self) -> list[Problem]:
        """Everything wrong with this plugin, each error once: its problems, and
        the error that made it fail unless one of them is that error."""
        if self.error is None or self.error in {problem.detail for problem in self.problems}:
            return list(self.problems)
        return [*self.problems, Problem(self.name, self.dist, self.error)]


class PluginLoadError(Exception):
    """A plugin failed to load, or has a problem, while strict mode was on.

    :param record: the plugin's record; its ``error`` or ``problems`` say why.
    :param problem: the problem that was fatal, when the plugin itself loaded.
    """

    def __init__(self, record: PluginRecord, problem: Problem | None = None) -> None:
        where = f" (distribution {record.dist})" if record.dist else ""
        if problem is None:
            message = f"plugin {record.name!r}{where} failed to load: {record.error}"
        else:
            message = f"plugin {record.name!r}{where}: {problem.detail}"
        super().__init__(message)
        self.record = record
        self.problem = problem


@dataclass(frozen=True)
class HostConfig:
    """How a host discovers plugins and traces hooks.

    Every field is a key of the configuration (:mod:`hosthooks.configuration.files`): an
    option, an environment variable and a key of the configuration file.

    :param allowed: when not None, the only entry-point plugins loaded (by
        entry-point name); the others are blocked before import.
    """

    autoload: bool = True
    disabled: frozenset[str] = frozenset()
    allowed: frozenset[str] | None = None
    plugins_dir: Path | None = None
    strict: bool = False
    trace: bool = False
    trace_file: Path | None = None
    #: OpenTelemetry spans (:meth:`hosthooks.Host.set_opentelemetry`): on, which
    #: hooks (None: all not denied), which never, and the share of calls.
    otel: bool = False
    otel_hooks: tuple[str, ...] | None = None
    otel_deny: tuple[str, ...] = ("pre_init", "post_init")
    otel_sample: float = 1.0
    #: Where deferred implementations go (:mod:`hosthooks.deferred`).
    queue_backend: str = "celery"
    broker_url: str = "redis://127.0.0.1:6379/0"
    queue_visibility_timeout: int = 3600
    #: Seconds done deferred calls stay in the outbox before the relay purges them.
    deliveries_keep: int = 7 * 86400
    #: Seconds a call stays held (no worker has its plugin or model) before it is dead.
    deliveries_held_grace: int = 3600
    #: The longest wait, in seconds, between two attempts of a deferred call.
    retry_backoff_max: int = 3600
    #: Whether the runtime's built-in plugins load: a host firing Django's own
    #: signals has Django's built-in receivers instead.
    builtin_plugins: bool = True
    #: Each plugin's ``[plugins.<name>]`` table, and the folder its file paths are relative to.
    plugin_tables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, compare=False)
    #: The configuration file the tables come from (secrets' file paths are relative to it).
    config_file: Path | None = None

    @property
    def config_dir(self) -> Path | None:
        return None if self.config_file is None else self.config_file.parent

    @classmethod
    def from_configuration(cls, configuration: Configuration) -> HostConfig:
        """The host's part of the configuration."""
        allowed = configuration["load_plugins"]
        return cls(
            autoload=configuration["autoload"],
            disabled=frozenset(configuration["disable_plugins"]),
            allowed=None if allowed is None else frozenset(allowed),
            plugins_dir=configuration["plugins_dir"],
            strict=configuration["strict_plugins"],
            trace=configuration["trace"],
            trace_file=configuration["trace_file"],
            otel=configuration["otel"],
            otel_hooks=configuration["otel_hooks"],
            otel_deny=configuration["otel_deny"],
            otel_sample=configuration["otel_sample"],
            queue_backend=configuration["queue_backend"],
            broker_url=configuration["broker_url"],
            queue_visibility_timeout=configuration["queue_visibility_timeout"],
            deliveries_keep=configuration["deliveries_keep"],
            deliveries_held_grace=configuration["deliveries_held_grace"],
            retry_backoff_max=configuration["retry_backoff_max"],
            plugin_tables=configuration.plugins,
            config_file=configuration.file,
        )

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> HostConfig:
        """The configuration read from the environment and the configuration file
        (see :func:`hosthooks.configuration.files.load_configuration`), with no options.

        :param environ: the environment; ``os.environ`` when None.
        :raises hosthooks.configuration.keys.ConfigError: when the configuration is unusable.
        """
        from hosthooks.configuration.files import load_configuration

        return cls.from_configuration(load_configuration(environ=environ))

    def with_changes(self, **changes: Any) -> HostConfig:
        return replace(self, **changes)


@functools.cache
def installed_entry_points() -> tuple[InstalledEntryPoint, ...]:
    """Every ``hosthooks`` entry point installed, sorted by distribution then name.

    Read once per process (see :mod:`hosthooks.loading.installed`): the set does not
    change under a running process that matters to us (``pip install`` into it
    needs a restart anyway).
    """
    found = scan(ENTRY_POINT_GROUP)
    return tuple(sorted(found, key=lambda entry: (entry.dist or "", entry.point.name)))


def hosthooks_version() -> str:
    """The running hosthooks' version (``hosthooks.__version__``)."""
    from hosthooks import __version__

    return __version__


#: The characters a distribution's name is made of.
_NAME_CHARACTERS: Final = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
)


def _after_hosthooks(requirement: str) -> str | None:
    """What a requirement on hosthooks (the name in any case) says after the
    name and its extras, or None when it is a requirement on another distribution.

    Most plugins require plain ``hosthooks``: only a specifier or a marker
    needs parsing, by packaging.
    """
    text = requirement.lstrip()
    end = len(ENTRY_POINT_GROUP)
    if text[:end].lower() != ENTRY_POINT_GROUP or text[end : end + 1] in _NAME_CHARACTERS:
        return None
    rest = text[end:].lstrip()
    if rest.startswith("[") and "]" in rest:
        rest = rest.partition("]")[2]
    return rest


def hosthooks_requirement(requires: Sequence[str]) -> tuple[str, bool] | None:
    """A distribution's requirement on hosthooks and whether the installed
    hosthooks satisfies it, or None when it declares none.

    Requirements that apply only to an extra, or whose environment marker is
    false here, are not the plugin's requirement on this host.

    :param requires: the distribution's ``Requires-Dist`` values.
    """
    for text in requires:
        rest = _after_hosthooks(text)
        if rest is None:
            continue
        if not rest.strip():
            return ENTRY_POINT_GROUP, True
        # Imported only for a requirement with a version or a marker: parsing
        # them is what packaging is for, and importing it costs ~15 ms.
        from packaging.requirements import InvalidRequirement
        from packaging.requirements import Requirement

        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        compatible = requirement.specifier.contains(hosthooks_version(), prereleases=True)
        return f"{requirement.name}{requirement.specifier}", compatible
    return None


class IncompatiblePlugin(Exception):
    """A plugin requires a hosthooks other than the one installed."""


def import_object(target: str) -> object:
    """The object a ``"module:attribute"`` string names (importing the module)."""
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def import_file(path: Path) -> ModuleType:
    """A ``.py`` file imported as the module ``hosthooks_plugins_dir.<stem>``."""
    module_name = f"hosthooks_plugins_dir.{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module
