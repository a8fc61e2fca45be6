"""Deferred calls and after-commit callbacks inside the test project, one scenario per
process: ``python -m tests.djangoproject.deferred_scenarios NAME`` prints JSON.

``PROJECT_DB`` names the SQLite file, ``PROJECT_HOSTHOOKS`` the ``HOSTHOOKS``
setting (JSON); ``DJANGO_SETTINGS_MODULE`` is set here.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.djangoproject.settings"

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

import hosthooks  # noqa: E402
from hosthooks import hookimpl  # noqa: E402
from hosthooks.deferred import ModelSnapshot  # noqa: E402
from hosthooks.deferred import current_event  # noqa: E402
from hosthooks.deferred.outbox import Outbox  # noqa: E402
from hosthooks.django.outbox import django_layer  # noqa: E402
from tests.djangoproject.library.models import Author  # noqa: E402


class Snapshots:
    """A deferred post_save recording what each run gets."""

    def __init__(self) -> None:
        self.runs: list[dict[str, Any]] = []

    @hookimpl(defer=True)
    def post_save(self, sender: Any, instance: ModelSnapshot, created: bool) -> None:
        event = current_event()
        assert event is not None
        self.runs.append(
            {
                "sender": sender._meta.label,
                "label": instance.label,
                "pk": instance.pk,
                "name": instance.fields["name"],
                "loaded": instance.load().name,
                "created": created,
                "attempt": event.attempt,
                "in_atomic": transaction.get_connection().in_atomic_block,
            }
        )


def deferred_eager() -> dict[str, Any]:
    """A Django model instance travels as a snapshot; nothing runs for a rollback."""
    call_command("migrate", verbosity=0, run_syncdb=True)
    plugin = Snapshots()
    hosthooks.get_host().register(plugin, "snapshots")
    outbox = Outbox(django_layer, None)
    with transaction.atomic():
        ursula = Author.objects.create(name="Ursula")
        inside = len(plugin.runs)
        rows_inside = len(outbox.deliveries())
    try:
        with transaction.atomic():
            Author.objects.create(name="Rolled back")
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    ursula.name = "Ursula K."
    ursula.save()
    return {
        "runs_inside_the_transaction": inside,
        "rows_inside_the_transaction": rows_inside,
        "runs": plugin.runs,
        "states": sorted(record.state for record in outbox.deliveries()),
    }


def on_commit_after_runtime_import() -> dict[str, Any]:
    """hosthooks.on_commit under Django once the runtime and deferred/ are imported
    after ready(), as a view module may import them."""
    import hosthooks.deferred.runner
    import hosthooks.runtime

    call_command("migrate", verbosity=0, run_syncdb=True)
    ran: list[str] = []

    class Callbacks:
        @hookimpl
        def post_save(self, instance: Any) -> None:
            hosthooks.on_commit(lambda: ran.append(instance.name))

    hosthooks.get_host().register(Callbacks(), "callbacks")
    with transaction.atomic():
        Author.objects.create(name="committed")
        ran_inside = list(ran)
    try:
        with transaction.atomic():
            Author.objects.create(name="rolled back")
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    return {"ran_inside": ran_inside, "ran": ran}


def write_authors() -> dict[str, Any]:
    """Authors saved each in a transaction of its own, one rolled back; the fault
    suite's deferred plugin (HOSTHOOKS' plugins_dir) writes their calls."""
    call_command("migrate", verbosity=0, run_syncdb=True)
    committed = []
    for index in range(int(os.environ.get("PROJECT_AUTHORS", "5"))):
        with transaction.atomic():
            committed.append(Author.objects.create(name=f"author-{index}").name)
    try:
        with transaction.atomic():
            Author.objects.create(name="rolled-back")
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    return {"committed": committed, "rolled_back": ["rolled-back"]}


def outbox_upgrade() -> dict[str, Any]:
    """An outbox of migration 0001 holding a call just written and one the eager
    queue ran, migrated forward: what the relay then takes, the indexes, whether
    the table was rebuilt, the indexes back at 0001, and whether the models
    agree with the migrations' state."""
    from django.db import connection

    def indexes() -> list[str]:
        with connection.cursor() as cursor:
            found = connection.introspection.get_constraints(cursor, "hosthooks_outbox")
        return sorted(name for name, index in found.items() if index["index"])

    def table_identity() -> Any:
        # SQLite gives a rebuilt table a new root page; PostgreSQL a new oid.
        if connection.vendor == "sqlite":
            query = "SELECT rootpage FROM sqlite_master WHERE name = 'hosthooks_outbox'"
        else:
            query = "SELECT 'hosthooks_outbox'::regclass::oid"
        with connection.cursor() as cursor:
            cursor.execute(query)
            return cursor.fetchone()[0]

    call_command("migrate", "hosthooks", "0001", verbosity=0)
    first_indexes = indexes()
    outbox = Outbox(django_layer, None)
    outbox.add("0" * 31 + "1", "post_save", "p", "q", 0, {"arguments": {}})
    outbox.add("0" * 31 + "2", "post_save", "p", "q", 0, {"arguments": {}})
    outbox._run("UPDATE hosthooks_outbox SET state = 'done', next_attempt_at = NULL WHERE id = 2")
    before = table_identity()
    call_command("migrate", verbosity=0)
    relayed = dict(outbox._run("SELECT event_id, relayed FROM hosthooks_outbox"))
    report = {
        "relayed": relayed,
        "taken": [event_id for event_id, _ in outbox.take_due(100)],
        "indexes": indexes(),
        "rebuilt": table_identity() != before,
    }
    try:
        call_command("makemigrations", "hosthooks", check=True, dry_run=True, verbosity=0)
    except SystemExit as exit:
        report["models_differ"] = exit.code != 0
    else:
        report["models_differ"] = False
    call_command("migrate", "hosthooks", "0001", verbosity=0)
    report["indexes_back_at_0001"] = indexes() == first_indexes
    return report


def deliveries() -> list[dict[str, Any]]:
    """Every delivery record of the project's default database."""
    return [record.as_json() for record in Outbox(django_layer, None).deliveries()]


SCENARIOS: dict[str, Callable[[], Any]] = {
    "deliveries": deliveries,
    "outbox_upgrade": outbox_upgrade,
    "write_authors": write_authors,
    "deferred_eager": deferred_eager,
    "on_commit_after_runtime_import": on_commit_after_runtime_import,
}


if __name__ == "__main__":
    print(json.dumps(SCENARIOS[sys.argv[1]]()))
