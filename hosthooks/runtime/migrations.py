"""``migrate``: create the tables and columns the models need, between pre_migrate and post_migrate.

This module is the only place ``pre_migrate`` and ``post_migrate`` are fired.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any
from typing import Final
from typing import TextIO

from hosthooks.deferred import schema as outbox_schema
from hosthooks.host import get_host
from hosthooks.runtime.backends.base import LockTimeout
from hosthooks.runtime.db import Database
from hosthooks.runtime.db import get_database
from hosthooks.runtime.fields import ForeignKey
from hosthooks.runtime.models import Model
from hosthooks.runtime.models import registry


@dataclass(frozen=True)
class Operation:
    """One schema change of a migration plan."""

    #: ``"create_table"``, ``"add_column"``, ``"create_index"`` or
    #: ``"upgrade_outbox"`` (the outbox of an earlier version brought up to date).
    kind: str
    #: The label of the model it is for.
    model: str
    sql: str

    def describe(self) -> str:
        verb = {
            "create_table": "Create table for",
            "add_column": "Add column to",
            "create_index": "Create index for",
            "upgrade_outbox": "Upgrade",
        }[self.kind]
        return f"{verb} {self.model}: {self.sql}"


def _ordered_models(models: list[type[Model]]) -> list[type[Model]]:
    """Models with every model they reference before them, so tables are created in order."""
    ordered: list[type[Model]] = []

    def visit(model: type[Model], path: tuple[type[Model], ...]) -> None:
        if model in ordered or model in path:
            return
        for field in model._meta.fields:
            if isinstance(field, ForeignKey) and field.to in models:
                visit(field.to, (*path, model))
        ordered.append(model)

    for model in models:
        visit(model, ())
    return ordered


#: The label the outbox's operations are shown under.
OUTBOX_LABEL = "hosthooks.outbox"


def _outbox_operations(database: Database) -> list[Operation]:
    """The outbox of deferred calls (:mod:`hosthooks.deferred.outbox`): every
    database gets it, whichever models it holds, as it may hold deferred calls."""
    if database.table_columns(outbox_schema.TABLE):
        if outbox_schema.DUE_INDEX in database.index_names(outbox_schema.TABLE):
            return []
        return [
            Operation("upgrade_outbox", OUTBOX_LABEL, statement)
            for statement in outbox_schema.upgrade_statements(database.vendor)
        ]
    create, *indexes = outbox_schema.create_statements(database.vendor)
    return [
        Operation("create_table", OUTBOX_LABEL, create),
        *(Operation("create_index", OUTBOX_LABEL, index) for index in indexes),
    ]


def plan(database: Database, models: list[type[Model]] | None = None) -> list[Operation]:
    """The operations that bring ``database`` up to ``models`` (default: every
    registered one), and the outbox of deferred calls."""
    chosen = _ordered_models(list(registry.values()) if models is None else models)
    operations = []
    for model in chosen:
        meta = model._meta
        existing = database.table_columns(meta.table)
        if not existing:
            definitions = [field.column_sql(database.backend) for field in meta.fields]
            for group in meta.unique_together:
                quoted = ", ".join(f'"{column}"' for column in group)
                definitions.append(f"UNIQUE ({quoted})")
            columns = ", ".join(definitions)
            operations.append(
                Operation("create_table", meta.label, f'CREATE TABLE "{meta.table}" ({columns})')
            )
            continue
        for field in meta.fields:
            if field.column not in existing:
                # Rows already there have no value for the new column: it is
                # added nullable, whatever the field says, so they stay valid.
                definition = f'"{field.column}" {database.backend.column_types[field.kind]}'
                operations.append(
                    Operation(
                        "add_column",
                        meta.label,
                        f'ALTER TABLE "{meta.table}" ADD COLUMN {definition}',
                    )
                )
    return [*operations, *_outbox_operations(database)]


#: The lock migrations take: processes started together migrate one at a time.
MIGRATION_LOCK: Final = "hosthooks.migrate"
#: How long a migration waits, in all, for another process's to end.
MIGRATION_WAIT_SECONDS: Final = 120.0


def migrate(
    database: Database | None = None,
    *,
    models: list[type[Model]] | None = None,
    verbosity: int = 1,
    interactive: bool = False,
    stdout: TextIO | None = None,
) -> list[Operation]:
    """Create what is missing for the models, in one transaction.

    The transaction first takes a lock (PostgreSQL: an advisory lock; SQLite:
    its write lock), then plans: of several processes started together on one
    empty database, one creates the tables and the others find them made.
    Fires ``pre_migrate`` for every app (the module holding models) before any
    change and ``post_migrate`` after the commit, each with the whole plan,
    even when the plan is empty. A model's own ``after_migrate(database,
    stdout)`` classmethod, if it has one, runs after the changes, inside the
    transaction. An error rolls the schema back to what it was.

    :param database: the database; the ``"default"`` one when None.
    :param models: the models to migrate; every registered model when None.
    :returns: the operations applied.
    """
    database = database or get_database()
    chosen = list(registry.values()) if models is None else models
    apps: list[Any] = []
    for model in chosen:
        app = sys.modules[model.__module__]
        if app not in apps:
            apps.append(app)
    snapshot = dict(registry)
    host = get_host()
    # Processes started together on one empty database wait for each other's
    # migration, however long a busy machine makes it: on SQLite the migration
    # lock is the write lock, which a connection waits for only its busy timeout.
    deadline = time.monotonic() + MIGRATION_WAIT_SECONDS
    while True:
        try:
            operations = _apply(database, chosen, apps, snapshot, verbosity, interactive, stdout)
        except LockTimeout:
            if time.monotonic() >= deadline:
                raise
            # Some lock failures come at once (switching a new file to WAL):
            # a pause keeps the wait from spinning.
            time.sleep(0.05)
            continue
        break
    if host.has_listeners("post_migrate"):
        for app in apps:
            host.hook.post_migrate(
                sender=app,
                app_config=app,
                verbosity=verbosity,
                interactive=interactive,
                using=database.alias,
                apps=dict(registry),
                plan=operations,
                stdout=stdout,
            )
    return operations


def _apply(
    database: Database,
    chosen: list[type[Model]],
    apps: list[Any],
    snapshot: dict[str, type[Model]],
    verbosity: int,
    interactive: bool,
    stdout: TextIO | None,
) -> list[Operation]:
    """One try of the migration, in one transaction under the migration lock."""
    host = get_host()
    with database.atomic():
        database.lock(MIGRATION_LOCK)
        operations = plan(database, chosen)
        if host.has_listeners("pre_migrate"):
            for app in apps:
                host.hook.pre_migrate(
                    sender=app,
                    app_config=app,
                    verbosity=verbosity,
                    interactive=interactive,
                    using=database.alias,
                    apps=snapshot,
                    plan=operations,
                    stdout=stdout,
                )
        for operation in operations:
            database.execute(operation.sql)
            if verbosity >= 1 and stdout is not None:
                stdout.write(f"  {operation.describe()}\n")
        for model in _ordered_models(chosen):
            after_migrate = getattr(model, "after_migrate", None)
            if after_migrate is not None:
                after_migrate(database, stdout)
    return operations
