"""The outbox table: one row per deferred call, which is also its delivery record.

A leaf: the runtime's ``migrate`` creates the table from here, and Django's
migration of ``hosthooks.django`` creates the same table (a model of that app).
"""

from __future__ import annotations

from typing import Final

#: The table's name, on every database that holds deferred calls.
TABLE: Final = "hosthooks_outbox"

#: Every column, in order: name and type on SQLite, on PostgreSQL.
COLUMNS: Final[tuple[tuple[str, str, str], ...]] = (
    ("id", "INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY"),
    ("event_id", "TEXT NOT NULL UNIQUE", "VARCHAR(32) NOT NULL UNIQUE"),
    ("hook", "TEXT NOT NULL", "VARCHAR(100) NOT NULL"),
    ("plugin", "TEXT NOT NULL", "VARCHAR(200) NOT NULL"),
    ("queue", "TEXT NOT NULL", "VARCHAR(200) NOT NULL"),
    ("state", "TEXT NOT NULL", "VARCHAR(10) NOT NULL"),
    ("attempts", "INTEGER NOT NULL", "INTEGER NOT NULL"),
    ("retries", "INTEGER NOT NULL", "INTEGER NOT NULL"),
    # How often the call has been handed out: to the broker by the relay, or
    # (at least once) to a run in process by the eager queue. 0 only while the
    # call is as it was written, which keeps it out of the index of due calls.
    ("relayed", "INTEGER NOT NULL", "INTEGER NOT NULL"),
    # When the relay looks at the row next: to send it (pending, failed, held)
    # or to send it again because nobody took it or its worker vanished (sent,
    # running). NULL once it is done or dead.
    ("next_attempt_at", "REAL", "DOUBLE PRECISION"),
    # Since when no worker has had the plugin or model (held), or NULL.
    ("held_since", "REAL", "DOUBLE PRECISION"),
    ("last_error", "TEXT", "TEXT"),
    ("created_at", "REAL NOT NULL", "DOUBLE PRECISION NOT NULL"),
    ("updated_at", "REAL NOT NULL", "DOUBLE PRECISION NOT NULL"),
    # The call as JSON: its arguments, encoded as hosthooks.deferred.serialise says.
    ("message", "TEXT NOT NULL", "TEXT NOT NULL"),
    # The W3C trace context of the call that deferred it, when one was traced.
    ("traceparent", "TEXT", "VARCHAR(55)"),
)


#: The index of calls handed out before (sent, run, given back, retried) by
#: when they are due. A call just written is not in it: the caller's INSERT
#: then writes one index fewer, which on SQLite is one page fewer to journal
#: and write at COMMIT. The relay finds calls just written by their id.
DUE_INDEX: Final = f"{TABLE}_due_again"
#: PostgreSQL's index of calls just written, by id. SQLite needs none: its
#: writers take turns, so a call written later has a greater id (AUTOINCREMENT
#: never gives one again), and the relay reads on from the last id it passed
#: (from the first again when ids went back below it: a table rebuilt, a file
#: replaced, and after each purge round).
FRESH_INDEX: Final = f"{TABLE}_fresh"
#: The index of earlier versions that held every call by when it is due.
_FORMER_DUE_INDEX: Final = f"{TABLE}_due"


def create_statements(vendor: str) -> list[str]:
    """What creates the table and its indexes on ``vendor`` (``"sqlite"`` or ``"postgresql"``)."""
    position = 1 if vendor == "sqlite" else 2
    columns = ", ".join(f'"{column[0]}" {column[position]}' for column in COLUMNS)
    return [
        f'CREATE TABLE "{TABLE}" ({columns})',
        *index_statements(vendor),
        # Purging done rows by age. Partial: a call written (pending) is not in
        # it, so the caller's INSERT maintains one index fewer.
        f'CREATE INDEX "{TABLE}_done" ON "{TABLE}" ("updated_at") WHERE "state" = \'done\'',
    ]


def index_statements(vendor: str) -> list[str]:
    """What creates the indexes the relay asks which calls are due with."""
    statements = [
        f'CREATE INDEX "{DUE_INDEX}" ON "{TABLE}" ("next_attempt_at") WHERE "relayed" > 0'
    ]
    if vendor == "postgresql":
        statements.append(f'CREATE INDEX "{FRESH_INDEX}" ON "{TABLE}" ("id") WHERE "relayed" = 0')
    return statements


def upgrade_statements(vendor: str) -> list[str]:
    """What brings a table of an earlier version (one index of every call by when
    it is due) to :func:`index_statements`' indexes.

    Calls the eager queue ran before ``relayed`` counted its runs are counted
    handed out, so that only calls just written are left out of the new index.
    """
    return [
        f'UPDATE "{TABLE}" SET "relayed" = 1 WHERE "relayed" = 0 AND "state" <> \'pending\'',
        f'DROP INDEX IF EXISTS "{_FORMER_DUE_INDEX}"',
        *index_statements(vendor),
    ]
