"""The request layer over ASGI in process: where each request hook fires, on which
thread and loop, for plain, streamed, failing and aborted requests."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Iterator
from collections.abc import MutableMapping
from typing import Any

import pytest
from werkzeug.wrappers import Response

from hosthooks import Host
from hosthooks import hookimpl
from hosthooks.runtime.asgi import AsgiApp
from hosthooks.runtime.asgi import wsgi_environ
from hosthooks.runtime.web import App
from hosthooks.runtime.web import Request

SECRET = "s" * 40
events: list[str] = []
#: The client goes away once this many body chunks were sent (None: never).
DISCONNECT_AFTER: dict[str, int | None] = {"chunks": None}


def streamed(request: Request) -> Response:
    def chunks() -> Iterator[bytes]:
        for number in range(3):
            events.append(f"chunk {number} made")
            yield f"{number},".encode()

    return Response(chunks(), content_type="text/plain")


def broken(request: Request) -> Response:
    raise LookupError("the view broke")


def saving(request: Request) -> Response:
    # A view's model hook: fired synchronously from the view's thread.
    from hosthooks import get_host

    results: list[Any] = get_host().hook.post_save(
        sender=App, instance=1, created=True, raw=False, using="default", update_fields=None
    )
    return Response(",".join(results))


@pytest.fixture
def asgi(default_host: Host) -> AsgiApp:
    events.clear()
    DISCONNECT_AFTER["chunks"] = None
    app = App(
        [
            ("/stream", "stream", ["GET"]),
            ("/broken", "broken", ["GET"]),
            ("/save", "save", ["GET"]),
        ],
        {"stream": streamed, "broken": broken, "save": saving},
        secret_key=SECRET,
    )
    return AsgiApp(app)


def scope_for(path: str, method: str = "GET") -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"a=1",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"x-two", b"a"), (b"x-two", b"b")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }


async def serve(asgi: AsgiApp, path: str, method: str = "GET") -> tuple[int, bytes]:
    """One request: the body arrives at once; the client leaves after
    DISCONNECT_AFTER chunks, else once the response is complete."""
    messages: list[MutableMapping[str, Any]] = []
    gone = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if not messages:
            messages.append({"type": "http.request"})
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        messages.append(message)
        if message["type"] == "http.response.body":
            events.append("sent chunk")
            chunks = sum(1 for m in messages if m["type"] == "http.response.body")
            limit = DISCONNECT_AFTER["chunks"]
            if (limit is not None and chunks >= limit) or not message.get("more_body"):
                gone.set()
            # The server's write: a chance for the disconnect to be seen.
            await asyncio.sleep(0.01)

    await asyncio.wait_for(asgi(scope_for(path, method), receive, send), timeout=20)
    [start] = [m for m in messages if m["type"] == "http.response.start"]
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return start["status"], body


class Timeline:
    def __init__(self) -> None:
        self.loop_thread: int | None = None

    @hookimpl
    async def request_started(self, environ: Any, scope: Any) -> None:
        # Awaited on the event loop, with the scope and no environ.
        asyncio.get_running_loop()
        self.loop_thread = threading.get_ident()
        events.append(f"started {scope['path']} environ={environ}")

    @hookimpl
    async def request_finished(self) -> None:
        await asyncio.sleep(0)
        events.append("finished")

    @hookimpl
    def got_request_exception(self, sender: Any, request: Any) -> None:
        import sys

        on_loop = threading.get_ident() == self.loop_thread
        events.append(f"exception {type(sys.exc_info()[1]).__name__} on_loop={on_loop}")


@pytest.fixture
def timeline(default_host: Host) -> Timeline:
    plugin = Timeline()
    default_host.register(plugin, "timeline")
    return plugin


def test_request_finished_fires_after_the_whole_streamed_body_was_sent(asgi, timeline):
    status, body = asyncio.run(serve(asgi, "/stream"))
    assert (status, body) == (200, b"0,1,2,")
    assert events == [
        "started /stream environ=None",
        "chunk 0 made",
        "sent chunk",
        "chunk 1 made",
        "sent chunk",
        "chunk 2 made",
        "sent chunk",
        "sent chunk",  # the empty last one: the body is complete
        "finished",
    ]


def test_an_aborted_stream_stops_and_still_fires_request_finished(asgi, timeline):
    DISCONNECT_AFTER["chunks"] = 1
    status, body = asyncio.run(serve(asgi, "/stream"))
    assert (status, body) == (200, b"0,")
    assert events[-1] == "finished"
    assert "chunk 2 made" not in events
    assert events.count("finished") == 1


def test_got_request_exception_fires_in_the_views_thread_then_a_500(asgi, timeline):
    status, _ = asyncio.run(serve(asgi, "/broken"))
    assert status == 500
    assert events == [
        "started /broken environ=None",
        "exception LookupError on_loop=False",
        "sent chunk",  # the 500 page
        "sent chunk",  # the end of the body
        "finished",
    ]


def test_a_views_model_hook_runs_async_implementations_on_the_servers_loop(asgi, default_host):
    loops: list[asyncio.AbstractEventLoop] = []

    class Notifier:
        @hookimpl
        async def post_save(self) -> str:
            loops.append(asyncio.get_running_loop())
            return "notified"

    default_host.register(Notifier(), "notifier")

    async def main() -> tuple[tuple[int, bytes], asyncio.AbstractEventLoop]:
        return await serve(asgi, "/save"), asyncio.get_running_loop()

    (status, body), loop = asyncio.run(main())
    assert (status, body) == (200, b"notified")
    assert loops == [loop]


def test_a_raising_request_started_is_a_500_and_still_finishes(asgi, default_host, caplog):
    class Refusing:
        @hookimpl
        async def request_started(self) -> None:
            raise PermissionError("not today")

        @hookimpl
        def request_finished(self) -> None:
            events.append("finished")

    default_host.register(Refusing(), "refusing")
    status, _ = asyncio.run(serve(asgi, "/stream"))
    assert status == 500
    assert events == ["sent chunk", "sent chunk", "finished"]
    assert "raised by plugin 'refusing' in hook 'request_started'" in caplog.text


@pytest.mark.parametrize("where", ["request_started", "view", "request_finished"])
def test_a_keyboard_interrupt_from_a_hook_is_a_plugins_failure(asgi, default_host, caplog, where):
    # The server handles SIGINT itself: a KeyboardInterrupt in a request is a
    # plugin's doing, answered and logged as sys.exit() is, never the server's end;
    # on Python 3.10 too, whose asyncio.run leaves SIGINT's default handler in place.
    class Interrupts:
        @hookimpl
        def request_started(self) -> None:
            if where == "request_started":
                raise KeyboardInterrupt

        @hookimpl
        def post_save(self) -> None:
            raise KeyboardInterrupt

        @hookimpl(trylast=True)
        def request_finished(self) -> None:
            events.append("finished")
            if where == "request_finished":
                raise KeyboardInterrupt

    default_host.register(Interrupts(), "interrupts")
    status, _ = asyncio.run(serve(asgi, "/save" if where == "view" else "/stream"))
    assert status == (200 if where == "request_finished" else 500)
    assert events[-1] == "finished"
    hook = "post_save" if where == "view" else where
    assert f"raised by plugin 'interrupts' in hook '{hook}'" in caplog.text


@pytest.mark.skipif(sys.version_info < (3, 11), reason="Python 3.10 counts no cancel requests")
@pytest.mark.parametrize("hook", ["request_started", "request_finished"])
def test_a_cancelled_error_a_hook_lets_out_is_its_failure(asgi, default_host, caplog, hook):
    # Awaiting a task it cancelled itself: nothing cancelled the request.
    class Cancels:
        async def fail(self) -> None:
            work = asyncio.ensure_future(asyncio.sleep(10))
            work.cancel()
            await work

        @hookimpl
        async def request_started(self) -> None:
            if hook == "request_started":
                await self.fail()

        @hookimpl(trylast=True)
        async def request_finished(self) -> None:
            events.append("finished")
            if hook == "request_finished":
                await self.fail()

    default_host.register(Cancels(), "cancels")
    status, _ = asyncio.run(serve(asgi, "/stream"))
    assert status == (500 if hook == "request_started" else 200)
    assert events[-1] == "finished"
    assert f"raised by plugin 'cancels' in hook '{hook}'" in caplog.text


def test_a_cancelled_request_stops_there(asgi, timeline):
    async def main() -> None:
        gone = asyncio.Event()

        async def receive() -> dict[str, Any]:
            if not gone.is_set():
                gone.set()
                return {"type": "http.request", "body": b"", "more_body": False}
            await asyncio.sleep(10)
            return {"type": "http.disconnect"}

        async def send(message: MutableMapping[str, Any]) -> None:
            await asyncio.sleep(10)  # a client that reads nothing

        task = asyncio.ensure_future(asgi(scope_for("/stream"), receive, send))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert events[0] == "started /stream environ=None"


def test_the_environ_follows_pep_3333():
    body = __import__("io").BytesIO(b"")
    environ = wsgi_environ(scope_for("/caf\u00e9"), body=body)
    assert environ["PATH_INFO"] == "/caf\u00e9".encode().decode("latin-1")
    assert environ["QUERY_STRING"] == "a=1"
    assert environ["HTTP_X_TWO"] == "a,b"
    assert environ["HTTP_HOST"] == "testserver"
    assert (environ["REMOTE_ADDR"], environ["SERVER_PORT"]) == ("127.0.0.1", "8000")
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert "CONTENT_LENGTH" not in environ  # no body
    # An absolute-form target is routed by its path.
    assert wsgi_environ(scope_for("http://example.com/notes"), body)["PATH_INFO"] == "/notes"
    assert wsgi_environ(scope_for("http://example.com"), body)["PATH_INFO"] == "/"


def test_a_chunked_body_gets_the_length_that_was_read():
    scope = scope_for("/")
    scope["headers"] = [*scope["headers"], (b"transfer-encoding", b"chunked")]
    environ = wsgi_environ(scope, body=__import__("io").BytesIO(b"title=x"))
    assert environ["CONTENT_LENGTH"] == "7"
    # Already de-chunked: the app must not read it as chunks again.
    assert "HTTP_TRANSFER_ENCODING" not in environ
    assert environ["wsgi.input"].read() == b"title=x"


def test_a_client_gone_before_the_body_arrived_fires_nothing(asgi, timeline):
    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        raise AssertionError("nothing is sent to a client that left")

    asyncio.run(asgi(scope_for("/stream"), receive, send))
    assert events == []
