"""The deferred-calls fault suite: real ``hosthooks serve`` and ``hosthooks worker``
processes, real brokers (a ``redis-server`` of the suite's own on a spare port
for the cases that kill or stop it, never the shared one), SQLite and PostgreSQL.

Every case ends the same way: every note whose request committed has had its
deferred call run at least once, none ran for a rolled-back note, and every
delivery record is in its final state (``done``, or ``dead`` for a poison).
Each case prints its line of the table: case, committed, ran, lost, duplicates.

Marked ``faults``: one job of the test matrix runs them (``pytest -m faults``).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.databases import scratch_postgresql_database
from tests.fault_deployment import FINAL
from tests.fault_deployment import REPO
from tests.fault_deployment import SHARED_REDIS
from tests.fault_deployment import Deployment
from tests.fault_deployment import OwnRedis
from tests.fault_deployment import SilentBroker
from tests.services import POSTGRESQL_PORT
from tests.services import RABBITMQ_PORT
from tests.services import REDIS_PORT
from tests.services import need_service
from tests.serving import HOSTHOOKS
from tests.serving import clean_environ
from tests.test_workers import _delete_queue

pytestmark = pytest.mark.faults

NO_PLUGINS = Path(__file__).resolve().parent / "empty_plugins"
RABBITMQ = f"amqp://guest:guest@127.0.0.1:{RABBITMQ_PORT}//"


@pytest.fixture
def database(request, tmp_path) -> Iterator[str]:
    """The app's database: SQLite unless a case is parametrized with ``postgresql``."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield str(tmp_path / "app.sqlite3")
        return
    need_service("PostgreSQL", POSTGRESQL_PORT)
    with scratch_postgresql_database("faults") as url:
        yield url


@pytest.fixture
def deployment(tmp_path, database) -> Iterator[Deployment]:
    deployed = Deployment(tmp_path, database)
    try:
        yield deployed
    finally:
        deployed.stop()


def kind(deployment: Deployment) -> str:
    return "postgresql" if deployment.database.startswith("postgresql") else "sqlite"


def report(case: str, line: dict[str, int]) -> None:
    """The case's line of the table (shown with ``pytest -s``)."""
    print(
        f"\nFAULT {case}: committed {line['committed']}, rolled back {line['rolled_back']} "
        f"(ran: none), ran {line['ran']}, lost {line['lost']}, duplicates {line['duplicates']}"
    )


def test_broker_refusing_then_back(deployment, tmp_path):
    redis = OwnRedis(tmp_path)  # not started yet: its port refuses connections
    try:
        app = deployment.serve(redis.url)
        deployment.worker(redis.url)
        for index in range(3):
            assert deployment.note(app, f"refused-{index}") < 1.0
        deployment.note(app, "rollback-refused")
        deployment.wait_for(
            lambda: "the broker is unreachable" in deployment.logs(), 30, "the relay's line"
        )
        assert {record["state"] for record in deployment.records()} <= {"pending", "sent"}
        redis.start()
        line = deployment.settle()
        assert "the broker is back" in deployment.logs()
        assert deployment.logs().count("the broker is unreachable") == 1
        report("broker refusing, then back", line)
    finally:
        deployment.stop()
        redis.kill()


BOTH_DATABASES = pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)


@BOTH_DATABASES
def test_broker_killed_and_restarted(deployment, tmp_path):
    redis = OwnRedis(tmp_path)
    redis.start()
    try:
        app = deployment.serve(redis.url)
        deployment.worker(redis.url)
        for index in range(3):
            deployment.note(app, f"before-{index}")
        deployment.wait_for(
            lambda: all(deployment.ran(f"before-{index}") for index in range(3)), 60, "before"
        )
        redis.kill()
        for index in range(3):
            assert deployment.note(app, f"while-down-{index}") < 1.0
        deployment.note(app, "rollback-while-down")
        time.sleep(1)
        redis.start()
        line = deployment.settle(timeout=120)
        report(f"broker killed -9 and restarted ({kind(deployment)})", line)
    finally:
        deployment.stop()
        redis.kill()


def test_broker_silent_the_request_answers_at_once(deployment):
    need_service("Redis", REDIS_PORT)
    silent = SilentBroker()
    try:
        app = deployment.serve(silent.url)
        for index in range(4):
            assert deployment.note(app, f"silent-{index}") < 1.0
        deployment.note(app, "rollback-silent")
        # A relay facing the silent broker gives up within its timeout and says so...
        stuck = deployment.worker(silent.url, name="worker-silent")
        deployment.wait_for(
            lambda: "the broker is unreachable" in deployment.logs(), 60, "the relay's line"
        )
        stuck.kill()
        stuck.wait()
        # ... and the calls wait for a relay that reaches a broker.
        deployment.worker(SHARED_REDIS)
        line = deployment.settle()
        report("broker accepting but silent", line)
    finally:
        silent.close()


def test_app_killed_right_after_commit(deployment):
    need_service("Redis", REDIS_PORT)
    app = deployment.serve(SHARED_REDIS)
    deployment.note(app, "kept-before")
    client = deployment.client(app)
    with pytest.raises(ConnectionError):
        client.post("/notes", {"title": "die-after-commit", "body": "", "tags": ""})
    assert app.process.wait(timeout=20) == -signal.SIGKILL
    # The note committed before the app died: its call exists.
    deployment.committed.append("die-after-commit")
    deployment.worker(SHARED_REDIS)
    line = deployment.settle()
    report("app killed -9 right after COMMIT", line)


@pytest.mark.parametrize(
    ("broker", "database"),
    [("redis", "sqlite"), ("rabbitmq", "postgresql")],
    indirect=["database"],
)
def test_worker_killed_mid_run(deployment, broker):
    url = SHARED_REDIS if broker == "redis" else RABBITMQ
    need_service(broker, REDIS_PORT if broker == "redis" else RABBITMQ_PORT)
    app = deployment.serve(url)
    first = deployment.worker(url, name="worker-1", HOSTHOOKS_TEST_SLOW_SECONDS="4")
    deployment.note(app, "slow-one")
    deployment.note(app, "quick-one")
    deployment.wait_for(
        lambda: any(run["title"] == "slow-one" for run in deployment.runs()), 60, "the slow run"
    )
    first.kill()
    first.wait()
    killed_at = time.monotonic()
    deployment.worker(url, name="worker-2", HOSTHOOKS_TEST_SLOW_SECONDS="4")
    line = deployment.settle(timeout=150)
    assert time.monotonic() - killed_at < 120  # ran again within two minutes
    slow = [run for run in deployment.runs() if run["title"] == "slow-one"]
    assert [run["phase"] for run in slow] == ["start", "start", "done"]
    report(f"worker killed -9 mid-run ({broker}, {kind(deployment)})", line)


@BOTH_DATABASES
def test_a_poison_ends_dead_without_delaying_the_others_and_a_key_error_is_retried(deployment):
    need_service("Redis", REDIS_PORT)
    app = deployment.serve(SHARED_REDIS)
    deployment.worker(SHARED_REDIS)
    deployment.note(app, "poison")
    deployment.note(app, "key-error")
    for index in range(3):
        deployment.note(app, f"healthy-{index}")
    deployment.wait_for(
        lambda: all(deployment.ran(f"healthy-{index}") for index in range(3)), 30, "healthy"
    )
    line = deployment.settle(poison=("poison",))
    by_title: dict[str, list[int]] = {}
    for run in deployment.runs():
        if run["phase"] == "start":
            by_title.setdefault(run["title"], []).append(run["attempt"])
    assert by_title["poison"] == [1, 2, 3]
    assert by_title["key-error"] == [1, 2]
    states = sorted((record["state"], record["attempts"]) for record in deployment.records())
    assert states == [("dead", 3), ("done", 1), ("done", 1), ("done", 1), ("done", 2)]
    report(f"poison implementation, KeyError retried ({kind(deployment)})", line)


def test_a_worker_missing_the_plugin_holds_the_call_then_it_dies_then_retry_runs_it(
    deployment,
):
    need_service("Redis", REDIS_PORT)
    app = deployment.serve(SHARED_REDIS)
    lacking = deployment.worker(
        SHARED_REDIS,
        name="worker-lacking",
        plugins=NO_PLUGINS,
        HOSTHOOKS_DELIVERIES_HELD_GRACE="4s",
    )
    deployment.note(app, "needs-the-plugin")
    deployment.wait_for(
        lambda: [record["state"] for record in deployment.records()] == ["held"], 30, "held"
    )
    deployment.wait_for(
        lambda: [record["state"] for record in deployment.records()] == ["dead"], 30, "dead"
    )
    (dead,) = deployment.records()
    assert dead["attempts"] == 0  # never run: no attempt counted
    assert "is loaded here" in dead["last_error"]
    assert deployment.runs() == []
    lacking.send_signal(signal.SIGTERM)
    lacking.wait(timeout=30)
    retried = subprocess.run(
        [str(HOSTHOOKS), "deliveries", "retry", "--dead", "--db", deployment.database],
        capture_output=True,
        text=True,
        env=deployment.environment(SHARED_REDIS),
        timeout=60,
    )
    assert (retried.returncode, retried.stdout) == (0, "retried 1 call(s)\n"), retried.stderr
    deployment.worker(SHARED_REDIS, name="worker-with-plugin")
    line = deployment.settle()
    report("worker missing the plugin: held, dead, retried", line)


def test_the_relay_gives_up_on_a_silent_broker_within_its_timeout(tmp_path):
    from hosthooks.deferred.celery_app import make_celery_app
    from hosthooks.deferred.outbox import Outbox
    from hosthooks.deferred.relay import Relay
    from hosthooks.runtime import Database
    from hosthooks.runtime import migrate
    from hosthooks.runtime.db import runtime_layer

    silent = SilentBroker()
    database = Database(tmp_path / "relay.sqlite3")
    migrate(database, models=[], verbosity=0)
    try:
        outbox = Outbox(runtime_layer, None)
        outbox.add(uuid.uuid4().hex, "post_save", "p", "q", 0, {"arguments": {}})
        relay = Relay(make_celery_app(silent.url, 3600), [outbox], keep=3600)
        started = time.monotonic()
        assert relay.run_once() == 0
        assert time.monotonic() - started < 12
        assert relay.broker_down_since is not None
        assert [record.state for record in outbox.deliveries()] == ["pending"]
    finally:
        database.close()
        silent.close()


def test_django_on_postgresql_runs_every_committed_call(tmp_path):
    pytest.importorskip("django")
    need_service("PostgreSQL", POSTGRESQL_PORT)
    need_service("Redis", REDIS_PORT)
    queue = f"hosthooks-faults-{uuid.uuid4().hex[:12]}"
    record = tmp_path / "record.jsonl"
    with scratch_postgresql_database("faults_django") as url:
        environment = clean_environ()
        environment.update(
            PYTHONPATH=str(REPO),
            PROJECT_POSTGRESQL_DB=url.rsplit("/", 1)[1],
            PROJECT_HOSTHOOKS=json.dumps(
                {
                    "autoload": False,
                    "plugins_dir": str(Path(__file__).parent / "deferred_django_plugins"),
                    "broker_url": SHARED_REDIS,
                    "queue_backend": "celery",
                }
            ),
            HOSTHOOKS_TEST_QUEUE=queue,
            HOSTHOOKS_TEST_RECORD=str(record),
        )

        def scenario(name: str) -> Any:
            result = subprocess.run(
                [sys.executable, "-m", "tests.djangoproject.deferred_scenarios", name],
                cwd=REPO,
                env=environment,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert result.returncode == 0, result.stderr
            return json.loads(result.stdout.splitlines()[-1])

        written = scenario("write_authors")
        # The worker runs, manage.py hosthooks relay relays: both with Django's settings.
        log = tmp_path / "worker.log"
        started: list[subprocess.Popen[str]] = []
        with log.open("w") as log_file:
            for command in (
                ["worker", "--queues", queue, "--concurrency", "2", "--no-relay"],
                ["relay"],
            ):
                started.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "tests.djangoproject.manage", "hosthooks", *command],
                        cwd=REPO,
                        env=environment,
                        stdout=log_file,
                        stderr=subprocess.STDOUT,
                        text=True,
                    )
                )
        try:
            deadline = time.monotonic() + 90
            records: list[dict[str, Any]] = []
            while time.monotonic() < deadline:
                records = scenario("deliveries")
                if len(records) == len(written["committed"]) and all(
                    record["state"] in FINAL for record in records
                ):
                    break
                time.sleep(0.5)
            runs = [json.loads(line) for line in record.read_text().splitlines()]
            titles = [run["title"] for run in runs]
            assert sorted(set(titles)) == sorted(written["committed"]), log.read_text()[-6000:]
            assert "rolled-back" not in titles
            assert {record["state"] for record in records} == {"done"}
            assert all(run["stored"] == run["title"] for run in runs)
            line = {
                "committed": len(written["committed"]),
                "rolled_back": len(written["rolled_back"]),
                "ran": len(set(titles)),
                "lost": 0,
                "duplicates": len(titles) - len(set(titles)),
            }
            assert "hosthooks: relaying databases default" in log.read_text()
            report("Django on PostgreSQL (manage.py hosthooks worker and relay)", line)
        finally:
            for process in started:
                process.send_signal(signal.SIGTERM)
            for process in started:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            _delete_queue(SHARED_REDIS, queue)
