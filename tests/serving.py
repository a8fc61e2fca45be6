"""A real ``hosthooks serve`` process for the HTTP and browser tests."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

WEB_PLUGINS = Path(__file__).with_name("web_plugins")
#: The servers ``hosthooks serve`` runs the demo app on: waitress (WSGI), uvicorn (``--asgi``).
SERVERS = ("wsgi", "asgi")
HOSTHOOKS = Path(sys.executable).with_name("hosthooks")
#: The password every test user gets unless a test says otherwise.
PASSWORD = "correct horse"


#: scrypt's cost in tests: 2**14 (16 MiB, a few ms) where the default is
#: OWASP's 2**17 (128 MiB, ~0.5 s a hash), so that tests signing many users up
#: stay quick; a test of the cost itself sets its own.
TEST_SCRYPT_N = str(2**14)


def clean_environ() -> dict[str, str]:
    """This process's environment without HOSTHOOKS_ variables, and no autoloaded
    plugins; passwords hashed at :data:`TEST_SCRYPT_N`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOSTHOOKS_")}
    env["HOSTHOOKS_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["HOSTHOOKS_PASSWORD_SCRYPT_N"] = TEST_SCRYPT_N
    return env


@dataclass
class Server:
    port: int
    process: subprocess.Popen[str]
    record: Path
    database: Path
    log: Path
    #: "wsgi" (waitress) or "asgi" (uvicorn, ``serve --asgi``).
    kind: str = "wsgi"
    #: Set by kill(): the process ended by SIGKILL, so no clean stop is expected.
    killed: bool = False
    #: The PostgreSQL database it serves, when not the SQLite file ``database``.
    url: str | None = None

    def kill(self) -> None:
        """End the server at once (SIGKILL): no cleanup, as a power cut would."""
        self.killed = True
        self.process.kill()
        self.process.wait(timeout=10)

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
        """The rows of ``sql`` (``?`` markers) on the server's database, SQLite or PostgreSQL."""
        if self.url is not None:
            import psycopg

            with psycopg.connect(self.url, autocommit=True) as server_connection:
                return server_connection.execute(sql.replace("?", "%s"), params).fetchall()
        connection = sqlite3.connect(self.database)
        try:
            rows = connection.execute(sql, params).fetchall()
            connection.commit()  # what an UPDATE changed
            return rows
        finally:
            connection.close()

    def create_user(self, name: str, *options: str) -> subprocess.CompletedProcess[str]:
        """``hosthooks createuser NAME --db <this server's database> OPTIONS``, password PASSWORD."""
        return subprocess.run(
            [
                str(HOSTHOOKS),
                "createuser",
                name,
                "--db",
                self.url or str(self.database),
                "--password-stdin",
                *options,
            ],
            input=PASSWORD + "\n",
            capture_output=True,
            text=True,
            check=False,
            env=clean_environ(),
            timeout=60,
        )

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table, sorted: equal dumps mean an unchanged database."""
        # sqlite_sequence holds no row of the app's, only the ids given out so
        # far: a login attempt counted and then forgotten uses one up.
        listing = "SELECT name FROM sqlite_master WHERE type='table' AND name != 'sqlite_sequence'"
        if self.url is not None:
            listing = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        tables = [row[0] for row in self.query(listing)]
        return {table: sorted(self.query(f'SELECT * FROM "{table}"'), key=repr) for table in tables}


class Client:
    """A browser-like client: keeps cookies, reads the CSRF token from the last page."""

    def __init__(self, server: Server, *, timeout: float = 10) -> None:
        self.server = server
        #: Seconds to wait for an answer: a server that never answers fails
        #: the test, never hangs it.
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        #: The name this client last signed up with.
        self.username = ""
        #: The Set-Cookie headers of the last response, as sent.
        self.set_cookies: list[str] = []

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=self.timeout)
        all_headers = dict(headers or {})
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        self.set_cookies = response.headers.get_all("Set-Cookie") or []
        for header in self.set_cookies:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        connection.close()
        found = re.search(r'name="csrf_token" value="([^"]+)"', text)
        if found:
            self.csrf = found.group(1)
        return response.status, dict(response.headers), text

    def get(self, path: str) -> tuple[int, dict[str, str], str]:
        return self.request("GET", path)

    def post(
        self,
        path: str,
        fields: dict[str, str],
        *,
        csrf: bool = True,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], str]:
        data = dict(fields)
        if csrf:
            data["csrf_token"] = self.csrf
        body = urllib.parse.urlencode(data).encode()
        return self.request(
            "POST",
            path,
            body,
            {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
        )

    def signup(self, username: str, password: str = PASSWORD) -> int:
        self.username = username
        self.get("/signup")
        status, _, _ = self.post("/signup", {"username": username, "password": password})
        self.get("/")
        return status


@contextmanager
def serving(
    root: Path,
    *,
    body_limit: int = 20_000,
    executable: Path = HOSTHOOKS,
    options: Sequence[str] = (),
    serve_options: Sequence[str] = (),
    settings: Mapping[str, str] | None = None,
    kind: str = "wsgi",
    entry_points: Sequence[str] = (),
    db: str | None = None,
    plugins_dir: Path = WEB_PLUGINS,
) -> Iterator[Server]:
    """A ``hosthooks serve`` process on a free port, with the web_plugins loaded;
    stopped with SIGINT (Ctrl-C) on exit, which must end it cleanly (unless the
    test killed it).

    :param options: more options before the command name (``--config PATH``, say).
    :param serve_options: more options for ``serve`` (``--threads 64``, say).
    :param settings: runtime settings by name, passed as ``HOSTHOOKS_<NAME>``.
    :param kind: one of :data:`SERVERS`: "asgi" serves with ``serve --asgi``.
    :param plugins_dir: the directory plugins are loaded from (the web_plugins by default).
    :param entry_points: installed entry-point plugins to load (by default none is).
    :param db: the database to serve instead of ``root/demo.sqlite3``: a
        SQLite path (another server's, say), or a PostgreSQL URL (then with a
        SECRET_KEY set, as a server's database needs).
    """
    record, log = root / "record.jsonl", root / "server.log"
    url = db if db is not None and "://" in db else None
    database = Path(db) if db is not None and url is None else root / "demo.sqlite3"
    env = clean_environ()
    env.update(HOSTHOOKS_TEST_RECORD=str(record), HOSTHOOKS_MAX_BODY_SIZE=str(body_limit))
    env.update({f"HOSTHOOKS_{name}": value for name, value in (settings or {}).items()})
    if url is not None:
        env.setdefault("HOSTHOOKS_SECRET_KEY", "s" * 48)
    if entry_points:
        del env["HOSTHOOKS_DISABLE_PLUGIN_AUTOLOAD"]
        env["HOSTHOOKS_LOAD_PLUGINS"] = ",".join(entry_points)
    # Appending: a restarted server (same root) keeps the earlier run's log.
    log_start = log.stat().st_size if log.exists() else 0
    with log.open("a") as log_file:
        process = subprocess.Popen(
            [
                str(executable),
                *options,
                "--plugins-dir",
                str(plugins_dir),
                "serve",
                "--port",
                "0",
                "--db",
                url or str(database),
                *(["--asgi"] if kind == "asgi" else []),
                *serve_options,
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
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", log.read_text()[log_start:])
        port = int(found.group(1)) if found else None
        time.sleep(0.05)
    if port is None:
        process.kill()
        # Reaped, so that no "still running" warning lands in a later test.
        process.wait(timeout=10)
        raise RuntimeError(f"the server did not start:\n{log.read_text()}")
    server = Server(port, process, record, database, log, kind, url=url)
    try:
        yield server
    finally:
        if not server.killed:
            process.send_signal(signal.SIGINT)
            try:
                code = process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
                raise
    if not server.killed:
        assert code == 0, log.read_text()
        assert log.read_text().rstrip().endswith("hosthooks: stopped")
