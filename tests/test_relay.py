"""The relay over real databases and a real broker: relays on several threads share
one PostgreSQL outbox without sending a call twice, done calls past the kept
window are purged, and ``hosthooks relay`` beside ``hosthooks worker --no-relay``
runs every call."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hosthooks.deferred.celery_app import make_celery_app
from hosthooks.deferred.outbox import Outbox
from hosthooks.deferred.relay import Relay
from hosthooks.runtime import Database
from hosthooks.runtime import atomic
from hosthooks.runtime import migrate
from hosthooks.runtime.db import runtime_layer
from tests.databases import scratch_postgresql_database
from tests.services import POSTGRESQL_PORT
from tests.services import REDIS_PORT
from tests.services import need_service
from tests.serving import HOSTHOOKS
from tests.serving import Client
from tests.serving import Server
from tests.serving import clean_environ
from tests.test_workers import _delete_queue

REPO = Path(__file__).resolve().parent.parent
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"
FAULT_PLUGINS = Path(__file__).resolve().parent / "deferred_fault_plugins"


@pytest.fixture
def queue() -> Iterator[str]:
    need_service("Redis", REDIS_PORT)
    name = f"hosthooks-relay-{uuid.uuid4().hex[:12]}"
    yield name
    _delete_queue(REDIS_URL, name)


def test_relays_sharing_a_postgresql_outbox_send_each_call_once(queue):
    need_service("PostgreSQL", POSTGRESQL_PORT)
    with scratch_postgresql_database("relays") as url:
        database = Database(url)
        migrate(database, models=[], verbosity=0)
        outbox = Outbox(runtime_layer, None)
        with atomic():
            for _ in range(3000):
                outbox.add(uuid.uuid4().hex, "post_save", "p", queue, 0, {"arguments": {}})
        app = make_celery_app(REDIS_URL, 3600)
        moved: list[int] = []

        def relay() -> None:
            # Each thread has a connection of its own: four relays on one outbox.
            the_relay = Relay(app, [outbox], keep=3600)
            total = 0
            while True:
                batch = the_relay.run_once()
                if not batch:
                    break
                total += batch
            moved.append(total)

        threads = [threading.Thread(target=relay) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert sum(moved) == 3000
        relayed = database.execute(
            'SELECT relayed, COUNT(*) FROM "hosthooks_outbox" GROUP BY relayed'
        ).fetchall()
        assert [tuple(row) for row in relayed] == [(1, 3000)]  # each sent once
        assert outbox.counts()["sent"] == 3000
        database.close()


def test_the_relay_purges_done_calls_past_the_kept_window(tmp_path):
    database = Database(tmp_path / "app.sqlite3")
    migrate(database, models=[], verbosity=0)
    outbox = Outbox(runtime_layer, None)
    old, recent, pending = (uuid.uuid4().hex for _ in range(3))
    for event_id in (old, recent, pending):
        outbox.add(event_id, "post_save", "p", "q", 0, {"arguments": {}})
    outbox.finish_done([old, recent])
    database.execute(
        "UPDATE hosthooks_outbox SET updated_at = ? WHERE event_id = ?", (time.time() - 7200, old)
    )
    relay = Relay(None, [outbox], keep=3600)
    assert relay.purge() == 1
    assert sorted(record.event_id for record in outbox.deliveries()) == sorted([recent, pending])
    database.close()


def test_hosthooks_relay_beside_workers_that_do_not_relay(tmp_path: Path, queue: str) -> None:
    record = tmp_path / "record.jsonl"
    location = str(tmp_path / "app.sqlite3")
    environment = clean_environ()
    environment.update(
        PYTHONPATH=str(REPO),
        HOSTHOOKS_BROKER_URL=REDIS_URL,
        HOSTHOOKS_SECRET_KEY="k" * 48,
        HOSTHOOKS_TEST_QUEUE=queue,
        HOSTHOOKS_TEST_RECORD=str(record),
    )
    plugins = ["--plugins-dir", str(FAULT_PLUGINS)]
    processes: list[subprocess.Popen[str]] = []

    def start(name: str, *arguments: str) -> Path:
        log = tmp_path / f"{name}.log"
        with log.open("w") as log_file:
            processes.append(
                subprocess.Popen(
                    [str(HOSTHOOKS), *plugins, *arguments],
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    text=True,
                    env=environment,
                    cwd=tmp_path,
                )
            )
        return log

    try:
        serve_log = start("serve", "serve", "--port", "0", "--db", location)
        deadline = time.monotonic() + 60
        port = None
        while port is None and time.monotonic() < deadline:
            found = [word for word in serve_log.read_text().split() if "http://127.0.0.1:" in word]
            port = int(found[0].rsplit(":", 1)[1].strip("/")) if found else None
            time.sleep(0.05)
        assert port is not None, serve_log.read_text()
        server = Server(port, processes[0], tmp_path / "unused", tmp_path, serve_log)
        client = Client(server)
        assert client.signup("writer") == 303
        for index in range(3):
            assert (
                client.post("/notes", {"title": f"relayed-{index}", "body": "", "tags": ""})[0]
                == 303
            )
        worker_log = start("worker", "worker", "--queues", queue, "--db", location, "--no-relay")
        time.sleep(3)
        assert not record.exists()  # nobody relays yet: the calls wait in the outbox
        relay_log = start("relay", "relay", "--db", location)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            runs = record.read_text().splitlines() if record.exists() else []
            if len([run for run in runs if '"done"' in run]) == 3:
                break
            time.sleep(0.2)
        else:
            raise AssertionError(worker_log.read_text() + relay_log.read_text())
        assert "hosthooks: relaying runtime database 'default'" in relay_log.read_text()
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(
                    signal.SIGTERM if process is not processes[0] else signal.SIGINT
                )
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
