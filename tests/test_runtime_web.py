"""The request layer in process: when each request hook fires, and errors in hooks.

The request hooks' tests call the app through its WSGI entry point and through
:class:`~hosthooks.runtime.asgi.AsgiApp` alike; tests/test_runtime_asgi.py has
what only ASGI does (the loop, its threads, disconnects)."""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
import threading
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from hosthooks import hookimpl
from hosthooks.runtime.asgi import AsgiApp
from hosthooks.runtime.sessions import load_secret_key
from hosthooks.runtime.web import App
from hosthooks.runtime.web import Request
from tests.test_runtime_asgi import serve as serve_asgi

SECRET = "s" * 40


def streamed(request: Request) -> Response:
    def chunks() -> Iterator[bytes]:
        events.append("first chunk")
        yield b"one,"
        events.append("second chunk")
        yield b"two"

    return Response(chunks(), content_type="text/plain")


def broken(request: Request) -> Response:
    raise LookupError("the view broke")


def hello(request: Request) -> Response:
    return Response("hello")


events: list[str] = []


@pytest.fixture
def app() -> App:
    events.clear()
    return App(
        [
            ("/stream", "stream", ["GET"]),
            ("/broken", "broken", ["GET"]),
            ("/", "hello", ["GET", "POST"]),
        ],
        {"stream": streamed, "broken": broken, "hello": hello},
        secret_key=SECRET,
    )


class Timeline:
    @hookimpl
    def request_started(self, environ, scope):
        path = environ["PATH_INFO"] if environ is not None else scope["path"]
        events.append(f"started {path}")

    @hookimpl
    def request_finished(self):
        events.append("finished")

    @hookimpl
    def got_request_exception(self, sender, request):
        import sys

        events.append(f"exception {type(sys.exc_info()[1]).__name__} sender={sender}")


def call(app: App, path: str, method: str = "GET", **kwargs: Any) -> tuple[str, bytes]:
    environ = EnvironBuilder(path=path, method=method, **kwargs).get_environ()
    status: list[str] = []
    body = app(environ, lambda s, headers, exc_info=None: status.append(s))
    chunks = []
    for chunk in body:
        events.append("sent chunk")
        chunks.append(chunk)
    events.append("server closes")
    body.close()  # type: ignore[attr-defined]
    return status[0], b"".join(chunks)


def test_request_finished_fires_after_a_streamed_body_was_sent(app, default_host):
    default_host.register(Timeline())
    status, body = call(app, "/stream")
    assert (status, body) == ("200 OK", b"one,two")
    assert events == [
        "started /stream",
        "first chunk",
        "sent chunk",
        "second chunk",
        "sent chunk",
        "server closes",
        "finished",
    ]


@pytest.fixture(params=["wsgi", "asgi"])
def served(request, app: App) -> Callable[..., tuple[int, bytes]]:
    """One request to ``app`` through its WSGI entry point, then through
    :class:`AsgiApp` (in process both): ``served(path, method)`` is (status, body)."""

    def serve_once(path: str, method: str = "GET") -> tuple[int, bytes]:
        if request.param == "asgi":
            return asyncio.run(serve_asgi(AsgiApp(app), path, method))
        status, body = call(app, path, method)
        return int(status.split(" ", 1)[0]), body

    return serve_once


def test_got_request_exception_fires_inside_the_exception_context(served, default_host):
    default_host.register(Timeline())
    status, body = served("/broken")
    assert status == 500
    assert b"the view broke" not in body
    assert events[:2] == ["started /broken", "exception LookupError sender=None"]
    assert events[-1] == "finished"


def test_4xx_answers_fire_no_exception_hook(served, default_host):
    default_host.register(Timeline())
    assert served("/missing")[0] == 404
    assert served("/stream", "POST")[0] == 405
    assert served("/", "POST")[0] == 403  # no CSRF token
    assert not [event for event in events if event.startswith("exception")]
    assert events.count("finished") == 3


def test_raising_exception_and_finished_hooks_are_logged_and_the_response_stands(
    served, default_host, caplog
):
    class Broken:
        @hookimpl
        def got_request_exception(self):
            raise RuntimeError("exception hook broke")

        @hookimpl
        def request_finished(self):
            raise RuntimeError("finished hook broke")

    default_host.register(Broken(), "broken-plugin")
    default_host.register(Timeline(), "timeline")
    with caplog.at_level(logging.ERROR):
        assert served("/broken")[0] == 500
        assert served("/") == (200, b"hello")
    assert events.count("finished") == 2  # the other plugin still ran
    messages = [record.getMessage() for record in caplog.records if record.name == "hosthooks"]
    assert (
        "plugin 'broken-plugin' raised in hook 'got_request_exception': RuntimeError: exception hook broke"
        in messages
    )
    assert (
        messages.count(
            "plugin 'broken-plugin' raised in hook 'request_finished': RuntimeError: finished hook broke"
        )
        == 2
    )


def test_a_raising_request_started_is_a_500_and_still_finishes(served, default_host):
    class Refuses:
        @hookimpl
        def request_started(self):
            raise RuntimeError("not today")

    default_host.register(Timeline())
    default_host.register(Refuses())
    assert served("/")[0] == 500
    assert events[-1] == "finished"


def test_the_secret_key_is_generated_once_beside_the_database(tmp_path):
    database = tmp_path / "app.sqlite3"
    first = load_secret_key(str(database), None)
    assert load_secret_key(str(database), None) == first
    secret_file = tmp_path / "app.sqlite3.secret"
    assert secret_file.stat().st_mode & 0o777 == 0o600
    assert len(first) >= 32
    assert load_secret_key(str(database), "c" * 32) == "c" * 32
    with pytest.raises(ValueError, match="at least 32 characters"):
        load_secret_key(str(database), "short")


def test_a_trailing_slash_finds_the_route_and_anonymous_visits_set_no_cookie(app):
    environ = EnvironBuilder(path="/stream/", method="GET").get_environ()
    headers: list[Any] = []
    body = app(
        environ, lambda status, response_headers, exc_info=None: headers.extend(response_headers)
    )
    assert b"".join(body) == b"one,two"
    body.close()
    assert not [name for name, _ in headers if name == "Set-Cookie"]


def test_every_response_carries_the_security_headers(app):
    for path in ("/", "/missing", "/broken"):
        environ = EnvironBuilder(path=path).get_environ()
        headers: dict[str, str] = {}
        body = app(environ, functools.partial(collect_headers, headers))
        b"".join(body)
        body.close()
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"


def collect_headers(
    into: dict[str, str], status: str, headers: list[tuple[str, str]], exc_info: Any = None
) -> None:
    into.update(headers)


def test_debug_mode_answers_an_error_with_its_traceback():
    debug_app = App(
        [("/broken", "broken", ["GET"])], {"broken": broken}, secret_key=SECRET, debug=True
    )
    status, body = call(debug_app, "/broken")
    assert status == "500 INTERNAL SERVER ERROR"
    assert b"Traceback (most recent call last)" in body
    assert b"LookupError: the view broke" in body


def session_app(**options: Any) -> App:
    """An app whose views change the session through each dict method."""

    def store(request: Request) -> Response:
        for key, value in (("a", 1), ("b", 2), ("c", 3), ("d", 4)):
            request.session[key] = value
        return Response("stored")

    def change(request: Request) -> Response:
        operation = request.args["op"]
        if operation == "pop":
            request.session.pop("a")
        elif operation == "popitem":
            request.session.popitem()
        elif operation == "setdefault":
            request.session.setdefault("e", 5)
        elif operation == "update":
            request.session.update({"b": 20})
        elif operation == "ior":
            request.session |= {"c": 30}
        elif operation == "clear":
            request.session.clear()
        return Response(",".join(f"{k}={v}" for k, v in sorted(request.session.items())))

    def show(request: Request) -> Response:
        return Response(",".join(f"{k}={v}" for k, v in sorted(request.session.items())))

    return App(
        [("/store", "store", ["GET"]), ("/change", "change", ["GET"]), ("/show", "show", ["GET"])],
        {"store": store, "change": change, "show": show},
        secret_key=SECRET,
        **options,
    )


@pytest.mark.parametrize(
    ("operation", "kept"),
    [
        ("pop", "b=2,c=3,d=4"),
        ("popitem", "a=1,b=2,c=3"),
        ("setdefault", "a=1,b=2,c=3,d=4,e=5"),
        ("update", "a=1,b=20,c=3,d=4"),
        ("ior", "a=1,b=2,c=30,d=4"),
        ("clear", ""),
    ],
)
def test_every_way_of_changing_the_session_is_kept(operation, kept):
    from werkzeug.test import Client as WsgiClient

    client = WsgiClient(session_app())
    assert client.get("/store").text == "stored"
    assert client.get(f"/change?op={operation}").text == kept
    assert client.get("/show").text == kept


def test_csrf_is_checked_on_put_patch_and_delete():
    from werkzeug.test import Client as WsgiClient

    def token(request: Request) -> Response:
        return Response(request.csrf_token)

    app = App(
        [("/token", "token", ["GET"]), ("/thing", "hello", ["PUT", "PATCH", "DELETE"])],
        {"token": token, "hello": hello},
        secret_key=SECRET,
    )
    client = WsgiClient(app)
    csrf = client.get("/token").text
    for method in ("PUT", "PATCH", "DELETE"):
        assert client.open("/thing", method=method).status_code == 403
        assert (
            client.open("/thing", method=method, headers={"X-CSRF-Token": "x"}).status_code == 403
        )
        answered = client.open("/thing", method=method, headers={"X-CSRF-Token": csrf})
        assert (answered.status_code, answered.text) == (200, "hello")


def test_a_500_sends_no_session_change():
    from werkzeug.test import Client as WsgiClient

    def stores_then_breaks(request: Request) -> Response:
        request.session["changed"] = True
        raise LookupError("after the session changed")

    app = App([("/", "breaks", ["GET"])], {"breaks": stores_then_breaks}, secret_key=SECRET)
    response = WsgiClient(app).get("/")
    assert response.status_code == 500
    assert response.headers.getlist("Set-Cookie") == []


@pytest.mark.parametrize(
    ("proxy", "peer", "secure"),
    [
        (None, "127.0.0.1", False),
        ("10.0.0.7", "10.0.0.8", False),
        ("10.0.0.7", "10.0.0.7", True),
    ],
)
def test_x_forwarded_proto_is_believed_from_the_trusted_proxy_only(proxy, peer, secure):
    def store(request: Request) -> Response:
        request.session["x"] = 1
        return Response("stored")

    app = App([("/", "store", ["GET"])], {"store": store}, secret_key=SECRET, trusted_proxy=proxy)
    environ = EnvironBuilder(
        path="/", headers=[("X-Forwarded-Proto", "https")], environ_base={"REMOTE_ADDR": peer}
    ).get_environ()
    headers: dict[str, str] = {}
    body = app(environ, functools.partial(collect_headers, headers))
    b"".join(body)
    body.close()  # type: ignore[attr-defined]
    assert ("; Secure" in headers["Set-Cookie"]) is secure


def test_an_unsafe_request_writes_in_one_transaction_begun_by_its_first_write(
    tmp_path, default_host
):
    from werkzeug.test import Client as WsgiClient

    from hosthooks.runtime import Database
    from hosthooks.runtime import atomic
    from hosthooks.runtime import migrate
    from tests.bookshop.models import MODELS
    from tests.bookshop.models import Author

    database = Database(tmp_path / "requests.sqlite3")
    migrate(database, models=MODELS, verbosity=0)
    seen: list[str] = []

    def write(request: Request) -> Response:
        seen.append(f"before any write: {database.connection.in_transaction}")
        Author.objects.filter(name="nobody").count()  # a read begins nothing
        seen.append(f"after a read: {database.connection.in_transaction}")
        Author.objects.create(name=request.args["name"])
        seen.append(f"after a write: {database.connection.in_transaction}")
        with atomic():
            Author.objects.create(name=request.args["name"] + " again")
        if "fail" in request.args:
            raise LookupError("the view fails after writing")
        return Response("written")

    app = App(
        [("/write", "write", ["GET", "POST"])],
        {"write": write},
        secret_key=SECRET,
        request_transaction=database.atomic_from_first_write,
    )
    # Unsafe requests need a CSRF token: carry one in a session the app signs.
    signer = app._signer
    cookie = signer.dumps({"k": "key", "d": {"csrf_token": "t"}})
    client = WsgiClient(app)
    client.set_cookie("hosthooks_session", cookie)
    headers = {"X-CSRF-Token": "t"}

    assert client.post("/write?name=Ann", headers=headers).status_code == 200
    assert seen == ["before any write: False", "after a read: False", "after a write: True"]
    assert client.post("/write?name=Bob&fail=1", headers=headers).status_code == 500
    assert sorted(a.name for a in Author.objects.all()) == ["Ann", "Ann again"]
    seen.clear()
    # A GET runs in no request transaction: each write commits on its own.
    assert client.get("/write?name=Cy").status_code == 200
    assert seen[2] == "after a write: False"
    assert not database.connection.in_transaction
    database.close()


def test_an_exit_in_a_hook_is_a_500_named_in_the_log_but_ctrl_c_still_stops(
    app, default_host, caplog
):
    class Exits:
        @hookimpl
        def request_started(self, environ):
            if environ["PATH_INFO"] == "/stream":
                sys.exit("a plugin exits")
            if environ["PATH_INFO"] == "/broken":
                raise KeyboardInterrupt

    default_host.register(Exits(), "exits")
    with caplog.at_level(logging.ERROR):
        assert call(app, "/stream")[0] == "500 INTERNAL SERVER ERROR"
    assert any(
        record.getMessage()
        == "error before the request reached a view (raised by plugin 'exits' in hook 'request_started')"
        for record in caplog.records
    )
    with pytest.raises(KeyboardInterrupt):
        call(app, "/broken")


def test_a_keyboard_interrupt_off_the_main_thread_is_a_plugins_failure(app, default_host, caplog):
    # A server's worker thread never gets the user's Ctrl-C: a KeyboardInterrupt
    # there was raised by a plugin, and must not leave the client unanswered.
    class Interrupts:
        @hookimpl
        def request_started(self, environ):
            if environ["PATH_INFO"] == "/stream":
                raise KeyboardInterrupt

    default_host.register(Interrupts(), "interrupts")
    default_host.register(Timeline())
    answers: list[tuple[str, bytes]] = []
    with caplog.at_level(logging.ERROR):
        worker = threading.Thread(target=lambda: answers.append(call(app, "/stream")))
        worker.start()
        worker.join(timeout=20)
    assert [status for status, _ in answers] == ["500 INTERNAL SERVER ERROR"]
    assert events[-1] == "finished"
    assert (
        "error before the request reached a view (raised by plugin 'interrupts' in hook "
        "'request_started')" in [record.getMessage() for record in caplog.records]
    )


def test_servers_the_suite_starts_in_the_background_still_stop_on_ctrl_c(tmp_path):
    # A script's `cmd &` starts the suite with SIGINT ignored, which its servers
    # would inherit: they must still stop on the SIGINT the tests send. A suite
    # of one such test, with the suite's conftest, started that way.
    import signal
    import subprocess
    from pathlib import Path

    probe = tmp_path / "test_probe.py"
    probe.write_text(
        "from tests.serving import serving\n\n\n"
        "def test_a_server_stops_on_sigint(tmp_path):\n"
        "    with serving(tmp_path):\n"
        "        pass\n"
    )
    pytest_command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    done = subprocess.run(
        [*pytest_command, "-p", "tests.conftest", str(probe)],
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
