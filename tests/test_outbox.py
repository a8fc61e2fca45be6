"""The outbox of deferred calls on the runtime, SQLite and PostgreSQL: a call is a
row of the write's own transaction, its delivery record moves through its
states, only the implementation's own errors count, a missing plugin holds the
call, and the operators' verbs act on the records."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import hosthooks
from hosthooks import Host
from hosthooks import HostConfig
from hosthooks import hookimpl
from hosthooks.configuration.keys import duration_from_text
from hosthooks.deferred import current_event
from hosthooks.deferred.outbox import Delivery
from hosthooks.deferred.outbox import Outbox
from hosthooks.deferred.runner import backoff
from hosthooks.deferred.runner import deliver
from hosthooks.runtime import Database
from hosthooks.runtime import DatabaseError
from hosthooks.runtime import atomic
from hosthooks.runtime import migrate
from hosthooks.runtime.db import runtime_layer
from tests.bookshop.models import MODELS
from tests.bookshop.models import Author
from tests.services import free_port

HOSTHOOKS = Path(sys.executable).parent / "hosthooks"
REPO = Path(__file__).resolve().parent.parent
#: A broker nobody listens on: the caller must never notice.
NOWHERE = f"redis://127.0.0.1:{free_port()}/0"
RECORD_KEYS = {
    "event_id",
    "hook",
    "plugin",
    "queue",
    "state",
    "attempts",
    "retries",
    "next_attempt_at",
    "last_error",
    "created_at",
    "updated_at",
}


class Calls:
    """A plugin deferring post_save, recording each run; an author named
    ``key-error`` raises KeyError on the first attempt, ``poison`` always raises."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, int]] = []

    @hookimpl(defer=True, retries=2)
    def post_save(self, instance: Any) -> None:
        event = current_event()
        assert event is not None
        name = instance.fields["name"]
        self.runs.append((name, event.attempt))
        if name == "key-error" and event.attempt == 1:
            raise KeyError("missing-key")
        if name == "poison":
            raise RuntimeError("poisoned")


def make_host(backend: str, **config: Any) -> Iterator[Host]:
    host = Host(HostConfig(autoload=False, queue_backend=backend, broker_url=NOWHERE, **config))
    hosthooks.set_default_host(host)
    yield host
    hosthooks.set_default_host(None)


@pytest.fixture
def celery_host() -> Iterator[Host]:
    """A host whose deferred calls go to a broker that does not exist."""
    yield from make_host("celery")


@pytest.fixture
def eager_host() -> Iterator[Host]:
    yield from make_host("eager", deliveries_held_grace=1)


def open_database(location: str) -> Database:
    database = Database(location)
    migrate(database, models=MODELS, verbosity=0)
    return database


@pytest.fixture
def outbox(database_location: str) -> Iterator[Outbox]:
    database = open_database(database_location)
    yield Outbox(runtime_layer, None)
    database.close()


def from_another_thread(outbox: Outbox) -> list[Delivery]:
    """The records as another connection sees them (each thread has its own)."""
    seen: list[Delivery] = []
    reader = threading.Thread(target=lambda: seen.extend(outbox.deliveries()))
    reader.start()
    reader.join()
    return seen


def test_a_deferred_call_is_a_row_of_the_writes_own_transaction(celery_host, outbox):
    celery_host.register(Calls(), "calls")
    with atomic():
        Author(name="kept").save()
        # Written on the write's connection, inside its transaction: this
        # connection sees it, no other one does yet.
        assert [record.state for record in outbox.deliveries()] == ["pending"]
        assert from_another_thread(outbox) == []
    (committed,) = from_another_thread(outbox)
    assert (committed.plugin, committed.hook, committed.state) == ("calls", "post_save", "pending")
    with pytest.raises(RuntimeError, match="abort"), atomic():
        Author(name="rolled back").save()
        raise RuntimeError("abort")
    assert [record.event_id for record in from_another_thread(outbox)] == [committed.event_id]


def test_the_caller_pays_a_local_insert_never_a_broker_round_trip(celery_host, outbox):
    celery_host.register(Calls(), "calls")
    started = time.perf_counter()
    for index in range(50):
        Author(name=f"author-{index}").save()
    elapsed = time.perf_counter() - started
    # No broker listens: a single attempt to reach it would cost far more.
    assert elapsed < 2.0
    records = outbox.deliveries()
    assert len(records) == 50
    assert {record.state for record in records} == {"pending"}


def test_a_missing_outbox_table_fails_the_write_whole(celery_host, tmp_path):
    database = open_database(str(tmp_path / "app.sqlite3"))
    database.execute('DROP TABLE "hosthooks_outbox"')
    celery_host.register(Calls(), "calls")
    with pytest.raises(DatabaseError, match="hosthooks_outbox"):
        Author(name="never half-written").save()
    assert Author.objects.count() == 0
    assert not Outbox(runtime_layer, None).exists()
    database.close()


def test_records_end_done_and_a_key_error_is_retried_like_any_error(eager_host, outbox):
    calls = Calls()
    eager_host.register(calls, "calls")
    Author(name="fine").save()
    # Before: the worker took every LookupError for "not loaded here" and dropped the call.
    Author(name="key-error").save()
    assert calls.runs == [("fine", 1), ("key-error", 1), ("key-error", 2)]
    states = {record.event_id: record for record in outbox.deliveries()}
    assert sorted((record.state, record.attempts) for record in states.values()) == [
        ("done", 1),
        ("done", 2),
    ]
    done = [record for record in states.values() if record.attempts == 2]
    assert done[0].last_error is None
    assert all(record.next_attempt_at is None for record in states.values())


def test_a_poison_call_ends_dead_with_its_error(eager_host, outbox):
    calls = Calls()
    eager_host.register(calls, "calls")
    Author(name="poison").save()
    assert calls.runs == [("poison", 1), ("poison", 2), ("poison", 3)]
    (record,) = outbox.deliveries()
    assert (record.state, record.attempts, record.retries) == ("dead", 3, 2)
    assert record.last_error == "RuntimeError: poisoned"
    assert set(record.as_json()) == RECORD_KEYS


def test_a_call_whose_plugin_is_missing_is_held_then_dead_then_retried(eager_host, outbox):
    calls = Calls()
    eager_host.register(calls, "calls")
    with atomic():
        Author(name="later").save()
        (pending,) = outbox.deliveries()
    # A worker without the plugin (a rolling deploy): held, the attempt not counted.
    without = Host(HostConfig(autoload=False, queue_backend="eager", deliveries_held_grace=1))
    (record,) = outbox.deliveries()
    assert record.state == "done"  # the eager host ran it after commit
    event_id = pending.event_id
    assert outbox.retry([event_id]) == []  # done: not retried
    outbox.finish(event_id, "failed", next_attempt_at=time.time())
    outbox.retry([event_id])
    assert deliver(without, outbox, event_id, ("pending",)) == "held"
    (held,) = outbox.deliveries()
    assert (held.state, held.attempts) == ("held", 0)
    assert held.last_error == (
        "NotLoadedHere: no deferred implementation of 'post_save' by plugin 'calls' is loaded here"
    )
    time.sleep(1.1)  # the grace period of 1 s passes
    outbox._run("UPDATE hosthooks_outbox SET state = 'sent'")
    assert deliver(without, outbox, event_id) == "dead"
    assert outbox.deliveries()[0].state == "dead"
    # The plugin is there again: an operator retries the dead call, and it runs.
    assert outbox.retry(dead=True) == [event_id]
    runs_before = len(calls.runs)
    assert deliver(eager_host, outbox, event_id, ("pending",)) == "done"
    assert len(calls.runs) == runs_before + 1
    assert outbox.counts()["done"] == 1


def test_a_message_delivered_twice_runs_once(eager_host, outbox):
    calls = Calls()
    eager_host.register(calls, "calls")
    with atomic():
        Author(name="once").save()
        (record,) = outbox.deliveries()
    assert deliver(eager_host, outbox, record.event_id, ("pending", "sent")) == "skipped"
    assert calls.runs == [("once", 1)]


def test_backoff_doubles_with_jitter_up_to_the_cap():
    for attempt in range(1, 12):
        ceiling = min(30.0, 2.0 ** (attempt - 1))
        waits = {backoff(attempt, 30.0) for _ in range(50)}
        assert all(ceiling / 2 <= wait <= ceiling for wait in waits)
        assert len(waits) > 1  # jitter: not the same wait for every call
    assert max(backoff(40, 3600.0) for _ in range(20)) <= 3600.0


def test_an_after_commit_callback_that_raises_is_logged_and_the_others_run(
    eager_host, outbox, caplog
):
    ran: list[str] = []

    class Boom:
        @hookimpl
        def post_save(self, instance: Any) -> None:
            def explode() -> None:
                raise ValueError("after-commit failure")

            hosthooks.on_commit(explode)

    class Fine:
        @hookimpl
        def post_save(self, instance: Any) -> None:
            hosthooks.on_commit(lambda: ran.append(instance.name))

    eager_host.register(Boom(), "boom")
    eager_host.register(Fine(), "fine")
    with caplog.at_level(logging.ERROR, logger="hosthooks.transactions"), atomic():
        Author(name="committed").save()
    assert ran == ["committed"]
    assert "of plugin 'boom', hook 'post_save' raised" in caplog.text
    assert "ValueError: after-commit failure" in caplog.text
    assert Author.objects.count() == 1


def test_an_async_implementation_defers_under_ahook_as_under_hook(eager_host, outbox):
    ran: list[tuple[str, int]] = []

    class AsyncCalls:
        @hookimpl(defer=True)
        async def post_save(self, instance: Any, created: bool) -> None:
            await asyncio.sleep(0)
            event = current_event()
            assert event is not None
            ran.append((instance.fields["name"], event.attempt))

    eager_host.register(AsyncCalls(), "async_calls")
    author = Author(name="async")
    with atomic():
        author.save()
        assert ran == []  # deferred: not run inside the transaction
        # Before: host.ahook called the implementation inline with every argument.
        asyncio.run(
            eager_host.ahook.post_save(
                sender=Author,
                instance=author,
                created=False,
                raw=False,
                using="default",
                update_fields=None,
            )
        )
        assert ran == []
    assert ran == [("async", 1), ("async", 1)]
    assert [record.state for record in outbox.deliveries()] == ["done", "done"]


def test_defer_without_celery_is_a_problem_at_load_naming_the_extra(monkeypatch, tmp_path):
    plugin = tmp_path / "needs_celery.py"
    plugin.write_text(
        "from hosthooks import hookimpl\n\n@hookimpl(defer=True)\ndef post_save(instance): pass\n"
    )
    # None in sys.modules makes `import celery` fail as it does when it is not installed.
    monkeypatch.setitem(sys.modules, "celery", None)
    host = Host(HostConfig(autoload=False, queue_backend="celery"))
    (record,) = host.load_directory(tmp_path)
    assert record.status is hosthooks.Status.FAILED
    assert record.error is not None
    assert "pip install 'hosthooks[celery]'" in record.error
    eager = Host(HostConfig(autoload=False, queue_backend="eager"))
    (eager_record,) = eager.load_directory(tmp_path)
    assert eager_record.status is hosthooks.Status.ACTIVE


def test_durations_read_as_the_configuration_writes_them():
    assert [duration_from_text(text) for text in ("30m", "12h", "7d", "45s", "90")] == [
        1800,
        43200,
        604800,
        45,
        90,
    ]
    with pytest.raises(ValueError, match="'7x' is not a duration"):
        duration_from_text("7x")


def test_a_duration_unit_reads_in_either_case():
    # Configurations written before the parser grew stricter say 7D or 12H.
    assert [duration_from_text(text) for text in ("7D", "12H", "30M", "45S")] == [
        604800,
        43200,
        1800,
        45,
    ]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HOSTHOOKS), "--disable-plugin-autoload", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


def test_the_operators_verbs_list_retry_and_purge(eager_host, tmp_path):
    location = str(tmp_path / "app.sqlite3")
    database = open_database(location)
    calls = Calls()
    eager_host.register(calls, "calls")
    Author(name="poison").save()
    Author(name="fine").save()
    outbox = Outbox(runtime_layer, None)
    dead_id = next(record.event_id for record in outbox.deliveries() if record.state == "dead")
    # Done a day ago: purged by --done-older-than 12h, not by 7d.
    outbox._run(
        "UPDATE hosthooks_outbox SET updated_at = ? WHERE state = 'done'", (time.time() - 86400,)
    )
    database.close()

    listed = run_cli("deliveries", "--db", location, "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    records = json.loads(listed.stdout)
    assert [(record["state"], set(record)) for record in records] == [
        ("done", RECORD_KEYS),
        ("dead", RECORD_KEYS),
    ]
    dead_only = run_cli("deliveries", "--db", location, "--state", "dead", cwd=tmp_path)
    assert dead_only.returncode == 0, dead_only.stderr
    assert dead_only.stdout.splitlines()[0].startswith("pending 0, sent 0, running 0, done 1")
    assert dead_id in dead_only.stdout
    assert "RuntimeError: poisoned" in dead_only.stdout

    kept = run_cli("deliveries", "purge", "--done-older-than", "7d", "--db", location, cwd=tmp_path)
    assert (kept.returncode, kept.stdout) == (0, "purged 0 done call(s)\n")
    purged = run_cli(
        "deliveries", "purge", "--done-older-than", "12h", "--db", location, cwd=tmp_path
    )
    assert (purged.returncode, purged.stdout) == (0, "purged 1 done call(s)\n")

    unknown = run_cli("deliveries", "retry", "f" * 32, "--db", location, cwd=tmp_path)
    assert unknown.returncode == 1
    assert f"not retried: {'f' * 32}: no such call" in unknown.stderr
    retried = run_cli("deliveries", "retry", "--dead", "--db", location, cwd=tmp_path)
    assert (retried.returncode, retried.stdout) == (0, "retried 1 call(s)\n")
    after = json.loads(run_cli("deliveries", "--db", location, "--json", cwd=tmp_path).stdout)
    assert [(record["event_id"], record["state"], record["attempts"]) for record in after] == [
        (dead_id, "pending", 0)
    ]
    bad = run_cli(
        "deliveries", "purge", "--done-older-than", "soon", "--db", location, cwd=tmp_path
    )
    assert bad.returncode == 2
    assert "'soon' is not a duration" in bad.stderr


EAGER_SINK_PLUGIN = """
import os

from hosthooks import hookimpl


@hookimpl(defer=True)
def post_save():
    with open(os.environ["EAGER_SINK"], "a") as sink:
        sink.write("ran\\n")
"""


def test_under_the_eager_queue_a_retried_call_runs_in_the_command(tmp_path, monkeypatch):
    """No worker takes calls under the eager queue: ``deliveries retry`` runs them
    itself, as the console's Retry does, and waits while their plugin is muted."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "eager_sink.py").write_text(EAGER_SINK_PLUGIN)
    sink = tmp_path / "sink.txt"
    monkeypatch.setenv("EAGER_SINK", str(sink))
    monkeypatch.setenv("HOSTHOOKS_QUEUE_BACKEND", "eager")
    with_plugins = ("--plugins-dir", str(plugins))
    location = str(tmp_path / "app.sqlite3")
    migrated = run_cli(*with_plugins, "migrate", "--db", location, cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr

    def dead_call() -> str:
        event_id = uuid.uuid4().hex
        with contextlib.closing(sqlite3.connect(location)) as connection, connection:
            connection.execute(
                "INSERT INTO hosthooks_outbox (event_id, hook, plugin, queue, state, attempts, "
                "retries, relayed, next_attempt_at, held_since, last_error, created_at, "
                "updated_at, message, traceparent) VALUES (?, 'post_save', 'eager_sink', "
                "'hosthooks', 'dead', 4, 3, 1, NULL, NULL, 'RuntimeError: down', ?, ?, "
                "'{\"arguments\": {}}', NULL)",
                (event_id, time.time(), time.time()),
            )
        return event_id

    def state_of(event_id: str) -> str:
        listed = run_cli("deliveries", "--db", location, "--json", cwd=tmp_path)
        return str(next(r["state"] for r in json.loads(listed.stdout) if r["event_id"] == event_id))

    first = dead_call()
    retried = run_cli(
        *with_plugins, "deliveries", "retry", "--dead", "--db", location, cwd=tmp_path
    )
    assert (retried.returncode, retried.stdout) == (
        0,
        "retried 1 call(s), run here (the eager queue): done 1\n",
    ), retried.stderr
    assert sink.read_text() == "ran\n"
    assert state_of(first) == "done"
    # Muted in the app's database: the call waits here as it would in serve.
    muted = run_cli(*with_plugins, "mute", "eager_sink", "--db", location, cwd=tmp_path)
    assert muted.returncode == 0, muted.stderr
    second = dead_call()
    retried = run_cli(*with_plugins, "deliveries", "retry", second, "--db", location, cwd=tmp_path)
    assert retried.stdout == "retried 1 call(s), run here (the eager queue): pending 1\n"
    assert sink.read_text() == "ran\n"
    assert state_of(second) == "pending"


def test_worker_and_relay_refuse_to_start_without_the_outbox_table(tmp_path):
    location = tmp_path / "app.sqlite3"
    database = Database(location)
    database.execute('CREATE TABLE "unrelated" ("id" INTEGER PRIMARY KEY)')
    database.close()
    for command in (["worker", "--app", "tests.bookshop.models"], ["relay"], ["deliveries"]):
        result = subprocess.run(
            [str(HOSTHOOKS), "--disable-plugin-autoload", *command, "--db", str(location)],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
        )
        assert result.returncode == 1, (command, result.stderr)
        assert "the outbox table 'hosthooks_outbox' is missing" in result.stderr
        assert "run hosthooks migrate" in result.stderr


def test_a_worker_names_the_deferred_queues_it_does_not_consume():
    from hosthooks.commands.runtime import unconsumed_queues

    class Webhooks:
        @hookimpl(defer=True, queue="webhooks")
        def post_save(self, instance: Any) -> None:
            raise AssertionError("never called")

    host = Host(HostConfig(autoload=False, queue_backend="eager"))
    host.register(Webhooks(), "webhooks")
    host.register(Calls(), "calls")
    assert unconsumed_queues(host, ["hosthooks", "webhooks"]) == []
    assert unconsumed_queues(host, ["hosthooks"]) == [
        "webhooks: hook 'post_save': its deferred calls go to queue 'webhooks', which this "
        "worker does not consume (--queues hosthooks): another worker must"
    ]


def test_check_names_a_missing_outbox_table_when_plugins_defer(tmp_path):
    import sqlite3

    location = str(tmp_path / "app.sqlite3")
    plugins = ["--plugins-dir", str(REPO / "tests" / "deferred_fault_plugins")]
    migrated = run_cli(
        *plugins, "migrate", "--db", location, "--app", "hosthooks.runtime.demo", cwd=REPO
    )
    assert migrated.returncode == 0, migrated.stderr
    assert run_cli(*plugins, "check", "--db", location, cwd=REPO).returncode == 0
    # closing() closes the connection; the connection itself commits.
    with contextlib.closing(sqlite3.connect(location)) as connection, connection:
        connection.execute('DROP TABLE "hosthooks_outbox"')
    checked = run_cli(*plugins, "check", "--db", location, cwd=REPO)
    assert checked.returncode == 1
    assert checked.stdout.splitlines() == [
        "database: the outbox table 'hosthooks_outbox' is missing, and plugins defer calls "
        "to it (defer=True): run hosthooks migrate"
    ]
    # Without a plugin that defers, the table is not needed.
    assert run_cli("check", "--db", location, cwd=REPO).returncode == 0


def test_a_hook_without_a_write_of_its_own_writes_to_the_default_database(eager_host, outbox):
    seen: list[tuple[str, object]] = []

    class Settings:
        @hookimpl(defer=True)
        def setting_changed(self, setting: str, value: object) -> None:
            seen.append((setting, value))

    eager_host.register(Settings(), "settings_watcher")
    eager_host.hook.setting_changed(sender=object, setting="DEBUG", value=True, enter=True)
    assert seen == [("DEBUG", True)]
    (record,) = outbox.deliveries()
    assert (record.hook, record.plugin, record.state) == (
        "setting_changed",
        "settings_watcher",
        "done",
    )


def _add(outbox: Outbox, count: int) -> list[str]:
    event_ids = [uuid.uuid4().hex for _ in range(count)]
    for event_id in event_ids:
        outbox.add(event_id, "post_save", "p", "q", 0, {"arguments": {}})
    return event_ids


def _taken(outbox: Outbox, now: float | None = None) -> set[str]:
    return {event_id for event_id, _ in outbox.take_due(1000, now=now)}


def test_a_call_just_written_is_in_no_index_of_due_calls(outbox):
    # A call in the index of due calls would be one more index page for the
    # caller's INSERT to write (and, on SQLite, to journal) at each COMMIT.
    sqlite = runtime_layer.vendor(None) == "sqlite"
    if sqlite:
        rows = outbox._run(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?",
            ("hosthooks_outbox",),
        )
    else:
        rows = outbox._run(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ?",
            ("hosthooks_outbox",),
        )
    due = [sql for name, sql in rows if sql is not None and "next_attempt_at" in sql]
    assert len(due) == 1
    # Each database's own spelling of the index's condition.
    assert ('WHERE "relayed" > 0' if sqlite else "WHERE (relayed > 0)") in due[0]
    _add(outbox, 3)
    ((listed,),) = outbox._run(
        'SELECT COUNT(*) FROM "hosthooks_outbox" WHERE relayed > 0 AND next_attempt_at <= ?',
        (time.time() + 60,),
    )
    assert listed == 0


def test_the_relay_takes_calls_just_written_and_calls_due_again_once(outbox):
    first = _add(outbox, 3)
    assert _taken(outbox) == set(first)
    assert _taken(outbox) == set()
    # A write rolled back leaves nothing for the relay; the next one is found.
    with pytest.raises(RuntimeError), atomic():
        _add(outbox, 1)
        raise RuntimeError("rolled back")
    second = _add(outbox, 2)
    # Given back (the broker refused), and due again at once.
    outbox.give_back(first[:1], time.time() - 1)
    assert _taken(outbox) == {first[0], *second}
    # Another relay (another process) takes nothing twice, and finds what comes next.
    other = Outbox(runtime_layer, None)
    assert _taken(other) == set()
    third = _add(outbox, 2)
    assert _taken(other) == set(third)
    assert _taken(outbox) == set()
    # Sent calls nobody took are sent again when their lease runs out.
    assert _taken(outbox, now=time.time() + 3600) == {*first, *second, *third}


def _ids_go_back(outbox: Outbox) -> None:
    """Every row gone and the id counter with it, as a table rebuilt without its
    newest rows or a database file replaced at the same path leave them."""
    outbox._run('DELETE FROM "hosthooks_outbox"')
    if runtime_layer.vendor(None) == "sqlite":
        outbox._run("DELETE FROM sqlite_sequence WHERE name = ?", ("hosthooks_outbox",))


def test_the_relay_finds_calls_whose_ids_went_back_below_what_it_passed(outbox):
    # Before: a running relay on SQLite looked only above the greatest id it had
    # handed out, and never took calls written with smaller ids.
    passed = _add(outbox, 3)
    assert _taken(outbox) == set(passed)
    _ids_go_back(outbox)
    written = _add(outbox, 2)
    assert _taken(outbox) == set(written)
    assert _taken(outbox) == set()
    # More calls written before the relay looks than it had passed: ids above
    # its mark again, those below are found after the next purge round.
    passed = _add(outbox, 3)
    assert _taken(outbox) == set(passed)
    _ids_go_back(outbox)
    written = _add(outbox, 6)
    before_purge = _taken(outbox)
    outbox.purge_done(older_than=3600)
    assert before_purge | _taken(outbox) == set(written)


def test_a_call_the_eager_queue_took_and_gave_back_is_relayed(outbox):
    (event_id,) = _add(outbox, 1)
    # A worker muted while running a call in process (the eager queue) gives it back.
    (started,) = outbox.start([event_id], from_states=("pending",))
    outbox.postpone(started.event_id, time.time() - 1)
    assert outbox.deliveries()[0].state == "pending"
    assert _taken(outbox) == {event_id}


def test_migrate_brings_an_outbox_of_the_former_schema_up_to_date(database_location):
    from hosthooks.deferred import schema

    database = Database(database_location)
    migrate(database, models=[], verbosity=0)
    # The former schema: one index of every call by when it is due.
    for index in schema.index_statements(database.vendor):
        database.execute(f"DROP INDEX {index.split()[2]}")
    database.execute('CREATE INDEX "hosthooks_outbox_due" ON "hosthooks_outbox" (next_attempt_at)')
    outbox = Outbox(runtime_layer, None)
    pending, eager_done = _add(outbox, 2)
    database.execute(
        "UPDATE \"hosthooks_outbox\" SET state = 'done', next_attempt_at = NULL WHERE event_id = ?",
        (eager_done,),
    )
    plan = migrate(database, models=[], verbosity=0)
    assert {operation.kind for operation in plan} == {"upgrade_outbox"}
    assert database.index_names("hosthooks_outbox") >= {"hosthooks_outbox_due_again"}
    assert "hosthooks_outbox_due" not in database.index_names("hosthooks_outbox")
    relayed = dict(database.execute('SELECT event_id, relayed FROM "hosthooks_outbox"').fetchall())
    assert relayed == {pending: 0, eager_done: 1}
    assert _taken(outbox) == {pending}
    assert migrate(database, models=[], verbosity=0) == []
    database.close()
