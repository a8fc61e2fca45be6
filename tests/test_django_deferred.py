"""Deferred calls and hosthooks.on_commit inside the real test project
(tests/djangoproject), one process per scenario."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.databases import scratch_postgresql_database
from tests.services import POSTGRESQL_PORT
from tests.services import need_service
from tests.test_django_bridge import project_environ
from tests.test_django_bridge import run_scenario

pytest.importorskip("django")

REPO = Path(__file__).resolve().parent.parent


def run_deferred_scenario(tmp_path: Path, name: str, hosthooks: dict[str, Any]) -> Any:
    return run_scenario(tmp_path, name, hosthooks, module="tests.djangoproject.deferred_scenarios")


def test_a_django_instance_travels_as_a_snapshot_through_the_outbox(tmp_path):
    # Before: every save raised "cannot travel" after its row was written.
    report = run_deferred_scenario(
        tmp_path, "deferred_eager", {"autoload": False, "queue_backend": "eager"}
    )
    assert report["runs_inside_the_transaction"] == 0
    assert report["rows_inside_the_transaction"] == 1  # written on Django's connection
    first, second = report["runs"]
    assert first == {
        "sender": "library.Author",
        "label": "library.Author",
        "pk": first["pk"],
        "name": "Ursula",
        "loaded": "Ursula",  # .load() reads the row, on Django's connection
        "created": True,
        "attempt": 1,
        "in_atomic": False,
    }
    assert second["name"] == second["loaded"] == "Ursula K."
    assert second["created"] is False
    assert report["states"] == ["done", "done"]  # nothing for the rolled-back write


def test_on_commit_follows_djangos_transaction_after_the_runtime_is_imported(tmp_path):
    # Before: importing the runtime after ready() took over the one commit handler,
    # and callbacks ran at once, for rolled-back transactions too.
    report = run_deferred_scenario(tmp_path, "on_commit_after_runtime_import", {"autoload": False})
    assert report == {"ran_inside": [], "ran": ["committed"]}


# Delivery records in two databases: (alias, event id, plugin, state, created at).
_RECORDS = [
    ("default", "e-pending", "audit", "pending", 1000.0),
    ("default", "e-dead", "webhook", "dead", 2000.0),
    ("default", "e-old-done", "audit", "done", 3000.0),
    ("second", "e-dead-2", "webhook", "dead", 1500.0),
    ("second", "e-done", "audit", "done", 4000.0),
]
_WRITE_RECORDS = """
import time
from hosthooks.deferred.outbox import Outbox
from hosthooks.django.outbox import django_layer
for alias, event_id, plugin, state, created in {records!r}:
    Outbox(django_layer, alias).add(event_id, 'post_save', plugin, 'hosthooks', 2, {{}}, now=created)
    # done rows: one of ten days ago, one of a minute ago
    updated = time.time() - (10 * 86400 if event_id == 'e-old-done' else 60)
    django_layer.execute(
        alias,
        'UPDATE hosthooks_outbox SET state = ?, updated_at = ?, next_attempt_at = NULL '
        'WHERE event_id = ?',
        (state, updated, event_id),
    )
"""


def _command(
    env: dict[str, str], *args: str, runtime: bool = False
) -> subprocess.CompletedProcess[str]:
    program = ["hosthooks"] if runtime else ["tests.djangoproject.manage", "hosthooks"]
    return subprocess.run(
        [sys.executable, "-m", *program, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_manage_deliveries_lists_retries_and_purges_every_databases_outbox(tmp_path):
    env = project_environ(tmp_path, {"autoload": False})
    env["PROJECT_SECOND_DB"] = str(tmp_path / "second.sqlite3")
    for args in (["migrate"], ["migrate", "hosthooks", "--database", "second"]):
        done = subprocess.run(
            [sys.executable, "-m", "tests.djangoproject.manage", *args, "--verbosity", "0"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
    written = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.djangoproject.manage",
            "shell",
            "-c",
            _WRITE_RECORDS.format(records=_RECORDS),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert written.returncode == 0, written.stderr

    # Both databases, newest first, with the runtime's JSON keys.
    listed = _command(env, "deliveries", "--json")
    assert listed.returncode == 0, listed.stderr
    records = json.loads(listed.stdout)
    assert [(r["event_id"], r["state"]) for r in records] == [
        ("e-done", "done"),
        ("e-old-done", "done"),
        ("e-dead", "dead"),
        ("e-dead-2", "dead"),
        ("e-pending", "pending"),
    ]
    # One alias's output is the runtime command's on the same database file, JSON and text.
    for shown in (["--json"], []):
        django = _command(env, "deliveries", "--db", "default", *shown)
        runtime = _command(
            env, "deliveries", "--db", str(tmp_path / "project.sqlite3"), *shown, runtime=True
        )
        assert django.returncode == runtime.returncode == 0, django.stderr + runtime.stderr
        assert django.stdout == runtime.stdout
    text = _command(env, "deliveries").stdout.splitlines()
    assert text[0] == "pending 1, sent 0, running 0, done 2, failed 0, held 0, dead 2"

    dead = _command(env, "deliveries", "--state", "dead", "--plugin", "webhook", "--json")
    assert [r["event_id"] for r in json.loads(dead.stdout)] == ["e-dead", "e-dead-2"]

    retried = _command(env, "deliveries", "retry", "--dead", "--plugin", "webhook")
    assert (retried.returncode, retried.stdout) == (0, "retried 2 call(s)\n"), retried.stderr
    refused = _command(env, "deliveries", "retry", "e-done", "e-nothing")
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        "hosthooks: not retried: e-done: it is done",
        "hosthooks: not retried: e-nothing: no such call",
    ]

    purged = _command(env, "deliveries", "purge", "--done-older-than", "7d")
    assert (purged.returncode, purged.stdout) == (0, "purged 1 done call(s)\n"), purged.stderr
    after = json.loads(_command(env, "deliveries", "--json").stdout)
    assert [(r["event_id"], r["state"]) for r in after] == [
        ("e-done", "done"),
        ("e-dead", "pending"),
        ("e-dead-2", "pending"),
        ("e-pending", "pending"),
    ]

    unknown = _command(env, "deliveries", "--db", "nosuch")
    assert unknown.returncode == 1
    assert unknown.stderr == (
        "hosthooks: error: --db nosuch: no database of that alias has the outbox table "
        "(those that have it: default, second)\n"
    )


@pytest.mark.parametrize("vendor", ["sqlite", "postgresql"])
def test_migration_0002_brings_an_outbox_with_calls_forward(tmp_path, vendor):
    env = project_environ(tmp_path, {"autoload": False})
    with contextlib.ExitStack() as stack:
        if vendor == "postgresql":
            need_service("PostgreSQL", POSTGRESQL_PORT)
            url = stack.enter_context(scratch_postgresql_database("upgrade"))
            env["PROJECT_POSTGRESQL_DB"] = url.rsplit("/", 1)[1]
        result = subprocess.run(
            [sys.executable, "-m", "tests.djangoproject.deferred_scenarios", "outbox_upgrade"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=240,
        )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    just_written, eager_done = "0" * 31 + "1", "0" * 31 + "2"
    # The call the eager queue ran counts as handed out: only the call just
    # written is left out of the index of due calls, and the relay finds it.
    assert report["relayed"] == {just_written: 0, eager_done: 1}
    assert report["taken"] == [just_written]
    assert "hosthooks_outbox_due_again" in report["indexes"]
    assert ("hosthooks_outbox_fresh" in report["indexes"]) == (vendor == "postgresql")
    # Django's LIKE index on event ids (PostgreSQL) is gone, and so is the index
    # of every call by next_attempt_at that migration 0001 made.
    assert not [name for name in report["indexes"] if name.endswith("_like")]
    assert [name for name in report["indexes"] if "next_attempt" in name] == []
    # Before: Django's AlterField rebuilt the table on SQLite, copying every call
    # and taking the id counter back when the newest rows had been purged.
    assert report["rebuilt"] is False
    # The migrations' state is the models' (makemigrations --check finds nothing),
    # and going back to 0001 restores every index 0002 dropped.
    assert report["models_differ"] is False
    assert report["indexes_back_at_0001"] is True
