"""The request layer over ASGI: the same :class:`~hosthooks.runtime.web.App`, served
by an ASGI server (``hosthooks serve --asgi``: uvicorn).

The request hooks fire where Django's ``ASGIHandler`` fires them:

- ``request_started(sender=App class, scope=scope)`` once the request body was
  read, awaited on the event loop (``environ`` is None under ASGI);
- ``got_request_exception(sender=None, request)`` where the WSGI app fires it:
  in the view's thread, for an exception the view did not handle;
- ``request_finished(sender=App class)`` after the whole body was sent, for
  streamed responses too, and when the client went away before it was all
  sent (then as soon as that is seen), awaited on the event loop.

Views and the model layer stay synchronous: each request's view runs off the
loop through asgiref's ``sync_to_async`` (thread-sensitive, as Django runs
sync views, so the runtime's per-thread database connection is one), and so
does iterating a streamed body. A model hook fired there that reaches an
``async def`` implementation runs it on this event loop (asgiref's
``async_to_sync`` from a ``sync_to_async`` thread), never in a loop of its own.
A request whose client goes away before its body was read fires nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import socket
import sys
import time
import urllib.parse
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import MutableMapping
from typing import Any
from typing import Final
from typing import cast

from asgiref.sync import sync_to_async
from werkzeug.wrappers import Response

from hosthooks.host import get_host
from hosthooks.runtime.web import App
from hosthooks.runtime.web import Request
from hosthooks.runtime.web import is_ctrl_c
from hosthooks.runtime.web import log_request

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: Nothing more of a streamed body: what ``next`` returns at its end, off the loop.
_END: Final = object()


class _Disconnected(Exception):
    """The client went away before the request body was read."""


class AsgiApp:
    """An ASGI application serving ``app``: the request hooks awaited on the loop,
    the views run off it.

    :param app: the WSGI app whose routes, sessions, views and error pages are served.
    """

    def __init__(self, app: App) -> None:
        self.app: Final = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise ValueError(f"hosthooks serves HTTP only, not {scope['type']!r}")
        started = time.perf_counter()
        try:
            body = await self._read_body(receive)
        except _Disconnected:
            return
        environ = wsgi_environ(scope, body)
        host = get_host()
        sender = type(self.app)
        self.app.begin(environ)
        response: Response | None = None
        try:
            if host.has_listeners("request_started"):
                # The spec's scope is a dict, as every ASGI server sends it.
                scope_dict = cast("dict[str, Any]", scope)
                await host.ahook.request_started(sender=sender, scope=scope_dict)
        except BaseException as error:
            # Never the user's Ctrl-C here: see _is_cancellation.
            if _is_cancellation(error):
                raise
            response = self.app.failed_before_view(host, error)
        if response is None:
            response = await sync_to_async(self._respond)(environ)
        self.app.finish_response(response, environ)
        status = response.status_code
        try:
            await self._send_response(response, environ, receive, send)
        finally:
            try:
                if host.has_listeners("request_finished"):
                    await host.afire_robust("request_finished", sender=sender)
            except BaseException as error:
                if _is_cancellation(error):
                    raise
                self.app.request_finished_failed(host, error)
            finally:
                log_request(environ, status, started)

    def _respond(self, environ: dict[str, Any]) -> Response:
        try:
            return self.app.respond(Request(environ))
        except BaseException as error:
            if is_ctrl_c(error):
                raise
            return self.app.failed_before_view(get_host(), error)

    async def _read_body(self, receive: Receive) -> io.BytesIO:
        """The request body, as a file; only the first ``max_body_size + 1`` bytes
        are kept (more answers 413 all the same, and must not fill memory).

        :raises _Disconnected: when the client goes away first.
        """
        limit = self.app.max_body_size + 1
        chunks: list[bytes] = []
        kept = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            if kept < limit:
                chunks.append(chunk[: limit - kept])
                kept += len(chunks[-1])
            if not message.get("more_body", False):
                break
        return io.BytesIO(b"".join(chunks))

    async def _send_response(
        self, response: Response, environ: dict[str, Any], receive: Receive, send: Send
    ) -> None:
        """Send ``response`` whole, or until the client goes away (then stop
        producing it); its iterable is closed either way."""
        sending = asyncio.ensure_future(self._send_body(response, environ, send))
        watching = asyncio.ensure_future(_wait_for_disconnect(receive))
        try:
            await asyncio.wait({sending, watching}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sending, watching):
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
        if sending.done() and not sending.cancelled():
            # An error while producing the body: the head was sent, so the
            # client sees a cut answer; the server logs it and goes on.
            sending.result()

    async def _send_body(self, response: Response, environ: dict[str, Any], send: Send) -> None:
        head: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None, /
        ) -> Callable[[bytes], object]:
            head["status"] = int(status.split(" ", 1)[0])
            # As the app spells them (ASGI servers send them so), not lowercased:
            # clients that read headers case-sensitively see what WSGI sends.
            head["headers"] = [
                (name.encode("latin-1"), value.encode("latin-1")) for name, value in headers
            ]
            return _refuse_write

        chunks: Iterable[bytes] = await sync_to_async(response)(environ, start_response)
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": head["status"],
                    "headers": head["headers"],
                }
            )
            if isinstance(chunks, (list, tuple)):
                for chunk in chunks:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            else:
                # A streamed body is produced by the app's code: off the loop.
                iterator = iter(chunks)
                while (chunk := await sync_to_async(_next)(iterator)) is not _END:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                await sync_to_async(close)()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def wsgi_environ(scope: Scope, body: io.BytesIO) -> dict[str, Any]:
    """The WSGI environ (PEP 3333) of an ASGI HTTP scope, for the app's Werkzeug request.

    Header values repeated under one name are joined with commas, as HTTP allows.
    A body sent without a Content-Length (chunked) gets the length of ``body``.
    """
    server_name, server_port = scope.get("server") or ("localhost", 80)
    client = scope.get("client")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        # PEP 3333: text as the bytes it was sent as, read as latin-1.
        "SCRIPT_NAME": scope.get("root_path", "").encode().decode("latin-1"),
        "PATH_INFO": _resource_path(scope["path"]).encode().decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server_name),
        "SERVER_PORT": str(server_port),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if client:
        environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = client[0], str(client[1])
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        key = name if name in {"CONTENT_TYPE", "CONTENT_LENGTH"} else f"HTTP_{name}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    size = body.seek(0, io.SEEK_END)
    body.seek(0)
    if environ.pop("HTTP_TRANSFER_ENCODING", None) is not None or (
        size and "CONTENT_LENGTH" not in environ
    ):
        # A chunked body comes without a Content-Length, and the app reads none
        # of a body whose length it is not told: the length of what was read
        # (the body the server already de-chunked) stands in for it, as waitress
        # gives it, so such a form is not lost and one too large is a 413.
        environ["CONTENT_LENGTH"] = str(size)
    return environ


# What ends a request's code on the event loop: only the request's task being
# cancelled. A KeyboardInterrupt there is never the user's Ctrl-C, on any Python:
# SIGINT belongs to what runs the loop (uvicorn handles it itself, and from 3.11
# asyncio.run turns it into cancelling its main task), so one raised while a
# request's code runs was raised by that code, a plugin's failure as sys.exit() is.
# Python 3.10's asyncio.run leaves SIGINT's default handler in place, where
# web.is_ctrl_c would take it for the user's and stop the loop for one plugin;
# there a real Ctrl-C landing in a request's own code fails that request, and the
# next one stops the loop.
def _is_cancellation(error: BaseException) -> bool:
    """Whether ``error`` is this request's task being cancelled (the server
    stopping it), which must end it; a ``CancelledError`` a hook lets out of
    work of its own (awaiting a task it cancelled, say) is that hook's failure."""
    if not isinstance(error, asyncio.CancelledError):
        return False
    # Python 3.10 does not count cancel requests: every CancelledError ends the request.
    cancelling = getattr(asyncio.current_task(), "cancelling", None)
    return cancelling is None or bool(cancelling())


def _resource_path(path: str) -> str:
    """The path of a request target: servers must accept the absolute form
    (``GET http://host/notes``, RFC 9112 3.2.2), which uvicorn passes on whole,
    and the app routes its path alone, as it does under waitress."""
    if path.startswith("/") or "://" not in path:
        return path
    return urllib.parse.urlsplit(path).path or "/"


def _refuse_write(data: bytes) -> object:
    raise RuntimeError("the app writes its body through its iterable, not write()")


def _next(iterator: Iterator[bytes]) -> object:
    return next(iterator, _END)


async def _wait_for_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


def bind(bind_host: str, port: int) -> socket.socket:
    """A listening socket on ``bind_host:port`` (0: any free port).

    :raises OSError: when the address cannot be bound.
    """
    family = socket.AF_INET6 if ":" in bind_host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((bind_host, port))
        listener.listen(2048)
    except OSError:
        listener.close()
        raise
    return listener


def serve(app: App, listener: socket.socket) -> None:
    """Serve ``app`` over ASGI with uvicorn on ``listener`` until Ctrl-C or SIGTERM.

    uvicorn logs nothing of its own but errors: the app logs each request, as
    under WSGI, and no Server header names the server software.
    """
    import uvicorn

    config = uvicorn.Config(
        AsgiApp(app),
        lifespan="on",
        log_config=None,
        access_log=False,
        server_header=False,
        # The app alone reads X-Forwarded-*, by one rule under WSGI and ASGI.
        proxy_headers=False,
    )
    uvicorn.Server(config).run(sockets=[listener])
