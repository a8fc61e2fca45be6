"""The demo app in a real headless browser (Debian's chromium), driven by Playwright."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from playwright.sync_api import Dialog
from playwright.sync_api import Page
from playwright.sync_api import sync_playwright

from tests.serving import SERVERS
from tests.serving import Server
from tests.serving import serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without these, Chromium reaches for Google's services, which this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOSTILE_TITLE = '<img src=x onerror=alert(1)> & "quoted"'


@pytest.fixture(scope="module", params=SERVERS)
def server(request, tmp_path_factory) -> Iterator[Server]:
    """The demo app served by waitress (WSGI), then by uvicorn (ASGI)."""
    with serving(
        tmp_path_factory.mktemp(f"browser-{request.param}"), kind=request.param
    ) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "chromium is not installed: apt-get install chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    opened = context.new_page()
    dialogs: list[str] = []

    def record_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    opened.on("dialog", record_dialog)
    yield opened
    context.close()
    assert dialogs == [], "a script ran in the page"


def test_sign_up_write_a_note_delete_it_and_log_out(server, page, tmp_path):
    base = f"http://127.0.0.1:{server.port}"
    page.goto(base + "/")
    assert page.locator("nav").inner_text().strip() == "Log in · Sign up"
    # The stylesheet applies under the CSP (default-src 'self'): 42rem.
    assert page.evaluate("getComputedStyle(document.body).maxWidth") == "672px"
    page.click("text=Sign up")
    page.fill("#username", "browser-user")
    page.fill("#password", "a long passphrase")
    page.click("#signup button[type=submit]")
    page.wait_for_url(base + "/")
    assert page.locator(".who").inner_text() == "browser-user"

    page.fill("#title", HOSTILE_TITLE)
    page.fill("#body", "written in a real browser")
    page.fill("#tags", "work, urgent, work")
    page.click("#add-note button[type=submit]")
    page.wait_for_url(base + "/")
    note = page.locator("article.note")
    assert note.count() == 1
    assert note.locator("h2").inner_text() == HOSTILE_TITLE  # shown as text, not markup
    assert page.locator("article.note img").count() == 0
    assert note.locator(".tag").all_inner_texts() == ["urgent", "work"]
    page.screenshot(path=str(tmp_path / "notes.png"), full_page=True)
    assert (tmp_path / "notes.png").stat().st_size > 1000

    note.locator("button", has_text="Delete").click()
    page.wait_for_url(base + "/")
    assert page.locator("article.note").count() == 0
    assert page.locator(".empty").inner_text() == "No notes yet."

    page.click("nav button:has-text('Log out')")
    page.wait_for_url(base + "/")
    assert page.locator("nav").inner_text().strip() == "Log in · Sign up"
    assert server.query("SELECT COUNT(*) FROM demo_note") == [(0,)]


def test_a_wrong_password_shows_the_form_with_an_error(server, page):
    base = f"http://127.0.0.1:{server.port}"
    page.goto(base + "/signup")
    page.fill("#username", "second")
    page.fill("#password", "right one")
    page.click("#signup button[type=submit]")
    page.click("nav button:has-text('Log out')")
    page.goto(base + "/login")
    page.fill("#username", "second")
    page.fill("#password", "wrong one")
    page.click("#login button[type=submit]")
    assert page.url == base + "/login"
    assert page.locator(".error").inner_text() == "Unknown username or wrong password."
    assert page.input_value("#username") == "second"
