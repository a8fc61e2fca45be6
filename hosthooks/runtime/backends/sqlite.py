"""SQLite: a file (or ``:memory:``), opened in WAL mode with foreign keys on."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from typing import Final

from hosthooks.runtime.backends.base import Backend
from hosthooks.runtime.backends.base import DatabaseError
from hosthooks.runtime.backends.base import IntegrityError
from hosthooks.runtime.backends.base import LockTimeout
from hosthooks.runtime.backends.write_queue import WriteQueue
from hosthooks.runtime.backends.write_queue import write_queue_for

_COLUMN_TYPES: Final = {
    "text": "TEXT",
    "integer": "INTEGER",
    "float": "REAL",
    "boolean": "INTEGER",
    "datetime": "TEXT",
    "json": "TEXT",
    "foreign_key": "INTEGER",
}


class SQLiteBackend(Backend):
    """A SQLite file; the model layer's dialect is SQLite's own, so statements pass as written.

    :param busy_timeout: seconds a write waits for another connection's lock.
    :raises DatabaseError: when the file's directory does not exist.
    """

    vendor = "sqlite"
    column_types = _COLUMN_TYPES
    primary_key_definition = "INTEGER PRIMARY KEY AUTOINCREMENT"
    # IMMEDIATE takes the write lock at once: a deferred transaction
    # that upgrades later can fail with "locked" half-way through.
    begin_statement = "BEGIN IMMEDIATE"

    def __init__(self, location: str, alias: str, *, busy_timeout: float) -> None:
        super().__init__(location, alias)
        self.busy_timeout = busy_timeout
        if location != ":memory:" and not Path(location).resolve().parent.is_dir():
            raise DatabaseError(f"cannot open database {location!r}: its directory does not exist")
        # A database in memory is its connection's alone: nobody to queue behind.
        self._write_queue: WriteQueue | None = (
            None if location == ":memory:" else write_queue_for(location)
        )

    def describe(self) -> str:
        return self.location

    def connect(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = None
        try:
            self._create_private_file()
            connection = sqlite3.connect(
                self.location,
                timeout=self.busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            connection.execute("PRAGMA foreign_keys = ON")
            if self.location != ":memory:":
                connection.execute("PRAGMA journal_mode = WAL")
        except sqlite3.Error as error:
            # Switching to WAL fails at once while another connection writes: the
            # half-set-up connection is closed, not left for the collector.
            if connection is not None:
                connection.close()
            raise self.translate(error) from error
        return connection

    def _create_private_file(self) -> None:
        # The file holds password hashes: owner-only from its first byte. SQLite
        # gives the -wal and -shm files it creates beside it the same mode.
        if self.location == ":memory:" or self.location.startswith("file:"):
            return
        try:
            descriptor = os.open(self.location, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return
        os.close(descriptor)

    def take_write_turn(self, connection: Any) -> Callable[[], None] | None:
        queue = self._write_queue
        if queue is None:
            return None
        started = time.monotonic()
        if not queue.acquire(self.busy_timeout):
            raise self._locked("database is locked")
        full = round(self.busy_timeout * 1000)
        left = max(round((self.busy_timeout - (time.monotonic() - started)) * 1000), 0)
        if left >= full:
            return queue.release
        # The time spent in line counts against the busy timeout: a writer in
        # another process gets only what is left of it.
        try:
            connection.execute(f"PRAGMA busy_timeout = {left}")
        except BaseException:
            queue.release()
            raise

        def give_up_turn() -> None:
            try:
                connection.execute(f"PRAGMA busy_timeout = {full}")
            except sqlite3.Error:
                # Closed or broken: the connection waits for nothing any more.
                pass
            finally:
                queue.release()

        return give_up_turn

    def execute(self, connection: Any, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
        cursor: sqlite3.Cursor = connection.execute(sql, params)
        return cursor

    def executemany(self, connection: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        connection.executemany(sql, rows)

    def insert(self, connection: Any, sql: str, params: Sequence[Any]) -> int:
        new_id: int = connection.execute(sql, params).lastrowid
        return new_id

    def insert_many(self, connection: Any, sql: str, rows: Sequence[Sequence[Any]]) -> list[int]:
        # In process, a statement per row costs no round trip; lastrowid gives each id.
        return [connection.execute(sql, row).lastrowid for row in rows]

    def in_transaction(self, connection: Any) -> bool:
        try:
            return bool(connection.in_transaction)
        except sqlite3.ProgrammingError:
            # Closed (Database.close() from another thread): closing rolled it back.
            return False

    def table_columns(self, connection: Any, table: str) -> set[str]:
        rows = connection.execute(f'PRAGMA table_info("{table}")').fetchall()
        return {row[1] for row in rows}

    def index_names(self, connection: Any, table: str) -> set[str]:
        rows = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (table,)
        ).fetchall()
        return {row[0] for row in rows}

    def table_names(self, connection: Any) -> list[str]:
        rows = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        ).fetchall()
        return [row[0] for row in rows]

    def insert_skipping_duplicates(self, table: str, columns: Sequence[str]) -> str:
        names = ", ".join(f'"{column}"' for column in columns)
        marks = ", ".join("?" for _ in columns)
        return f'INSERT OR IGNORE INTO "{table}" ({names}) VALUES ({marks})'

    @property
    def driver_errors(self) -> tuple[type[Exception], ...]:
        # The driver refuses to send an int beyond 64 bits: PostgreSQL's refusal
        # of such a value is a DatabaseError, and so is this one.
        return (sqlite3.Error, OverflowError)

    def translate(self, error: Exception) -> DatabaseError:
        message = str(error)
        if isinstance(error, OverflowError):
            return DatabaseError(f"integer out of range: {message} (database {self.alias!r})")
        if isinstance(error, sqlite3.IntegrityError):
            return IntegrityError(f"{message} (database {self.alias!r})")
        if "locked" in message or "busy" in message:
            return self._locked(message)
        if "readonly" in message or "read-only" in message:
            return DatabaseError(f"database {self.location!r} is read-only: {message}")
        if "unable to open" in message:
            return DatabaseError(f"cannot open database {self.location!r}: {message}")
        return DatabaseError(f"{message} (database {self.alias!r})")

    def _locked(self, message: str) -> DatabaseError:
        return LockTimeout(
            f"database {self.location!r} is locked by another connection "
            f"(waited {self.busy_timeout:g} s): {message}"
        )
