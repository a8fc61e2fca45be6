"""The recent hook calls the console shows, recorded only while someone looks.

The first look (a console page or its JSON) attaches a listener to the host,
each later one keeps it, and it detaches itself when no one has looked for
:data:`LINGER_SECONDS`. Until then hook calls are not traced at all, so the
console costs nothing while it is closed.

Each call is kept with the request it was made in (method, path, status; the
app notes each request's environ, see :data:`hosthooks.runtime.web.CURRENT_ENVIRON`)
or, outside a request, the transaction open on the default database, so the
console can show a request as a waterfall of its hook calls.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any
from typing import Final

from hosthooks.engine.call_log import SKIP
from hosthooks.engine.call_log import CallLog
from hosthooks.engine.tracing import HookTrace
from hosthooks.host import Host
from hosthooks.runtime.db import DatabaseError
from hosthooks.runtime.db import get_database
from hosthooks.runtime.web import CURRENT_ENVIRON
from hosthooks.runtime.web import INSPECTING_KEY
from hosthooks.runtime.web import STATUS_KEY

#: How long recording goes on after the last look.
LINGER_SECONDS: Final = 30.0
#: How many recent calls are kept.
RECENT_CALLS: Final = 500
#: How many calls are kept between two reads (the newest; a read comes with
#: each look, every 2 s while a page is open): about what the calls page shows,
#: 50 requests of a few calls each. Not more, because what waits to be read
#: outlives the collector's young generations, and on a busy server each call
#: kept past them brings the next full collection (of the whole heap) nearer.
PENDING_CALLS: Final = 256
#: How many calls (that reached an implementation) are kept for the percentiles.
RECENT_TIMINGS: Final = 10_000
#: The window of the overview's call counts and percentiles.
WINDOW_SECONDS: Final = 300.0
_REQUEST_KEY: Final = "hosthooks.console.request"
#: A recorded call: sequence number, time, trace, request number, transaction.
_Record = tuple[int, float, HookTrace, int | None, int | None]


#: What a request's first recorded call leaves in its environ, and every call
#: of it is logged with: ``[the environ, None]``, until request_finished is
#: called and puts ``(method, path, status)`` in the environ's place; the
#: second item is the request's :class:`RequestSeen` once the calls are read.
#: A list, not an object of a class: it is made in the call, while the
#: request waits.
_Note = list[Any]


class RequestSeen:
    """A request some recorded call was made in."""

    def __init__(self, number: int, note: _Note, started: float) -> None:
        self.number = number
        self.note = note
        self.started = started
        self.ended: float | None = None
        #: The numbers of its calls kept, oldest first (forgotten from the left).
        self.calls: deque[int] = deque()

    def where(self) -> tuple[str, str, int | None]:
        """Its method, path and status (None until known)."""
        known = self.note[0]
        if isinstance(known, tuple):
            method, path, status = known
            return str(method), str(path), status
        return (
            str(known.get("REQUEST_METHOD", "?")),
            str(known.get("PATH_INFO", "")),
            known.get(STATUS_KEY),
        )

    def as_json(self) -> dict[str, Any]:
        method, path, status = self.where()
        end = self.ended
        return {
            "number": self.number,
            "method": method,
            "path": path,
            "status": status,
            "at": _iso(self.started),
            "duration_ms": None if end is None else round((end - self.started) * 1000, 3),
        }


def _iso(seconds: float) -> str:
    import datetime

    moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return moment.isoformat(timespec="milliseconds")


class RecentCalls:
    """The most recent hook calls of a host, recorded while someone looks.

    Calls are logged raw (:class:`hosthooks.engine.call_log.CallLog`) and read
    when a page asks: the newest ``pending`` calls made since the last read,
    and of those read, the newest ``size``.

    :param size: how many calls are kept.
    :param linger: seconds recording goes on after the last :meth:`touch`.
    :param pending: how many calls are kept between two reads (the newest).
    """

    def __init__(
        self,
        size: int = RECENT_CALLS,
        linger: float = LINGER_SECONDS,
        pending: int = PENDING_CALLS,
    ) -> None:
        self._log = CallLog(pending, self._context)
        self._calls: deque[_Record] = deque(maxlen=size)
        self._requests: dict[int, RequestSeen] = {}
        self._timings: deque[tuple[float, HookTrace]] = deque(maxlen=RECENT_TIMINGS)
        self._linger = linger
        self._lock = threading.Lock()
        self._sequence = 0
        self._request_numbers = itertools.count(1)
        self._host: Host | None = None
        self._detach: Callable[[], None] | None = None
        self._timer: threading.Timer | None = None
        #: When recording last started (seconds since the epoch), or None.
        self.since: float | None = None

    @property
    def recording(self) -> bool:
        return self._detach is not None

    @property
    def last(self) -> int:
        """The number of the last call recorded (0 before the first)."""
        with self._lock:
            self._read_log()
            return self._sequence

    def touch(self, host: Host, empty: bool = False) -> None:
        """Record ``host``'s calls from now until ``linger`` seconds pass without a
        touch; with ``empty``, the calls that reach no implementation too (from
        now until recording stops: otherwise a hook nobody implements is not
        even called)."""
        with self._lock:
            wants_more = empty and not self._log.empty_calls
            if (self._host is not host or wants_more) and self._detach is not None:
                self._detach()
                self._detach = None
            if self._detach is None:
                self._host = host
                self._log.empty_calls = self._log.empty_calls or empty
                self._detach = host.add_call_log(self._log)
                if self.since is None:
                    self.since = time.time()
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self._linger, self.stop)
            # The process may end while no one looks: the timer must not keep it alive.
            self._timer.daemon = True
            self._timer.start()

    def stop(self) -> None:
        """Stop recording (the calls recorded so far are kept)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._detach is not None:
                self._detach()
                self._detach = None
                self.since = None
                self._read_log()
                self._log.empty_calls = False

    def after(self, sequence: int) -> list[dict[str, Any]]:
        """The calls recorded after number ``sequence``, oldest first, as JSON."""
        with self._lock:
            self._read_log()
            kept = [record for record in self._calls if record[0] > sequence]
        return [_as_json(record) for record in kept]

    def requests(self) -> dict[int, dict[str, Any]]:
        """The requests of the calls kept, by number, as JSON."""
        with self._lock:
            self._read_log()
            return {number: seen.as_json() for number, seen in self._requests.items()}

    def timings(self, since: float) -> dict[str, list[float]]:
        """Each plugin's implementation durations (ms) recorded since ``since``, in order."""
        found: dict[str, list[float]] = {}
        with self._lock:
            self._read_log()
            records = [record for record in self._timings if record[0] >= since]
        for _, trace in records:
            for impl in trace.impls:
                if impl.outcome != "muted":
                    found.setdefault(impl.plugin, []).append(impl.duration_ms)
        return found

    def _context(self, hook: str) -> object:
        # Runs in every hook call while recording, so it notes only where the
        # call was made: the request (its note, made by its first call) or,
        # outside one, the transaction. The rest waits for a reader.
        environ = CURRENT_ENVIRON.get()
        if environ is None:
            return _transaction()
        note = environ.get(_REQUEST_KEY)
        if note is None:
            if environ.get(INSPECTING_KEY):
                return SKIP
            note = environ[_REQUEST_KEY] = [environ, None]
        if hook == "request_finished":
            # The response's status is known by now; the environ (and the
            # request it holds) must not outlive the request in the log.
            # Made text when read (RequestSeen.where).
            note[0] = (
                environ.get("REQUEST_METHOD", "?"),
                environ.get("PATH_INFO", ""),
                environ.get(STATUS_KEY),
            )
        return note

    def _read_log(self) -> None:
        """Take the calls logged since the last read into the recent calls (with
        the lock held)."""
        for ended, trace, context in self._log.take():
            self._sequence += 1
            sequence = self._sequence
            number, transaction = None, None
            if isinstance(context, list):
                seen = context[1]
                if seen is None or seen.number not in self._requests:
                    started = ended - trace.duration_ms / 1000
                    seen = context[1] = RequestSeen(next(self._request_numbers), context, started)
                    self._requests[seen.number] = seen
                number = seen.number
                seen.calls.append(sequence)
                if trace.hook == "request_finished":
                    seen.ended = ended
            elif isinstance(context, int):
                transaction = context
            if len(self._calls) == self._calls.maxlen:
                self._forget(self._calls[0])
            self._calls.append((sequence, ended, trace, number, transaction))
            if trace.impls:
                self._timings.append((ended, trace))

    def _forget(self, oldest: _Record) -> None:
        number = oldest[3]
        if number is None:
            return
        seen = self._requests.get(number)
        if seen is not None and seen.calls and seen.calls[0] == oldest[0]:
            seen.calls.popleft()
            if not seen.calls:
                del self._requests[number]


def _as_json(record: _Record) -> dict[str, Any]:
    sequence, at, trace, request, transaction = record
    return {
        "seq": sequence,
        "at": _iso(at),
        "started": at - trace.duration_ms / 1000,
        "hook": trace.hook,
        "sender": trace.sender,
        "duration_ms": round(trace.duration_ms, 3),
        "request": request,
        "transaction": transaction,
        "impls": [
            {
                "plugin": impl.plugin,
                "function": impl.function,
                "duration_ms": round(impl.duration_ms, 3),
                "outcome": impl.outcome,
                "error": impl.error,
            }
            for impl in trace.impls
        ],
    }


def _transaction() -> int | None:
    """A number for the transaction open on this thread's default database, or None."""
    try:
        database = get_database()
    except DatabaseError:
        return None
    return database.transaction_key()
