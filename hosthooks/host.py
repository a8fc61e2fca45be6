"""The Host: a pluggy PluginManager with every hookspec, plugin discovery and fast dispatch."""

from __future__ import annotations

import contextlib
import sys
import threading
import weakref
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING
from typing import Any
from typing import Final
from typing import TextIO
from typing import TypeVar
from typing import cast

import pluggy

from hosthooks.engine import async_calls
from hosthooks.engine import dispatch
from hosthooks.engine import ordering
from hosthooks.engine import robust
from hosthooks.engine.call_log import CallLog
from hosthooks.engine.call_log import LogTracer
from hosthooks.engine.callers import HostPluginManager
from hosthooks.engine.muting import Switchboard
from hosthooks.engine.muting import silence
from hosthooks.engine.robust import RobustOutcome
from hosthooks.engine.tracing import BroadcastTracer
from hosthooks.engine.tracing import HookTrace
from hosthooks.engine.tracing import Tracer
from hosthooks.engine.tracing import traced_hookexec
from hosthooks.host_settings import PluginSettingsAccess
from hosthooks.loading.loader import PluginLoading
from hosthooks.loading.problems import note_on
from hosthooks.loading.records import HostConfig
from hosthooks.loading.records import PluginRecord
from hosthooks.loading.records import Problem
from hosthooks.loading.records import ProblemKind
from hosthooks.loading.records import Source
from hosthooks.loading.records import Status
from hosthooks.loading.records import import_object
from hosthooks.markers import DEFER_OPTION
from hosthooks.markers import PROJECT
from hosthooks.specs import FAMILIES
from hosthooks.transactions import add_caller_finder

if TYPE_CHECKING:
    from hosthooks.engine.otel import SpanSettings
    from hosthooks.typed_calls import AsyncHooks
    from hosthooks.typed_calls import Hooks

_Settings = TypeVar("_Settings")


class Host(PluginLoading, PluginSettingsAccess):
    """A plugin host: every hookspec of :mod:`hosthooks.specs`, and the plugins you give it.

    ``Host()`` starts with no plugins; :meth:`load_plugins` discovers them, and
    :func:`get_host` returns the process-wide host that did so.

    Hooks are fired as ``host.hook.<name>(**kwargs)``: a live caller that
    behaves as pluggy's ``HookCaller`` and runs the hook's current call plan
    (:mod:`hosthooks.engine.callers`). Errors propagate, like Django's
    ``Signal.send``: the first exception an implementation raises stops the
    call and carries a note naming the plugin and hook. :meth:`fire_robust` is
    the forgiving alternative. ``await host.ahook.<name>(**kwargs)`` and
    :meth:`afire_robust` are their async twins, running the implementations in
    the same order (:mod:`hosthooks.engine.async_calls`).

    :param config: discovery and tracing settings; only the tracing ones are
        used until :meth:`load_plugins` is called.
    :param project_name: the project name of the markers implementations are
        made with (``hosthooks``: :data:`hosthooks.hookimpl`); a host of
        another project's hooks passes its own.
    :param specs: the modules or classes of hookspecs to add; None adds every
        family of :mod:`hosthooks.specs`. More can be added later with
        ``host.plugin_manager.add_hookspecs``.
    :param plugin_manager: a fresh :class:`HostPluginManager`
        (say of a subclass overriding ``parse_hookimpl_opts``) for the host to
        use instead of making one; its project name is the host's.
    :raises ValueError: when ``project_name`` and ``plugin_manager`` disagree.
    """

    def __init__(
        self,
        config: HostConfig | None = None,
        *,
        project_name: str | None = None,
        specs: Iterable[ModuleType | type] | None = None,
        plugin_manager: HostPluginManager | None = None,
    ) -> None:
        self.config: HostConfig = config or HostConfig(autoload=False)
        #: Active and blocked plugins by name; failures apart, since a failed
        #: plugin may share its name with the active one it collided with.
        self._records: dict[str, PluginRecord] = {}
        self._failures: list[PluginRecord] = []
        #: The labels of the models sender= strings are checked against; None: not checked.
        self._known_labels: frozenset[str] | None = None
        self._lock = threading.RLock()
        self._tracer: Tracer | None = None
        #: OpenTelemetry spans: which calls get them, and the SDK's provider; None: off.
        self._spans: tuple[SpanSettings, Any] | None = None
        self._call_listeners: list[Callable[[HookTrace], None]] = []
        self._call_logs: list[CallLog] = []
        self._trace_stream: TextIO | None = None
        if plugin_manager is None:
            plugin_manager = HostPluginManager(project_name or PROJECT)
        elif project_name is not None and project_name != plugin_manager.project_name:
            raise ValueError(
                f"project name {project_name!r} disagrees with the plugin manager's "
                f"{plugin_manager.project_name!r}"
            )
        self.plugin_manager: Final = plugin_manager
        self._callers: Final = plugin_manager.callers
        #: Every hook's live caller: ``host.hook.<name>(**kwargs)`` fires it.
        #: Typed for the checkers by :mod:`hosthooks.typed_calls` (the built-in hooks'
        #: names, arguments and results); at run time a :class:`HookRelay`.
        self.hook: Final = cast("Hooks", plugin_manager.callers.relay)
        #: Every hook's async caller: ``await host.ahook.<name>(**kwargs)`` fires it
        #: (:mod:`hosthooks.engine.async_calls`).
        self.ahook: Final = cast("AsyncHooks", plugin_manager.callers.async_relay)
        #: Whether each hook would call anything, any sender: what
        #: :meth:`has_listeners` answers without a sender, for code that asks per
        #: row (the model layer) and cannot spend a method call on it. Read-only.
        self.listening: Final[Mapping[str, bool]] = plugin_manager.callers.listening
        #: The mutes in force (an operator's, the circuit breaker's) and the breaker.
        self.switchboard: Final = Switchboard(self.hook_callers, self._callers.refresh)
        for module in FAMILIES.values() if specs is None else specs:
            self.plugin_manager.add_hookspecs(module)
        # A host of another project's hooks has no class_prepared to replay.
        if hasattr(self.hook, "class_prepared"):
            with _prepared_lock:
                _live_hosts.add(self)
                prepared = list(_prepared_classes)
            # Model classes defined before this host existed: replayed, so that this
            # host and every plugin it ever registers sees each one.
            for cls in prepared:
                self.plugin_manager.hook.class_prepared.call_historic(kwargs={"sender": cls})
        if self.config.trace:
            self.set_tracing(True, self.config.trace_file)
        if self.config.otel:
            config = self.config
            self.set_opentelemetry(
                True, hooks=config.otel_hooks, deny=config.otel_deny, sample=config.otel_sample
            )

    # -- dispatch ---------------------------------------------------------

    def has_listeners(self, name: str, sender: object = dispatch.ANY_SENDER) -> bool:
        """Whether firing ``name`` (with ``sender``, if given) would call anything.

        The runtime asks this before building a hook's arguments, so a hook
        nobody implements costs one dictionary lookup.

        :param name: a hook name.
        :param sender: when given, only implementations accepting this sender count.
        """
        if not self._callers.listening.get(name, False):
            return False
        if sender is dispatch.ANY_SENDER or not self._callers.sender_filters:
            return True
        caller = self._callers.live(name).caller
        if any(dispatch.accepts(impl, sender) for impl in caller.get_hookimpls()):
            return True
        # A sender no implementation accepts: heard only by whoever traces the
        # calls that reach nobody (the console with ``?empty=1``).
        return self._callers.hears_empty_calls(name)

    def watch_listening(self, watcher: Callable[[str, bool], None]) -> Callable[[], None]:
        """Call ``watcher(name, listening)`` for every hook at once, then whenever
        :meth:`has_listeners` of a hook changes (any sender): an implementation of
        a hook nobody implemented was registered, the last one was unregistered,
        or tracing turned on or off.

        The watcher runs under the host's dispatch lock, in the thread making
        the change, so that it sees changes in the order they happen; it must
        not register or unregister plugins.

        :returns: a function that stops the watching.
        """
        callers = self._callers
        with callers.lock:
            for name, listening in list(callers.listening.items()):
                watcher(name, listening)
            callers.listening_watchers.append(watcher)

        def stop() -> None:
            with callers.lock:
                callers.listening_watchers.remove(watcher)

        return stop

    def watch_implementations(self, watcher: Callable[[str], None]) -> Callable[[], None]:
        """Call ``watcher(name)`` for every hook at once, then whenever a hook's
        implementations change (one registered, unregistered, or changed in
        place) or whether it listens does (tracing turned on or off): what a
        front end that connects by sender (the Django bridge) follows.

        The watcher runs as :meth:`watch_listening`'s does, under the dispatch
        lock, and must not register or unregister plugins.

        :returns: a function that stops the watching.
        """
        callers = self._callers
        with callers.lock:
            for name in list(callers.listening):
                watcher(name)
            callers.change_watchers.append(watcher)

        def stop() -> None:
            with callers.lock:
                callers.change_watchers.remove(watcher)

        return stop

    def fire_robust(self, name: str, **kwargs: Any) -> list[tuple[str, RobustOutcome]]:
        """Call every implementation of ``name``, whatever each one raises.

        Like Django's ``send_robust``: returns ``(plugin name, result or
        exception)`` pairs in call order, and logs each failure with its plugin's
        name on the ``hosthooks`` logger. Wrappers run around the plain
        implementations as usual and receive their results; a wrapper that
        raises (or does not yield once) is logged and reported like any other
        failure, and what it returns is not used.

        :param name: a hook name.
        :param kwargs: the hook's arguments.
        :raises AttributeError: when no hook has that name.
        """
        caller = self._robust_caller(name)
        self.switchboard.expire()
        return robust.fire_robust(
            caller, kwargs, self._callers.tracer_for(name), self.switchboard.breaker
        )

    async def afire_robust(self, name: str, **kwargs: Any) -> list[tuple[str, RobustOutcome]]:
        """The async :meth:`fire_robust`: the same outcomes in the same order, async
        implementations awaited, ``thread=True`` ones run in a worker thread.

        :raises AttributeError: when no hook has that name.
        """
        caller = self._robust_caller(name)
        self.switchboard.expire()
        return await async_calls.fire_robust(
            caller, kwargs, self._callers.tracer_for(name), self.switchboard.breaker
        )

    def _robust_caller(self, name: str) -> pluggy.HookCaller:
        try:
            return self._callers.live(name).caller
        except KeyError:
            raise AttributeError(f"no hook named {name!r}") from None

    def set_tracing(self, enabled: bool, trace_file: Path | None = None) -> None:
        """Turn hook tracing on (to stderr, or JSON lines appended to ``trace_file``) or off.

        :raises OSError: when the trace file cannot be opened.
        """
        with self._lock:
            if self._trace_stream is not None:
                self._trace_stream.close()
                self._trace_stream = None
            if not enabled:
                self._tracer = None
            elif trace_file is not None:
                self._trace_stream = trace_file.open("a", encoding="utf-8")
                self._tracer = Tracer(self._trace_stream, as_json=True)
            else:
                self._tracer = Tracer(sys.stderr, as_json=False)
            self._install_tracing()

    def add_call_listener(self, listener: Callable[[HookTrace], None]) -> Callable[[], None]:
        """Hand the trace of every hook call to ``listener`` until the returned
        function is called (the inspector's recent calls use this).

        While no listener is attached and tracing is off, hook calls are not
        traced at all: listening costs only while someone listens.
        """
        with self._lock:
            self._call_listeners.append(listener)
            self._install_tracing()

        def remove() -> None:
            with self._lock:
                if listener in self._call_listeners:
                    self._call_listeners.remove(listener)
                    self._install_tracing()

        return remove

    def add_call_log(self, log: CallLog) -> Callable[[], None]:
        """Log every hook call in ``log`` until the returned function is called
        (the console's recent calls use this).

        While a log is the only follower (no tracing, spans or listener), calls
        are logged raw by the call plans, and a hook nobody implements is not
        logged (unless ``log.empty_calls``): a log costs a call a few clock
        readings and one tuple. Set ``log.empty_calls`` before adding the log.
        """
        with self._lock:
            self._call_logs.append(log)
            self._install_tracing()

        def remove() -> None:
            with self._lock:
                if log in self._call_logs:
                    self._call_logs.remove(log)
                    self._install_tracing()

        return remove

    def set_opentelemetry(
        self,
        enabled: bool,
        *,
        hooks: Collection[str] | None = None,
        deny: Collection[str] | None = None,
        sample: float = 1.0,
        tracer_provider: Any = None,
    ) -> None:
        """Turn OpenTelemetry spans for hook calls on or off (:mod:`hosthooks.engine.otel`):
        a span per call of a chosen hook, a child per implementation.

        :param hooks: only these hooks; None: every hook not denied.
        :param deny: never these hooks; None: ``pre_init`` and ``post_init``.
        :param sample: the share of chosen calls that get spans (0 to 1).
        :param tracer_provider: the SDK's provider; None: OpenTelemetry's global one.
        :raises ImportError: naming the extra, when ``opentelemetry-api`` is missing.
        :raises ValueError: for a sample outside 0 to 1.
        """
        settings = None
        if enabled:
            # Imported here, as the tracer is: a host without spans never loads them.
            from hosthooks.engine.otel import span_settings

            settings = span_settings(hooks, deny, sample)
        with self._lock:
            self._spans = None if settings is None else (settings, tracer_provider)
            self._install_tracing()

    def _install_tracing(self) -> None:
        tracer = self._tracer
        if self._spans is not None:
            # Imported here: the opentelemetry package is only needed with spans on.
            from hosthooks.engine.otel import OpenTelemetryTracer

            settings, provider = self._spans
            tracer = OpenTelemetryTracer(settings, tracer, provider)
        listeners = list(self._call_listeners)
        log = None
        if len(self._call_logs) == 1 and tracer is None and not listeners:
            log = self._call_logs[0]
            tracer = LogTracer(log)
        else:
            listeners += [each.emit for each in self._call_logs]
        if listeners:
            tracer = BroadcastTracer(tracer, tuple(listeners))
        self._callers.set_traced_hookexec(
            None if tracer is None else traced_hookexec(self.plugin_manager, tracer), tracer, log
        )

    def close(self) -> None:
        """Release what the host holds open: the trace file, if tracing to one."""
        self.set_tracing(False)

    # -- registration -----------------------------------------------------

    def register(
        self, plugin: object, name: str | None = None, *, source: Source = Source.REGISTERED
    ) -> str:
        """Register a plugin object (a module, class or instance with ``@hookimpl`` functions).

        :param plugin: the plugin.
        :param name: the name to register it under; pluggy's canonical name when None.
        :param source: where it came from, as :meth:`plugins` reports it.
        :returns: the name it was registered under.
        :raises pluggy.PluginValidationError: when an implementation does not
            fit its spec; nothing of the plugin is registered. An unknown
            argument is named, with the closest known one, in a note.
        :raises PluginLoadError: when ``config.strict`` is on and the plugin has a
            problem (see :meth:`check`); nothing of the plugin stays registered.
        :raises ValueError: when the name or the plugin is registered already,
            or the name is blocked.
        """
        with self._lock:
            if name is not None and self.plugin_manager.is_blocked(name):
                raise ValueError(f"plugin name {name!r} is blocked")
            try:
                registered = self._register(plugin, name)
            except pluggy.PluginValidationError as error:
                named = name or self.plugin_manager.get_canonical_name(plugin)
                for problem in self._diagnose(plugin, named, None):
                    if problem.kind is ProblemKind.UNKNOWN_ARGUMENT:
                        note_on(error, str(problem))
                raise
            record = PluginRecord(registered, source, Status.ACTIVE)
            self._records[registered] = record
            self._examine(record, plugin)
            return registered

    def _register(self, plugin: object, name: str | None) -> str:
        """Register with pluggy, then turn ``defer=True`` implementations into
        stand-ins that enqueue; a plugin that cannot defer what it asks is refused whole.
        """
        registered = self.plugin_manager.register(plugin, name)
        assert registered is not None
        deferred = [
            (impl, caller)
            for caller, impl in self._callers.implementations_of(plugin)
            if impl.opts.get(DEFER_OPTION)
        ]
        if deferred:
            # Imported by name: the deferred queue imports the runtime's models,
            # and the host never imports the runtime.
            prepare = import_object("hosthooks.deferred.runner:prepare")
            try:
                for impl, caller in deferred:
                    prepare(self, impl, caller)  # type: ignore[operator]
            except Exception:
                self.plugin_manager.unregister(plugin)
                raise
            # The implementations changed in place: these hooks' plans are out of date.
            for _, caller in deferred:
                self._callers.refresh(caller.name)
        return registered

    @property
    def tracer(self) -> Tracer | None:
        """Where hook traces go while tracing is on; None when it is off."""
        return self._tracer

    def unregister(self, name: str) -> None:
        """Unregister a plugin and every implementation it registered.

        :raises KeyError: when no plugin of that name is registered.
        """
        with self._lock:
            if self.plugin_manager.get_plugin(name) is None:
                raise KeyError(name)
            self.plugin_manager.unregister(name=name)
            self._records.pop(name, None)

    def block(self, name: str) -> None:
        """Block a plugin name: unregister it if present, and refuse it from now on.

        Blocking happens before import: a blocked entry point is never loaded.
        """
        with self._lock:
            self.plugin_manager.set_blocked(name)
            record = self._records.get(name)
            if record is not None:
                record.status = Status.BLOCKED

    @contextlib.contextmanager
    def muted(
        self, plugins: Collection[str] | None = None, hooks: Collection[str] | None = None
    ) -> Iterator[None]:
        """Within the block, the implementations of ``plugins`` (every plugin when
        None) for ``hooks`` (every hook when None) do nothing: a plain one returns
        None, a wrapper passes the result through. Every implementation keeps its
        place, so the others run in the same order. Undone on exit, even on error.

        Implementations registered inside the block are not muted.
        """
        restore, changed = silence(self.hook_callers(), plugins, hooks)
        # The implementations changed in place: these hooks' plans are out of date.
        for name in changed:
            self._callers.refresh(name)
        try:
            yield
        finally:
            restore()
            for name in changed:
                self._callers.refresh(name)

    def set_known_models(self, labels: Collection[str] | None, *, fatal: bool = True) -> None:
        """Check the ``sender=`` labels of every plugin against these model labels
        (``"app.Model"``) from now on; None stops checking them.

        A label is only checked when the host is told which models exist: an
        application defines its models after its plugins load.

        :param fatal: False keeps every problem found a recorded problem, even in
            strict mode, for a host whose models may still grow (Django's apps
            join its registry later, and its system checks report problems).
        :raises PluginLoadError: when ``config.strict`` is on, ``fatal`` too, and
            a label names no known model.
        """
        with self._lock:
            self._known_labels = None if labels is None else frozenset(labels)
            for record in list(self._records.values()):
                plugin = self.plugin_manager.get_plugin(record.name)
                if record.status is Status.ACTIVE and plugin is not None:
                    self._examine(record, plugin, fatal=fatal)

    # -- introspection ----------------------------------------------------

    def plugins(self) -> list[PluginRecord]:
        """Every plugin the host has seen: active and blocked ones, then failed ones."""
        with self._lock:
            return [*self._records.values(), *self._failures]

    def failed_plugins(self) -> list[PluginRecord]:
        with self._lock:
            return list(self._failures)

    def hooks_of(self, name: str) -> list[str]:
        """The names of the hooks an active plugin implements, sorted."""
        plugin = self.plugin_manager.get_plugin(name)
        if plugin is None:
            return []
        return sorted({caller.name for caller, _ in self._callers.implementations_of(plugin)})

    def hook_callers(self) -> Iterator[pluggy.HookCaller]:
        """Every hook caller, specified or not (plugins may implement unknown hooks)."""
        yield from self._callers.callers()

    def implementations(self, name: str) -> list[pluggy.HookImpl]:
        """A hook's implementations in call order (wrappers first: they wrap the rest)."""
        try:
            return dispatch.call_order(self._callers.live(name).caller)
        except KeyError:
            raise KeyError(name) from None

    def check(self, names: Collection[str] | None = None) -> list[Problem]:
        """Every problem with the plugins, in the order :meth:`plugins` lists them:
        failures to load, implementations of hooks no spec declares (unless
        ``optionalhook``), arguments a hook does not have, once
        :meth:`set_known_models` was called ``sender=`` labels naming no known
        model; then unusable settings.

        :param names: only these plugins; every plugin (and every configured
            plugin that is not installed) when None.
        """
        # A set: the CLI asks about hundreds of plugins at once.
        names = None if names is None else frozenset(names)
        problems: list[Problem] = []
        for record in self.plugins():
            if names is None or record.name in names:
                problems.extend(record.all_problems())
        problems.extend(
            problem
            for problem in [*self.ordering_problems(), *self.settings_problems(names)]
            if names is None or problem.plugin in names
        )
        return problems

    def ordering_problems(self, plugin_name: str | None = None) -> list[Problem]:
        """One problem per plugin in each ``before=``/``after=`` cycle, per hook
        (only ``plugin_name``'s when given); the hooks concerned keep pluggy's order."""
        problems: list[Problem] = []
        # Only hooks with a before=/after= implementation can hold a cycle; this
        # runs once per plugin loaded, and usually no hook has one.
        if not any(self._callers.constrained.values()):
            return problems
        for caller in self.hook_callers():
            if not self._callers.constrained.get(caller.name):
                continue
            for cycle in ordering.cycles_of(caller.get_hookimpls()):
                for name in cycle:
                    if plugin_name is not None and name != plugin_name:
                        continue
                    record = self._records.get(name)
                    problems.append(
                        Problem(
                            name,
                            record.dist if record else None,
                            f"ordering cycle among {', '.join(cycle)}; pluggy's order is kept",
                            hook=caller.name,
                            kind=ProblemKind.ORDERING_CYCLE,
                        )
                    )
        return problems


#: Every model class defined in this process, in definition order.
_prepared_classes: list[type] = []
#: Every host alive, so that a class defined now reaches the hosts that exist already.
_live_hosts: weakref.WeakSet[Host] = weakref.WeakSet()
#: Guards both, so that a host created while a class is announced sees it exactly once.
_prepared_lock: Final = threading.Lock()


def announce_class_prepared(cls: type) -> None:
    """Fire the historic ``class_prepared`` for ``cls`` on every host, and on every
    host created later.

    Creates no host and loads no plugin: a model class defined while modules are
    imported (even while the default host is loading the built-in plugins that
    define them) must not start discovery. An implementation that raises
    propagates, as from any hook.
    """
    with _prepared_lock:
        _prepared_classes.append(cls)
        hosts = list(_live_hosts)
    for host in hosts:
        host.plugin_manager.hook.class_prepared.call_historic(kwargs={"sender": cls})


_default_host: Host | None = None
#: The host being loaded, so that a plugin (or a built-in model module) calling
#: get_host() while it loads gets that host instead of starting another.
_loading_host: Host | None = None
_default_lock: Final = threading.RLock()


def plugin_settings(name: str, settings_class: type[_Settings]) -> _Settings:
    """The settings of plugin ``name`` on the process-wide host (:meth:`Host.plugin_settings`).

    :raises PluginSettingsError: with one line per problem.
    """
    return get_host().plugin_settings(name, settings_class)


def plugin_setting_given(name: str, settings_class: type[Any], key: str) -> bool:
    """Whether plugin ``name``'s setting ``key`` is set at all, on the process-wide host
    (:meth:`Host.plugin_setting_given`).

    :raises KeyError: when ``settings_class`` has no setting ``key``.
    """
    return get_host().plugin_setting_given(name, settings_class, key)


def get_host() -> Host:
    """The process-wide host, created on first use from the environment
    (:meth:`HostConfig.from_environ`) with its plugins discovered.

    :raises PluginLoadError: when strict mode is on and a plugin fails.
    """
    host = _default_host
    if host is not None:
        return host
    return create_default_host(HostConfig.from_environ(), replace=False)


def _implementation_of(code: Any) -> tuple[str, str] | None:
    """The (plugin, hook) of the default host whose implementation runs ``code``."""
    host = _default_host
    if host is None:
        return None
    for caller in host.hook_callers():
        for impl in caller.get_hookimpls():
            function = getattr(impl.function, "__wrapped__", impl.function)
            if getattr(function, "__code__", None) is code:
                return impl.plugin_name, caller.name
    return None


add_caller_finder(_implementation_of)


def current_host() -> Host | None:
    """The process-wide host if there is one yet (never creates it)."""
    return _default_host


def create_default_host(config: HostConfig, *, replace: bool = True) -> Host:
    """Create a host from ``config``, load its plugins and make it what :func:`get_host` returns.

    :param replace: when False and a default host exists already, return that one.
    :raises PluginLoadError: when strict mode is on and a plugin fails (no host is installed).
    """
    global _default_host, _loading_host
    with _default_lock:
        if not replace and _default_host is not None:
            return _default_host
        if _loading_host is not None:
            return _loading_host
        host = Host(config)
        _loading_host = host
        try:
            host.load_plugins()
        finally:
            _loading_host = None
        _default_host = host
        return host


def create_host(config: HostConfig) -> Host:
    """A host configured by ``config`` with its plugins loaded (not made the default)."""
    host = Host(config)
    host.load_plugins()
    return host


def set_default_host(host: Host | None) -> None:
    """Make ``host`` what :func:`get_host` returns (None: create anew on next use).

    Tests use this to put a host of their own behind the runtime.
    """
    global _default_host
    with _default_lock:
        _default_host = host


@contextlib.contextmanager
def using_host(host: Host) -> Iterator[Host]:
    """Make ``host`` what :func:`get_host` returns within the block (so the runtime
    fires through it), then put back the host that was the default before, even
    when the block raises.
    """
    global _default_host
    with _default_lock:
        previous, _default_host = _default_host, host
    try:
        yield host
    finally:
        with _default_lock:
            _default_host = previous
