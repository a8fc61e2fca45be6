"""The outbox: deferred calls as rows of the database their write went to, and
their delivery records.

A call is written by the hook call, in the transaction of the write that
caused it, on the same connection (:meth:`Outbox.add`): if the transaction
rolls back the row never existed, if it commits the call exists, whatever
happens to the broker or the process next. From then on the row is the call's
delivery record, moved through its states by the relay and the workers:

``pending``
    written, waiting for the relay to hand it to the broker.
``sent``
    on the broker; taken by the first worker that gets it.
``running``
    a worker is running it; the worker renews its lease while it runs.
``done``
    ran; purged once older than ``deliveries_keep``.
``failed``
    raised; tried again at ``next_attempt_at`` (backoff with jitter).
``held``
    the worker that got it does not have the plugin or model; offered again
    until ``deliveries_held_grace`` has passed, then ``dead``.
``dead``
    gave up: its retries are exhausted, or it was held too long. Stays until
    an operator retries it (``hosthooks deliveries retry``).

``next_attempt_at`` is when the relay looks at a row next: when to send it
(pending, failed, held), or when to send it again because nobody took it or
its worker vanished (sent, running). It is NULL once the call is done or dead.

Every statement is plain SQL through a data layer
(:mod:`hosthooks.transactions`): the runtime's databases or Django's, SQLite
or PostgreSQL.
"""

from __future__ import annotations

import datetime
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import Final

from hosthooks.deferred.schema import TABLE
from hosthooks.transactions import DataLayer

#: Every state a delivery record can be in.
STATES: Final = ("pending", "sent", "running", "done", "failed", "held", "dead")
#: States an operator may send back to the queue.
RETRYABLE: Final = ("dead", "failed", "held")

#: Seconds a running call's lease lasts; its worker renews it every third of that.
RUNNING_LEASE: Final = 30.0
#: Seconds before a sent call nobody took is sent again (then 5 minutes, then 30).
SENT_LEASES: Final = (60.0, 300.0, 1800.0)

_COLUMNS: Final = (
    "event_id, hook, plugin, queue, state, attempts, retries, next_attempt_at, "
    "last_error, created_at, updated_at"
)
#: A deferred call's INSERT: the caller's whole cost, so made once.
_INSERT: Final = (
    f'INSERT INTO "{TABLE}" (event_id, hook, plugin, queue, state, attempts, retries, '
    "relayed, next_attempt_at, held_since, last_error, created_at, updated_at, "
    "message, traceparent) "
    "VALUES (?, ?, ?, ?, 'pending', 0, ?, 0, ?, NULL, NULL, ?, ?, ?, ?)"
)
_URL_PASSWORD: Final = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")
#: A call's message as JSON, with one encoder made once (json.dumps with any
#: option makes a new encoder each time).
_compact_json: Final = json.JSONEncoder(separators=(",", ":")).encode


class OutboxMissing(Exception):
    """The outbox table is not in a database deferred calls need it in."""


@dataclass(frozen=True)
class Delivery:
    """One deferred call's delivery record, as operators see it.

    Times are seconds since the epoch (``time.time()``), or None.
    """

    event_id: str
    hook: str
    plugin: str
    queue: str
    state: str
    attempts: int
    retries: int
    next_attempt_at: float | None
    last_error: str | None
    created_at: float
    updated_at: float

    def as_json(self) -> dict[str, Any]:
        """The record as JSON (times as ISO 8601 in UTC, or null)."""
        return {
            "event_id": self.event_id,
            "hook": self.hook,
            "plugin": self.plugin,
            "queue": self.queue,
            "state": self.state,
            "attempts": self.attempts,
            "retries": self.retries,
            "next_attempt_at": iso_time(self.next_attempt_at),
            "last_error": self.last_error,
            "created_at": iso_time(self.created_at),
            "updated_at": iso_time(self.updated_at),
        }


def iso_time(moment: float | None) -> str | None:
    """``moment`` (epoch seconds) in ISO 8601, UTC, to the millisecond; None stays None."""
    if moment is None:
        return None
    stamp = datetime.datetime.fromtimestamp(moment, datetime.timezone.utc)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def one_line(error: BaseException) -> str:
    """What a delivery record keeps of ``error``: one line, passwords in URLs masked."""
    text = " ".join(f"{type(error).__name__}: {error}".split())
    return _URL_PASSWORD.sub(r"\1***@", text)[:500]


@dataclass(frozen=True)
class Started:
    """A call a worker has taken: what it runs, and which attempt this is."""

    event_id: str
    hook: str
    plugin: str
    queue: str
    created_at: float
    message: dict[str, Any]
    attempts: int
    retries: int
    held_since: float | None
    #: The W3C trace context of the call that deferred it, when that call was traced.
    traceparent: str | None = None


class Outbox:
    """The outbox table of one database (``using``) of one data layer.

    :param layer: the runtime's databases or Django's.
    :param using: the database alias; None for the default one.
    """

    def __init__(self, layer: DataLayer, using: str | None) -> None:
        self.layer = layer
        self.using = using
        # On SQLite, by database (the alias may be given another): the greatest id
        # at or below which every call has been handed out, where the relay's next
        # look for calls just written starts.
        self._fresh_after: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"<Outbox of {self.layer.name} database {self.using or 'default'!r}>"

    def _run(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self.layer.execute(self.using, sql, params)

    def describe(self) -> str:
        where = self.layer.describe(self.using)
        return f"{self.layer.name} database {self.using or 'default'!r} ({where})"

    def exists(self) -> bool:
        """Whether the database has the outbox table (``hosthooks migrate`` creates it)."""
        try:
            self._run(f'SELECT 1 FROM "{TABLE}" WHERE 1 = 0')
        except Exception:
            return False
        return True

    def require(self) -> None:
        """:raises OutboxMissing: naming the database and what creates the table."""
        if not self.exists():
            raise OutboxMissing(
                f"the outbox table {TABLE!r} is missing from the {self.describe()}: "
                "run hosthooks migrate (under Django, manage.py migrate hosthooks)"
            )

    # -- the caller's side ---------------------------------------------------------

    def add(
        self,
        event_id: str,
        hook: str,
        plugin: str,
        queue: str,
        retries: int,
        message: dict[str, Any],
        traceparent: str | None = None,
        now: float | None = None,
    ) -> None:
        """Write one call, ``pending`` and due at once, in the transaction open on
        this database in this thread (or on its own outside one).

        :raises Exception: the layer's database error (the table missing, say):
            the write it belongs to then fails too, and nothing is half-written.
        """
        moment = time.time() if now is None else now
        self.layer.execute(
            self.using,
            _INSERT,
            (
                event_id,
                hook,
                plugin,
                queue,
                retries,
                moment,
                moment,
                moment,
                _compact_json(message),
                traceparent,
            ),
        )

    # -- the relay's side ----------------------------------------------------------

    def take_due(self, limit: int, now: float | None = None) -> list[tuple[str, str]]:
        """Mark up to ``limit`` due calls ``sent`` and return them (event id, queue),
        for the relay to hand to the broker: calls handed out before that are due
        again (sent or running past their lease, failed, held, given back,
        retried), soonest due first, at most half of ``limit``; then calls just
        written, oldest first.

        Marked before they are handed over, so that the worker that gets one finds
        it ``sent``. On PostgreSQL, rows another relay is taking are skipped
        (``FOR UPDATE SKIP LOCKED``): relays on several machines share one outbox.
        """
        moment = time.time() if now is None else now
        postgresql = self.layer.vendor(self.using) == "postgresql"
        again = self._take(
            '"relayed" > 0 AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?',
            (moment, max(1, limit // 2)),
            moment,
            postgresql,
        )
        if postgresql:
            fresh = self._take(
                '"relayed" = 0 AND next_attempt_at <= ? ORDER BY id LIMIT ?',
                (moment, limit - len(again)),
                moment,
                postgresql,
            )
        else:
            database = self.layer.describe(self.using)
            after = self._fresh_after.get(database, 0)
            # Ids went back below the mark (the table rebuilt or emptied, the file
            # replaced, the newest rows purged): calls written since may have ids
            # at or below it, so the look starts from the first id again. MAX(id)
            # is one step down the table's b-tree.
            start = f'CASE WHEN COALESCE((SELECT MAX(id) FROM "{TABLE}"), 0) < ? THEN 0 ELSE ? END'
            fresh = self._take(
                f'"relayed" = 0 AND id > {start} AND next_attempt_at <= ? ORDER BY id LIMIT ?',
                (after, after, moment, limit - len(again)),
                moment,
                postgresql,
            )
            # Every call at or below the new mark has been handed out, for good
            # (relayed only grows), and every call written from now on gets a
            # greater id: the next look starts after it. One statement, so that
            # a call committed meanwhile is either seen as fresh or above MAX(id).
            ((mark,),) = self._run(
                f'SELECT COALESCE((SELECT MIN(id) FROM "{TABLE}" WHERE id > {start}'
                f' AND "relayed" = 0) - 1, (SELECT MAX(id) FROM "{TABLE}"), 0)',
                (after, after),
            )
            self._fresh_after[database] = int(mark)
        return again + fresh

    def _take(
        self, where: str, params: tuple[Any, ...], moment: float, postgresql: bool
    ) -> list[tuple[str, str]]:
        lock = " FOR UPDATE SKIP LOCKED" if postgresql else ""
        rows = self._run(
            f"UPDATE \"{TABLE}\" SET state = 'sent', relayed = relayed + 1, updated_at = ?, "
            "next_attempt_at = ? + CASE WHEN relayed < 2 THEN ? WHEN relayed < 4 THEN ? ELSE ? END "
            f'WHERE id IN (SELECT id FROM "{TABLE}" WHERE {where}{lock}) RETURNING event_id, queue',
            (moment, moment, *SENT_LEASES, *params),
        )
        return [(str(row[0]), str(row[1])) for row in rows]

    def give_back(self, event_ids: Sequence[str], retry_at: float) -> None:
        """Calls :meth:`take_due` took that the broker did not accept: ``pending``
        again, due at ``retry_at``."""
        if not event_ids:
            return
        marks = ", ".join("?" for _ in event_ids)
        self._run(
            f"UPDATE \"{TABLE}\" SET state = 'pending', next_attempt_at = ?, updated_at = ? "
            f"WHERE state = 'sent' AND event_id IN ({marks})",
            (retry_at, time.time(), *event_ids),
        )

    def postpone(self, event_id: str, until: float) -> None:
        """A call taken to run whose plugin is muted here: ``pending`` again, due at
        ``until``, the attempt it was taken for not counted."""
        moment = time.time()
        self._run(
            f"UPDATE \"{TABLE}\" SET state = 'pending', attempts = attempts - 1, "
            "next_attempt_at = ?, updated_at = ? WHERE state = 'running' AND event_id = ?",
            (until, moment, event_id),
        )

    def purge_done(self, older_than: float, now: float | None = None) -> int:
        """Delete done calls last updated more than ``older_than`` seconds ago; how many."""
        moment = time.time() if now is None else now
        # Ids can go back below the relay's mark in ways the mark's check
        # cannot see (newest rows purged, then the sequence reset and as many
        # calls written before the relay's next look): a purge round, once a
        # minute in the relay, makes its next look start from the first id.
        self._fresh_after.clear()
        rows = self._run(
            f"DELETE FROM \"{TABLE}\" WHERE state = 'done' AND updated_at < ? RETURNING id",
            (moment - older_than,),
        )
        return len(rows)

    # -- the worker's side ---------------------------------------------------------

    def start(
        self,
        event_ids: Sequence[str],
        from_states: Sequence[str] = ("sent",),
        now: float | None = None,
    ) -> list[Started]:
        """Take calls to run them, in one statement: ``running``, one more attempt,
        leased for :data:`RUNNING_LEASE` seconds. A call not in one of
        ``from_states`` is left out (another worker has it, or it is done: a
        message delivered twice runs its calls once).
        """
        if not event_ids:
            return []
        moment = time.time() if now is None else now
        states = ", ".join("?" for _ in from_states)
        marks = ", ".join("?" for _ in event_ids)
        rows = self._run(
            f"UPDATE \"{TABLE}\" SET state = 'running', attempts = attempts + 1, "
            # A call the eager queue takes as written is handed out from now on
            # (its first run), so that it enters the index of due calls.
            "relayed = CASE WHEN relayed = 0 THEN 1 ELSE relayed END, "
            "next_attempt_at = ?, updated_at = ? "
            f"WHERE event_id IN ({marks}) AND state IN ({states}) RETURNING event_id, hook, "
            "plugin, queue, created_at, message, attempts, retries, held_since, traceparent",
            (moment + RUNNING_LEASE, moment, *event_ids, *from_states),
        )
        started = [
            Started(
                str(event_id),
                str(hook),
                str(plugin),
                str(queue),
                float(created_at),
                json.loads(message),
                int(attempts),
                int(retries),
                None if held_since is None else float(held_since),
                None if traceparent is None else str(traceparent),
            )
            for (
                event_id,
                hook,
                plugin,
                queue,
                created_at,
                message,
                attempts,
                retries,
                held_since,
                traceparent,
            ) in rows
        ]
        order = {event_id: index for index, event_id in enumerate(event_ids)}
        return sorted(started, key=lambda call: order[call.event_id])

    def finish_done(self, event_ids: Sequence[str], now: float | None = None) -> None:
        """Record that these calls ran (one statement for all)."""
        if not event_ids:
            return
        moment = time.time() if now is None else now
        marks = ", ".join("?" for _ in event_ids)
        self._run(
            f"UPDATE \"{TABLE}\" SET state = 'done', next_attempt_at = NULL, last_error = NULL, "
            f"held_since = NULL, updated_at = ? WHERE event_id IN ({marks})",
            (moment, *event_ids),
        )

    def renew(self, event_ids: Sequence[str], now: float | None = None) -> None:
        """Extend the leases of calls this worker is running."""
        if not event_ids:
            return
        moment = time.time() if now is None else now
        marks = ", ".join("?" for _ in event_ids)
        self._run(
            f'UPDATE "{TABLE}" SET next_attempt_at = ? '
            f"WHERE state = 'running' AND event_id IN ({marks})",
            (moment + RUNNING_LEASE, *event_ids),
        )

    def finish(
        self,
        event_id: str,
        state: str,
        *,
        error: str | None = None,
        next_attempt_at: float | None = None,
        now: float | None = None,
    ) -> None:
        """Record how a run ended: ``failed`` (tried again at ``next_attempt_at``)
        or ``dead`` (:meth:`finish_done` records runs that ended well)."""
        moment = time.time() if now is None else now
        self._run(
            f'UPDATE "{TABLE}" SET state = ?, next_attempt_at = ?, last_error = ?, '
            "held_since = NULL, updated_at = ? WHERE event_id = ?",
            (state, next_attempt_at, error, moment, event_id),
        )

    def hold(
        self, event_id: str, error: str, retry_at: float, dead: bool, now: float | None = None
    ) -> None:
        """Record that this worker lacks what the call needs: ``held`` until
        ``retry_at`` (the attempt does not count), or ``dead`` when held too long."""
        moment = time.time() if now is None else now
        self._run(
            f'UPDATE "{TABLE}" SET state = ?, attempts = attempts - 1, next_attempt_at = ?, '
            "held_since = COALESCE(held_since, ?), last_error = ?, updated_at = ? "
            "WHERE event_id = ?",
            (
                "dead" if dead else "held",
                None if dead else retry_at,
                moment,
                error,
                moment,
                event_id,
            ),
        )

    # -- the operators' side -------------------------------------------------------

    def deliveries(
        self,
        state: str | None = None,
        plugin: str | None = None,
        limit: int | None = None,
        event_ids: Sequence[str] = (),
    ) -> list[Delivery]:
        """Delivery records, newest first, of ``state`` and ``plugin`` when given."""
        conditions: list[str] = []
        params: list[Any] = []
        if state is not None:
            conditions.append("state = ?")
            params.append(state)
        if plugin is not None:
            conditions.append("plugin = ?")
            params.append(plugin)
        if event_ids:
            conditions.append(f"event_id IN ({', '.join('?' for _ in event_ids)})")
            params.extend(event_ids)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        bound = ""
        if limit is not None:
            bound = " LIMIT ?"
            params.append(limit)
        rows = self._run(f'SELECT {_COLUMNS} FROM "{TABLE}"{where} ORDER BY id DESC{bound}', params)
        return [
            Delivery(
                str(row[0]),
                str(row[1]),
                str(row[2]),
                str(row[3]),
                str(row[4]),
                int(row[5]),
                int(row[6]),
                None if row[7] is None else float(row[7]),
                row[8],
                float(row[9]),
                float(row[10]),
            )
            for row in rows
        ]

    def counts(self) -> dict[str, int]:
        """How many calls are in each state (every state named, 0 included)."""
        rows = self._run(f'SELECT state, COUNT(*) FROM "{TABLE}" GROUP BY state')
        found = {str(state): int(count) for state, count in rows}
        return {state: found.get(state, 0) for state in STATES}

    def counts_by_plugin(self) -> list[tuple[str, str, int]]:
        """How many calls each plugin has in each state it has calls in:
        ``(plugin, state, count)``, by plugin then state."""
        rows = self._run(
            f'SELECT plugin, state, COUNT(*) FROM "{TABLE}" GROUP BY plugin, state '
            "ORDER BY plugin, state"
        )
        return [(str(plugin), str(state), int(count)) for plugin, state, count in rows]

    def retry(
        self,
        event_ids: Sequence[str] = (),
        *,
        dead: bool = False,
        plugin: str | None = None,
        now: float | None = None,
    ) -> list[str]:
        """Send calls back to the queue at once, with their retries anew: those of
        ``event_ids`` that are dead, failed or held, or (``dead=True``) every dead
        call (of ``plugin``, when given). The event ids retried, sorted."""
        moment = time.time() if now is None else now
        conditions = [f"state IN ({', '.join('?' for _ in RETRYABLE)})"]
        params: list[Any] = list(RETRYABLE)
        if dead:
            conditions = ["state = 'dead'"]
            params = []
        if event_ids:
            conditions.append(f"event_id IN ({', '.join('?' for _ in event_ids)})")
            params.extend(event_ids)
        if plugin is not None:
            conditions.append("plugin = ?")
            params.append(plugin)
        rows = self._run(
            f"UPDATE \"{TABLE}\" SET state = 'pending', attempts = 0, held_since = NULL, "
            f"next_attempt_at = ?, updated_at = ? WHERE {' AND '.join(conditions)} "
            "RETURNING event_id",
            (moment, moment, *params),
        )
        return sorted(str(row[0]) for row in rows)
