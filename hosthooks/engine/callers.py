"""Live hook callers: what ``host.hook.<name>`` and ``host.plugin_manager.hook.<name>`` are.

Every hook has one pluggy ``HookCaller`` (the object pluggy's manager creates,
adopted here: its class becomes a subclass that reports changes) and one
*call function*, whose code is the hook's current call plan or the pluggy path
(:mod:`hosthooks.engine.plans`). ``host.hook.<name>`` is the call function bound to
the ``HookCaller``: a bound method, which Python calls as fast as a function,
where an object with ``__call__`` would cost a dictionary of the keyword
arguments per call. Attribute reads on a bound method fall through to its
function, which carries every attribute of ``HookCaller``, so code written for
pluggy's ``HookCaller`` works on it unchanged.

A change to a hook's implementations swaps that function's ``__code__`` back to
the pluggy path, which builds the new plan on the next call: a held reference
always runs the current plan, and a change costs the changed hooks only.
"""

from __future__ import annotations

import functools
import itertools
import threading
import types
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar
from typing import Final

import pluggy

from hosthooks.engine import async_calls
from hosthooks.engine import dispatch
from hosthooks.engine import generated
from hosthooks.engine import ordering
from hosthooks.engine import plans
from hosthooks.engine.async_bridge import stand_in_for
from hosthooks.engine.dispatch import HookExec

if TYPE_CHECKING:
    from hosthooks.engine.call_log import CallLog
    from hosthooks.engine.tracing import Tracer

#: ``HookCaller`` attributes holding data (slots); the rest are methods.
_CALLER_DATA: Final = tuple(
    name
    for name, value in vars(pluggy.HookCaller).items()
    if isinstance(value, types.MemberDescriptorType)
)
_CALLER_METHODS: Final = tuple(
    name
    for name, value in vars(pluggy.HookCaller).items()
    if not name.startswith("__") and callable(value)
)


class LiveHookCaller(pluggy.HookCaller):
    """A pluggy ``HookCaller`` that reports every change of its implementations or
    spec, and whose call runs the hook's call function.

    Adopted callers get this class by ``__class__`` assignment (it adds no slots),
    so that the very object pluggy's manager keeps using reports its changes.
    """

    __slots__ = ()
    #: Set on the per-manager subclass.
    _registry: ClassVar[HookCallers]

    def _add_hookimpl(self, hookimpl: pluggy.HookImpl) -> None:
        with self._registry.lock:
            stand_in_for(self.name, hookimpl)
            _insert(self._hookimpls, hookimpl)
            registry = self._registry
            registry.registered[id(hookimpl)] = (hookimpl, next(registry.registrations))
            if ordering.is_constrained(hookimpl):
                registry.constrained[self.name] = registry.constrained.get(self.name, 0) + 1
            # Most hooks have no constraint at all: registering stays linear.
            if registry.constrained.get(self.name):
                ordering.reorder(self._hookimpls, registry.registration_of)
            registry.changed(self, added=hookimpl)

    def _remove_plugin(self, plugin: object) -> None:
        with self._registry.lock:
            held = list(self._hookimpls)
            registry = self._registry
            was_constrained = registry.constrained.get(self.name)
            try:
                super()._remove_plugin(plugin)
            finally:
                for impl in held:
                    if impl not in self._hookimpls:
                        registry.registered.pop(id(impl), None)
                        if ordering.is_constrained(impl):
                            registry.constrained[self.name] -= 1
                # The implementations a constraint of the one removed moved go
                # back where the constraints left (or pluggy) would put them.
                if was_constrained:
                    ordering.reorder(self._hookimpls, registry.registration_of)
                registry.changed(self, added=None, removed=plugin)

    def set_specification(self, specmodule_or_class: Any, spec_opts: Any) -> None:
        with self._registry.lock:
            super().set_specification(specmodule_or_class, spec_opts)
            self._registry.spec_changed(self)


def _is_wrapper(impl: pluggy.HookImpl) -> bool:
    return bool(impl.wrapper or impl.hookwrapper)


def _insert(stored: list[pluggy.HookImpl], impl: pluggy.HookImpl) -> None:
    """Put ``impl`` in a hook's stored list (the reverse of call order) where
    pluggy's ``HookCaller._add_hookimpl`` puts it: plain implementations, then
    wrappers; in each group the ``trylast`` ones, then the others (the latest
    last), then the ``tryfirst`` ones.

    pluggy finds the first wrapper by scanning from the front of the list, which
    makes registering N implementations of one hook cost N^2 (#10). Wrappers are
    the end of the list, and few: scanning back from the end finds the same place.
    """
    wrappers_start = len(stored)
    while wrappers_start and _is_wrapper(stored[wrappers_start - 1]):
        wrappers_start -= 1
    if _is_wrapper(impl):
        low, high = wrappers_start, len(stored)
    else:
        low, high = 0, wrappers_start
    if impl.trylast:
        position = low
    else:
        position = high
        if not impl.tryfirst:
            # Behind the group's tryfirst implementations, which stay the last stored.
            while position > low and stored[position - 1].tryfirst:
                position -= 1
    stored.insert(position, impl)


class _RoutedCall:
    """``HookCaller.__call__`` of adopted callers: the hook's call function, bound.

    A descriptor, not a method: the interpreter resolves it before calling, so
    the call function runs directly under the caller's frame, as pluggy's
    ``__call__`` does, and pluggy's warnings point at the same line.
    """

    def __get__(self, caller: LiveHookCaller | None, owner: type[LiveHookCaller]) -> Any:
        if caller is None:
            return self
        return owner._registry.live(caller.name).bound


class _Live:
    """One hook's call functions (sync and async) and what they are bound to."""

    __slots__ = (
        "async_function",
        "async_path",
        "bound",
        "caller",
        "function",
        "pluggy_path",
    )

    def __init__(
        self,
        caller: LiveHookCaller,
        function: types.FunctionType,
        async_function: types.FunctionType,
    ) -> None:
        self.caller: Final = caller
        self.function: Final = function
        self.bound: Final = types.MethodType(function, caller)
        #: The pluggy path with a rebuild first, run while the plan is out of date;
        #: None until the function's namespace holds what it reads.
        self.pluggy_path: types.CodeType | None = None
        #: ``host.ahook.<name>`` itself: unbound, since an async plan needs no ``self``.
        self.async_function: Final = async_function
        #: The async path with a rebuild first, while the async plan is out of date
        #: (None likewise).
        self.async_path: types.CodeType | None = None


class HookRelay:
    """``host.hook``: every hook's live caller as an attribute.

    A plugin manager may use it as its own relay (``pm.hook``): a ``HookCaller``
    set on it is adopted, and its live caller stored instead.
    """

    __slots__ = ("__dict__", "_registry")
    _registry: HookCallers

    def __init__(self, registry: HookCallers) -> None:
        object.__setattr__(self, "_registry", registry)

    def __setattr__(self, name: str, value: object) -> None:
        if isinstance(value, pluggy.HookCaller):
            value = self._registry.adopt(value).bound
        self.__dict__[name] = value

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"no hook named {name!r}")


class AsyncHookRelay:
    """``host.ahook``: every hook's async caller as an attribute
    (``await host.ahook.<name>(**kwargs)``)."""

    __slots__ = ("__dict__",)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"no hook named {name!r}")


class CallerRelay:
    """The plugin manager's relay (``pm.hook``): each hook's pluggy ``HookCaller``,
    adopted as it is set."""

    __slots__ = ("__dict__", "_registry")
    _registry: HookCallers

    def __init__(self, registry: HookCallers) -> None:
        object.__setattr__(self, "_registry", registry)

    def __setattr__(self, name: str, value: object) -> None:
        if isinstance(value, pluggy.HookCaller):
            value = self._registry.adopt(value).caller
        self.__dict__[name] = value


class HookCallers:
    """Every hook's live caller for one plugin manager, and what plans depend on.

    Building a plan and changing implementations both hold :attr:`lock`, so a
    plan built from implementations that changed meanwhile is never installed.
    """

    def __init__(self, hookexec: HookExec) -> None:
        self.lock: Final = threading.RLock()
        #: When each implementation was added, by id (the implementation kept
        #: alongside, so that the id stays its own): ordering rebuilds pluggy's
        #: order from it.
        self.registered: dict[int, tuple[pluggy.HookImpl, int]] = {}
        self.registrations: Final = itertools.count()
        #: How many implementations of each hook have before=/after= constraints.
        self.constrained: dict[str, int] = {}
        self._hookexec = hookexec
        self._traced_hookexec: HookExec | None = None
        self._monitored = False
        self._tracer: Tracer | None = None
        self._log: CallLog | None = None
        #: Each hook's tracer (None: its calls are not traced), as of its last change.
        self._tracers: dict[str, Tracer | None] = {}
        self._live: dict[str, _Live] = {}
        #: Whether calling a hook would call anything (an implementation, or a tracer).
        self.listening: dict[str, bool] = {}
        #: How many implementations are filtered by sender, over all hooks.
        self.sender_filters = 0
        #: Each registered plugin's implementations (by the plugin's id; pluggy keeps
        #: the plugin alive while registered), so that finding them costs the
        #: plugin's own hooks, not every hook's.
        self._by_plugin: dict[int, dict[str, list[pluggy.HookImpl]]] = {}
        #: Called with a hook's name and new :attr:`listening` value when it changes.
        self.listening_watchers: list[Callable[[str, bool], None]] = []
        #: Called with a hook's name whenever its implementations (or :attr:`listening`) change.
        self.change_watchers: list[Callable[[str], None]] = []
        self.caller_class: Final[type[LiveHookCaller]] = type(
            "HookCaller",
            (LiveHookCaller,),
            {"__slots__": (), "_registry": self, "__call__": _RoutedCall()},
        )
        self.relay: Final = HookRelay(self)
        self.async_relay: Final = AsyncHookRelay()

    # -- adoption -------------------------------------------------------------

    def adopt(self, caller: pluggy.HookCaller) -> _Live:
        """Make ``caller`` (just created by pluggy's manager) a live caller."""
        with self.lock:
            if isinstance(caller, self.caller_class):
                return self._live[caller.name]
            if type(caller) is not pluggy.HookCaller:
                raise TypeError(f"cannot adopt {caller!r}: not a plain pluggy HookCaller")
            caller.__class__ = self.caller_class
            assert isinstance(caller, self.caller_class)
            # Each hook's functions have a namespace of their own: the paths read
            # their values there (plans take theirs as defaults).
            function = types.FunctionType(
                plans.pluggy_path(caller.name, rebuild=True), {}, caller.name
            )
            function.__qualname__ = f"{caller.name}.__call__"
            async_function = types.FunctionType(
                async_calls.async_path(caller.name, rebuild=True), {}, caller.name
            )
            async_function.__qualname__ = f"{caller.name}.__call__"
            live = _Live(caller, function, async_function)
            for name in _CALLER_METHODS:
                setattr(function, name, getattr(caller, name))
            self._live[caller.name] = live
            self.relay.__dict__[caller.name] = live.bound
            self.async_relay.__dict__[caller.name] = live.async_function
            self.spec_changed(caller)
            for impl in caller.get_hookimpls():
                self.changed(caller, added=impl)
            return live

    def implementations_of(self, plugin: object) -> list[tuple[LiveHookCaller, pluggy.HookImpl]]:
        """A registered plugin's implementations, each with its hook's caller."""
        with self.lock:
            return [
                (self._live[name].caller, impl)
                for name, impls in self._by_plugin.get(id(plugin), {}).items()
                for impl in impls
                if impl.plugin is plugin
            ]

    def live(self, name: str) -> _Live:
        return self._live[name]

    def callers(self) -> Iterator[LiveHookCaller]:
        """Every hook's pluggy caller, specified or not."""
        for live in list(self._live.values()):
            yield live.caller

    # -- changes --------------------------------------------------------------

    def registration_of(self, impl: pluggy.HookImpl) -> int:
        return self.registered[id(impl)][1]

    def changed(
        self,
        caller: LiveHookCaller,
        added: pluggy.HookImpl | None,
        removed: object | None = None,
    ) -> None:
        """``caller``'s implementations changed (``added``, or ``removed``'s taken
        out, or changed in place): its next call builds a new plan."""
        live = self._live[caller.name]
        if added is not None:
            by_hook = self._by_plugin.setdefault(id(added.plugin), {})
            by_hook.setdefault(caller.name, []).append(added)
            if dispatch.sender_filter(added) is not None:
                self.sender_filters += 1
        else:
            if removed is not None:
                by_hook = self._by_plugin.get(id(removed), {})
                by_hook.pop(caller.name, None)
                if not by_hook:
                    self._by_plugin.pop(id(removed), None)
            self.sender_filters = sum(
                dispatch.sender_filter(impl) is not None
                for other in self._live.values()
                for impl in other.caller._hookimpls
            )
        self._mark_stale(live)

    def refresh(self, name: str) -> None:
        """Hook ``name``'s implementations were changed in place: its next call
        builds a new plan.

        :raises KeyError: when there is no hook of that name.
        """
        with self.lock:
            self.changed(self._live[name].caller, added=None)

    def spec_changed(self, caller: LiveHookCaller) -> None:
        live = self._live[caller.name]
        for name in _CALLER_DATA:
            setattr(live.function, name, getattr(caller, name))
        if caller.spec is not None:
            live.function.__kwdefaults__ = plans.plan_defaults(caller.spec)
            live.async_function.__kwdefaults__ = plans.plan_defaults(caller.spec)
        live.pluggy_path = None
        live.async_path = None
        self._mark_stale(live)

    @property
    def tracer(self) -> Tracer | None:
        """Where every hook call's trace goes; None while tracing is off."""
        return self._tracer

    @property
    def traced_hookexec(self) -> HookExec | None:
        """What runs a hook while tracing is on; None while it is off."""
        return self._traced_hookexec

    def traces(self, name: str) -> bool:
        """Whether calls of hook ``name`` are traced: tracing is on and its tracer
        follows that hook (spans leave out the hooks they deny; a call log, the
        hooks nobody implements unless it logs empty calls)."""
        if self._tracer is None or not self._tracer.follows(name):
            return False
        if self._log is None or self._log.empty_calls:
            return True
        live = self._live.get(name)
        return live is not None and bool(live.caller._hookimpls)

    def hears_empty_calls(self, name: str) -> bool:
        """Whether a call of hook ``name`` that reaches no implementation is traced
        all the same (a stream or spans follow the hook, or a log asks for them)."""
        if self._tracer is None or not self._tracer.follows(name):
            return False
        return self._log is None or self._log.empty_calls

    def tracer_for(self, name: str) -> Tracer | None:
        """The tracer of calls of hook ``name``, or None when they are not traced."""
        # Asked by every robust call: kept per hook, as listening is.
        try:
            return self._tracers[name]
        except KeyError:
            return self._tracer if self.traces(name) else None

    def set_traced_hookexec(
        self, traced: HookExec | None, tracer: Tracer | None = None, log: CallLog | None = None
    ) -> None:
        """Run every hook through ``traced`` (a tracer's ``_hookexec``) and every
        async call through the async path tracing to ``tracer``, or stop (None).

        :param log: the call log that is ``tracer``'s only follower: plans are
            recorded plans logging to it, and only calls the plans do not run
            go through ``traced``.
        """
        with self.lock:
            self._traced_hookexec = traced
            self._tracer = tracer if traced is not None else None
            self._log = log if traced is not None else None
            self._everything_changed()

    def monitoring_changed(self, monitored: bool) -> None:
        """pluggy's hook-call monitoring was added or removed; whether any is on now."""
        with self.lock:
            self._monitored = monitored
            self._everything_changed()

    def _everything_changed(self) -> None:
        for live in self._live.values():
            live.pluggy_path = None
            live.async_path = None
            self._mark_stale(live)

    def _mark_stale(self, live: _Live) -> None:
        caller = live.caller
        traced = self.traces(caller.name)
        self._tracers[caller.name] = self._tracer if traced else None
        listening = bool(caller._hookimpls) or traced
        if self.listening.get(caller.name) is not listening:
            self.listening[caller.name] = listening
            for watcher in list(self.listening_watchers):
                watcher(caller.name, listening)
        for change_watcher in list(self.change_watchers):
            change_watcher(caller.name)
        if live.pluggy_path is None:
            rebuild = functools.partial(self._rebuild, live)
            live.function.__globals__.update(
                plans.pluggy_path_namespace(
                    caller, self._current_hookexec(caller.name), rebuild, live.bound
                )
            )
            live.pluggy_path = plans.pluggy_path(caller.name, rebuild=True)
        live.function.__code__ = live.pluggy_path
        if live.async_path is None:
            rebuild_async = functools.partial(self._rebuild_async, live)
            live.async_function.__globals__.update(
                async_calls.async_path_namespace(
                    caller, self._async_run(caller.name), rebuild_async, live.async_function
                )
            )
            live.async_path = async_calls.async_path(caller.name, rebuild=True)
        live.async_function.__code__ = live.async_path
        # The path reads the implementations there are when it starts: so must a
        # coroutine of the old plan made before this change and started after it.
        # Its values go once the code is the path's: a coroutine starting between
        # would otherwise make its call again through the old plan, and again.
        generated.forget_values(live.async_function)

    def _current_hookexec(self, name: str) -> HookExec:
        if self._traced_hookexec is not None and self.traces(name):
            return self._traced_hookexec
        return self._hookexec

    def _async_run(self, name: str) -> async_calls.AsyncRun:
        tracer = self.tracer_for(name)
        if tracer is None:
            return async_calls.run_implementations
        return functools.partial(async_calls.run_implementations, tracer=tracer)

    def _rebuild_async(self, live: _Live) -> bool:
        """:meth:`_rebuild` for the hook's async caller."""
        with self.lock:
            if live.async_function.__code__ is live.async_path:
                caller = live.caller
                built = async_calls.build_call(
                    caller,
                    caller.get_hookimpls(),
                    self._async_run(caller.name),
                    path_only=self.traces(caller.name),
                )
                generated.install(live.async_function, built)
            return async_calls.is_async_plan(live.async_function.__code__)

    def _rebuild(self, live: _Live) -> bool:
        """Install the hook's code for its current implementations (unless a
        change came first); whether that code is a plan."""
        with self.lock:
            if live.function.__code__ is live.pluggy_path:
                caller = live.caller
                traced = self.traces(caller.name)
                built = plans.build_call(
                    caller,
                    caller.get_hookimpls(),
                    self._current_hookexec(caller.name),
                    pluggy_only=self._monitored or (traced and self._log is None),
                    log=self._log if traced else None,
                )
                generated.install(live.function, built)
            return plans.is_plan(live.function.__code__)


class HostPluginManager(pluggy.PluginManager):
    """pluggy's plugin manager, with live callers for hooks and ``sender=`` filters
    applied wherever pluggy runs the implementations itself.

    :param project_name: the project name markers are made with, as in pluggy.
    """

    def __init__(self, project_name: str) -> None:
        super().__init__(project_name)
        self.callers: Final = HookCallers(self._hookexec)
        # What pluggy runs hooks with while nothing monitors them: monitoring
        # replaces it and pluggy's undo puts back what it replaced.
        self._unmonitored_hookexec: Final = self._inner_hookexec
        # pluggy creates each hook's caller by setting it on its relay: this
        # relay adopts it before pluggy goes on using it.
        object.__setattr__(self, "hook", CallerRelay(self.callers))

    @property
    def monitored(self) -> bool:
        """Whether pluggy's hook-call monitoring (``enable_tracing`` too) is on.

        Read from pluggy's own state, not counted here: pluggy's undo may be
        called more than once, or out of order, and stays right either way.
        """
        return self._inner_hookexec is not self._unmonitored_hookexec

    def _verify_hook(self, hook: pluggy.HookCaller, hookimpl: pluggy.HookImpl) -> None:
        # Before pluggy checks it (a wrapper must be a generator function) and
        # replays a historic hook's calls to it: an async implementation stands
        # behind its synchronous stand-in from the start.
        stand_in_for(hook.name, hookimpl)
        super()._verify_hook(hook, hookimpl)

    def _hookexec(
        self,
        hook_name: str,
        methods: Sequence[pluggy.HookImpl],
        kwargs: Mapping[str, object],
        firstresult: bool,
    ) -> object | list[object]:
        # Every pluggy-run call comes through here: wrappers, historic calls and
        # their replay for late plugins, call_extra. Those the plans do not run
        # are traced here, as every other call is, while tracing is on.
        traced = self.callers.traced_hookexec
        if traced is not None and self.callers.traces(hook_name):
            result: object | list[object] = traced(hook_name, methods, kwargs, firstresult)
            return result
        # Filter senders once for all, and call on directly, as pluggy's own
        # _hookexec does, so the frames below are pluggy's and its warnings
        # point where pluggy points them.
        return self._inner_hookexec(
            hook_name, dispatch.for_sender(methods, kwargs), kwargs, firstresult
        )

    def add_hookcall_monitoring(
        self,
        before: Callable[[str, Sequence[pluggy.HookImpl], Mapping[str, Any]], None],
        after: Callable[
            [pluggy.Result[Any], str, Sequence[pluggy.HookImpl], Mapping[str, Any]], None
        ],
    ) -> Callable[[], None]:
        # Monitoring wraps pluggy's execution, which plans bypass: while any
        # monitor is on, every hook runs through pluggy.
        undo_pluggy = super().add_hookcall_monitoring(before, after)
        self.callers.monitoring_changed(self.monitored)

        def undo() -> None:
            undo_pluggy()
            self.callers.monitoring_changed(self.monitored)

        return undo
