"""Databases: a connection per thread, transactions with savepoints, on_commit.

Fires ``connection_created``, and nothing else: this is the only place a
connection is opened. What differs between SQLite and PostgreSQL (connecting,
placeholders, ``RETURNING``, error messages) is the backend's business
(:mod:`hosthooks.runtime.backends`); everything here runs the same on both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from types import TracebackType
from typing import Any
from typing import Final
from typing import NoReturn

from hosthooks.host import get_host
from hosthooks.runtime.backends import backend_for
from hosthooks.runtime.backends.base import Cursor
from hosthooks.runtime.backends.base import DatabaseError
from hosthooks.runtime.backends.base import IntegrityError
from hosthooks.runtime.backends.base import SerializationError
from hosthooks.runtime.backends.base import TransactionManagementError
from hosthooks.transactions import add_data_layer

__all__ = [
    "DEFAULT_ALIAS",
    "Atomic",
    "Database",
    "DatabaseError",
    "IntegrityError",
    "JoinedBlock",
    "SerializationError",
    "TransactionManagementError",
    "atomic",
    "get_database",
    "on_commit",
    "register_database",
]

DEFAULT_ALIAS: Final = "default"
#: How long a write waits for another connection's lock before failing (SQLite).
BUSY_TIMEOUT_SECONDS: Final = 5.0


@dataclass
class _ThreadState:
    database: Database
    connection: Any
    #: Open atomic blocks, outermost first; each holds the callbacks it registered.
    blocks: list[list[Callable[[], None]]] = field(default_factory=list)
    #: Numbers savepoints so nested blocks never share a name.
    savepoint_counter: int = 0
    #: Inside atomic_from_first_write(): whether its transaction is still to begin.
    deferred: bool = False
    #: A block without a savepoint failed: the enclosing one must roll back.
    needs_rollback: bool = False
    #: The connection was lost: the thread opens another once no block is open.
    broken: bool = False
    #: Gives up this thread's turn among the database's writers, while its
    #: transaction holds one (see Backend.take_write_turn).
    write_turn: Callable[[], None] | None = None
    #: What every nested ``atomic(savepoint=False)`` of this thread returns.
    joined: JoinedBlock = field(init=False)

    def __post_init__(self) -> None:
        self.joined = JoinedBlock(self)


class JoinedBlock:
    """A nested block without a savepoint: part of the block around it.

    It runs no statement and keeps no callbacks of its own; when it raises, the
    enclosing block is marked for rollback. One per thread, reused: a save
    inside ``atomic()`` (the common case) allocates nothing for it.
    """

    __slots__ = ("_state",)

    def __init__(self, state: _ThreadState) -> None:
        self._state = state

    def insert(self, sql: str, params: Sequence[Any]) -> int:
        """:meth:`Database.insert`, on the connection of the block around: the
        thread's state is not looked up again for each row.

        :raises: as :meth:`Database.execute` does.
        """
        state = self._state
        return state.database._insert(state, sql, params)

    def mark_for_rollback(self) -> None:
        """A write in this block failed: the block around must end in a rollback
        (Django's ``mark_for_rollback_on_error``); until then no statement runs.
        What leaving this block by an exception does, for code that runs no
        context manager per row."""
        self._state.needs_rollback = True

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.mark_for_rollback()


class Database:
    """One database, registered under an alias (``"default"`` unless told): a SQLite
    file, or a database on a PostgreSQL server.

    Each thread gets its own connection, opened on first use (SQLite in WAL
    mode with foreign keys on); ``connection_created`` fires for each. A
    connection found lost is replaced, and announced, once no block is open.

    :param location: the SQLite file (created if missing), ``":memory:"`` (then
        each thread's connection is a database of its own: use a file to share),
        or a ``postgresql://user@host:port/name`` URL (needs ``hosthooks[postgres]``).
    :param alias: the name models use in ``using=``; registering an alias again
        replaces the earlier database.
    :param busy_timeout: seconds a SQLite write waits for another connection's lock.
    :raises DatabaseError: when the file's directory does not exist, or a URL
        names PostgreSQL and psycopg is not installed. An unreachable server
        or a missing database is reported when the first connection opens.
    """

    def __init__(
        self,
        location: str | Path,
        alias: str = DEFAULT_ALIAS,
        *,
        busy_timeout: float = BUSY_TIMEOUT_SECONDS,
    ) -> None:
        self.path = str(location)
        self.alias = alias
        self.busy_timeout = busy_timeout
        self.backend = backend_for(self.path, alias, busy_timeout=busy_timeout)
        #: ``"sqlite"`` or ``"postgresql"``.
        self.vendor = self.backend.vendor
        #: Called with every statement sent (as the model layer wrote it) and its
        #: parameters, when set: what tests and debugging watch.
        self.statement_observer: Callable[[str, Sequence[Any]], None] | None = None
        self._local = threading.local()
        self._all_connections: list[Any] = []
        self._lock = threading.Lock()
        register_database(self)

    def __repr__(self) -> str:
        return f"<Database {self.alias!r} at {self.backend.describe()!r}>"

    # -- connections --------------------------------------------------------

    def _state(self) -> _ThreadState:
        try:
            # Every statement asks: the thread's state is missing but once.
            existing: _ThreadState = self._local.state
            if not existing.broken or existing.blocks:
                return existing
        except AttributeError:
            pass
        state = _ThreadState(self, self._connect())
        self._local.state = state
        # Announced once stored, as Django does: an implementation using the
        # database gets this connection instead of opening another (and
        # announcing that one, without end).
        host = get_host()
        if host.has_listeners("connection_created"):
            host.hook.connection_created(sender=type(self), connection=state.connection)
        return state

    def _connect(self) -> Any:
        connection = self.backend.connect()
        with self._lock:
            self._all_connections.append(connection)
        return connection

    @property
    def connection(self) -> Any:
        """This thread's connection (the driver's own), opened on first use."""
        return self._state().connection

    def close(self) -> None:
        """Close every connection this database opened (in every thread)."""
        with self._lock:
            connections, self._all_connections = self._all_connections, []
        for connection in connections:
            self.backend.close(connection)
        self._local = threading.local()

    # -- statements ---------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        """Run one parameterised statement (``?`` markers) on this thread's connection.

        :raises IntegrityError: when a constraint refuses it.
        :raises TransactionManagementError: inside a block marked for rollback.
        :raises SerializationError: when the server gave the transaction up.
        :raises DatabaseError: for a locked or read-only file, a lost
            connection, or any other failure.
        """
        state = self._state()
        if state.needs_rollback:
            raise self._refused()
        if self.statement_observer is not None:
            self.statement_observer(sql, params)
        try:
            return self.backend.execute(state.connection, sql, params)
        except self.backend.driver_errors as error:
            self._failed(state, error)

    def insert(self, sql: str, params: Sequence[Any]) -> int:
        """Run an ``INSERT`` of one row into a model's table (``id`` not given); the row's id.

        :raises: as :meth:`execute` does.
        """
        return self._insert(self._state(), sql, params)

    def _insert(self, state: _ThreadState, sql: str, params: Sequence[Any]) -> int:
        if state.needs_rollback:
            raise self._refused()
        if self.statement_observer is not None:
            self.statement_observer(sql, params)
        try:
            return self.backend.insert(state.connection, sql, params)
        except self.backend.driver_errors as error:
            self._failed(state, error)

    def insert_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> list[int]:
        """Run an ``INSERT`` of one row into a model's table for each of ``rows``; their ids.

        :raises: as :meth:`execute` does.
        """
        state = self._state()
        if state.needs_rollback:
            raise self._refused()
        if self.statement_observer is not None:
            for row in rows:
                self.statement_observer(sql, row)
        try:
            return self.backend.insert_many(state.connection, sql, rows)
        except self.backend.driver_errors as error:
            self._failed(state, error)

    def after_explicit_ids(self, table: str) -> None:
        """Rows were written into ``table`` with the ids they were given: ids the
        database allocates later start after them."""
        state = self._state()
        try:
            self.backend.after_explicit_ids(state.connection, table)
        except self.backend.driver_errors as error:
            self._failed(state, error)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each of ``rows``. :raises: as :meth:`execute` does."""
        state = self._state()
        if state.needs_rollback:
            raise self._refused()
        if self.statement_observer is not None:
            for row in rows:
                self.statement_observer(sql, row)
        try:
            self.backend.executemany(state.connection, sql, rows)
        except self.backend.driver_errors as error:
            self._failed(state, error)

    def table_columns(self, table: str) -> set[str]:
        """The columns ``table`` has; empty when there is no such table."""
        state = self._state()
        try:
            return self.backend.table_columns(state.connection, table)
        except self.backend.driver_errors as error:
            self._failed(state, error)

    def index_names(self, table: str) -> set[str]:
        """The names of the indexes on ``table``; empty when there is no such table."""
        state = self._state()
        try:
            return self.backend.index_names(state.connection, table)
        except self.backend.driver_errors as error:
            self._failed(state, error)

    def table_names(self) -> list[str]:
        """Every model table the database holds, sorted."""
        state = self._state()
        try:
            return self.backend.table_names(state.connection)
        except self.backend.driver_errors as error:
            self._failed(state, error)

    def _refused(self) -> TransactionManagementError:
        # What a statement inside a block marked for rollback raises. Every
        # statement checks the mark itself: a row's statement spends no call on it.
        return TransactionManagementError(
            f"a write failed inside this atomic block on database {self.alias!r}: "
            "no statement runs until the block ends (and rolls back)"
        )

    def _control(self, state: _ThreadState, sql: str) -> None:
        """Run a transaction-control statement, even in a block marked for rollback.

        On the connection of ``state``, the block's own: never on one opened since
        it was lost, where a COMMIT would succeed with nothing to commit.
        """
        if self.statement_observer is not None:
            self.statement_observer(sql, ())
        try:
            self.backend.execute(state.connection, sql, ())
        except self.backend.driver_errors as error:
            self._failed(state, error)

    def _rollback(self, state: _ThreadState) -> None:
        try:
            # A lost connection took its transaction with it: nothing to roll back.
            if not state.broken and self.backend.in_transaction(state.connection):
                self._control(state, "ROLLBACK")
        finally:
            # Whatever became of the connection, the transaction is over: a turn
            # kept would keep every later writer waiting.
            self._end_write_turn(state)

    def _failed(self, state: _ThreadState, error: Exception) -> NoReturn:
        if self.backend.is_broken(state.connection):
            state.broken = True
        elif state.blocks and self.backend.failure_aborts_transaction:
            # The server refuses every statement until the rollback, and would
            # turn the block's COMMIT into a silent ROLLBACK: the block must
            # end in a rollback, as when a save inside it fails.
            state.needs_rollback = True
        raise self.backend.translate(error) from error

    # -- transactions -------------------------------------------------------

    @property
    def in_atomic_block(self) -> bool:
        return bool(self._state().blocks)

    def transaction_key(self) -> int | None:
        """A number the transaction open on this thread keeps until it ends (what
        the console groups hook calls by), or None outside any block."""
        try:
            state: _ThreadState = self._local.state
        except AttributeError:
            return None
        return id(state.blocks[0]) if state.blocks else None

    def joined_block(self) -> JoinedBlock | None:
        """What ``atomic(savepoint=False)`` enters inside an atomic block: that
        block's part, for a write to join; None outside any block."""
        try:
            state: _ThreadState = self._local.state
        except AttributeError:
            # No state yet: this thread has opened no block (nor a connection).
            return None
        # A lost connection's state is replaced only once no block is open: with
        # one open, writes join it (and fail on it), as _state() decides.
        return state.joined if state.blocks else None

    def atomic(self, *, savepoint: bool = True) -> Atomic | JoinedBlock:
        """A transaction; nested blocks are savepoints, or, with ``savepoint=False``,
        part of the block around them.

        When the block raises, its writes are rolled back (and the on_commit
        callbacks it registered discarded) and the exception propagates. A
        nested block without a savepoint cannot undo its own writes: when it
        raises, the enclosing block is marked for rollback (Django's
        ``mark_for_rollback_on_error``), so a failure caught inside it never
        commits half a unit of work.

        :raises TransactionManagementError: when the block ends normally although
            a write inside it failed (and its error was caught): it was rolled back.
        """
        if not savepoint:
            state = self._state()
            if state.blocks:
                return state.joined
        return Atomic(self, savepoint)

    def lock(self, name: str) -> None:
        """Wait for the lock called ``name``, then hold it until the transaction
        ends: what follows runs in one transaction at a time, across every
        process using the database.

        :raises TransactionManagementError: outside an atomic block, where the
            lock would be given up at once.
        """
        state = self._state()
        if not state.blocks:
            raise TransactionManagementError(
                f"lock({name!r}) outside an atomic block on database {self.alias!r}"
            )
        statement = self.backend.lock_statement
        if statement is not None:
            self.execute(statement, [name])

    def _begin(self, state: _ThreadState) -> None:
        # The turn is given up however the transaction ends (_commit,
        # _rollback), or here when it does not begin.
        try:
            try:
                state.write_turn = self.backend.take_write_turn(state.connection)
            except self.backend.driver_errors as error:
                self._failed(state, error)
            self._control(state, self.backend.begin_statement)
        except BaseException:
            self._end_write_turn(state)
            raise

    def _end_write_turn(self, state: _ThreadState) -> None:
        give_up, state.write_turn = state.write_turn, None
        if give_up is not None:
            give_up()

    def _commit(self, state: _ThreadState, callbacks: list[Callable[[], None]]) -> None:
        try:
            self._control(state, "COMMIT")
        except BaseException:
            self._rollback(state)
            raise
        # Given up before the callbacks run: one that writes needs a turn of its own.
        self._end_write_turn(state)
        for callback in callbacks:
            callback()

    @contextmanager
    def atomic_from_first_write(self) -> Iterator[None]:
        """One transaction for every write in the block, begun by its first write.

        Every write of the model layer runs in an :meth:`atomic` block; the
        first such block in here begins the transaction (later ones, and it,
        become savepoints), and the transaction commits when this block ends.
        Until then nothing is locked: reads, and slow work such as password
        hashing, keep other writers waiting for nothing. A block with no
        write begins no transaction.

        When the block raises, every write in it is rolled back (and the
        on_commit callbacks registered in it discarded) and the exception
        propagates. Inside an atomic block already, it is that block's part.
        """
        state = self._state()
        if state.blocks or state.deferred:
            yield
            return
        state.deferred = True
        try:
            yield
        except BaseException:
            if not state.deferred:
                state.blocks.pop()
                state.needs_rollback = False
                self._rollback(state)
            raise
        finally:
            began = not state.deferred
            state.deferred = False
        if began:
            callbacks = state.blocks.pop()
            if state.needs_rollback:
                state.needs_rollback = False
                self._rollback(state)
                raise self._caught_failure()
            self._commit(state, callbacks)

    def _caught_failure(self) -> TransactionManagementError:
        return TransactionManagementError(
            "an atomic block ended normally after a write inside it failed "
            f"(its error was caught) on database {self.alias!r}: the block was "
            "rolled back; wrap the write in atomic() of its own to recover from it"
        )

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` after the outermost transaction commits; at once outside one.

        A callback registered in a block that rolls back is discarded, never run.
        A callback that raises propagates; those after it do not run.
        """
        # A thread with no state yet is in no transaction: asking must not open
        # (and announce, through connection_created) a connection it never uses.
        state: _ThreadState | None = getattr(self._local, "state", None)
        if state is None or not state.blocks:
            callback()
            return
        state.blocks[-1].append(callback)


class Atomic:
    """One ``with database.atomic(...)`` block (see :meth:`Database.atomic`)."""

    __slots__ = ("_database", "_joined", "_name", "_outermost", "_savepoint", "_state")

    def __init__(self, database: Database, savepoint: bool) -> None:
        self._database = database
        self._savepoint = savepoint

    def __enter__(self) -> None:
        database = self._database
        state = self._state = database._state()
        if state.deferred and not state.blocks:
            database._begin(state)
            # The transaction atomic_from_first_write() was waiting for: this
            # block is now nested inside it.
            state.deferred = False
            state.blocks.append([])
        self._outermost = not state.blocks
        # Nested without a savepoint (atomic_from_first_write() just began the
        # transaction around it): part of the enclosing block, as JoinedBlock is.
        self._joined = not self._outermost and not self._savepoint
        if self._joined:
            return
        if self._outermost:
            database._begin(state)
        else:
            state.savepoint_counter += 1
            self._name = f"hosthooks_sp_{state.savepoint_counter}"
            database.execute(f'SAVEPOINT "{self._name}"')
        state.blocks.append([])

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        database, state = self._database, self._state
        if self._joined:
            state.joined.__exit__(exc_type, exc, traceback)
            return
        callbacks = state.blocks.pop()
        if exc_type is not None or state.needs_rollback:
            # This block's rollback undoes whatever failed inside it.
            state.needs_rollback = False
            if self._outermost:
                database._rollback(state)
            elif not state.broken:
                database._control(state, f'ROLLBACK TO SAVEPOINT "{self._name}"')
                database._control(state, f'RELEASE SAVEPOINT "{self._name}"')
            if exc_type is None:
                raise database._caught_failure()
            return
        if not self._outermost:
            database._control(state, f'RELEASE SAVEPOINT "{self._name}"')
            state.blocks[-1].extend(callbacks)
            return
        database._commit(state, callbacks)


_databases: dict[str, Database] = {}
_databases_lock: Final = threading.Lock()


def register_database(database: Database) -> None:
    with _databases_lock:
        _databases[database.alias] = database


def get_database(alias: str = DEFAULT_ALIAS) -> Database:
    """The database registered under ``alias``.

    :raises DatabaseError: when no database has that alias.
    """
    try:
        return _databases[alias]
    except KeyError:
        raise DatabaseError(
            f"no database with alias {alias!r}; "
            f"create one with Database(path_or_url, alias={alias!r})"
        ) from None


def atomic(using: str = DEFAULT_ALIAS, *, savepoint: bool = True) -> Atomic | JoinedBlock:
    """``with atomic():`` a transaction on the database ``using`` (nestable; see
    :meth:`Database.atomic`)."""
    return get_database(using).atomic(savepoint=savepoint)


def on_commit(callback: Callable[[], None], using: str = DEFAULT_ALIAS) -> None:
    """Run ``callback`` once the current transaction on ``using`` commits."""
    get_database(using).on_commit(callback)


class RuntimeLayer:
    """The runtime's databases as a data layer (:mod:`hosthooks.transactions`):
    ``hosthooks.on_commit`` and the outbox of deferred calls follow the
    transaction open on a runtime database."""

    name = "runtime"

    def has_database(self, using: str | None) -> bool:
        return (using or DEFAULT_ALIAS) in _databases

    def in_transaction(self, using: str | None) -> bool:
        database = _databases.get(using or DEFAULT_ALIAS)
        if database is None:
            return False
        try:
            state: _ThreadState = database._local.state
        except AttributeError:
            return False
        # A block atomic_from_first_write() has not begun yet counts: the
        # write that begins it is on its way.
        return bool(state.blocks) or state.deferred

    def on_commit(self, callback: Callable[[], None], using: str | None) -> None:
        get_database(using or DEFAULT_ALIAS).on_commit(callback)

    def vendor(self, using: str | None) -> str:
        return get_database(using or DEFAULT_ALIAS).vendor

    def execute(self, using: str | None, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        cursor = get_database(using or DEFAULT_ALIAS).execute(sql, params)
        # A statement that returns no rows has no description (psycopg refuses fetchall then).
        if getattr(cursor, "description", None) is None:
            return []
        return list(cursor.fetchall())

    def atomic(self, using: str | None) -> Atomic | JoinedBlock:
        return get_database(using or DEFAULT_ALIAS).atomic()

    def describe(self, using: str | None) -> str:
        return get_database(using or DEFAULT_ALIAS).backend.describe()

    def model(self, label: str) -> type[Any] | None:
        # Imported here: the models module imports this one.
        from hosthooks.runtime.models import registry

        return registry.get(label)


#: Added when the runtime is imported; other layers (Django's) stay known beside it.
runtime_layer: Final = RuntimeLayer()
add_data_layer(runtime_layer)
