"""What every database backend provides, and the errors the model layer raises.

The model layer writes one dialect of SQL: ``?`` parameter markers, double-quoted
names, ``INSERT`` without ``RETURNING``. A backend turns that into what its
server accepts and says what its driver's errors mean; nothing above
:mod:`hosthooks.runtime.db` knows which backend it is talking to.
"""

from __future__ import annotations

from abc import ABC
from abc import abstractmethod
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import ClassVar
from typing import Final
from typing import Protocol

#: The values an integer column holds on every backend (SQLite's INTEGER and
#: PostgreSQL's BIGINT are both 64-bit): the model layer compares with values
#: beyond them in Python, since SQLite's driver cannot even send them.
INTEGER_RANGE: Final = (-(2**63), 2**63 - 1)


class DatabaseError(Exception):
    """A database operation failed; the message says why in one line."""


class IntegrityError(DatabaseError):
    """A constraint refused the write (NOT NULL, UNIQUE, FOREIGN KEY); nothing was written."""


class TransactionManagementError(DatabaseError):
    """A statement ran, or a block ended normally, after a write inside the block
    failed: the block rolls back instead of committing part of its work."""


class LockTimeout(DatabaseError):
    """Another connection held the database's write lock longer than this one
    would wait: nothing of the transaction was written; running it again later
    may succeed."""


class SerializationError(DatabaseError):
    """The server gave up the transaction to keep concurrent ones serialisable
    (or broke a deadlock): nothing of it was written; running it again may succeed."""


class Cursor(Protocol):
    """What the model layer reads from a statement's result."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Any: ...


class Backend(ABC):
    """One kind of database server: how to connect, what SQL it takes, what its errors mean.

    :param location: a SQLite path, or a ``postgresql://`` URL.
    :param alias: the database's alias, named in error messages.
    """

    #: ``"sqlite"`` or ``"postgresql"``.
    vendor: ClassVar[str]
    #: The column type of each kind of field (:attr:`Field.kind`).
    column_types: ClassVar[Mapping[str, str]]
    #: The whole definition of the ``id`` column, after its quoted name.
    primary_key_definition: ClassVar[str]
    #: What starts a transaction.
    begin_statement: ClassVar[str] = "BEGIN"
    #: A statement that waits for the lock named by its one parameter and holds
    #: it until the transaction ends; None where a write transaction already
    #: excludes every other writer (SQLite's ``BEGIN IMMEDIATE``).
    lock_statement: ClassVar[str | None] = None
    #: Whether a failed statement leaves its transaction unusable until rolled
    #: back (PostgreSQL), rather than undoing that statement alone (SQLite).
    failure_aborts_transaction: ClassVar[bool] = False

    def __init__(self, location: str, alias: str) -> None:
        self.location = location
        self.alias = alias

    @abstractmethod
    def describe(self) -> str:
        """Where the database is, for error messages (a path; a URL without its password)."""

    @abstractmethod
    def connect(self) -> Any:
        """A new connection in autocommit mode (transactions are begun explicitly).

        :raises DatabaseError: when the database cannot be reached or opened.
        """

    @abstractmethod
    def execute(self, connection: Any, sql: str, params: Sequence[Any]) -> Cursor:
        """Run one statement written in the model layer's dialect."""

    @abstractmethod
    def executemany(self, connection: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each of ``rows``."""

    @abstractmethod
    def insert(self, connection: Any, sql: str, params: Sequence[Any]) -> int:
        """Run an ``INSERT`` of one row into a model's table; its new ``id``."""

    @abstractmethod
    def insert_many(self, connection: Any, sql: str, rows: Sequence[Sequence[Any]]) -> list[int]:
        """Run an ``INSERT`` of one row for each of ``rows``; their new ids, in order."""

    @abstractmethod
    def in_transaction(self, connection: Any) -> bool:
        """Whether a transaction is open on ``connection``."""

    @abstractmethod
    def table_columns(self, connection: Any, table: str) -> set[str]:
        """The columns ``table`` has; empty when there is no such table."""

    @abstractmethod
    def index_names(self, connection: Any, table: str) -> set[str]:
        """The names of the indexes on ``table``; empty when there is no such table."""

    @abstractmethod
    def table_names(self, connection: Any) -> list[str]:
        """The model tables the database holds, sorted (the engine's own left out)."""

    @abstractmethod
    def insert_skipping_duplicates(self, table: str, columns: Sequence[str]) -> str:
        """An ``INSERT`` of one row of ``columns`` that skips rows a unique constraint
        already holds (the model layer's dialect)."""

    def after_explicit_ids(self, connection: Any, table: str) -> None:  # noqa: B027
        """Rows were inserted with ids given: later ids must not collide with them."""

    def take_write_turn(self, connection: Any) -> Callable[[], None] | None:
        """Wait until this process's earlier writers to the database are done,
        before ``connection`` begins a transaction; what gives the turn up once
        the transaction ends (None: the server queues writers itself).

        :raises DatabaseError: when the wait outlasts the busy timeout.
        """
        return None

    def is_broken(self, connection: Any) -> bool:
        """Whether ``connection`` is lost (to be replaced before its next statement)."""
        return False

    @property
    @abstractmethod
    def driver_errors(self) -> tuple[type[Exception], ...]:
        """The driver's exception classes, which :meth:`translate` understands."""

    @abstractmethod
    def translate(self, error: Exception) -> DatabaseError:
        """The one-line error the model layer raises for a driver's ``error``."""

    @staticmethod
    def close(connection: Any) -> None:
        connection.close()
