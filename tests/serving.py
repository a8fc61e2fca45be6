"""A real ``hosthooks serve`` process for the HTTP and browser tests."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WEB_PLUGINS = Path(__file__).with_name("web_plugins")
HOSTHOOKS = Path(sys.executable).with_name("hosthooks")


@dataclass
class Server:
    port: int
    process: subprocess.Popen[str]
    record: Path
    database: Path
    log: Path

    def records(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]

    def wait_for(self, hook: str, count: int, *, since: int = 0) -> list[dict[str, Any]]:
        """The records since index ``since``, once ``count`` calls of ``hook`` are among them."""
        deadline = time.monotonic() + 10
        while True:
            records = self.records()[since:]
            if sum(1 for r in records if r["hook"] == hook) >= count or time.monotonic() > deadline:
                return records
            time.sleep(0.02)

    def settle(self) -> int:
        """Wait until every request started so far has finished; the record count then.

        request_finished fires after the client got the body, so it can trail
        the response a client already read.
        """
        deadline = time.monotonic() + 10
        while True:
            records = self.records()
            started = sum(1 for r in records if r["hook"] == "request_started")
            finished = sum(1 for r in records if r["hook"] == "request_finished")
            if started == finished or time.monotonic() > deadline:
                return len(records)
            time.sleep(0.02)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.database) as connection:
            return connection.execute(sql, params).fetchall()


@contextmanager
def serving(
    root: Path,
    *,
    body_limit: int = 20_000,
    executable: Path = HOSTHOOKS,
    options: Sequence[str] = (),
) -> Iterator[Server]:
    """A ``hosthooks serve`` process on a free port, with the web_plugins loaded;
    stopped with SIGINT (Ctrl-C) on exit, which must end it cleanly.

    :param options: more options before the command name (``--config PATH``, say).
    """
    record, log, database = root / "record.jsonl", root / "server.log", root / "demo.sqlite3"
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOSTHOOKS_")}
    env.update(
        HOSTHOOKS_TEST_RECORD=str(record),
        HOSTHOOKS_DISABLE_PLUGIN_AUTOLOAD="1",
        HOSTHOOKS_MAX_BODY_SIZE=str(body_limit),
    )
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [
                str(executable),
                *options,
                "--plugins-dir",
                str(WEB_PLUGINS),
                "serve",
                "--port",
                "0",
                "--db",
                str(database),
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=root,
        )
    deadline = time.monotonic() + 30
    port = None
    while port is None and time.monotonic() < deadline and process.poll() is None:
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", log.read_text())
        port = int(found.group(1)) if found else None
        time.sleep(0.05)
    if port is None:
        process.kill()
        raise RuntimeError(f"the server did not start:\n{log.read_text()}")
    try:
        yield Server(port, process, record, database, log)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert code == 0, log.read_text()
    assert log.read_text().rstrip().endswith("hosthooks: stopped")
