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
    # How often the relay has handed the call to the broker.
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


def create_statements(vendor: str) -> list[str]:
    """What creates the table and its indexes on ``vendor`` (``"sqlite"`` or ``"postgresql"``)."""
    position = 1 if vendor == "sqlite" else 2
    columns = ", ".join(f'"{column[0]}" {column[position]}' for column in COLUMNS)
    return [
        f'CREATE TABLE "{TABLE}" ({columns})',
        # The relay's one question: which rows are due.
        f'CREATE INDEX "{TABLE}_due" ON "{TABLE}" ("next_attempt_at")',
        # Purging done rows by age. Partial: a call written (pending) is not in
        # it, so the caller's INSERT maintains one index fewer.
        f'CREATE INDEX "{TABLE}_done" ON "{TABLE}" ("updated_at") WHERE "state" = \'done\'',
    ]
