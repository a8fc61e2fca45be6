"""Mutes kept in the app's database, so that every process of the app follows them.

An operator mutes a loaded plugin from the console or ``hosthooks mute``: a
row of ``hosthooks_mute`` (SQLite or PostgreSQL alike), read by every process
of the app at most :data:`SYNC_SECONDS` later (:class:`MuteSync`) and at its
start, so a restart keeps it. ``disable_plugins`` still blocks a plugin before
it is imported; a mute only silences one that is loaded.

A row whose end cannot be read as a date (written by hand, or by an older
version that took any duration) is a mute with no end, with a warning logged
once per process: the plugin stays silenced, as whoever muted it wanted, and no
listing or page fails on it.
"""

from __future__ import annotations

import datetime
import logging
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hosthooks.host import Host
from hosthooks.operations import PluginMute
from hosthooks.operations import put_plugin_mutes
from hosthooks.report import iso_time
from hosthooks.runtime.backends import is_url
from hosthooks.runtime.db import Database
from hosthooks.runtime.db import DatabaseError

logger: Final = logging.getLogger("hosthooks.console")

#: How often each process reads the mutes: a mute reaches all within 5 seconds.
SYNC_SECONDS: Final = 2.0
TABLE: Final = "hosthooks_mute"
_SCHEMA: Final = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    "plugin TEXT PRIMARY KEY, muted_by TEXT NOT NULL, muted_at DOUBLE PRECISION NOT NULL, "
    "muted_until DOUBLE PRECISION)"
)


@dataclass(frozen=True)
class StoredMute:
    plugin: str
    by: str
    at: float
    until: float | None

    def as_mute(self) -> PluginMute:
        return PluginMute(self.plugin, self.by, self.at, self.until)


class MuteStore:
    """The mutes in ``database``: the table is made on first use (and by ``migrate``)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._made = False
        # The unreadable rows warned about already: read every few seconds,
        # one would otherwise fill the log.
        self._warned: set[tuple[str, str]] = set()

    def ensure_table(self) -> None:
        """Make the table unless it is there.

        :raises DatabaseError: when it is not there and cannot be made.
        """
        if self._made:
            return
        if not self.database.table_columns(TABLE):
            try:
                with self.database.atomic():
                    self.database.execute(_SCHEMA)
            except DatabaseError:
                # Processes of the app started together race to make it (on
                # PostgreSQL IF NOT EXISTS does not settle that race): one wins.
                if not self.database.table_columns(TABLE):
                    raise
        self._made = True

    def mute(self, plugin: str, by: str, until: float | None = None) -> StoredMute:
        """Mute ``plugin`` (again: the new row replaces the old), logged with who.

        :raises ValueError: when ``until`` is no date (nothing is written).
        """
        if until is not None and _moment(until) is None:
            raise ValueError(f"the end of a mute, {until!r}, is not a date")
        self.ensure_table()
        stored = StoredMute(plugin, by, time.time(), until)
        with self.database.atomic():
            self.database.execute(f"DELETE FROM {TABLE} WHERE plugin = ?", (plugin,))
            self.database.execute(
                f"INSERT INTO {TABLE} (plugin, muted_by, muted_at, muted_until) "
                "VALUES (?, ?, ?, ?)",
                (plugin, by, stored.at, until),
            )
        ends = "" if until is None else f" until {iso_time(until)}"
        logger.warning("plugin %r muted by %s%s", plugin, by, ends)
        return stored

    def unmute(self, plugin: str, by: str) -> bool:
        """Unmute ``plugin``; whether it was muted. Logged with who."""
        self.ensure_table()
        with self.database.atomic():
            cursor = self.database.execute(f"DELETE FROM {TABLE} WHERE plugin = ?", (plugin,))
            removed = cursor.rowcount > 0
        if removed:
            logger.warning("plugin %r unmuted by %s", plugin, by)
        return removed

    def current(self, now: float | None = None, *, create: bool = True) -> list[StoredMute]:
        """The mutes in force (those whose time ran out left out), by plugin name.

        :param create: make the table if it is missing; otherwise a database
            without it holds no mutes (what a command that only reads wants).
        :raises DatabaseError: when the database cannot be read.
        """
        if create:
            self.ensure_table()
        elif not self._made and not self.database.table_columns(TABLE):
            return []
        now = time.time() if now is None else now
        rows = self.database.execute(
            f"SELECT plugin, muted_by, muted_at, muted_until FROM {TABLE} ORDER BY plugin"
        ).fetchall()
        mutes = []
        for plugin, by, at, stored_until in rows:
            until = None if stored_until is None else _moment(stored_until)
            if stored_until is not None and until is None:
                self._warn(str(plugin), stored_until)
            elif until is not None and until <= now:
                continue
            mutes.append(StoredMute(str(plugin), str(by), _moment(at) or 0.0, until))
        return mutes

    def _warn(self, plugin: str, until: object) -> None:
        key = (plugin, repr(until))
        if key not in self._warned:
            self._warned.add(key)
            logger.warning(
                "the mute of plugin %r ends at %r, which is no date: it is kept "
                "with no end (hosthooks unmute %s ends it)",
                plugin,
                until,
                plugin,
            )


def _moment(value: object) -> float | None:
    """``value`` (seconds since the epoch, as stored) as a float, or None when it
    is no number or no date (NaN, infinite, past the year 9999)."""
    try:
        # Through str: a row may hold any type (SQLite), and a float's str reads back exact.
        seconds = float(str(value))
        if not math.isfinite(seconds):
            return None
        datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return seconds


def mutes_at(location: str) -> list[StoredMute] | None:
    """The mutes in force in the database at ``location`` (a SQLite path or a
    ``postgresql://`` URL), read without making anything: a database without
    the table holds none; None when ``location`` names no SQLite file.

    :raises DatabaseError: when the database cannot be read.
    """
    if not is_url(location) and not Path(location).is_file():
        return None
    # An alias of its own: reading must not replace the app's default database.
    database = Database(location, "hosthooks-mutes")
    try:
        return MuteStore(database).current(create=False)
    finally:
        database.close()


class MuteSync:
    """Keeps a host's plugin mutes what the database says, read every ``interval``
    seconds by a daemon thread (its own connection) until :meth:`stop`.

    A read that fails (the database away for a moment) is logged once and
    tried again; the mutes in force stay as they were meanwhile.
    """

    def __init__(self, host: Host, store: MuteStore, interval: float = SYNC_SECONDS) -> None:
        self.host = host
        self.store = store
        self.interval = interval
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def sync(self) -> None:
        """Read the mutes now and put them in force."""
        put_plugin_mutes(self.host, [stored.as_mute() for stored in self.store.current()])

    def start(self) -> None:
        self.sync()
        self._thread = threading.Thread(target=self._run, name="hosthooks-mutes", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                self.sync()
            except Exception as error:  # the next round tries again
                if not self._failing:
                    logger.error("reading the mutes failed: %s", error)
                self._failing = True
            else:
                if self._failing:
                    logger.info("reading the mutes works again")
                self._failing = False
