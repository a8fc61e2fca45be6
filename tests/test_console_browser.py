"""The operations console in Debian's chromium, against waitress and uvicorn: the
navigation, a request's waterfall, a filter, muting a plugin and seeing its
implementations stop being called, the circuit breaker tripping and recovering.

Every page is screenshotted into the folder named by HOSTHOOKS_CONSOLE_SCREENSHOTS
(else a pytest temporary folder, printed), as ``<server>-<step>-<page>.png``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from playwright.sync_api import ConsoleMessage
from playwright.sync_api import Dialog
from playwright.sync_api import Page

from tests.serving import PASSWORD
from tests.serving import SERVERS
from tests.serving import Client
from tests.serving import Server
from tests.serving import serving
from tests.test_browser import browser  # noqa: F401 - the shared chromium fixture

COOLDOWN = 5
CONSOLE_PLUGINS = Path(__file__).with_name("console_plugins")


@pytest.fixture(scope="module", params=SERVERS)
def server(request, tmp_path_factory) -> Iterator[Server]:
    """The demo app with the circuit breaker on (3 failures, a 5-second cool-down)."""
    root = tmp_path_factory.mktemp(f"console-browser-{request.param}")
    settings = {"BREAKER_FAILURES": "3", "BREAKER_COOLDOWN": str(COOLDOWN)}
    with serving(root, kind=request.param, settings=settings) as running:
        created = running.create_user("operator", "--staff")
        assert created.returncode == 0, created.stderr
        yield running


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    folder = os.environ.get("HOSTHOOKS_CONSOLE_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("console-screenshots")
    path.mkdir(parents=True, exist_ok=True)
    print(f"console screenshots in {path}")
    return path


@pytest.fixture
def operator(browser: Browser, server: Server) -> Iterator[tuple[Page, list[str]]]:  # noqa: F811
    """A page signed in as the staff user, on the overview; what the console logged."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    console: list[str] = []
    dialogs: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        console.append(message.text)

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("console", keep)
    page.on("dialog", dismiss)
    base = f"http://127.0.0.1:{server.port}"
    page.goto(base + "/-/")
    page.wait_for_url(base + "/login?next=%2F-%2F")
    page.fill("#username", "operator")
    page.fill("#password", PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_url(base + "/-/")
    yield page, console
    context.close()
    assert dialogs == [], "a script ran in the page"


def shoot(page: Page, folder: Path, server: Server, name: str) -> None:
    path = folder / f"{server.kind}-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5000


def test_an_operator_walks_the_console(operator, server, screenshots):
    page, console = operator
    base = f"http://127.0.0.1:{server.port}"
    # The console's own layout: its name, the staff user, every page; no demo header.
    assert page.locator(".project").inner_text() == "hosthooks console"
    assert page.locator(".username").inner_text() == "operator"
    assert page.locator(".console-nav a").all_inner_texts() == [
        "Overview",
        "Plugins",
        "Hooks",
        "Calls",
        "Deliveries",
    ]
    assert page.locator("text=Sign up").count() == 0
    assert page.locator("table.overview tbody tr").count() == 4
    shoot(page, screenshots, server, "01-overview")

    page.click(".console-nav >> text=Plugins")
    page.wait_for_url(base + "/-/plugins")
    assert page.locator("#plugin-recorder .status").inner_text() == "active"
    shoot(page, screenshots, server, "02-plugins")

    page.click(".console-nav >> text=Hooks")
    page.wait_for_url(base + "/-/hooks")
    assert page.locator("section.hook").count() == 27
    page.check("input[name=implemented]")
    page.click("form.filters button")
    page.wait_for_url(base + "/-/hooks?implemented=1")
    assert 0 < page.locator("section.hook").count() < 27
    assert page.locator(".empty").count() == 0
    options = page.locator("#hook-request_finished td.options").all_inner_texts()
    assert options == ["", "trylast", "trylast"]
    shoot(page, screenshots, server, "03-hooks-implemented")

    # A request that saves a note, as a waterfall of its hook calls.
    page.click(".console-nav >> text=Calls")
    page.wait_for_url(base + "/-/calls")
    assert page.locator("#live-status").inner_text() == "recording"
    writer = Client(server)
    assert writer.signup("browser-writer") == 303
    assert (
        writer.post("/notes", {"title": "in the waterfall", "body": "", "tags": "a, b"})[0] == 303
    )
    # No reload: the page's script brings the new groups in.
    saved = page.locator("details.group-request:has(.path:text-is('/notes'))")
    saved.first.wait_for(timeout=10_000)
    group = saved.first
    assert group.locator(".method").inner_text() == "POST"
    group.locator("summary").click()
    expect_rows = group.locator("table.calls tbody tr")
    assert expect_rows.count() >= 5
    hooks = group.locator("table.calls tbody tr td:nth-child(2)").all_inner_texts()
    assert hooks[0] == "request_started"
    assert "post_save" in hooks
    assert group.locator("svg.waterfall rect.bar.call").count() == len(hooks)
    assert "demo.Note" in group.locator("table.calls").inner_text()
    page.wait_for_timeout(2500)  # a refresh keeps the group open
    assert page.locator("details.group-request[open]").count() == 1
    shoot(page, screenshots, server, "04-calls-waterfall")

    # A filter: only post_save calls.
    page.select_option("select[name=hook]", "post_save")
    page.click("form.filters button")
    page.wait_for_url(base + "/-/calls?hook=post_save&plugin=&outcome=&slower=")
    shown = page.locator("table.calls tbody tr td:nth-child(2)").all_text_contents()
    assert shown
    assert set(shown) == {"post_save"}
    shoot(page, screenshots, server, "05-calls-filtered")

    # Muting the recorder: its implementations stop being called.
    page.goto(base + "/-/plugins")
    page.click("#plugin-recorder button.mute")
    page.wait_for_url(base + "/-/plugins#plugin-recorder")
    assert page.locator("#plugin-recorder .badge.muted").inner_text() == "muted by operator"
    assert page.locator("#plugin-recorder .status").inner_text() == "active"
    shoot(page, screenshots, server, "06-plugins-recorder-muted")
    before = server.settle()
    assert writer.post("/notes", {"title": "unheard", "body": "", "tags": ""})[0] == 303
    page.goto(base + "/-/calls?plugin=recorder&outcome=muted")
    page.locator("details.group-request:has(.path:text-is('/notes'))").first.wait_for(
        timeout=10_000
    )
    page.locator("details.group-request summary").first.click()
    muted = page.locator("details.group-request[open] span.impl.outcome-muted")
    assert muted.count() > 0
    assert muted.first.inner_text().startswith("recorder ")
    assert len(server.records()) == before
    shoot(page, screenshots, server, "07-calls-recorder-muted")
    page.goto(base + "/-/")
    assert page.locator("#plugin-recorder .badge.muted").count() == 1
    page.click("#plugin-recorder button.unmute")
    page.wait_for_url(base + "/-/#plugin-recorder")
    assert page.locator("#plugin-recorder .badge.muted").count() == 0

    # The circuit breaker: three failures in a row mute faults in request_finished ...
    failing = Client(server)
    for _ in range(3):
        failing.request("GET", "/", headers={"X-Fault": "request_finished"})
    server.settle()
    page.goto(base + "/-/")
    faults = page.locator("#plugin-faults")
    assert (
        faults.locator(".badge.tripped").inner_text().startswith("breaker open in request_finished")
    )
    assert faults.get_attribute("class") == "attention"
    # Problem plugins first.
    names = page.locator("table.overview tbody tr td:first-child").all_inner_texts()
    assert names.index("faults") < names.index("recorder")
    shoot(page, screenshots, server, "08-overview-breaker-open")
    # ... until the cool-down ends: the next call runs it again, and it succeeds.
    time.sleep(COOLDOWN + 0.2)
    assert failing.get("/")[0] == 200
    server.settle()
    page.goto(base + "/-/")
    assert page.locator("#plugin-faults .badge.tripped").count() == 0
    assert int(page.locator("#plugin-faults .errors").inner_text()) >= 3
    shoot(page, screenshots, server, "09-overview-recovered")
    assert not [text for text in console if "Content Security Policy" in text], console


@pytest.fixture(scope="module", params=SERVERS)
def outbox_server(request, tmp_path_factory) -> Iterator[Server]:
    """The demo app with a deferred plugin whose calls fail until healed, run by
    the eager queue (in process, after commit, through the delivery records)."""
    root = tmp_path_factory.mktemp(f"console-deliveries-{request.param}")
    settings = {"QUEUE_BACKEND": "eager", "TEST_HEALED": str(root / "healed")}
    with serving(
        root, kind=request.param, settings=settings, plugins_dir=CONSOLE_PLUGINS
    ) as running:
        created = running.create_user("operator", "--staff")
        assert created.returncode == 0, created.stderr
        yield running


def test_a_dead_delivery_is_retried_from_its_page(browser, outbox_server, screenshots):  # noqa: F811
    server = outbox_server
    base = f"http://127.0.0.1:{server.port}"
    writer = Client(server)
    assert writer.signup("deferring-writer") == 303
    assert writer.post("/notes", {"title": "to deliver", "body": "", "tags": ""})[0] == 303
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        page.goto(base + "/login?next=/-/deliveries")
        page.fill("#username", "operator")
        page.fill("#password", PASSWORD)
        page.click("#login button[type=submit]")
        page.wait_for_url(base + "/-/deliveries")
        total = page.locator("tr.total td.state-dead")
        assert total.inner_text() == "1"
        assert page.locator("#deliveries-flaky_webhook td.state-dead").inner_text() == "1"
        dead = page.locator("table.dead tbody tr")
        assert dead.count() == 1
        assert dead.locator(".error-text").inner_text() == (
            "RuntimeError: the webhook's server is down"
        )
        shoot(page, screenshots, server, "10-deliveries-dead")
        (server.record.parent / "healed").touch()
        dead.locator("button.retry").click()
        page.wait_for_url(base + "/-/deliveries?notice=1+call%28s%29+sent+back+to+the+queue.")
        assert page.locator(".notice").inner_text() == "1 call(s) sent back to the queue."
        assert page.locator("tr.total td.state-dead").inner_text() == "0"
        assert page.locator("tr.total td.state-done").inner_text() == "1"
        assert page.locator("table.dead").count() == 0
        assert (server.record.parent / "healed.delivered").exists()
        shoot(page, screenshots, server, "11-deliveries-retried")
    finally:
        context.close()
    assert "1 deferred call(s) retried by operator" in server.log.read_text()


def test_deliveries_are_for_staff_and_their_verbs_need_csrf_and_are_audited(outbox_server):
    server = outbox_server
    anonymous = Client(server)
    assert anonymous.get("/-/deliveries.json?details=1")[0] == 403
    assert anonymous.get("/-/deliveries")[0] == 303
    user = Client(server)
    assert user.signup("not-an-operator") == 303
    assert user.post("/-/deliveries/retry", {"dead": "1"})[0] == 403
    assert user.post("/-/deliveries/purge", {"older_than": "1s"})[0] == 403
    operator = Client(server)
    operator.get("/login")
    assert operator.post("/login", {"username": "operator", "password": PASSWORD})[0] == 303
    status, _, body = operator.get("/-/deliveries.json?details=1")
    assert status == 200
    summary = json.loads(body)
    assert set(summary) == {"counts", "plugins", "dead"}
    assert list(summary["counts"]) == [
        "pending",
        "sent",
        "running",
        "done",
        "failed",
        "held",
        "dead",
    ]
    operator.get("/-/deliveries")  # the page's CSRF token
    assert operator.post("/-/deliveries/purge", {"older_than": "1s"}, csrf=False)[0] == 403
    status, _, body = operator.post("/-/deliveries/purge", {"older_than": "soon"})
    assert status == 400
    assert "&#39;soon&#39; is not a duration" in body  # escaped in the page
    done = summary["counts"]["done"]
    time.sleep(1.1)
    status, headers, _ = operator.post("/-/deliveries/purge", {"older_than": "1s"})
    assert (status, headers["Location"]) == (
        303,
        f"/-/deliveries?notice={done}+done+call%28s%29+purged.",
    )
    assert json.loads(operator.get("/-/deliveries.json?details=1")[2])["counts"]["done"] == 0
    assert f"{done} done deferred call(s) older than 1s purged by operator" in (
        server.log.read_text()
    )
