"""The inspector: /-/hooks, /-/plugins and /-/calls with their JSON twins, over a real
server and in a real browser (Debian's chromium); recording that costs nothing
while no one looks; the app's own 404 and 500 pages."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser
from playwright.sync_api import ConsoleMessage
from playwright.sync_api import Page

from hosthooks import Host
from hosthooks import hookimpl
from hosthooks.runtime.inspector import RecentCalls
from tests.serving import PASSWORD
from tests.serving import SERVERS
from tests.serving import Client
from tests.serving import Server
from tests.serving import serving
from tests.test_browser import browser  # noqa: F401 - the shared chromium fixture


@pytest.fixture(scope="module", params=SERVERS)
def server(request, tmp_path_factory) -> Iterator[Server]:
    """The demo app served by waitress (WSGI), then by uvicorn (ASGI), with a staff user."""
    root = tmp_path_factory.mktemp(f"inspector-{request.param}")
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


def test_the_pages_and_their_twins_are_for_staff_only(server):
    anonymous = Client(server)
    for path in ("/-/hooks.json", "/-/plugins.json", "/-/calls.json"):
        assert anonymous.get(path)[0] == 403, path
    for path in ("/-/hooks", "/-/plugins", "/-/calls"):
        status, headers, _ = anonymous.get(path)
        assert (status, headers["Location"]) == (303, f"/login?next={path.replace('/', '%2F')}")


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
    assert host.has_listeners("post_save") is True  # traced: every call is recorded
    host.hook.post_save(
        sender=Host, instance=None, created=True, raw=False, using="default", update_fields=None
    )
    (call,) = recent.after(0)
    assert (call["hook"], call["sender"], call["impls"]) == ("post_save", "Host", [])
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


@pytest.fixture
def staff_page(browser: Browser, server: Server) -> Iterator[tuple[Page, list[str]]]:  # noqa: F811
    context = browser.new_context()
    page = context.new_page()
    console: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        console.append(message.text)

    page.on("console", keep)
    base = f"http://127.0.0.1:{server.port}"
    page.goto(base + "/login?next=/-/hooks")
    page.fill("#username", "operator")
    page.fill("#password", PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_url(base + "/-/hooks")
    yield page, console
    context.close()


def test_the_inspector_in_a_browser_updates_calls_live(staff_page, server, tmp_path):
    page, console = staff_page
    base = f"http://127.0.0.1:{server.port}"
    assert page.locator("h2").first.inner_text() == "Hooks"
    assert page.locator("section.hook").count() == 27
    post_save = page.locator("#hook-post_save")
    assert (
        "post_save(sender, instance, created, raw, using, update_fields)" in post_save.inner_text()
    )
    rows = post_save.locator("table.impls tbody tr")
    assert [row.locator("td").nth(1).inner_text() for row in rows.all()] == ["recorder", "faults"]
    assert page.locator("nav").inner_text().startswith("Hooks · Plugins · Calls")
    page.screenshot(path=str(tmp_path / "hooks.png"), full_page=True)

    page.click("nav >> text=Plugins")
    page.wait_for_url(base + "/-/plugins")
    recorder = page.locator("#plugin-recorder")
    assert recorder.locator(".status").inner_text() == "active"
    page.screenshot(path=str(tmp_path / "plugins.png"), full_page=True)

    page.click("nav >> text=Calls")
    page.wait_for_url(base + "/-/calls")
    assert page.locator("#live-status").inner_text() == "recording"
    writer = Client(server)
    assert writer.signup("browser-writer") == 303
    writer.post("/notes", {"title": "appears live", "body": "", "tags": ""})
    # No reload: the page's script fetches the new calls and adds their rows.
    page.wait_for_selector("#calls tr:has(code:text-is('post_save'))", timeout=10_000)
    row = page.locator("#calls tr:has(code:text-is('post_save'))").first
    assert "recorder" in row.inner_text()
    assert page.url == base + "/-/calls"
    page.screenshot(path=str(tmp_path / "calls.png"), full_page=True)
    assert not [text for text in console if "Content Security Policy" in text], console

    page.goto(base + "/no/such/page")
    assert page.locator(".http-error h2").inner_text() == "404 Not Found"
    page.screenshot(path=str(tmp_path / "404.png"), full_page=True)
    for name in ("hooks", "plugins", "calls", "404"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
