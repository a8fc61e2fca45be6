"""Outgrowing one machine, with real processes: two ``hosthooks serve`` processes
on one PostgreSQL database and one ``hosthooks worker``; every note created
through either app runs its deferred implementation exactly once."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hosthooks.runtime import Database
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
PLUGINS = Path(__file__).resolve().parent / "deferred_note_plugins"
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"
NOTES = 12


class Processes:
    """The app's processes, each logging to a file under ``root``; stopped at the end."""

    def __init__(self, root: Path, environment: dict[str, str]) -> None:
        self.root = root
        self.environment = environment
        #: Each process with the signal that stops it cleanly.
        self.started: list[tuple[subprocess.Popen[str], signal.Signals]] = []

    def start(self, name: str, *arguments: str) -> tuple[subprocess.Popen[str], Path]:
        log = self.root / f"{name}.log"
        with log.open("w") as log_file:
            process = subprocess.Popen(
                [
                    str(HOSTHOOKS),
                    "--disable-plugin-autoload",
                    "--plugins-dir",
                    str(PLUGINS),
                    *arguments,
                ],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                text=True,
                env=self.environment,
                cwd=self.root,
            )
        # serve stops on Ctrl-C, a Celery worker on SIGTERM (a warm shutdown).
        stop = signal.SIGINT if arguments[0] == "serve" else signal.SIGTERM
        self.started.append((process, stop))
        return process, log

    def serve(self, name: str, database_url: str) -> Server:
        process, log = self.start(name, "serve", "--port", "0", "--db", database_url)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            found = re.search(r"http://127\.0\.0\.1:(\d+)/", log.read_text())
            if found:
                return Server(int(found.group(1)), process, self.root / "unused", self.root, log)
            time.sleep(0.05)
        raise AssertionError(f"{name} did not start:\n{log.read_text()}")

    def stop(self) -> None:
        for process, stop in self.started:
            if process.poll() is None:
                process.send_signal(stop)
        for process, _ in self.started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def logs(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.root.glob("*.log")))


def read_records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def database_url() -> Iterator[str]:
    need_service("PostgreSQL", POSTGRESQL_PORT)
    with scratch_postgresql_database("scale") as url:
        yield url


def test_two_apps_on_one_database_and_one_worker_run_each_note_once(
    tmp_path, database_url, default_host
):
    need_service("Redis", REDIS_PORT)
    queue = f"hosthooks-test-{uuid.uuid4().hex[:12]}"
    record = tmp_path / "record.jsonl"
    environment = clean_environ()
    environment.update(
        PYTHONPATH=str(REPO),
        HOSTHOOKS_BROKER_URL=REDIS_URL,
        HOSTHOOKS_QUEUE_BACKEND="celery",
        # Every process of the app signs sessions with the one key.
        HOSTHOOKS_SECRET_KEY="k" * 48,
        HOSTHOOKS_TEST_QUEUE=queue,
        HOSTHOOKS_TEST_RECORD=str(record),
    )
    processes = Processes(tmp_path, environment)
    try:
        # One after the other: the first migrates the database the second finds ready.
        first = processes.serve("serve-1", database_url)
        second = processes.serve("serve-2", database_url)
        worker, _ = processes.start(
            "worker", "worker", "--queues", queue, "--concurrency", "2", "--db", database_url
        )
        clients = [Client(first), Client(second)]
        for index, client in enumerate(clients):
            assert client.signup(f"writer{index}") == 303
        for index in range(NOTES):
            client = clients[index % 2]
            status, _, _ = client.post("/notes", {"title": f"note-{index}", "body": "", "tags": ""})
            assert status == 303
        deadline = time.monotonic() + 60
        while len(read_records(record)) < NOTES and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)  # a run more than once would show now
        runs = read_records(record)
        assert len(runs) == NOTES, processes.logs()[-6000:]
        assert sorted(run["title"] for run in runs) == sorted(f"note-{i}" for i in range(NOTES))
        assert all(run["stored_title"] == run["title"] for run in runs)
        assert len({run["event_id"] for run in runs}) == NOTES
        assert {run["pid"] for run in runs} == {worker.pid}
        assert all(run["created"] for run in runs)
        database = Database(database_url, alias="check")
        stored = database.execute('SELECT "id" FROM "demo_note" ORDER BY "id"').fetchall()
        database.close()
        assert sorted(run["pk"] for run in runs) == [row[0] for row in stored]
    finally:
        processes.stop()
        _delete_queue(REDIS_URL, queue)
