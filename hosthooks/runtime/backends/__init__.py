"""Database backends: what differs between SQLite and PostgreSQL, behind one interface.

:func:`backend_for` picks one from what ``Database(...)`` is given: a
``postgresql://`` URL is PostgreSQL, anything else a SQLite path.
"""

from __future__ import annotations

from hosthooks.runtime.backends.base import Backend


def is_url(location: str) -> bool:
    """Whether ``location`` names a database server rather than a SQLite file."""
    return location.startswith(("postgresql://", "postgres://"))


def backend_for(location: str, alias: str, *, busy_timeout: float) -> Backend:
    """The backend for ``location`` (a SQLite path or a ``postgresql://`` URL).

    :raises DatabaseError: when PostgreSQL is asked for and psycopg is not
        installed, or a SQLite file's directory does not exist.
    """
    # Imported here: a SQLite app never imports psycopg, and the reverse.
    if is_url(location):
        from hosthooks.runtime.backends.postgresql import PostgreSQLBackend

        return PostgreSQLBackend(location, alias)
    from hosthooks.runtime.backends.sqlite import SQLiteBackend

    return SQLiteBackend(location, alias, busy_timeout=busy_timeout)
