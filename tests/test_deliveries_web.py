"""``/-/deliveries.json`` over a real server: the delivery records of deferred calls
as ``hosthooks deliveries --json`` prints them, for staff users only."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
import uuid
from collections.abc import Iterator

import pytest

from tests.serving import PASSWORD
from tests.serving import Client
from tests.serving import Server
from tests.serving import serving
from tests.test_outbox import RECORD_KEYS


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("deliveries")) as running:
        created = running.create_user("operator", "--staff")
        assert created.returncode == 0, created.stderr
        yield running


def add_records(server: Server, states: list[str]) -> list[str]:
    """Rows of the served database's outbox, in these states (written as the relay
    and workers leave them), oldest first; their event ids."""
    event_ids = []
    # closing() closes the connection; the connection itself commits.
    with contextlib.closing(sqlite3.connect(server.database)) as connection, connection:
        for state in states:
            event_id = uuid.uuid4().hex
            now = time.time()
            connection.execute(
                "INSERT INTO hosthooks_outbox (event_id, hook, plugin, queue, state, attempts, "
                "retries, relayed, next_attempt_at, held_since, last_error, created_at, "
                "updated_at, message, traceparent) VALUES (?, 'post_save', 'webhook', "
                "'hosthooks', ?, 4, 3, 1, NULL, NULL, ?, ?, ?, '{\"arguments\": {}}', NULL)",
                (event_id, state, "RuntimeError: down" if state == "dead" else None, now, now),
            )
            event_ids.append(event_id)
    return event_ids


def test_deliveries_json_lists_the_records_for_staff_only(server):
    done, dead = add_records(server, ["done", "dead"])
    anonymous = Client(server)
    status, _, body = anonymous.get("/-/deliveries.json")
    assert (status, json.loads(body)) == (403, {"error": "The console is for staff users only."})
    user = Client(server)
    assert user.signup("not-staff") == 303
    assert user.get("/-/deliveries.json")[0] == 403

    staff = Client(server)
    staff.get("/login")
    assert staff.post("/login", {"username": "operator", "password": PASSWORD})[0] == 303
    status, headers, body = staff.get("/-/deliveries.json")
    assert (status, headers["Content-Type"]) == (200, "application/json")
    records = json.loads(body)
    assert [(record["event_id"], record["state"]) for record in records] == [
        (dead, "dead"),
        (done, "done"),
    ]
    assert all(set(record) == RECORD_KEYS for record in records)
    status, _, body = staff.get("/-/deliveries.json?state=dead&plugin=webhook")
    assert status == 200
    assert [record["last_error"] for record in json.loads(body)] == ["RuntimeError: down"]
    assert json.loads(staff.get("/-/deliveries.json?limit=1")[2])[0]["event_id"] == dead
    status, _, body = staff.get("/-/deliveries.json?state=lost")
    assert status == 400
    assert json.loads(body)["error"].startswith("state must be one of pending, sent")


def test_the_readme_says_which_shape_each_deliveries_json_gives(server):
    """The plain twin is the record list; only ``?details=1`` is the page's object."""
    from pathlib import Path

    staff = Client(server)
    staff.get("/login")
    assert staff.post("/login", {"username": "operator", "password": PASSWORD})[0] == 303
    assert isinstance(json.loads(staff.get("/-/deliveries.json")[2]), list)
    details = json.loads(staff.get("/-/deliveries.json?details=1")[2])
    readme = " ".join((Path(__file__).parents[1] / "README.md").read_text().split())
    said = readme.split("`/-/deliveries.json` (", 1)[1].split(").", 1)[0]
    plain, _, detailed = said.partition("`?details=1`")
    assert "records" in plain
    assert "`hosthooks deliveries --json`" in plain
    assert all(f"`{key}`" not in plain for key in details)
    assert all(f"`{key}`" in detailed for key in details)
