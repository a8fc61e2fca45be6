"""What a client of a real ``hosthooks serve`` can see of the app's security promises:
vetoes leave no trace, sessions are revocable, the inspector is for staff,
the headers, the database file's mode, and hostile input answered as such."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.serving import HOSTHOOKS
from tests.serving import PASSWORD
from tests.serving import SERVERS
from tests.serving import Client
from tests.serving import Server
from tests.serving import clean_environ
from tests.serving import serving


@pytest.fixture(scope="module", params=SERVERS)
def kind(request) -> str:
    """The server every test of the module runs against: waitress (WSGI), then uvicorn (ASGI)."""
    return str(request.param)


@pytest.fixture(scope="module")
def server(kind, tmp_path_factory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp(f"secure-{kind}"), kind=kind) as running:
        yield running


@pytest.fixture(scope="module")
def open_server(kind, tmp_path_factory) -> Iterator[Server]:
    """A server whose inspector is public and which trusts a proxy on 127.0.0.1."""
    with serving(
        tmp_path_factory.mktemp(f"open-{kind}"),
        settings={"INSPECTOR_PUBLIC": "true"},
        serve_options=["--trusted-proxy", "127.0.0.1"],
        kind=kind,
    ) as running:
        yield running


def is_signed_in(client: Client) -> bool:
    status, _, page = client.get("/")
    assert status == 200
    return "Log out" in page


# -- 1. a vetoed login or sign-up leaves no trace ------------------------------


def test_a_vetoed_login_sends_no_session_and_writes_nothing(server):
    client = Client(server)
    client.signup("vetoed-login", PASSWORD)
    client.post("/logout", {})
    client.get("/login")
    before = server.dump()
    status, _, _ = client.post(
        "/login",
        {"username": "vetoed-login", "password": PASSWORD},
        headers={"X-Fault": "user_logged_in"},
    )
    assert status == 500
    assert client.set_cookies == []
    assert not is_signed_in(client)
    server.settle()
    assert server.dump() == before  # last_login untouched: the plugin's save was undone


def test_a_vetoed_signup_creates_no_user_and_can_be_retried(server):
    client = Client(server)
    client.get("/signup")
    fields = {"username": "vetoed-signup", "password": PASSWORD}
    status, _, _ = client.post("/signup", fields, headers={"X-Fault": "user_logged_in"})
    assert status == 500
    assert client.set_cookies == []
    assert server.query("SELECT COUNT(*) FROM auth_user WHERE username = 'vetoed-signup'") == [(0,)]
    assert client.post("/signup", fields)[0] == 303
    assert is_signed_in(client)


def test_a_get_takes_no_write_lock(server):
    client = Client(server)
    client.signup("reader", PASSWORD)
    holder = sqlite3.connect(server.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        status, _, page = client.get("/")
        elapsed = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert status == 200
    assert "reader" in page
    assert elapsed < 2  # never waited for the lock another writer holds


# -- 2. sessions are revocable --------------------------------------------------


def test_logout_revokes_the_session_cookie(server):
    client = Client(server)
    client.signup("revoked", PASSWORD)
    captured = Client(server)
    captured.cookies = dict(client.cookies)
    assert is_signed_in(captured)
    assert client.post("/logout", {})[0] == 303
    assert not is_signed_in(captured)


def test_a_password_change_signs_out_every_other_session(server):
    here = Client(server)
    here.signup("changer", PASSWORD)
    elsewhere = Client(server)
    elsewhere.get("/login")
    elsewhere.post("/login", {"username": "changer", "password": PASSWORD})
    assert is_signed_in(elsewhere)
    here.get("/password")
    fields = {"old_password": PASSWORD, "new_password": "a new passphrase"}
    status, headers, _ = here.post("/password", fields)
    assert (status, headers["Location"]) == (303, "/")
    assert is_signed_in(here)
    assert not is_signed_in(elsewhere)
    elsewhere.get("/login")
    assert elsewhere.post("/login", {"username": "changer", "password": PASSWORD})[0] == 200
    fresh = {"username": "changer", "password": "a new passphrase"}
    assert elsewhere.post("/login", fresh)[0] == 303


def test_a_wrong_old_password_changes_nothing(server):
    client = Client(server)
    client.signup("keeper", PASSWORD)
    client.get("/password")
    fields = {"old_password": "not it", "new_password": "whatever"}
    status, _, page = client.post("/password", fields)
    assert status == 400
    assert "The current password is wrong." in page
    client.post("/logout", {})
    client.get("/login")
    assert client.post("/login", {"username": "keeper", "password": PASSWORD})[0] == 303


# -- 3. the database file is private ----------------------------------------------


def test_the_database_and_its_journal_are_owner_only(server):
    Client(server).signup("mode", PASSWORD)
    for suffix in ("", "-wal", "-shm"):
        path = server.database.with_name(server.database.name + suffix)
        assert path.stat().st_mode & 0o777 == 0o600, path


# -- 4. the inspector is for staff ------------------------------------------------


def test_anonymous_visitors_get_403_for_json_and_the_login_page_for_html(server):
    client = Client(server)
    status, headers, body = client.get("/-/plugins.json")
    assert status == 403
    assert headers["Content-Type"] == "application/json"
    assert "recorder" not in body
    status, headers, _ = client.get("/-/plugins")
    assert (status, headers["Location"]) == (303, "/login?next=%2F-%2Fplugins")


def test_signed_in_users_who_are_not_staff_are_refused(server):
    client = Client(server)
    client.signup("not-staff", PASSWORD)
    assert client.get("/-/plugins.json")[0] == 403
    status, headers, _ = client.get("/-/plugins")
    assert (status, headers["Location"]) == (303, "/login?next=%2F-%2Fplugins")


def test_staff_created_on_the_command_line_read_the_inspector(server):
    result = server.create_user("operator", "--staff")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "hosthooks: created staff user 'operator'"
    client = Client(server)
    client.get("/login?next=/-/plugins.json")
    status, headers, _ = client.post(
        "/login?next=/-/plugins.json", {"username": "operator", "password": PASSWORD}
    )
    assert (status, headers["Location"]) == (303, "/-/plugins.json")
    status, _, body = client.get("/-/plugins.json")
    assert status == 200
    assert '"name": "recorder"' in body


def test_createuser_refuses_a_taken_name_and_a_password_off_policy_in_one_line(server):
    assert server.create_user("twice").returncode == 0
    again = server.create_user("twice")
    assert (again.returncode, again.stderr) == (
        1,
        "hosthooks: error: the username 'twice' is taken\n",
    )
    for password, problem in (
        ("", "must have at least 8 characters"),
        ("short", "must have at least 8 characters"),
        ("x" * 1025, "may have at most 1024 characters"),
    ):
        refused = subprocess.run(
            [
                str(HOSTHOOKS),
                "createuser",
                "blank",
                "--staff",
                "--db",
                str(server.database),
                "--password-stdin",
            ],
            input=password + "\n",
            capture_output=True,
            text=True,
            check=False,
            env=clean_environ(),
            timeout=60,
        )
        assert (refused.returncode, refused.stderr) == (
            1,
            f"hosthooks: error: the password {problem}\n",
        )
    assert server.query("SELECT COUNT(*) FROM auth_user WHERE username = 'blank'") == [(0,)]


def test_the_login_page_never_redirects_off_site(server):
    server.create_user("careful")
    client = Client(server)
    client.get("/login")
    fields = {"username": "careful", "password": PASSWORD}
    status, headers, _ = client.post("/login?next=//evil.example/", fields)
    assert (status, headers["Location"]) == (303, "/")


def test_inspector_public_no_longer_opens_the_console(open_server):
    anonymous = Client(open_server)
    status, _, body = anonymous.get("/-/plugins.json")
    assert (status, json.loads(body)) == (403, {"error": "The console is for staff users only."})
    status, headers, _ = anonymous.get("/-/calls")
    assert (status, headers["Location"]) == (303, "/login?next=%2F-%2Fcalls")
    assert anonymous.signup("curious") == 303
    assert anonymous.get("/-/overview.json")[0] == 403
    assert anonymous.post("/-/plugins/recorder/mute", {"until": ""})[0] == 403


# -- 5. headers ---------------------------------------------------------------------


def test_every_answer_has_a_csp_and_no_server_header(server):
    client = Client(server)
    for path in ("/", "/login", "/no/such/page", "/static/style.css"):
        _, headers, _ = client.get(path)
        assert headers["Content-Security-Policy"] == "default-src 'self'"
        assert "Server" not in headers
        assert "Via" not in headers


def test_pages_for_a_signed_in_user_are_never_stored(server):
    client = Client(server)
    client.signup("private", PASSWORD)
    _, headers, page = client.get("/")
    assert "private" in page
    assert headers["Cache-Control"] == "no-store"


def test_the_stylesheet_is_served_and_the_pages_have_no_inline_style_or_script(server):
    client = Client(server)
    status, headers, css = client.get("/static/style.css")
    assert status == 200
    assert headers["Content-Type"] == "text/css; charset=utf-8"
    assert "max-width: 42rem" in css
    for path in ("/", "/login", "/signup"):
        page = client.get(path)[2]
        assert '<link rel="stylesheet" href="/static/style.css">' in page
        assert "<style" not in page
        assert "<script" not in page


def test_the_cookie_is_secure_only_behind_a_trusted_proxy(server, open_server):
    https = {"X-Forwarded-Proto": "https"}
    for running, secure in ((server, False), (open_server, True)):
        client = Client(running)
        client.get("/signup")
        fields = {"username": "proxied", "password": PASSWORD}
        assert client.post("/signup", fields, headers=https)[0] == 303
        [cookie] = client.set_cookies
        assert ("; Secure" in cookie) is secure, cookie


# -- 8, 9. hostile input ------------------------------------------------------------


def test_a_huge_note_id_is_404(server):
    client = Client(server)
    client.signup("huge", PASSWORD)
    for note_id in ("99999999999999999999999", str(2**63)):
        assert client.post(f"/notes/{note_id}/delete", {})[0] == 404


def test_a_form_body_that_is_not_utf8_is_400(server):
    client = Client(server)
    client.signup("bytes", PASSWORD)
    body = f"csrf_token={client.csrf}&title=".encode() + b"\xff\xfe"
    status, _, page = client.request(
        "POST", "/notes", body, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 400
    assert "CSRF" not in page
    owned = "SELECT COUNT(*) FROM demo_note n JOIN auth_user u ON u.id = n.owner_id"
    assert server.query(owned + " WHERE u.username = 'bytes'") == [(0,)]
