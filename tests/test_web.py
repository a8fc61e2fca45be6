"""The demo app over real HTTP: a ``hosthooks serve`` process on a free 127.0.0.1 port.

A recording plugin (tests/web_plugins/recorder.py), loaded by the server through
``--plugins-dir``, writes every hook call as a JSON line; the tests read them.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import itsdangerous
import pytest

from tests.serving import HOSTHOOKS
from tests.serving import PASSWORD
from tests.serving import SERVERS
from tests.serving import WEB_PLUGINS
from tests.serving import Client
from tests.serving import Server
from tests.serving import serving

BODY_LIMIT = 20_000


@pytest.fixture(scope="module", params=SERVERS)
def server(request, tmp_path_factory) -> Iterator[Server]:
    """The demo app served by waitress (WSGI), then by uvicorn (ASGI)."""
    root = tmp_path_factory.mktemp(f"serve-{request.param}")
    with serving(root, body_limit=BODY_LIMIT, kind=request.param) as running:
        yield running


def hooks_of(records: list[dict[str, Any]], *names: str) -> list[dict[str, Any]]:
    return [record for record in records if record["hook"] in names]


def test_request_started_and_finished_fire_once_per_request_404_and_500_included(server):
    client = Client(server)
    client.signup("counter")
    mark = server.settle()
    statuses = [
        client.get("/")[0],
        client.get("/no/such/page")[0],
        client.post("/notes", {"title": "x"}, csrf=False)[0],
        client.post("/notes", {"title": "REFUSE ME"})[0],
    ]
    assert statuses == [200, 404, 403, 500]
    records = server.wait_for("request_finished", 4, since=mark)
    started = hooks_of(records, "request_started")
    assert [(r["method"], r["path"]) for r in started] == [
        ("GET", "/"),
        ("GET", "/no/such/page"),
        ("POST", "/notes"),
        ("POST", "/notes"),
    ]
    assert all(r["sender"] == "App" for r in started)
    # Over WSGI the hook gets the environ, over ASGI the scope.
    assert {r["server"] for r in started} == {server.kind}
    assert len(hooks_of(records, "request_finished")) == 4
    # The broken request_finished plugin raised every time; it was logged, and
    # nothing else changed: every response above was delivered as it was.
    assert "plugin 'broken_finisher' raised in hook 'request_finished'" in server.log.read_text()


def test_an_unhandled_error_fires_got_request_exception_and_writes_nothing(server):
    client = Client(server)
    client.signup("refused")
    notes_before = server.query("SELECT COUNT(*) FROM demo_note")
    tags_before = server.query("SELECT COUNT(*) FROM demo_tag")
    mark = server.settle()
    status, _, body = client.post("/notes", {"title": "REFUSE ME", "tags": "brand-new-tag"})
    assert status == 500
    assert "Internal Server Error" in body
    assert "this plugin refuses" not in body  # no details leak to the client
    records = server.wait_for("request_finished", 1, since=mark)
    [exception] = hooks_of(records, "got_request_exception")
    assert exception["sender"] is None
    assert exception["path"] == "/notes"
    assert exception["error"] == "RuntimeError: this plugin refuses the note"
    assert server.query("SELECT COUNT(*) FROM demo_note") == notes_before
    assert server.query("SELECT COUNT(*) FROM demo_tag") == tags_before
    assert client.get("/")[0] == 200  # the server keeps serving


def test_signup_login_logout_fire_the_auth_hooks(server):
    client = Client(server)
    mark = server.settle()
    assert client.signup("ann", "s3cret pass") == 303
    status, headers, _ = client.post("/logout", {})
    assert (status, headers["Location"]) == (303, "/")
    client.get("/login")
    status, headers, body = client.post("/login", {"username": "ann", "password": "wrong"})
    assert status == 200  # the form again, never a redirect
    assert "Unknown username or wrong password." in body
    assert client.post("/login", {"username": "ann", "password": "s3cret pass"})[0] == 303
    records = server.wait_for("user_logged_in", 2, since=mark)
    auth = hooks_of(records, "user_logged_in", "user_logged_out", "user_login_failed")
    assert auth == [
        {"hook": "user_logged_in", "sender": "auth.User", "user": "ann", "session_user": True},
        {"hook": "user_logged_out", "sender": "auth.User", "user": "ann"},
        {
            "hook": "user_login_failed",
            "sender": "hosthooks.runtime.auth",
            "credentials": {"username": "ann", "password": "********************"},
            "has_request": True,
        },
        {"hook": "user_logged_in", "sender": "auth.User", "user": "ann", "session_user": True},
    ]
    [(last_login, stored)] = server.query(
        "SELECT last_login, password FROM auth_user WHERE username = ?", ("ann",)
    )
    assert last_login is not None  # the built-in last-login plugin ran
    assert stored.startswith("scrypt$")
    assert "s3cret" not in stored
    assert "s3cret" not in server.log.read_text()
    assert "s3cret" not in server.record.read_text()


def test_an_anonymous_logout_sends_nonetype_and_no_user(server):
    client = Client(server)
    client.get("/login")  # a page with a form, hence the CSRF token
    mark = server.settle()
    assert client.post("/logout", {})[0] == 303
    records = server.wait_for("request_finished", 1, since=mark)
    assert hooks_of(records, "user_logged_out") == [
        {"hook": "user_logged_out", "sender": "NoneType", "user": None}
    ]


def test_notes_fire_the_model_and_template_hooks_and_hostile_text_is_escaped(server):
    client = Client(server)
    client.signup("writer")
    mark = server.settle()
    hostile = "<script>alert('x')</script> & \"quotes\" ' DROP TABLE demo_note;--"
    status, headers, _ = client.post(
        "/notes", {"title": hostile, "body": "body\x7f☃", "tags": "b, a, b,, <i>"}
    )
    assert (status, headers["Location"]) == (303, "/")
    _, _, page = client.get("/")
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;quotes&#34;" in page
    assert "&lt;i&gt;" in page
    [(note_id, title, body)] = server.query(
        "SELECT n.id, n.title, n.body FROM demo_note n JOIN auth_user u ON u.id = n.owner_id "
        "WHERE u.username = 'writer'"
    )
    assert (title, body) == (hostile, "body\x7f☃")
    records = server.wait_for("request_finished", 2, since=mark)
    models = hooks_of(records, "pre_save", "post_save", "m2m_changed")
    assert models[:2] == [
        {"hook": "pre_save", "sender": "demo.Note", "fields": None},
        {"hook": "post_save", "sender": "demo.Note", "created": True},
    ]
    assert [r["action"] for r in hooks_of(models, "m2m_changed")] == ["pre_add", "post_add"]
    assert hooks_of(models, "m2m_changed")[0]["sender"] == "demo.Note_tags"
    assert len(hooks_of(models, "m2m_changed")[0]["pk_set"]) == 3
    rendered = hooks_of(records, "template_rendered")
    assert [r["template"] for r in rendered] == ["index.html"]
    assert rendered[0]["same"] is True
    assert rendered[0]["keys"] == ["csrf_token", "current", "error", "notes", "pages", "user"]

    mark = server.settle()
    assert client.post(f"/notes/{note_id}/delete", {})[0] == 303
    records = server.wait_for("request_finished", 1, since=mark)
    assert hooks_of(records, "pre_delete", "post_delete") == [
        {"hook": "pre_delete", "sender": "demo.Note", "origin": "demo.Note"},
        {"hook": "post_delete", "sender": "demo.Note", "pk": note_id},
    ]
    assert server.query("SELECT COUNT(*) FROM demo_note WHERE id = ?", (note_id,)) == [(0,)]


def test_connections_are_announced_and_the_database_was_migrated_at_start(server):
    records = server.records()
    # The demo's six tables (login failures among them), and the outbox of
    # deferred calls with its two indexes.
    assert {"hook": "post_migrate", "sender": "hosthooks.runtime.auth", "operations": 9} in records
    assert hooks_of(records, "connection_created")[0]["sender"] == "Database"


def test_another_users_note_cannot_be_deleted(server):
    owner, other = Client(server), Client(server)
    owner.signup("owner")
    owner.post("/notes", {"title": "mine"})
    [(note_id,)] = server.query("SELECT id FROM demo_note WHERE title = 'mine'")
    other.signup("intruder")
    assert other.post(f"/notes/{note_id}/delete", {})[0] == 404
    assert server.query("SELECT COUNT(*) FROM demo_note WHERE id = ?", (note_id,)) == [(1,)]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"username": "", "password": PASSWORD}, "the username may not be empty"),
        ({"username": "emptypw", "password": ""}, "the password must have at least 8 characters"),
        ({"username": "shortpw", "password": "7 chars"}, "must have at least 8 characters"),
        ({"username": "longpw", "password": "x" * 1025}, "may have at most 1024 characters"),
        ({"username": "x" * 151, "password": PASSWORD}, "at most 150 characters"),
        ({"username": "taken", "password": PASSWORD}, "the username &#39;taken&#39; is taken"),
        ({"username": "TAKEN", "password": PASSWORD}, "the username &#39;TAKEN&#39; is taken"),
        ({}, "the username may not be empty"),
    ],
)
def test_bad_signups_answer_the_form_with_an_error(server, fields, message):
    Client(server).signup("taken")
    client = Client(server)
    client.get("/signup")
    status, _, body = client.post("/signup", fields)
    assert status == 400
    assert message in body
    assert server.query("SELECT COUNT(*) FROM auth_user WHERE username = 'taken'") == [(1,)]


def test_unknown_users_and_empty_passwords_fail_to_log_in(server):
    client = Client(server)
    client.get("/login")
    for fields in ({"username": "nobody", "password": "pw"}, {"username": "taken", "password": ""}):
        status, _, body = client.post("/login", fields)
        assert status == 200
        assert "Unknown username or wrong password." in body


def test_csrf_is_required_on_every_unsafe_method(server):
    first, second = Client(server), Client(server)
    first.signup("csrf-a")
    second.signup("csrf-b")
    assert first.post("/notes", {"title": "no token"}, csrf=False)[0] == 403
    first.csrf = second.csrf  # a token from another session
    assert first.post("/notes", {"title": "wrong token"})[0] == 403
    # No route takes DELETE: refused before any CSRF check (the in-process
    # tests check CSRF on PUT, PATCH and DELETE routes).
    assert first.request("DELETE", "/notes")[0] == 405
    assert server.query("SELECT COUNT(*) FROM demo_note WHERE title LIKE '%token'") == [(0,)]


def test_tampered_and_expired_sessions_are_anonymous(server):
    client = Client(server)
    client.signup("sessions")
    assert "sessions" in client.get("/")[2]
    cookie = client.cookies["hosthooks_session"]
    client.cookies["hosthooks_session"] = cookie[:-2] + (
        "AA" if not cookie.endswith("AA") else "BB"
    )
    status, _, body = client.get("/")
    assert status == 200
    assert "Log in" in body
    client.cookies["hosthooks_session"] = "not-even-a-signed-value"
    assert client.get("/")[0] == 200
    secret = Path(f"{server.database}.secret").read_text().strip()

    class OldSigner(itsdangerous.TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 15 * 24 * 3600  # older than the 14-day limit

    [(uid,)] = server.query("SELECT id FROM auth_user WHERE username = 'sessions'")
    expired = itsdangerous.URLSafeTimedSerializer(
        secret, salt="hosthooks.session", signer=OldSigner
    ).dumps({"k": "x", "d": {"uid": uid}})
    client.cookies["hosthooks_session"] = expired
    status, _, body = client.get("/")
    assert status == 200
    assert "Log in" in body
    signer = itsdangerous.URLSafeTimedSerializer(secret, salt="hosthooks.session")
    # Even a correctly signed cookie signs in only a session the server knows.
    client.cookies["hosthooks_session"] = signer.dumps({"k": "x", "d": {"uid": uid}})
    assert "Log in" in client.get("/")[2]
    key = signer.loads(cookie)["k"]
    client.cookies["hosthooks_session"] = signer.dumps({"k": key, "d": {"uid": uid}})
    assert "sessions" in client.get("/")[2]


def test_oversized_and_malformed_bodies(server):
    client = Client(server)
    client.signup("big")
    status, _, _ = client.post("/notes", {"title": "big", "body": "x" * (BODY_LIMIT * 2)})
    assert status == 413
    status, _, _ = client.request(
        "POST", "/notes", b"--nope\r\nbroken", {"Content-Type": "multipart/form-data"}
    )
    assert status == 400
    status, _, _ = client.request(
        "POST",
        "/notes",
        b"--b\r\nContent-Disposition: form-data\r\n\r\nno name, no end",
        {"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert status == 400
    status, _, _ = client.request(
        "POST", "/notes", b"\xff\xfe%%%=&&=", {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 400
    assert client.get("/")[0] == 200
    assert server.query("SELECT COUNT(*) FROM demo_note WHERE title = 'big'") == [(0,)]


def test_a_chunked_form_is_read_whole_and_one_too_large_is_413(server):
    client = Client(server)
    client.get("/signup")
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())

    def post_chunked(fields: dict[str, str]) -> int:
        body = urllib.parse.urlencode({**fields, "csrf_token": client.csrf}).encode()
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        # No Content-Length: the body comes in chunks of 1000 bytes.
        chunks = (body[start : start + 1000] for start in range(0, len(body), 1000))
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        connection.request("POST", "/signup", chunks, headers, encode_chunked=True)
        status = connection.getresponse().status
        connection.close()
        return status

    assert post_chunked({"username": "chunked", "password": PASSWORD}) == 303
    assert server.query("SELECT COUNT(*) FROM auth_user WHERE username = 'chunked'") == [(1,)]
    too_large = {"username": "chunked-big", "password": "x" * BODY_LIMIT}
    assert post_chunked(too_large) == 413


def test_plugins_json_is_what_the_cli_prints(server):
    assert server.create_user("inspector", "--staff").returncode == 0
    client = Client(server)
    client.get("/login")
    client.post("/login", {"username": "inspector", "password": PASSWORD})
    _, headers, body = client.get("/-/plugins.json")
    assert headers["Content-Type"] == "application/json"
    served = json.loads(body)
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOSTHOOKS_")}
    env["HOSTHOOKS_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    printed = subprocess.run(
        [str(HOSTHOOKS), "--plugins-dir", str(WEB_PLUGINS), "plugins", "--json"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=60,
    )
    assert served == json.loads(printed.stdout)
    assert {plugin["name"] for plugin in served} == {"broken_finisher", "faults", "recorder"}


def test_serve_reports_a_port_in_use_in_one_line(server):
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOSTHOOKS_")}
    env["HOSTHOOKS_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    result = subprocess.run(
        [
            str(HOSTHOOKS),
            "serve",
            "--port",
            str(server.port),
            "--db",
            str(server.database),
            *(["--asgi"] if server.kind == "asgi" else []),
        ],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"hosthooks: error: cannot listen on 127.0.0.1:{server.port}: Address already in use"
    )


def test_concurrent_clients_all_succeed_and_every_request_finishes(server):
    from concurrent.futures import ThreadPoolExecutor

    def session(number: int) -> list[int]:
        client = Client(server)
        statuses = [client.signup(f"parallel-{number}")]
        for note in range(3):
            statuses.append(
                client.post("/notes", {"title": f"p{number}-{note}", "tags": "shared"})[0]
            )
        return statuses

    mark = server.settle()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(session, range(8)))
    assert results == [[303, 303, 303, 303]] * 8
    assert server.query("SELECT COUNT(*) FROM demo_note WHERE title LIKE 'p%-%'") == [(24,)]
    assert server.query("SELECT COUNT(*) FROM demo_tag WHERE label = 'shared'") == [(1,)]
    server.settle()
    records = server.records()[mark:]
    assert len(hooks_of(records, "request_started")) == len(hooks_of(records, "request_finished"))
    assert not hooks_of(records, "got_request_exception")


def test_a_client_that_leaves_before_its_answer_still_finishes_its_request(server):
    client = Client(server)
    client.get("/signup")
    mark = server.settle()
    body = urllib.parse.urlencode(
        {"username": "gone", "password": PASSWORD, "csrf_token": client.csrf}
    ).encode()
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    connection.request("POST", "/signup", body, headers)
    connection.close()  # gone before the answer: the request was whole, it is served
    records = server.wait_for("request_finished", 1, since=mark)
    assert [r["hook"] for r in hooks_of(records, "request_started", "request_finished")] == [
        "request_started",
        "request_finished",
    ]
    assert server.query("SELECT COUNT(*) FROM auth_user WHERE username = 'gone'") == [(1,)]
    assert Client(server).get("/login")[0] == 200
