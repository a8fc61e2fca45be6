"""A call log: the recent hook calls of a host, kept raw and described when read.

Tracing to a stream or to spans builds a :class:`~hosthooks.engine.tracing.HookTrace`
per call as it runs; a log that someone reads every few seconds need not. While
a host's only follower is a log, its call plans are *recorded plans*
(:mod:`hosthooks.engine.plans`): the plan reads the clock around each
implementation and appends one list to the log, and robust calls append their
steps likewise. Names, senders, outcomes and durations are worked out by
:meth:`CallLog.take`, for the calls a reader takes. Calls the plans do not run
(wrappers, historic hooks, async calls) reach the log as traces, through
:meth:`CallLog.emit`.

A call that reaches no implementation is logged only while :attr:`CallLog.empty_calls`
is on: otherwise a hook nobody implements stays unheard, as it is with no log.

A logged call is one list (:data:`Logged`), its times inline, because what a
log holds until it is read outlives the collector's young generations: each
object kept that long is promoted, and the promoted objects are what set off
full collections, whose cost grows with the whole heap. One object a call, not
a tuple and a list of times (and a tuple per robust step), halves that.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import Final

import pluggy

from hosthooks.engine.muting import SILENT_STAND_INS
from hosthooks.engine.tracing import HookTrace
from hosthooks.engine.tracing import ImplTrace
from hosthooks.engine.tracing import Tracer
from hosthooks.engine.tracing import describe_sender
from hosthooks.engine.tracing import error_text
from hosthooks.engine.tracing import impl_name


class _Skip:
    def __repr__(self) -> str:
        return "SKIP"


#: What a log's ``context`` returns for a call that must not be logged.
SKIP: Final = _Skip()


class _Returned:
    def __repr__(self) -> str:
        return "RETURNED"


#: Put after an implementation's end time in a plan's times: it returned a value.
RETURNED: Final = _Returned()

#: The clock of the times a log keeps.
clock: Final = time.perf_counter_ns


class PlanCalls:
    """What a recorded plan's calls share: the hook and, in call order, each
    implementation's plugin, function name and whether it is muted (a stand-in
    runs), all known when the plan is built."""

    __slots__ = ("hook", "impls")

    def __init__(self, hook: str, impls: Sequence[pluggy.HookImpl]) -> None:
        self.hook: Final = hook
        self.impls: Final = tuple(
            (impl.plugin_name, impl_name(impl), impl.function in SILENT_STAND_INS) for impl in impls
        )

    def trace(self, sender: object, times: Sequence[object], error: object) -> HookTrace:
        """The trace of one call: ``times`` are clock readings, the first before
        the first implementation and one after each that ran, each followed by
        :data:`RETURNED` when that implementation returned a value; ``error`` is
        what the last one raised, or None."""
        start = times[0]
        assert isinstance(start, int)
        record = HookTrace(self.hook, describe_sender(sender), 0.0)
        previous = start
        for reading in times[1:]:
            if reading is RETURNED:
                last = record.impls[-1]
                if last.outcome == "ok":
                    last.outcome = "result"
                continue
            assert isinstance(reading, int)
            plugin, function, muted = self.impls[len(record.impls)]
            record.impls.append(
                ImplTrace(plugin, function, (reading - previous) / 1e6, "muted" if muted else "ok")
            )
            previous = reading
        if isinstance(error, BaseException) and record.impls:
            record.impls[-1].outcome = "raised"
            record.impls[-1].error = error_text(error)
        record.duration_ms = (previous - start) / 1e6
        return record


class _Steps:
    """How a robust call's record is read (see :meth:`CallLog.begin_steps`)."""

    __slots__ = ()

    def trace(self, sender: object, times: Sequence[object], hook: object) -> HookTrace:
        """``times``: the call's start, then ``impl, started, ended, outcome`` per
        step (seconds of ``time.perf_counter``), then its end."""
        start, end = times[0], times[-1]
        assert isinstance(start, float)
        assert isinstance(end, float)
        record = HookTrace(str(hook), describe_sender(sender), (end - start) * 1000)
        for index in range(1, len(times) - 1, 4):
            impl: pluggy.HookImpl
            started: float
            ended: float
            outcome: object
            impl, started, ended, outcome = times[index : index + 4]  # type: ignore[assignment]
            error_line = None
            if isinstance(outcome, BaseException):
                text, error_line = "raised", error_text(outcome)
            else:
                text = "muted" if impl.function in SILENT_STAND_INS else str(outcome)
            record.impls.append(
                ImplTrace(
                    impl.plugin_name, impl_name(impl), (ended - started) * 1000, text, error_line
                )
            )
        return record


_STEPS: Final = _Steps()


class _Traced:
    """A call that reached the log as a trace already."""

    __slots__ = ()

    def trace(self, sender: object, times: Sequence[object], detail: object) -> HookTrace:
        assert isinstance(sender, HookTrace)
        return sender


_TRACED: Final = _Traced()
#: A logged call: how to read it, sender, context, a detail (the error a plan's
#: call raised, or None; a robust call's hook), then its times.
Logged = list[Any]
#: Where a logged call keeps its context, its detail, and where its times start.
CONTEXT, DETAIL, TIMES = 2, 3, 4


class CallLog:
    """The last ``size`` hook calls of the hosts it is added to
    (``Host.add_call_log``), raw until :meth:`take` describes them.

    :param size: how many calls are kept until taken (the oldest are dropped).
    :param context: called with the hook's name in every logged call, in its
        thread, once its implementations ran: what the reader wants to know of
        where the call was made (the request, say), kept with it; :data:`SKIP`
        leaves the call out.
    """

    def __init__(self, size: int, context: Callable[[str], object]) -> None:
        self._calls: deque[Logged] = deque(maxlen=size)
        #: What recorded plans call with each call's tuple (``deque.append``:
        #: atomic, so threads append without a lock).
        self.append: Final = self._calls.append
        self.context: Final = context
        #: Whether calls that reach no implementation are logged too.
        self.empty_calls = False
        # Wall-clock time of a clock reading: one pair, read once.
        self._wall, self._base = time.time(), clock()
        self._taking = threading.Lock()

    def wall_time(self, reading: int) -> float:
        """Seconds since the epoch of a :data:`clock` reading."""
        return self._wall + (reading - self._base) / 1e9

    def emit(self, trace: HookTrace) -> None:
        """Log a call that was traced whole (wrappers, historic, async calls)."""
        context = self.context(trace.hook)
        if context is not SKIP:
            self.append([_TRACED, trace, context, None, clock()])

    def begin_steps(self, hook: str, sender: object, started: float) -> Logged:
        """The record of a robust call of ``hook`` that started at ``started``
        (``time.perf_counter`` seconds): the caller adds ``impl, started, ended,
        outcome`` per step (the outcome a text or the exception raised), then
        the call's end, and hands it to :meth:`end_steps`."""
        return [_STEPS, sender, None, hook, started]

    def end_steps(self, record: Logged) -> None:
        """Log a robust call's record (see :meth:`begin_steps`)."""
        context = self.context(record[DETAIL])
        if context is not SKIP:
            record[CONTEXT] = context
            self.append(record)

    def take(self) -> list[tuple[float, HookTrace, object]]:
        """The calls logged since the last take, oldest first: when each ended
        (seconds since the epoch), its trace, and its context."""
        with self._taking:
            taken = []
            while self._calls:
                taken.append(self._calls.popleft())
        described = []
        for logged in taken:
            reader, sender, context, detail = logged[:TIMES]
            times = logged[TIMES:]
            trace = reader.trace(sender, times, detail)
            last = times[-1] if times[-1] is not RETURNED else times[-2]
            if isinstance(last, float):  # a robust call's perf_counter seconds
                last = round(last * 1e9)
            assert isinstance(last, int)
            described.append((self.wall_time(last), trace, context))
        return described


class LogTracer(Tracer):
    """The tracer of a host whose only follower is a log: calls the plans do not
    run are traced and logged whole, robust calls log their steps."""

    def __init__(self, log: CallLog) -> None:
        self.step_log = log
        self.log: Final = log

    def emit(self, trace: HookTrace) -> None:
        self.log.emit(trace)
