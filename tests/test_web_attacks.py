"""``hosthooks serve`` probed as an attacker would: redirects off-site, the
trusted proxy's headers, what the error page shows; on both servers."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator

import pytest

from tests.serving import PASSWORD
from tests.serving import SERVERS
from tests.serving import Client
from tests.serving import Server
from tests.serving import serving


@pytest.fixture(scope="module", params=SERVERS)
def kind(request) -> str:
    """The server every test of the module runs against: waitress (WSGI), then uvicorn (ASGI)."""
    return str(request.param)


@pytest.fixture(scope="module")
def server(kind, tmp_path_factory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp(f"attacked-{kind}"), kind=kind) as running:
        yield running


@pytest.fixture(scope="module")
def proxied(kind, tmp_path_factory) -> Iterator[Server]:
    """A server behind a TLS-terminating proxy on 127.0.0.1."""
    with serving(
        tmp_path_factory.mktemp(f"proxied-{kind}"),
        serve_options=["--trusted-proxy", "127.0.0.1"],
        kind=kind,
    ) as running:
        yield running


def login_to(client: Client, target: str) -> tuple[int, str]:
    """Log ``client`` in with ``next=target`` sent byte for byte; the status and Location."""
    client.get("/login")
    query = urllib.parse.quote(target, safe="")
    status, headers, _ = client.post(
        f"/login?next={query}", {"username": client.username, "password": PASSWORD}
    )
    return status, headers.get("Location", "")


# -- 1. next= leads nowhere off the site -------------------------------------------


OFF_SITE = [
    "/\t/evil.example/",
    "/\n/evil.example/",
    "/\r/evil.example/",
    "\t//evil.example/",
    " //evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "/\\/evil.example/",
    "//evil.example/",
    "///evil.example/",
    "https://evil.example/",
    "https:evil.example",
    "javascript:alert(1)",
    "/\x00/evil.example/",
    "/x\r\nSet-Cookie: stolen=1",
]


def test_a_next_target_a_browser_reads_as_another_site_falls_back_to_home(server):
    client = Client(server)
    assert client.signup("redirected") == 303
    for target in OFF_SITE:
        # Each login is correct: a broken target must neither fail it nor lead away.
        assert login_to(client, target) == (303, "/"), repr(target)
        assert "Log out" in client.get("/")[2]


def test_a_next_target_on_the_site_is_followed_and_sent_encoded(server):
    client = Client(server)
    assert client.signup("followed") == 303
    assert login_to(client, "/password") == (303, "/password")
    assert login_to(client, "/-/plugins?x=1&y=2") == (303, "/-/plugins?x=1&y=2")
    assert login_to(client, "/café") == (303, "/caf%C3%A9")


# -- 7. one rule behind the trusted proxy ------------------------------------------


def signup_cookie(running: Server, name: str, forwarded_proto: str) -> tuple[str, dict[str, str]]:
    client = Client(running)
    client.get("/signup")
    fields = {"username": name, "password": PASSWORD}
    status, headers, _ = client.post(
        "/signup", fields, headers={"X-Forwarded-Proto": forwarded_proto}
    )
    assert status == 303
    [cookie] = client.set_cookies
    return cookie, headers


def test_the_hop_nearest_the_proxy_says_whether_the_client_used_https(proxied):
    cookie, headers = signup_cookie(proxied, "nearest-http", "https, http")
    assert "; Secure" not in cookie
    assert "Strict-Transport-Security" not in headers
    cookie, headers = signup_cookie(proxied, "nearest-https", "http, https")
    assert "; Secure" in cookie
    assert headers["Strict-Transport-Security"] == "max-age=31536000"


def test_https_through_the_proxy_sends_hsts_on_every_answer(proxied):
    client = Client(proxied)
    for path in ("/", "/login", "/no/such/page"):
        _, headers, _ = client.request("GET", path, headers={"X-Forwarded-Proto": "https"})
        assert headers["Strict-Transport-Security"] == "max-age=31536000", path
        _, headers, _ = client.get(path)
        assert "Strict-Transport-Security" not in headers, path


def test_forwarded_headers_from_a_peer_that_is_not_the_proxy_change_nothing(server):
    cookie, headers = signup_cookie(server, "unproxied", "https")
    assert "; Secure" not in cookie
    assert "Strict-Transport-Security" not in headers


# -- 8. the error page knows who is signed in ------------------------------------


def test_the_500_page_shows_the_signed_in_user(server):
    client = Client(server)
    assert client.signup("erring") == 303
    status, _, page = client.post(
        "/notes", {"title": "boom", "tags": ""}, headers={"X-Fault": "pre_save"}
    )
    assert status == 500
    assert '<span class="who">erring</span>' in page
    assert "Sign up" not in page
    status, _, page = client.get("/no/such/page")
    assert status == 404
    assert '<span class="who">erring</span>' in page
