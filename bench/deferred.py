"""Deferred implementations on a real broker: what ``defer=True`` costs the caller,
beside running the implementation inline and beside Celery's own ``send_task``;
and deferred runs per second end to end with one and two ``hosthooks worker``
processes.

Needs Redis (``--broker``, default ``redis://127.0.0.1:6379/0``). Each run uses
queues of its own and deletes them. Run: ``python -m bench.deferred [--rounds 7]
[--calls 200] [--broker URL] [--json]``.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.timing import format_table
from bench.timing import parse_arguments

HOSTHOOKS = Path(sys.executable).parent / "hosthooks"

#: A deferred post_save that appends its event id to a file: what the workers run.
PLUGIN = """
import os
from hosthooks import hookimpl
from hosthooks.deferred import current_event


@hookimpl(defer=True, queue=os.environ["BENCH_QUEUE"])
def post_save(sender, created):
    event = current_event()
    with open(os.environ["BENCH_RECORD"], "a") as record:
        record.write(event.event_id + "\\n")
"""

#: The implementation run inline, for the caller-cost comparison.
INLINE = """
from hosthooks import hookimpl


@hookimpl
def post_save(sender, created):
    return None
"""

ARGUMENTS: dict[str, Any] = {
    "sender": object,
    "instance": None,
    "created": True,
    "raw": False,
    "using": "bench",
    "update_fields": None,
}


def _delete_queue(broker: str, queue: str) -> None:
    from kombu.connection import Connection

    # kombu ships no type information.
    with Connection(broker, connect_timeout=5) as connection:  # type: ignore[no-untyped-call]
        channel = connection.default_channel
        channel.queue_delete(queue)
        channel.exchange_delete(queue)


def caller_cost(broker: str, rounds: int, calls: int, directory: Path) -> dict[str, float]:
    """Median microseconds per hook call: inline, deferred (enqueued at once: no
    transaction), and Celery's own send_task of the same message."""
    from hosthooks import Host
    from hosthooks import HostConfig
    from hosthooks.deferred.celery_app import TASK_NAME
    from hosthooks.deferred.celery_app import make_celery_app

    queue = f"bench-{uuid.uuid4().hex[:10]}"
    os.environ["BENCH_QUEUE"] = queue
    os.environ["BENCH_RECORD"] = str(directory / "unused.txt")
    plugins = directory / "caller"
    plugins.mkdir()
    (plugins / "deferred_bench.py").write_text(PLUGIN)
    inline_dir = directory / "inline"
    inline_dir.mkdir()
    (inline_dir / "inline_bench.py").write_text(INLINE)
    deferring = Host(HostConfig(autoload=False, queue_backend="celery", broker_url=broker))
    deferring.load_directory(plugins)
    inline = Host(HostConfig(autoload=False))
    inline.load_directory(inline_dir)
    app = make_celery_app(broker, 3600)
    message = {
        "event_id": "x",
        "hook": "post_save",
        "plugin": "deferred_bench",
        "queue": queue,
        "retries": 0,
        "enqueued_at": 0.0,
        "arguments": {"sender": None, "created": True},
    }

    def send_task() -> object:
        return app.send_task(TASK_NAME, args=[message], queue=queue)

    contenders: dict[str, Callable[[], object]] = {
        "inline": lambda: inline.hook.post_save(**ARGUMENTS),
        "deferred": lambda: deferring.hook.post_save(**ARGUMENTS),
        "celery send_task": send_task,
    }
    for run in contenders.values():  # connections opened before timing
        run()
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    try:
        for _ in range(rounds):
            for name, run in contenders.items():
                started = time.perf_counter()
                for _ in range(calls):
                    run()
                samples[name].append((time.perf_counter() - started) / calls * 1e6)
    finally:
        _delete_queue(broker, queue)
    return {name: statistics.median(values) for name, values in samples.items()}


def throughput(broker: str, workers: int, calls: int, directory: Path) -> float:
    """Deferred runs per second: ``calls`` enqueued, then ``workers`` worker
    processes started; from their start until every call has run."""
    from hosthooks import Host
    from hosthooks import HostConfig

    queue = f"bench-{uuid.uuid4().hex[:10]}"
    plugins = directory / f"workers-{workers}"
    plugins.mkdir()
    (plugins / "deferred_bench.py").write_text(PLUGIN)
    record = directory / f"record-{workers}.txt"
    os.environ["BENCH_QUEUE"] = queue
    os.environ["BENCH_RECORD"] = str(record)
    producer = Host(HostConfig(autoload=False, queue_backend="celery", broker_url=broker))
    producer.load_directory(plugins)
    for _ in range(calls):
        producer.hook.post_save(**ARGUMENTS)
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOSTHOOKS_")}
    env.update(HOSTHOOKS_BROKER_URL=broker, BENCH_QUEUE=queue, BENCH_RECORD=str(record))
    command = [
        str(HOSTHOOKS),
        "--disable-plugin-autoload",
        "--plugins-dir",
        str(plugins),
        "worker",
        "--queues",
        queue,
        "--concurrency",
        "4",
    ]
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(workers)
    ]
    try:
        # Timed from the first run to the last: a worker's start-up is not throughput.
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


def _extend(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--calls", type=int, default=200, help="calls per timing (default 200)")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/0", help="the broker URL")


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(__doc__.splitlines()[0] if __doc__ else "", argv, 7, _extend)
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        costs = caller_cost(args.broker, args.rounds, args.calls, root)
        rates = {workers: throughput(args.broker, workers, args.calls, root) for workers in (1, 2)}
    result: dict[str, Any] = {
        "caller_us": costs,
        "deferred_vs_inline": costs["deferred"] / costs["inline"],
        "deferred_vs_send_task": costs["deferred"] / costs["celery send_task"],
        "runs_per_second": {str(workers): rate for workers, rate in rates.items()},
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        format_table(
            ["caller", "median us/call"],
            [[name, f"{value:.1f}"] for name, value in costs.items()],
        )
    )
    print(
        f"deferred / inline = {result['deferred_vs_inline']:.1f}, "
        f"deferred / celery send_task = {result['deferred_vs_send_task']:.2f}"
    )
    print(
        format_table(
            ["workers", "deferred runs/s"],
            [[str(workers), f"{rate:.0f}"] for workers, rate in rates.items()],
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
