"""Deferred implementations through the outbox, on a real broker and real databases.

- What a deferred call costs the caller: a save in its own transaction with a
  ``defer=True`` implementation, minus the same save with none, beside the
  same save with an implementation doing what Celery's users write on the
  runtime, ``on_commit(lambda: app.send_task(...))``, and under Django beside
  Celery's ``delay_on_commit`` (:mod:`bench.deferred_django`); on SQLite and,
  when it answers, PostgreSQL.
- Relay throughput: rows per second one relay moves from the outbox to Redis.
- End to end: deferred runs per second with two ``hosthooks worker`` processes
  (each relaying too), from the first run to the last.
- Purge: outbox rows left beyond the kept window after the relay's purge of
  100,000 done calls.

SQLite runs with ``synchronous = OFF`` (here and under Django): each commit's
fsync costs every contender alike and swings by milliseconds on a shared disk.
Needs Redis (``--broker``). Queues and databases are the run's own, removed
after. Run: ``python -m bench.deferred [--rounds 5] [--calls 300] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.timing import format_table
from bench.timing import parse_arguments
from hosthooks.runtime import Model
from hosthooks.runtime import fields

HOSTHOOKS = Path(sys.executable).parent / "hosthooks"
POSTGRESQL_SERVER = "postgresql://postgres@127.0.0.1:5432"


class BenchNote(Model):
    """What the benchmark saves (workers import this module: ``--app bench.deferred``)."""

    title = fields.Text()

    class Meta:
        app_label = "bench"


#: A deferred post_save that appends its event id to a file: what the workers run.
DEFERRED = """
import os
from hosthooks import hookimpl
from hosthooks.deferred import current_event


@hookimpl(defer=True, queue=os.environ["BENCH_QUEUE"])
def post_save(sender, created):
    event = current_event()
    with open(os.environ["BENCH_RECORD"], "a") as record:
        record.write(event.event_id + "\\n")
"""

#: What Celery's users write on the runtime: send the task once the transaction commits.
SEND_ON_COMMIT = """
import os
from hosthooks import hookimpl
from hosthooks.deferred.events import TASK_NAME
from hosthooks.deferred.celery_app import make_celery_app
from hosthooks.runtime import on_commit

app = make_celery_app(os.environ["BENCH_BROKER"], 3600)


@hookimpl
def post_save(sender, created):
    queue = os.environ["BENCH_QUEUE"]
    on_commit(lambda: app.send_task(TASK_NAME, args=[{"event_ids": []}], queue=queue))
"""


def _delete_queue(broker: str, queue: str) -> None:
    from kombu.connection import Connection

    # kombu ships no type information.
    with Connection(broker, connect_timeout=5) as connection:  # type: ignore[no-untyped-call]
        channel = connection.default_channel
        if broker.startswith("redis"):
            # kombu's Redis channel deletes only the bindings its own connection
            # declared: the queue's list and Celery's binding keys go by name.
            channel.client.delete(
                queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"
            )
            return
        channel.queue_delete(queue)
        # Celery declares a direct exchange named after each queue it sends to.
        channel.exchange_delete(queue)


def _host(directory: Path, name: str, source: str | None, broker: str) -> Any:
    from hosthooks import Host
    from hosthooks import HostConfig

    host = Host(HostConfig(autoload=False, queue_backend="celery", broker_url=broker))
    if source is not None:
        plugins = directory / name
        plugins.mkdir()
        (plugins / f"{name}.py").write_text(source)
        (record,) = host.load_directory(plugins)
        if record.error:
            raise RuntimeError(f"{name}: {record.error}")
    return host


@contextmanager
def _database(location: str) -> Iterator[Any]:
    from hosthooks.runtime import Database
    from hosthooks.runtime import migrate

    database = Database(location)
    migrate(database, models=[BenchNote], verbosity=0)
    if database.vendor == "sqlite":
        # The disk's fsync at each commit is the same for every contender and, on
        # a shared machine, swings by milliseconds: it would drown what is compared.
        database.execute("PRAGMA synchronous = OFF")
    try:
        yield database
    finally:
        database.close()


@contextmanager
def _scratch_postgresql() -> Iterator[str | None]:
    """A database of its own on the local server, or None when it does not answer."""
    try:
        import psycopg

        admin = psycopg.connect(f"{POSTGRESQL_SERVER}/postgres", autocommit=True, connect_timeout=3)
    except Exception:  # no server: that part is skipped
        yield None
        return
    name = f"hosthooks_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRESQL_SERVER}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def caller_cost(
    location: str, broker: str, rounds: int, calls: int, directory: Path
) -> dict[str, float]:
    """Median microseconds per save in its own transaction: with no implementation,
    with a deferred one (the outbox INSERT), with on_commit(send_task)."""
    import hosthooks

    queue = f"bench-{uuid.uuid4().hex[:10]}"
    os.environ.update(BENCH_QUEUE=queue, BENCH_BROKER=broker)
    os.environ["BENCH_RECORD"] = str(directory / "unused.txt")
    tag = uuid.uuid4().hex[:6]
    hosts = {
        "plain": _host(directory, f"plain_{tag}", None, broker),
        "deferred": _host(directory, f"deferred_{tag}", DEFERRED, broker),
        "on_commit send_task": _host(directory, f"send_{tag}", SEND_ON_COMMIT, broker),
    }
    samples: dict[str, list[float]] = {name: [] for name in hosts}
    try:
        with _database(location):
            for rounds_left in range(rounds + 1):
                for name, host in hosts.items():
                    hosthooks.set_default_host(host)
                    started = time.perf_counter()
                    for _ in range(calls):
                        BenchNote(title="note").save()
                    if rounds_left:  # the first round opens connections: not timed
                        samples[name].append((time.perf_counter() - started) / calls * 1e6)
    finally:
        hosthooks.set_default_host(None)
        _delete_queue(broker, queue)
    return {name: statistics.median(values) for name, values in samples.items()}


def relay_rate(location: str, broker: str, rows: int) -> float:
    """Rows per second one relay moves from a full outbox to the broker."""
    from hosthooks.deferred.celery_app import make_celery_app
    from hosthooks.deferred.outbox import Outbox
    from hosthooks.deferred.relay import Relay
    from hosthooks.runtime import atomic
    from hosthooks.runtime.db import runtime_layer

    queue = f"bench-{uuid.uuid4().hex[:10]}"
    app = make_celery_app(broker, 3600)
    try:
        with _database(location):
            outbox = Outbox(runtime_layer, None)
            with atomic():
                for _ in range(rows):
                    outbox.add(uuid.uuid4().hex, "post_save", "bench", queue, 0, {"arguments": {}})
            relay = Relay(app, [outbox], keep=86400)
            relay.purge()  # the purge of this round is not the relay's throughput
            with app.connection_for_write() as connection:  # opened before timing
                connection.ensure_connection(max_retries=1)
            moved, started = 0, time.perf_counter()
            while True:
                batch = relay.run_once()
                if not batch:
                    break
                moved += batch
            elapsed = time.perf_counter() - started
    finally:
        _delete_queue(broker, queue)
    return moved / max(elapsed, 1e-9)


def end_to_end(location: str, broker: str, workers: int, calls: int, directory: Path) -> float:
    """Deferred runs per second: ``calls`` committed, then ``workers`` worker
    processes (each relaying) started; from the first run to the last."""
    import hosthooks

    queue = f"bench-{uuid.uuid4().hex[:10]}"
    record = directory / f"record-{queue}.txt"
    os.environ.update(BENCH_QUEUE=queue, BENCH_RECORD=str(record), BENCH_BROKER=broker)
    name = f"e2e_{uuid.uuid4().hex[:6]}"
    producer = _host(directory, name, DEFERRED, broker)
    hosthooks.set_default_host(producer)
    try:
        with _database(location):
            for _ in range(calls):
                BenchNote(title="note").save()
    finally:
        hosthooks.set_default_host(None)
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOSTHOOKS_")}
    env.update(HOSTHOOKS_BROKER_URL=broker, PYTHONPATH=str(Path(__file__).parent.parent))
    command = [
        str(HOSTHOOKS),
        "--disable-plugin-autoload",
        "--plugins-dir",
        str(directory / name),
        "worker",
        "--queues",
        queue,
        "--concurrency",
        "4",
        "--app",
        "bench.deferred",
        "--db",
        location,
    ]
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(workers)
    ]
    try:
        deadline = time.perf_counter() + 300
        first: float | None = None
        done = 0
        while time.perf_counter() < deadline:
            done = len(record.read_text().splitlines()) if record.exists() else 0
            if done and first is None:
                first = time.perf_counter()
            if done >= calls:
                break
            time.sleep(0.01)
        elapsed = time.perf_counter() - (first or 0.0)
        if done < calls:
            raise RuntimeError(f"only {done} of {calls} deferred calls ran in 300 s")
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        _delete_queue(broker, queue)
    return (calls - 1) / max(elapsed, 1e-9)


def rows_after_purge(location: str, done_calls: int) -> dict[str, float]:
    """``done_calls`` done rows older than the kept window and 100 within it, then
    the relay's purge: the rows left beyond the window, and the purge's seconds."""
    from hosthooks.deferred.outbox import Outbox
    from hosthooks.deferred.relay import Relay
    from hosthooks.deferred.schema import TABLE
    from hosthooks.runtime import atomic
    from hosthooks.runtime.db import runtime_layer

    keep = 7 * 86400
    now = time.time()
    with _database(location) as database:
        outbox = Outbox(runtime_layer, None)
        with atomic():
            for _ in range(done_calls + 100):
                outbox.add(uuid.uuid4().hex, "post_save", "bench", "q", 0, {"arguments": {}})
            database.execute(
                f"UPDATE \"{TABLE}\" SET state = 'done', next_attempt_at = NULL, "
                "updated_at = CASE WHEN id <= ? THEN ? ELSE ? END",
                (done_calls, now - keep - 3600, now - 60),
            )
        started = time.perf_counter()
        purged = Relay(None, [outbox], keep=keep).purge()
        elapsed = time.perf_counter() - started
        (beyond,) = database.execute(
            f'SELECT COUNT(*) FROM "{TABLE}" WHERE updated_at < ?', (now - keep,)
        ).fetchone()
        (kept,) = database.execute(f'SELECT COUNT(*) FROM "{TABLE}"').fetchone()
    return {"purged": purged, "beyond_window": beyond, "kept": kept, "seconds": elapsed}


def django_cost(database: str, args: argparse.Namespace, directory: Path) -> dict[str, float]:
    """:mod:`bench.deferred_django` in a process of its own, renamed to this
    module's contenders: plain, deferred, and Celery's delay_on_commit."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.deferred_django",
            "--database",
            database,
            "--broker",
            args.broker,
            "--rounds",
            str(args.rounds),
            "--calls",
            str(args.calls),
        ],
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench.deferred_django failed:\n{result.stderr}")
    values: dict[str, float] = json.loads(result.stdout.splitlines()[-1])
    return {
        "plain": values["plain"],
        "deferred": values["deferred"],
        "on_commit send_task": values["delay_on_commit"],
    }


def _extend(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--calls", type=int, default=300, help="saves per timing (default 300)")
    parser.add_argument(
        "--relay-rows", type=int, default=20000, help="rows the relay moves (default 20000)"
    )
    parser.add_argument(
        "--e2e-calls", type=int, default=5000, help="calls run end to end (default 5000)"
    )
    parser.add_argument(
        "--purge-rows", type=int, default=100000, help="done rows purged (default 100000)"
    )
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/0", help="the broker URL")


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(__doc__.splitlines()[0] if __doc__ else "", argv, 5, _extend)
    costs: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        costs["sqlite"] = caller_cost(
            str(root / "caller.sqlite3"), args.broker, args.rounds, args.calls, root
        )
        with _scratch_postgresql() as url:
            if url is not None:
                costs["postgresql"] = caller_cost(url, args.broker, args.rounds, args.calls, root)
        django_costs = {
            "sqlite": django_cost(str(root / "django.sqlite3"), args, root),
        }
        with _scratch_postgresql() as url:
            if url is not None:
                django_costs["postgresql"] = django_cost(url, args, root)
        for backend, values in django_costs.items():
            costs[f"django {backend}"] = values
        relayed = relay_rate(str(root / "relay.sqlite3"), args.broker, args.relay_rows)
        runs = end_to_end(str(root / "e2e.sqlite3"), args.broker, 2, args.e2e_calls, root)
        purge = rows_after_purge(str(root / "purge.sqlite3"), args.purge_rows)
    added = {
        backend: {
            "deferred": values["deferred"] - values["plain"],
            "on_commit send_task": values["on_commit send_task"] - values["plain"],
        }
        for backend, values in costs.items()
    }
    result: dict[str, Any] = {
        "save_us": costs,
        "caller_added_us": added,
        "deferred_vs_send_on_commit": {
            backend: values["deferred"] / max(values["on_commit send_task"], 1e-9)
            for backend, values in added.items()
        },
        "relay_rows_per_second": relayed,
        "end_to_end_runs_per_second_two_workers": runs,
        "purge": purge,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    rows = [
        [
            backend,
            f"{costs[backend]['plain']:.1f}",
            f"{values['deferred']:.1f}",
            f"{values['on_commit send_task']:.1f}",
            f"{result['deferred_vs_send_on_commit'][backend]:.2f}x",
        ]
        for backend, values in added.items()
    ]
    print(
        format_table(
            ["database", "save us", "+deferred us", "+Celery's send on commit us", "ratio"],
            rows,
        )
    )
    print(
        "(runtime rows: on_commit(lambda: app.send_task(...)); django rows: Celery's "
        "delay_on_commit)"
    )
    print(f"relay: {relayed:.0f} rows/s to the broker (one relay)")
    print(f"end to end, two workers: {runs:.0f} deferred runs/s")
    print(
        f"purge: {purge['purged']:.0f} done rows purged in {purge['seconds']:.2f} s, "
        f"{purge['beyond_window']:.0f} left beyond the kept window, {purge['kept']:.0f} kept"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
