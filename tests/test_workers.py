"""Deferred implementations on real Celery workers over real brokers: each committed
call runs, none rolled back, a worker killed mid-call loses nothing, a broker
restarted between enqueue and run loses nothing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import pytest

import hosthooks
from hosthooks import Host
from hosthooks import HostConfig
from hosthooks.runtime import Database
from hosthooks.runtime import atomic
from hosthooks.runtime import migrate
from tests.bookshop.models import MODELS
from tests.bookshop.models import Author
from tests.services import RABBITMQ_PORT
from tests.services import REDIS_PORT
from tests.services import free_port
from tests.services import need_service

REPO = Path(__file__).resolve().parent.parent
PLUGINS = Path(__file__).resolve().parent / "deferred_plugins"
HOSTHOOKS = Path(sys.executable).parent / "hosthooks"
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"
RABBITMQ_URL = f"amqp://guest:guest@127.0.0.1:{RABBITMQ_PORT}//"


@dataclass
class Deployment:
    """A producer host in this process, workers as processes, one broker and one queue."""

    broker_url: str
    root: Path
    queue: str = field(default_factory=lambda: f"hosthooks-test-{uuid.uuid4().hex[:12]}")
    workers: list[subprocess.Popen[str]] = field(default_factory=list)
    #: How long an author named slow... takes; below the visibility timeout, so
    #: that Redis does not hand a running call to a second worker.
    slow_seconds: float = 3
    visibility_timeout: int = 5

    @property
    def record(self) -> Path:
        return self.root / "record.jsonl"

    def environment(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("HOSTHOOKS_")}
        env.update(
            PYTHONPATH=str(REPO),
            HOSTHOOKS_BROKER_URL=self.broker_url,
            HOSTHOOKS_QUEUE_VISIBILITY_TIMEOUT=str(self.visibility_timeout),
            HOSTHOOKS_TEST_QUEUE=self.queue,
            HOSTHOOKS_TEST_RECORD=str(self.record),
            HOSTHOOKS_TEST_SLOW_SECONDS=str(self.slow_seconds),
        )
        return env

    def start_worker(self) -> subprocess.Popen[str]:
        log_path = self.root / f"worker-{len(self.workers)}.log"
        with log_path.open("w") as log:
            process = self._popen(log)
        self.workers.append(process)
        return process

    def _popen(self, log: Any) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [
                str(HOSTHOOKS),
                "--disable-plugin-autoload",
                "--plugins-dir",
                str(PLUGINS),
                "worker",
                "--queues",
                self.queue,
                "--concurrency",
                "2",
                "--app",
                "tests.bookshop.models",
                "--db",
                str(self.root / "app.sqlite3"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.environment(),
            cwd=self.root,
        )

    def logs(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.root.glob("worker-*.log")))

    def records(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]

    def wait_for(
        self, condition: Callable[[list[dict[str, Any]]], bool], timeout: float = 60
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            records = self.records()
            if condition(records):
                return records
            time.sleep(0.1)
        raise AssertionError(
            f"timed out; records: {self.records()}\nworker logs:\n{self.logs()[-6000:]}"
        )

    def stop_workers(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.workers:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def done(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [record for record in records if record["phase"] == "done"]


def _delete_queue(broker_url: str, queue: str) -> None:
    from kombu.connection import Connection

    with Connection(broker_url, connect_timeout=5) as connection:
        channel = connection.default_channel
        if broker_url.startswith("redis"):
            # kombu's Redis channel deletes only the bindings its own connection
            # declared: the queue's list and Celery's binding keys go by name.
            channel.client.delete(
                queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"
            )
            return
        channel.queue_delete(queue)
        # Celery declares a direct exchange named after each queue it sends to.
        channel.exchange_delete(queue)


@pytest.fixture
def deployment(tmp_path, monkeypatch, request) -> Iterator[Deployment]:
    """A producer host made the default, with the deferred recorder and a migrated database."""
    broker_url: str = request.param
    need_service("RabbitMQ" if broker_url.startswith("amqp") else "Redis", _port(broker_url))
    yield from _deploy(tmp_path, monkeypatch, broker_url)


def _port(broker_url: str) -> int:
    return int(broker_url.rsplit(":", 1)[1].split("/")[0])


def _deploy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broker_url: str
) -> Iterator[Deployment]:
    deployment = Deployment(broker_url, tmp_path)
    monkeypatch.setenv("HOSTHOOKS_TEST_QUEUE", deployment.queue)
    monkeypatch.setenv("HOSTHOOKS_TEST_RECORD", str(deployment.record))
    host = Host(HostConfig(autoload=False, queue_backend="celery", broker_url=broker_url))
    (record,) = host.load_directory(PLUGINS)
    assert record.status is hosthooks.Status.ACTIVE, record.error
    hosthooks.set_default_host(host)
    database = Database(tmp_path / "app.sqlite3")
    migrate(database, models=MODELS, verbosity=0)
    try:
        yield deployment
    finally:
        deployment.stop_workers()
        database.close()
        hosthooks.set_default_host(None)
        _delete_queue(broker_url, deployment.queue)


BOTH_BROKERS = pytest.mark.parametrize(
    "deployment", [REDIS_URL, RABBITMQ_URL], indirect=True, ids=["redis", "rabbitmq"]
)


@BOTH_BROKERS
def test_each_committed_call_runs_once_and_none_rolled_back(deployment):
    committed = []
    for index in range(12):
        author = Author(name=f"author-{index}")
        author.save()
        committed.append(author.name)
    with atomic():
        Author(name="in-a-block").save()
        committed.append("in-a-block")
    with pytest.raises(RuntimeError), atomic():
        Author(name="rolled-back").save()
        raise RuntimeError("roll back")
    deployment.start_worker()
    records = deployment.wait_for(lambda records: len(done(records)) >= len(committed))
    time.sleep(1)  # anything more would come now
    finished = done(deployment.records())
    assert sorted(record["name"] for record in finished) == sorted(committed)
    assert len({record["event_id"] for record in finished}) == len(committed)
    assert all(record["sender"] == "bookshop.Author" for record in finished)
    assert all(record["label"] == "bookshop.Author" and record["created"] for record in finished)
    assert "rolled-back" not in {record["name"] for record in records}


@BOTH_BROKERS
def test_a_run_that_raises_is_retried_with_the_same_event(deployment):
    Author(name="fail-once").save()
    deployment.start_worker()
    records = deployment.wait_for(lambda records: len(done(records)) == 1)
    starts = [record for record in records if record["phase"] == "start"]
    assert [record["attempt"] for record in starts] == [1, 2]
    assert starts[0]["event_id"] == starts[1]["event_id"] == done(records)[0]["event_id"]


@BOTH_BROKERS
def test_a_worker_killed_mid_call_leaves_it_to_the_next_one(deployment):
    Author(name="slow-one").save()
    first = deployment.start_worker()
    started = deployment.wait_for(lambda records: len(records) == 1)
    assert started[0]["pid"] == first.pid
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    second = deployment.start_worker()
    # RabbitMQ gives the call back as soon as the connection drops; Redis once
    # the visibility timeout has passed. Either way the next worker completes it.
    records = deployment.wait_for(lambda records: len(done(records)) == 1, timeout=60)
    (finished,) = done(records)
    assert finished["pid"] == second.pid
    assert finished["event_id"] == started[0]["event_id"]
    assert [record["pid"] for record in records] == [first.pid, second.pid, second.pid]


def test_a_broker_restarted_between_enqueue_and_run_loses_nothing(tmp_path, monkeypatch):
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        need_service("Redis (redis-server, to start one of the test's own)", -1)
    assert redis_server is not None
    port = free_port()
    data = tmp_path / "redis"
    data.mkdir()
    command = [
        redis_server,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data),
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--save",
        "",
    ]

    def start() -> subprocess.Popen[bytes]:
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        from tests.services import reachable

        deadline = time.monotonic() + 20
        while not reachable(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert reachable(port), "the test's redis-server did not start"
        return server

    server = start()
    try:
        for deployment in _deploy(tmp_path, monkeypatch, f"redis://127.0.0.1:{port}/0"):
            for index in range(5):
                Author(name=f"before-restart-{index}").save()
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)
            server = start()
            deployment.start_worker()
            records = deployment.wait_for(lambda records: len(done(records)) == 5)
            assert sorted(record["name"] for record in done(records)) == [
                f"before-restart-{index}" for index in range(5)
            ]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


def test_a_run_longer_than_the_visibility_timeout_starts_once(tmp_path, monkeypatch):
    # Before: a task was acknowledged only once it ran (acks_late), so Redis gave
    # a run outlasting queue_visibility_timeout to a second worker while it ran.
    need_service("Redis", REDIS_PORT)
    for deployment in _deploy(tmp_path, monkeypatch, REDIS_URL):
        deployment.visibility_timeout = 1
        deployment.slow_seconds = 6
        Author(name="slow-and-healthy").save()
        deployment.start_worker()
        deployment.start_worker()
        records = deployment.wait_for(lambda records: len(done(records)) == 1, timeout=60)
        time.sleep(3)  # a second start would come now
        starts = [record for record in deployment.records() if record["phase"] == "start"]
        assert len(starts) == 1, deployment.logs()[-4000:]
        assert records[0]["event_id"] == done(records)[0]["event_id"]
