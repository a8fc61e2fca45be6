"""Databases for the model-layer tests, on either backend.

A test run on PostgreSQL creates one database of its own (on the server
:mod:`tests.services` names), empties its schema between tests, and drops it
at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from typing import Any

from tests.services import POSTGRESQL_PORT

if TYPE_CHECKING:
    # tests.conftest imports this module, and processes that must not load the
    # runtime (the Django project's) import tests.conftest.
    from hosthooks.runtime import Database

BACKENDS = ("sqlite", "postgresql")
SERVER_URL = f"postgresql://postgres@127.0.0.1:{POSTGRESQL_PORT}"


def admin_connection(database: str = "postgres") -> Any:
    import psycopg

    return psycopg.connect(f"{SERVER_URL}/{database}", autocommit=True)


@contextmanager
def scratch_postgresql_database(purpose: str = "test") -> Iterator[str]:
    """A new, empty database on the server: its URL, inside the block; dropped after."""
    name = f"hosthooks_{purpose}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{SERVER_URL}/{name}"
    finally:
        with admin_connection() as admin:
            # FORCE: a server process under test may still hold a connection.
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def empty_schema(url: str) -> None:
    """Remove every table from the database at ``url``, as if it were new."""
    with admin_connection(url.rsplit("/", 1)[1]) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")


def dump(database: Database) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Every table's rows, in primary-key order: equal dumps hold equal data."""
    tables = []
    for table in database.table_names():
        columns = database.table_columns(table)
        order = '"id"' if "id" in columns else ", ".join(f'"{name}"' for name in sorted(columns))
        rows = database.execute(f'SELECT * FROM "{table}" ORDER BY {order}').fetchall()
        tables.append((table, [tuple(row) for row in rows]))
    return tables
