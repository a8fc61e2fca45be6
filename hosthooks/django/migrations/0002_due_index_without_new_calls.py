"""The outbox's index of due calls leaves out calls just written: the caller's
INSERT writes one index fewer (see :mod:`hosthooks.deferred.schema`)."""

from typing import Any
from typing import ClassVar

from django.db import migrations
from django.db import models

#: Names as they were when this migration was written (a migration stays as it was).
_TABLE = "hosthooks_outbox"
_FRESH_INDEX = "hosthooks_outbox_fresh"


def _count_eager_runs(apps: Any, schema_editor: Any) -> None:
    # Calls the eager queue ran before it counted its runs in `relayed`: counted
    # handed out, so that only calls just written stay out of the new index.
    schema_editor.execute(
        f'UPDATE "{_TABLE}" SET "relayed" = 1 WHERE "relayed" = 0 AND "state" <> %s',
        ["pending"],
    )


def _drop_due_index(apps: Any, schema_editor: Any) -> None:
    # The index of every call by when it is due, dropped by name: Django's own
    # AlterField would rebuild the whole table on SQLite, which copies every
    # call and can take the id counter back below ids a running relay passed.
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, _TABLE)
    for name, constraint in constraints.items():
        if (
            constraint["index"]
            and constraint["columns"] == ["next_attempt_at"]
            and not constraint["unique"]
            and not constraint["primary_key"]
        ):
            schema_editor.execute(f'DROP INDEX "{name}"')


def _restore_due_index(apps: Any, schema_editor: Any) -> None:
    # The name Django gives the index of a field with db_index, as 0001 made it.
    name = schema_editor._create_index_name(_TABLE, ["next_attempt_at"], suffix="")
    schema_editor.execute(f'CREATE INDEX "{name}" ON "{_TABLE}" ("next_attempt_at")')


def _create_fresh_index(apps: Any, schema_editor: Any) -> None:
    # SQLite finds calls just written by id without an index (its writers take
    # turns); PostgreSQL needs one.
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f'CREATE INDEX "{_FRESH_INDEX}" ON "{_TABLE}" ("id") WHERE "relayed" = 0')
    # Django gives a unique text column a second index for LIKE on PostgreSQL;
    # nothing looks event ids up by pattern, and every INSERT would write it.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = %s AND indexname LIKE %s",
            [_TABLE, f"{_TABLE}\\_event\\_id\\_%\\_like"],
        )
        for (name,) in cursor.fetchall():
            schema_editor.execute(f'DROP INDEX "{name}"')


def _drop_fresh_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f'DROP INDEX IF EXISTS "{_FRESH_INDEX}"')
    # The LIKE index of event ids, as Django makes it for 0001's unique CharField.
    name = schema_editor._create_index_name(_TABLE, ["event_id"], suffix="_like")
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{name}" ON "{_TABLE}" ("event_id" varchar_pattern_ops)'
    )


class Migration(migrations.Migration):  # type: ignore[misc]
    dependencies: ClassVar[list[Any]] = [("hosthooks", "0001_initial")]

    operations: ClassVar[list[Any]] = [
        migrations.RunPython(_count_eager_runs, migrations.RunPython.noop),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="deferredcall",
                    name="next_attempt_at",
                    field=models.FloatField(null=True),
                ),
            ],
            database_operations=[migrations.RunPython(_drop_due_index, _restore_due_index)],
        ),
        migrations.AddIndex(
            model_name="deferredcall",
            index=models.Index(
                fields=["next_attempt_at"],
                name="hosthooks_outbox_due_again",
                condition=models.Q(relayed__gt=0),
            ),
        ),
        migrations.RunPython(_create_fresh_index, _drop_fresh_index),
    ]
