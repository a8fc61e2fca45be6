"""The fault suite's deployment: the demo app's ``serve`` and ``worker`` processes
over one database and one queue, a ``redis-server`` of the suite's own, and a
broker that accepts connections and never answers."""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.services import REDIS_PORT
from tests.services import free_port
from tests.services import need_service
from tests.services import reachable
from tests.serving import HOSTHOOKS
from tests.serving import Client
from tests.serving import Server
from tests.serving import clean_environ
from tests.test_workers import _delete_queue

REPO = Path(__file__).resolve().parent.parent
PLUGINS = Path(__file__).resolve().parent / "deferred_fault_plugins"
SHARED_REDIS = f"redis://127.0.0.1:{REDIS_PORT}/0"
#: The states a delivery record ends in.
FINAL = {"done", "dead"}


class OwnRedis:
    """A ``redis-server`` of the test's own on a spare port, persisting every write
    (so a restart keeps what it had acknowledged)."""

    def __init__(self, root: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            need_service("Redis (redis-server, to start one of the test's own)", -1)
        assert binary is not None
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        data = root / "redis"
        data.mkdir(exist_ok=True)
        self.command = [
            binary,
            "--port",
            str(self.port),
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
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not reachable(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert reachable(self.port), "the test's redis-server did not start"

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=20)


class SilentBroker:
    """A TCP server that accepts connections and never answers."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.held: list[socket.socket] = []
        self.listener.settimeout(0.2)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                continue
            self.held.append(connection)

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        for connection in self.held:
            connection.close()
        self.listener.close()


class Deployment:
    """The demo app's processes for one case: apps, workers, one database, one queue."""

    def __init__(self, root: Path, database: str) -> None:
        self.root = root
        self.database = database
        self.queue = f"hosthooks-faults-{uuid.uuid4().hex[:12]}"
        self.record = root / "record.jsonl"
        self.processes: list[subprocess.Popen[str]] = []
        self.clients: dict[int, Client] = {}
        self.brokers_used: set[str] = set()
        self.committed: list[str] = []
        self.rolled_back: list[str] = []

    def environment(self, broker: str, **extra: str) -> dict[str, str]:
        environment = clean_environ()
        environment.update(
            PYTHONPATH=str(REPO),
            HOSTHOOKS_BROKER_URL=broker,
            HOSTHOOKS_QUEUE_BACKEND="celery",
            HOSTHOOKS_SECRET_KEY="k" * 48,
            HOSTHOOKS_TEST_QUEUE=self.queue,
            HOSTHOOKS_TEST_RECORD=str(self.record),
            HOSTHOOKS_RETRY_BACKOFF_MAX="2s",
            **extra,
        )
        return environment

    def _start(
        self, name: str, arguments: list[str], environment: dict[str, str], plugins: Path
    ) -> tuple[subprocess.Popen[str], Path]:
        log = self.root / f"{name}.log"
        with log.open("a") as log_file:
            process = subprocess.Popen(
                [
                    str(HOSTHOOKS),
                    "--disable-plugin-autoload",
                    "--plugins-dir",
                    str(plugins),
                    *arguments,
                ],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                text=True,
                env=environment,
                cwd=self.root,
            )
        self.processes.append(process)
        return process, log

    def serve(self, broker: str, name: str = "serve") -> Server:
        """A ``hosthooks serve`` of the demo app (its broker is never reached)."""
        process, log = self._start(
            name,
            ["serve", "--port", "0", "--db", self.database],
            self.environment(broker),
            PLUGINS,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            found = re.search(r"http://127\.0\.0\.1:(\d+)/", log.read_text())
            if found:
                return Server(int(found.group(1)), process, self.root / "unused", self.root, log)
            time.sleep(0.05)
        raise AssertionError(f"{name} did not start:\n{log.read_text()}")

    def worker(
        self, broker: str, name: str = "worker", plugins: Path = PLUGINS, **extra: str
    ) -> subprocess.Popen[str]:
        self.brokers_used.add(broker)
        process, _ = self._start(
            name,
            ["worker", "--queues", self.queue, "--concurrency", "2", "--db", self.database],
            self.environment(broker, **extra),
            plugins,
        )
        return process

    def client(self, server: Server) -> Client:
        client = self.clients.get(server.port)
        if client is None:
            client = Client(server)
            assert client.signup(f"writer-{uuid.uuid4().hex[:8]}") == 303
            self.clients[server.port] = client
        return client

    def note(self, server: Server, title: str) -> float:
        """POST a note; its title joins the committed or rolled-back ones by the
        answer. How long the request took, in seconds."""
        started = time.perf_counter()
        status, _, _ = self.client(server).post("/notes", {"title": title, "body": "", "tags": ""})
        elapsed = time.perf_counter() - started
        if status == 303:
            self.committed.append(title)
        else:
            assert status == 500, status
            self.rolled_back.append(title)
        return elapsed

    def runs(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines() if line]

    def records(self) -> list[dict[str, Any]]:
        """Every delivery record, read by ``hosthooks deliveries --json`` (a process of its own)."""
        result = subprocess.run(
            [str(HOSTHOOKS), "deliveries", "--db", self.database, "--json", "--limit", "1000"],
            capture_output=True,
            text=True,
            env=self.environment(SHARED_REDIS),
            cwd=self.root,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        records: list[dict[str, Any]] = json.loads(result.stdout)
        return records

    def wait_for(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}\n{self.logs()[-8000:]}")

    def ran(self, title: str) -> bool:
        return any(run["title"] == title and run["phase"] == "done" for run in self.runs())

    def all_final(self) -> bool:
        records = self.records()
        return len(records) == len(self.committed) and all(
            record["state"] in FINAL for record in records
        )

    def settle(self, timeout: float = 90, poison: tuple[str, ...] = ()) -> dict[str, int]:
        """Wait until every committed call ran (or, for ``poison``, died) and every
        record is final; check the suite's promises; the case's line of the table."""
        expected = [title for title in self.committed if title not in poison]
        self.wait_for(
            lambda: all(self.ran(title) for title in expected) and self.all_final(),
            timeout,
            "every committed call to run and every record to be final",
        )
        runs = [run for run in self.runs() if run["phase"] == "done"]
        titles = [run["title"] for run in runs]
        assert not set(titles) & set(self.rolled_back), "a rolled-back note's call ran"
        records = self.records()
        states = {record["state"] for record in records}
        assert states <= FINAL
        assert len(records) == len(self.committed)
        lost = [title for title in expected if title not in titles]
        assert lost == []
        duplicates = len(titles) - len(set(titles))
        return {
            "committed": len(self.committed),
            "rolled_back": len(self.rolled_back),
            "ran": len(set(titles)) + len(poison),
            "lost": len(lost),
            "duplicates": duplicates,
        }

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for broker in self.brokers_used:
            if reachable(int(broker.rsplit(":", 1)[1].split("/")[0])):
                _delete_queue(broker, self.queue)

    def logs(self) -> str:
        return "\n".join(
            f"== {path.name}\n{path.read_text()}" for path in sorted(self.root.glob("*.log"))
        )
