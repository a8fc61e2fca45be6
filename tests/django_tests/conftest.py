"""Fixtures of Django's own model-hook tests, translated: a database holding the
test module's ``MODELS``, and the data statements a block sends."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from contextlib import AbstractContextManager
from contextlib import contextmanager

import pytest

from hosthooks.runtime import Database
from hosthooks.runtime import migrate

#: Transaction control, which Django's assertNumQueries does not see inside a
#: TestCase (its model operations open no savepoint there).
_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@pytest.fixture
def db(request, database_location, default_host) -> Iterator[Database]:
    """A database (on each backend) with the tables of the requesting module's ``MODELS``."""
    database = Database(database_location)
    migrate(database, models=request.module.MODELS, verbosity=0)
    yield database
    database.close()


@pytest.fixture
def queries(db: Database) -> Callable[[], AbstractContextManager[list[str]]]:
    """``with queries() as sent:`` the data statements (not transaction control) run
    inside the block, as Django's assertNumQueries counts them."""

    @contextmanager
    def capture() -> Iterator[list[str]]:
        sent: list[str] = []

        def record(statement: str, params: object) -> None:
            if not statement.lstrip().upper().startswith(_TRANSACTION_CONTROL):
                sent.append(statement)

        db.statement_observer = record
        try:
            yield sent
        finally:
            db.statement_observer = None

    return capture
