"""Hook tracing: one record per hook call, with each implementation's duration and outcome.

Tracing is chosen when a host's call plans are built, so when it is off the
plans contain no tracing code at all: it costs nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any
from typing import Final
from typing import TextIO

import pluggy

from hosthooks.engine.async_bridge import async_original
from hosthooks.engine.dispatch import HookExec
from hosthooks.engine.dispatch import for_sender
from hosthooks.engine.dispatch import is_wrapper
from hosthooks.engine.muting import MUTED_ORIGINALS
from hosthooks.engine.muting import SILENT_STAND_INS

if TYPE_CHECKING:
    # The callers module imports this one (async calls trace through it), and
    # the call log builds on it.
    from hosthooks.engine.call_log import CallLog
    from hosthooks.engine.callers import HostPluginManager


@dataclass
class ImplTrace:
    """One implementation's part in a traced hook call."""

    plugin: str
    function: str
    duration_ms: float
    #: ``"ok"``, ``"result"`` (returned a value), ``"raised"``, ``"muted"`` (its
    #: plugin is muted: a stand-in ran), or ``"wrapped"`` for a call pluggy ran
    #: whole (wrappers), timed as a whole.
    outcome: str
    error: str | None = None


@dataclass
class HookTrace:
    """One traced hook call."""

    hook: str
    sender: str
    duration_ms: float
    impls: list[ImplTrace] = field(default_factory=list)

    def as_line(self) -> str:
        parts = []
        for impl in self.impls:
            text = f"{impl.plugin}:{impl.function} {impl.duration_ms:.3f}ms {impl.outcome}"
            if impl.error:
                text += f" ({impl.error})"
            parts.append(text)
        calls = "; ".join(parts) if parts else "no implementations"
        return (
            f"hosthooks trace: {self.hook} sender={self.sender} {self.duration_ms:.3f}ms: {calls}"
        )


def function_name(function: Callable[..., object]) -> str:
    """``module.qualname`` of an implementation, as the CLI and traces show it."""
    module = getattr(function, "__module__", None) or "?"
    qualname = getattr(function, "__qualname__", None) or repr(function)
    return f"{module}.{qualname}"


def describe_sender(sender: object) -> str:
    """A sender as every listing shows it: a model's label (``"demo.Note"``), a
    class's qualified name, a string as it is (a module's name), None as
    ``"None"``, any other object as its class's qualified name. A tuple of
    them (a ``sender=`` filter) is shown as its items joined by commas."""
    if isinstance(sender, tuple):
        return ", ".join(describe_sender(item) for item in sender)
    if isinstance(sender, str):
        return sender
    if isinstance(sender, type):
        known = _CLASS_NAMES.get(sender)
        if known is not None:
            return known
        label = getattr(sender, "hosthooks_label", None)
        if not isinstance(label, str):
            # Duck-typed: tracing must not import Django to recognise its models.
            label = getattr(getattr(sender, "_meta", None), "label", None)
        name = label if isinstance(label, str) else sender.__qualname__
        # Traced calls name the same few classes over and over: remembered,
        # but never without bound (classes made on the fly).
        if len(_CLASS_NAMES) >= _NAMES_KEPT:
            _CLASS_NAMES.clear()
        _CLASS_NAMES[sender] = name
        return name
    return type(sender).__qualname__ if sender is not None else "None"


_NAMES_KEPT: Final = 1024
_CLASS_NAMES: Final[dict[type, str]] = {}
_FUNCTION_NAMES: Final[dict[Callable[..., object], str]] = {}


#: The key under which a tracer keeps what it follows of a call, on the call's
#: record between :meth:`Tracer.begin` and :meth:`Tracer.emit`: an attribute, not
#: a field, so that traces written as JSON leave it out.
LIVE: Final = "_live"


class LiveCall:
    """What a tracer follows while a call runs (:mod:`hosthooks.engine.otel`'s span)."""

    def impl_started(self, plugin: str) -> None:
        """The plain implementation of ``plugin`` starts now (calls that run
        implementations one at a time say so; the others only when each finished)."""

    def impl_finished(self, impl: ImplTrace, error: BaseException | None) -> None:
        """``impl`` has just finished: ``impl.duration_ms`` ago it started."""


def impl_starting(record: HookTrace | None, plugin: str) -> None:
    """Tell the tracer following ``record``'s call, if any, that ``plugin``'s
    implementation starts now."""
    if record is not None:
        live: LiveCall | None = record.__dict__.get(LIVE)
        if live is not None:
            live.impl_started(plugin)


def _impl_finished(record: HookTrace, impl: ImplTrace, error: BaseException | None) -> None:
    live: LiveCall | None = record.__dict__.get(LIVE)
    if live is not None:
        live.impl_finished(impl, error)


class Tracer:
    """Writes hook traces: readable lines to a stream, or JSON lines to a file.

    Writes are serialised with a lock so lines from threads never interleave.
    An error writing a trace propagates: a trace that silently stops is worse.

    :meth:`begin` is told of each traced call as it starts, :meth:`emit` once it
    has ended; a tracer that follows calls while they run (spans) keeps a
    :class:`LiveCall` on the record under :data:`LIVE` in between.
    """

    #: Where robust calls put their steps raw instead of tracing them (a call
    #: log's tracer: :mod:`hosthooks.engine.call_log`); None for the others.
    step_log: CallLog | None = None

    def begin(self, record: HookTrace) -> None:
        """A traced call of ``record.hook`` starts (its implementations not yet run)."""

    def follows(self, hook: str) -> bool:
        """Whether calls of ``hook`` are traced at all. Asked when a hook's call
        plan is built, never per call: a hook no tracer follows keeps its
        untraced plan while others are traced."""
        return True

    def keeps(self, record: HookTrace) -> bool:
        """Whether anyone wants the trace of the call :meth:`begin` was just told
        of. When not (spans sampled the call out), the call runs untraced and
        :meth:`emit` is not told of it."""
        return True

    def __init__(self, stream: TextIO, as_json: bool) -> None:
        self._stream = stream
        self._as_json = as_json
        self._lock = threading.Lock()

    def emit(self, trace: HookTrace) -> None:
        import json  # here: only a JSON trace file needs it (already imported by then)

        text = json.dumps(asdict(trace)) if self._as_json else trace.as_line()
        with self._lock:
            self._stream.write(text + "\n")
            self._stream.flush()


class BroadcastTracer(Tracer):
    """Hands each trace to the configured tracer, if any, and to every listener."""

    def __init__(
        self, tracer: Tracer | None, listeners: tuple[Callable[[HookTrace], None], ...]
    ) -> None:
        self._tracer = tracer
        self._listeners = listeners

    @property
    def tracer(self) -> Tracer | None:
        """The tracer each trace goes to before the listeners, if any."""
        return self._tracer

    def begin(self, record: HookTrace) -> None:
        if self._tracer is not None:
            self._tracer.begin(record)

    def follows(self, hook: str) -> bool:
        # A listener (the inspector's recent calls) wants every call.
        return bool(self._listeners) or (self._tracer is not None and self._tracer.follows(hook))

    def keeps(self, record: HookTrace) -> bool:
        return bool(self._listeners) or (self._tracer is not None and self._tracer.keeps(record))

    def emit(self, trace: HookTrace) -> None:
        if self._tracer is not None:
            self._tracer.emit(trace)
        for listener in self._listeners:
            listener(trace)


def error_text(error: BaseException) -> str:
    message = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def add_impl_trace(
    record: HookTrace,
    impl: pluggy.HookImpl,
    started: float,
    outcome: str,
    error: BaseException | None = None,
) -> None:
    """Add ``impl``'s part to ``record``: from ``started`` (a ``time.perf_counter()``
    reading) until now, with its outcome and, when it failed, its error."""
    elapsed = (time.perf_counter() - started) * 1000
    trace = ImplTrace(
        impl.plugin_name,
        impl_name(impl),
        elapsed,
        "muted" if impl.function in SILENT_STAND_INS else outcome,
        None if error is None else error_text(error),
    )
    record.impls.append(trace)
    _impl_finished(record, trace, error)


def impl_name(impl: pluggy.HookImpl) -> str:
    """The function of ``impl`` as traces name it: as written, not as the stand-in
    running it (an async implementation's, a muted one's)."""
    function = impl.function
    known = _FUNCTION_NAMES.get(function)
    if known is not None:
        return known
    if function in SILENT_STAND_INS:
        original = MUTED_ORIGINALS.get(impl)
        # A stand-in is shared by every muted implementation: never remembered.
        return function_name(async_original(original) or original) if original else "?"
    name = function_name(async_original(function) or function)
    if len(_FUNCTION_NAMES) >= _NAMES_KEPT:
        _FUNCTION_NAMES.clear()
    _FUNCTION_NAMES[function] = name
    return name


class StepTrace:
    """The trace of a call that runs its implementations one at a time and goes
    on past failures (``fire_robust`` and its async twin); nothing when
    ``tracer`` is None.

    :param tracer: where the record goes on :meth:`emit`; None while tracing is off.
    :param hook: the hook's name.
    :param sender: the call's sender.
    """

    def __init__(self, tracer: Tracer | None, hook: str, sender: object) -> None:
        self._started = time.perf_counter()
        self._log = None if tracer is None else tracer.step_log
        if self._log is not None:
            # Logged raw: the log describes the steps when they are read.
            self._tracer: Tracer | None = None
            self._record = None
            self._steps = self._log.begin_steps(hook, sender, self._started)
            return
        self._tracer = tracer
        self._record = None if tracer is None else HookTrace(hook, describe_sender(sender), 0.0)
        if tracer is not None and self._record is not None:
            tracer.begin(self._record)
            if not tracer.keeps(self._record):
                self._tracer = self._record = None

    def step(
        self, impl: pluggy.HookImpl, started: float, outcome: object, *, wrapper: bool = False
    ) -> None:
        """``impl`` ran from ``started`` until now: ``outcome`` is what it returned,
        or the exception it failed with; a wrapper's part is its teardown."""
        if self._log is not None:
            if not isinstance(outcome, BaseException):
                outcome = "wrapped" if wrapper else "ok" if outcome is None else "result"
            self._steps += (impl, started, time.perf_counter(), outcome)
            return
        if self._record is None:
            return
        if isinstance(outcome, BaseException):
            add_impl_trace(self._record, impl, started, "raised", outcome)
        elif wrapper:
            add_impl_trace(self._record, impl, started, "wrapped")
        else:
            add_impl_trace(self._record, impl, started, "ok" if outcome is None else "result")

    def emit(self) -> None:
        """Hand the record, timed until now, to the tracer (or the steps to the log)."""
        if self._log is not None:
            self._steps.append(time.perf_counter())
            self._log.end_steps(self._steps)
        elif self._tracer is not None and self._record is not None:
            self._record.duration_ms = (time.perf_counter() - self._started) * 1000
            self._tracer.emit(self._record)


def traced_hookexec(plugin_manager: HostPluginManager, tracer: Tracer) -> HookExec:
    """A ``_hookexec`` that runs a hook as pluggy would, timing each implementation.

    Calls with wrappers, or while pluggy's hook-call monitoring is on, run
    through pluggy whole: their record times the whole call and lists the
    implementations as ``wrapped``.
    """
    clock = time.perf_counter

    def traced(
        hook_name: str,
        methods: Sequence[pluggy.HookImpl],
        kwargs: Mapping[str, object],
        firstresult: bool,
    ) -> Any:
        methods = for_sender(methods, kwargs)
        record = HookTrace(hook_name, describe_sender(kwargs.get("sender")), 0.0)
        in_call_order = methods[::-1]
        tracer.begin(record)
        if not tracer.keeps(record):
            return plugin_manager._inner_hookexec(hook_name, methods, kwargs, firstresult)
        started = clock()
        try:
            if plugin_manager.monitored or any(is_wrapper(impl) for impl in methods):
                # Called from here, pluggy runs at the depth its warnings expect.
                return _run_wrapped(hook_name, methods, kwargs, firstresult, record)
            return _run_plain(in_call_order, kwargs, firstresult, record)
        finally:
            record.duration_ms = (clock() - started) * 1000
            tracer.emit(record)

    def _run_wrapped(
        hook_name: str,
        methods: Sequence[pluggy.HookImpl],
        kwargs: Mapping[str, object],
        firstresult: bool,
        record: HookTrace,
    ) -> Any:
        started = clock()
        outcome, error_line = "wrapped", None
        try:
            return plugin_manager._inner_hookexec(hook_name, methods, kwargs, firstresult)
        except Exception as error:
            outcome, error_line = "raised", error_text(error)
            raise
        finally:
            elapsed = (clock() - started) * 1000
            for impl in methods[::-1]:
                trace = ImplTrace(
                    impl.plugin_name, function_name(impl.function), elapsed, outcome, error_line
                )
                record.impls.append(trace)
                _impl_finished(record, trace, None)

    def _run_plain(
        impls: Sequence[pluggy.HookImpl],
        kwargs: Mapping[str, object],
        firstresult: bool,
        record: HookTrace,
    ) -> Any:
        results: list[Any] = []
        for impl in impls:
            try:
                args = [kwargs[name] for name in impl.argnames]
            except KeyError as missing:
                raise pluggy.HookCallError(
                    f"hook call must provide argument {missing.args[0]!r}"
                ) from missing
            keywords = {name: kwargs[name] for name in impl.kwargnames if name in kwargs}
            impl_starting(record, impl.plugin_name)
            started = clock()
            try:
                result = impl.function(*args, **keywords)
            except Exception as error:
                elapsed = (clock() - started) * 1000
                trace = ImplTrace(
                    impl.plugin_name,
                    function_name(impl.function),
                    elapsed,
                    "raised",
                    error_text(error),
                )
                record.impls.append(trace)
                _impl_finished(record, trace, error)
                raise
            elapsed = (clock() - started) * 1000
            outcome = "ok" if result is None else "result"
            if impl.function in SILENT_STAND_INS:
                outcome = "muted"
            trace = ImplTrace(impl.plugin_name, impl_name(impl), elapsed, outcome)
            record.impls.append(trace)
            _impl_finished(record, trace, None)
            if result is not None:
                if firstresult:
                    return result
                results.append(result)
        return None if firstresult else results

    return traced
