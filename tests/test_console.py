"""The operations console over a real server (waitress and uvicorn): every page and
its JSON twin for staff only, calls grouped by request, filters, muting a plugin
from the console and the command line across processes and restarts, the circuit
breaker; recording that costs nothing while no one looks; the app's 404 page.
The browser walk is in tests/test_console_browser.py."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from hosthooks import Host
from hosthooks import hookimpl
from hosthooks.runtime.console.data import CallFilter
from hosthooks.runtime.console.recording import RecentCalls
from tests.serving import HOSTHOOKS
from tests.serving import PASSWORD
from tests.serving import SERVERS
from tests.serving import WEB_PLUGINS
from tests.serving import Client
from tests.serving import Server
from tests.serving import clean_environ
from tests.serving import serving


@pytest.fixture(scope="module", params=SERVERS)
def server(request, tmp_path_factory) -> Iterator[Server]:
    """The demo app served by waitress (WSGI), then by uvicorn (ASGI), with a staff user."""
    root = tmp_path_factory.mktemp(f"console-{request.param}")
    with serving(root, kind=request.param) as running:
        created = running.create_user("operator", "--staff")
        assert created.returncode == 0, created.stderr
        yield running


def staff_client(server: Server) -> Client:
    client = Client(server)
    client.get("/login")
    status, _, _ = client.post("/login", {"username": "operator", "password": PASSWORD})
    assert status == 303
    return client


def test_the_json_twins_are_the_cli_contract(server):
    client = staff_client(server)
    status, headers, body = client.get("/-/hooks.json")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    hooks = json.loads(body)
    assert [hook["name"] for hook in hooks][:3] == ["class_prepared", "pre_init", "post_init"]
    assert len(hooks) == 27  # Django's 19 signals, hosthooks' own 8
    recorder_impls = [
        impl for hook in hooks for impl in hook["impls"] if impl["plugin"] == "recorder"
    ]
    assert recorder_impls
    assert set(recorder_impls[0]) == {
        "plugin",
        "function",
        "sender",
        "tryfirst",
        "trylast",
        "wrapper",
        "async",
        "defer",
        "before",
        "after",
        "when",
        "options",
    }
    status, _, body = client.get("/-/plugins.json")
    assert status == 200
    assert "recorder" in {plugin["name"] for plugin in json.loads(body)}


CONSOLE_PAGES = ("/-/", "/-/plugins", "/-/hooks", "/-/calls", "/-/deliveries")
CONSOLE_TWINS = (
    "/-/overview.json",
    "/-/plugins.json",
    "/-/hooks.json",
    "/-/calls.json",
    "/-/deliveries.json",
)


def test_the_pages_their_twins_and_the_posts_are_for_staff_only(server):
    anonymous = Client(server)
    for path in CONSOLE_TWINS:
        assert anonymous.get(path)[0] == 403, path
    for path in CONSOLE_PAGES:
        status, headers, _ = anonymous.get(path)
        assert (status, headers["Location"]) == (303, f"/login?next={path.replace('/', '%2F')}")
    user = Client(server)
    assert user.signup("not-staff") == 303
    for path in CONSOLE_TWINS:
        assert user.get(path)[0] == 403, path
    # With a valid CSRF token, still refused: staff only.
    status, _, body = user.post("/-/plugins/recorder/mute", {"until": ""})
    assert (status, json.loads(body)) == (403, {"error": "The console is for staff users only."})
    assert user.post("/-/plugins/recorder/unmute", {})[0] == 403
    assert server.query("SELECT COUNT(*) FROM hosthooks_mute") == [(0,)]


def test_every_page_has_the_console_layout_and_no_inline_script(server):
    client = staff_client(server)
    for path in CONSOLE_PAGES:
        status, headers, body = client.get(path)
        assert status == 200, path
        assert headers["Content-Security-Policy"] == "default-src 'self'"
        assert '<a class="project" href="/-/">hosthooks <span>console</span></a>' in body
        for link in CONSOLE_PAGES:
            assert f'href="{link}"' in body, (path, link)
        assert f'href="{path}" aria-current="page"' in body
        assert '<span class="username" title="signed in">operator</span>' in body
        # The demo app's header (its title and sign-up link) stays out.
        assert "Sign up" not in body
        assert '<h1><a href="/">Notes</a></h1>' not in body
        assert re.findall(r"<script[^>]*>", body) in ([], ['<script src="/-/console.js">'])
        assert "style=" not in body


def test_hooks_filter_to_the_implemented_and_say_what_placed_each(server):
    client = staff_client(server)
    hooks = json.loads(client.get("/-/hooks.json?implemented=1&details=1")[2])
    assert hooks
    assert all(hook["impls"] for hook in hooks)
    every = json.loads(client.get("/-/hooks.json")[2])
    assert len(every) == 27
    assert len(hooks) < len(every)
    finished = next(hook for hook in hooks if hook["name"] == "request_finished")
    placed = [(impl["plugin"], impl["placed_by"]) for impl in finished["impls"]]
    assert placed == [
        ("recorder", "registration order (later runs first)"),
        ("broken_finisher", "trylast"),
        ("faults", "trylast"),
    ]
    body = client.get("/-/hooks?implemented=1")[2]
    assert body.count('<section class="hook"') == len(hooks)
    assert '<span class="badge option">trylast</span>' in body


def test_plugins_show_typed_settings_with_their_source_and_options_once(server):
    client = staff_client(server)
    plugins = json.loads(client.get("/-/plugins.json?details=1")[2])
    recorder = next(plugin for plugin in plugins if plugin["name"] == "recorder")
    assert [impl["hook"] for impl in recorder["implementations"]][:2] == [
        "connection_created",
        "m2m_changed",
    ] or recorder["implementations"]
    assert {"errors", "last_error", "tripped", "typed_settings", "muted"} <= set(recorder)
    assert (recorder["status"], recorder["muted"]) == ("active", False)


def test_calls_json_shows_the_apps_calls_but_not_its_own_polling(server):
    client = staff_client(server)
    status, _, body = client.get("/-/calls.json")  # starts recording
    assert status == 200
    assert json.loads(body)["recording"] is True
    last = max([call["seq"] for call in json.loads(body)["calls"]], default=0)
    writer = Client(server)
    assert writer.signup("calls-writer") == 303
    writer.post("/notes", {"title": "seen live", "body": "", "tags": "a"})
    deadline = time.monotonic() + 10
    calls: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        calls += json.loads(client.get(f"/-/calls.json?after={last}")[2])["calls"]
        saved = any(call["hook"] == "post_save" and call["sender"] == "demo.Note" for call in calls)
        if saved and any(call["hook"] == "request_finished" for call in calls):
            break
        last = max([call["seq"] for call in calls], default=last)
        time.sleep(0.1)
    hooks = [call["hook"] for call in calls]
    assert "post_save" in hooks
    assert "user_logged_in" in hooks
    # Fired robustly, after the body was sent: recorded like every other call.
    assert "request_finished" in hooks
    post_save = next(
        call for call in calls if call["hook"] == "post_save" and call["sender"] == "demo.Note"
    )
    # Both test plugins of the server implement post_save; the later registered runs first.
    assert [impl["plugin"] for impl in post_save["impls"]] == ["recorder", "faults"]
    assert post_save["impls"][0]["outcome"] == "ok"
    # Polling /-/calls.json makes request_started calls of its own; none is shown.
    started = [call for call in calls if call["hook"] == "request_started"]
    assert len(started) <= 4  # the writer's requests: signup GET/POST, GET /, POST /notes
    assert [call["seq"] for call in calls] == sorted({call["seq"] for call in calls})


def test_recording_costs_nothing_while_no_one_looks():
    host = Host()
    assert host.has_listeners("post_save") is False  # nothing implements it
    recent = RecentCalls(linger=0.3)
    recent.touch(host)
    assert recent.recording
    # Calls that reach nobody are shown only when asked for: until then a hook
    # nobody implements is not even called.
    assert host.has_listeners("post_save") is False
    recent.touch(host, empty=True)
    assert host.has_listeners("post_save") is True  # traced: every call is recorded
    host.hook.post_save(
        sender=Host, instance=None, created=True, raw=False, using="default", update_fields=None
    )
    (call,) = recent.after(0)
    assert (call["hook"], call["sender"], call["impls"]) == ("post_save", "Host", [])
    assert (call["request"], call["transaction"]) == (None, None)
    # A call that reached nobody is shown only when asked for.
    assert not CallFilter().keeps(call)
    assert CallFilter(empty=True).keeps(call)
    deadline = time.monotonic() + 5
    while recent.recording and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not recent.recording
    assert host.has_listeners("post_save") is False  # untraced again: the plans are plain
    host.hook.post_save(
        sender=Host, instance=None, created=True, raw=False, using="default", update_fields=None
    )
    assert len(recent.after(0)) == 1


def test_recording_follows_tracing_already_on(tmp_path):
    from hosthooks import HostConfig

    trace_file = tmp_path / "trace.jsonl"
    host = Host(HostConfig(autoload=False, trace=True, trace_file=trace_file))

    class Plugin:
        @hookimpl
        def setting_changed(self, setting):
            pass

    host.register(Plugin(), "plugin")
    recent = RecentCalls(linger=60)
    recent.touch(host)
    host.hook.setting_changed(sender=Host, setting="X", value=1, enter=True)
    recent.stop()
    host.hook.setting_changed(sender=Host, setting="Y", value=2, enter=True)
    host.close()
    assert [call["hook"] for call in recent.after(0)] == ["setting_changed"]
    # The configured trace saw both calls, with and without the recorder attached.
    lines = [json.loads(line) for line in trace_file.read_text().splitlines()]
    assert [line["hook"] for line in lines] == ["setting_changed", "setting_changed"]


def test_the_apps_own_404_page(server):
    status, headers, body = Client(server).get("/no/such/page")
    assert status == 404
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<link rel="stylesheet" href="/static/style.css">' in body
    assert '<span class="code">404</span> Not Found' in body
    assert '<a href="/login">Log in</a>' in body


def _calls(client: Client, query: str = "") -> dict[str, Any]:
    status, _, body = client.get(f"/-/calls.json{query}")
    assert status == 200
    found: dict[str, Any] = json.loads(body)
    return found


def _request_group(client: Client, method: str, path: str) -> dict[str, Any]:
    """The newest group of the request ``method path``, once it finished."""
    deadline = time.monotonic() + 10
    while True:
        for group in _calls(client)["groups"]:
            request = group.get("request") or {}
            done = any(call["hook"] == "request_finished" for call in group["calls"])
            if (request.get("method"), request.get("path")) == (method, path) and done:
                found: dict[str, Any] = group
                return found
        assert time.monotonic() < deadline, f"no finished {method} {path} recorded"
        time.sleep(0.1)


def test_a_request_is_one_group_of_its_calls_and_filters_narrow_them(server):
    client = staff_client(server)
    _calls(client)  # starts recording
    writer = Client(server)
    assert writer.signup("grouped-writer") == 303
    assert writer.post("/notes", {"title": "grouped", "body": "", "tags": "x"})[0] == 303
    group = _request_group(client, "POST", "/notes")
    assert group["kind"] == "request"
    assert group["request"]["status"] == 303
    assert group["request"]["duration_ms"] > 0
    assert group["duration_ms"] >= max(call["duration_ms"] for call in group["calls"])
    hooks = [call["hook"] for call in group["calls"]]
    assert hooks[0] == "request_started"
    assert hooks[-1] == "request_finished"
    assert "post_save" in hooks
    assert "m2m_changed" in hooks
    senders = {call["sender"] for call in group["calls"] if call["hook"] == "post_save"}
    assert senders == {"demo.Note", "demo.Tag"}
    # The waterfall has a bar per call and one per implementation.
    bars = group["waterfall"]["rows"]
    assert len(bars) == len(hooks) + sum(len(call["impls"]) for call in group["calls"])
    assert all(0 <= bar["x"] <= 1000 for bar in bars)
    # Calls that reached nobody are left out unless asked for.
    every = _calls(client)["calls"]
    assert all(call["impls"] for call in every)
    with_empty = _calls(client, "?empty=1")["calls"]
    assert len(with_empty) >= len(every)
    # No sender is a repr in quotes.
    assert not [call for call in with_empty if call["sender"].startswith("'")]
    # Filters.
    only = _calls(client, "?hook=post_save")
    assert only["filter"] == {"hook": "post_save"}
    assert {call["hook"] for call in only["calls"]} == {"post_save"}
    by_plugin = _calls(client, "?plugin=broken_finisher")["calls"]
    assert by_plugin
    assert all(
        any(impl["plugin"] == "broken_finisher" for impl in call["impls"]) for call in by_plugin
    )
    raised = _calls(client, "?outcome=raised")["calls"]
    assert raised
    assert all(any(impl["outcome"] == "raised" for impl in call["impls"]) for call in raised)
    assert _calls(client, "?slower=600000")["groups"] == []
    page = client.get("/-/calls?hook=post_save")[2]
    assert "<option selected>post_save</option>" in page
    assert "<code>request_started</code>" not in page


def _wait_until(check: Any, seconds: float = 6.0) -> float:
    """Poll ``check()`` until true; how long it took."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, "not within the time allowed"
        time.sleep(0.1)
    return time.monotonic() - started


def _plugin(client: Client, name: str) -> dict[str, Any]:
    return next(p for p in json.loads(client.get("/-/plugins.json")[2]) if p["name"] == name)


def _cli(server: Server, *arguments: str) -> subprocess.CompletedProcess[str]:
    """``hosthooks ARGUMENTS --db <the server's database>`` with the server's plugins
    (the recorder writing to a file of the command's own)."""
    env = clean_environ()
    env["HOSTHOOKS_TEST_RECORD"] = str(server.record.with_name("cli-record.jsonl"))
    return subprocess.run(
        [
            str(HOSTHOOKS),
            "--plugins-dir",
            str(WEB_PLUGINS),
            *arguments,
            "--db",
            str(server.database),
        ],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=60,
    )


def test_muting_from_the_console_silences_a_plugin_until_unmuted_from_the_command_line(server):
    client = staff_client(server)
    client.get("/-/plugins")  # the page's CSRF token
    assert client.post("/-/plugins/recorder/mute", {"until": ""}, csrf=False)[0] == 403
    status, _, body = client.post("/-/plugins/recorder/mute", {"until": "soon"})
    assert status == 400
    assert "is not a duration" in body
    assert client.post("/-/plugins/nobody/mute", {"until": ""})[0] == 404
    try:
        status, headers, _ = client.post("/-/plugins/recorder/mute", {"until": "", "back": "/-/"})
        assert (status, headers["Location"]) == (303, "/-/#plugin-recorder")
        recorder = _plugin(client, "recorder")
        assert (recorder["status"], recorder["muted"], recorder["muted_by"]) == (
            "active",
            True,
            "operator",
        )
        assert recorder["muted_until"] is None
        assert "plugin 'recorder' muted by operator" in server.log.read_text()
        # Its implementations are no longer called: a whole request records nothing.
        before = server.settle()
        writer = Client(server)
        assert writer.signup("unheard") == 303
        time.sleep(0.5)
        assert len(server.records()) == before
        # Another process (the command line) unmutes it; the server follows within 5 s.
        unmuted = _cli(server, "unmute", "recorder")
        assert unmuted.returncode == 0, unmuted.stderr
        assert unmuted.stdout.startswith("recorder unmuted")
        # The audit line names who did it.
        assert re.fullmatch(r"plugin 'recorder' unmuted by .+ \(command line\)\n", unmuted.stderr)
        took = _wait_until(lambda: not _plugin(client, "recorder")["muted"])
        assert took < 5
        assert writer.get("/")[0] == 200
        _wait_until(lambda: len(server.records()) > before)
        # And mutes it for a while: the end is shown.
        muted = _cli(server, "mute", "recorder", "--until", "2h")
        assert muted.returncode == 0, muted.stderr
        _wait_until(lambda: _plugin(client, "recorder")["muted_until"] is not None)
        assert _plugin(client, "recorder")["muted_by"].endswith("(command line)")
    finally:
        client.post("/-/plugins/recorder/unmute", {})
    assert _plugin(client, "recorder")["muted"] is False


def test_a_mute_end_past_any_date_is_refused_and_a_stored_one_breaks_no_page(server):
    client = staff_client(server)
    client.get("/-/plugins")  # the page's CSRF token
    status, _, body = client.post("/-/plugins/recorder/mute", {"until": "99999999d"})
    assert status == 400
    assert "&#39;99999999d&#39; is longer than the longest duration" in body
    assert server.query("SELECT COUNT(*) FROM hosthooks_mute") == [(0,)]
    # A row an older version wrote (or a hand): a mute with no end, every page works.
    server.query(
        "INSERT INTO hosthooks_mute (plugin, muted_by, muted_at, muted_until) "
        "VALUES ('recorder', 'hand', 0, 1e300)"
    )
    try:
        _wait_until(lambda: _plugin(client, "recorder")["muted"])
        assert _plugin(client, "recorder")["muted_until"] is None
        for path in ("/-/", "/-/plugins", "/-/overview.json", "/-/plugins.json"):
            assert client.get(path)[0] == 200, path
        assert "which is no date" in server.log.read_text()
        listed = _cli(server, "plugins", "--json")
        assert listed.returncode == 0, listed.stderr
    finally:
        server.query("DELETE FROM hosthooks_mute")
    _wait_until(lambda: not _plugin(client, "recorder")["muted"])


def test_mute_and_unmute_refuse_what_they_cannot_do_in_one_line(server):
    unknown = _cli(server, "mute", "nobody")
    assert unknown.returncode == 2
    assert unknown.stderr.endswith(
        "no plugin is named 'nobody' (loaded: broken_finisher, faults, hosthooks.last-login, recorder)\n"
    )
    bad = _cli(server, "mute", "recorder", "--until", "2 weeks")
    assert bad.returncode == 2
    assert "'2 weeks' is not a duration" in bad.stderr
    not_muted = _cli(server, "unmute", "faults")
    assert (not_muted.returncode, not_muted.stderr) == (
        1,
        "hosthooks: error: faults is not muted\n",
    )


def test_the_live_part_of_calls_answers_204_while_nothing_new_was_recorded(server):
    client = staff_client(server)
    server.settle()
    status, headers, _ = client.get("/-/calls?fragment=1")
    assert status == 200
    last = headers["X-Console-Last"]
    # Only console requests since (none of them recorded), once what an earlier
    # test left running (a request_finished after its answer) is in.
    for _ in range(10):
        status, headers, body = client.get(f"/-/calls?fragment=1&since={last}")
        if status == 204:
            break
        last = headers["X-Console-Last"]
        time.sleep(0.2)
    assert (status, body) == (204, "")
    writer = Client(server)
    writer.get("/")
    server.settle()
    status, headers, body = client.get(f"/-/calls?fragment=1&since={last}")
    assert status == 200
    assert int(headers["X-Console-Last"]) > int(last)
    assert '<details class="group group-request"' in body
    assert "<html" not in body  # the live part only


def test_a_plugin_and_an_outcome_filter_ask_for_that_plugins_outcome():
    call = {
        "hook": "request_finished",
        "impls": [
            {"plugin": "recorder", "outcome": "ok"},
            {"plugin": "broken", "outcome": "muted"},
        ],
    }
    assert CallFilter(plugin="broken", outcome="muted").keeps(call)
    assert not CallFilter(plugin="recorder", outcome="muted").keeps(call)
    assert CallFilter(outcome="muted").keeps(call)
    assert CallFilter(plugin="recorder").keeps(call)
    assert not CallFilter(plugin="nobody").keeps(call)
