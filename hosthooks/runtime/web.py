"""The request layer: a WSGI application on Werkzeug, with signed cookie sessions and CSRF.

This module and :mod:`hosthooks.runtime.asgi` (the same app over ASGI) are the
only places ``request_started``, ``request_finished`` and
``got_request_exception`` are fired:

- ``request_started(sender=App class, environ)`` before anything else;
- ``request_finished(sender=App class)`` when the server closes the response,
  after the body was sent (streamed bodies included), for every response;
- ``got_request_exception(sender=None, request)`` for an exception a view did
  not handle, inside the exception context, before the plain 500 page.

A raising implementation of the last two is logged with its plugin's name and
never turns a served response into an error.

A plugin that calls ``sys.exit()`` (or raises any other ``BaseException``) in a
hook is treated as one raising an error: the client gets a 500 (or, from
``request_finished``, the response already sent), the log names the plugin and
hook, and the server keeps serving. Only what may be the user's Ctrl-C passes
through (see :func:`is_ctrl_c`).
"""

from __future__ import annotations

import contextlib
import hmac
import inspect
import ipaddress
import json
import logging
import secrets
import signal
import threading
import time
import traceback
import types
import urllib.parse
from collections.abc import Callable
from collections.abc import Iterable
from contextlib import AbstractContextManager
from contextlib import nullcontext
from contextvars import ContextVar
from typing import Any
from typing import Final

import itsdangerous
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import Forbidden
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError
from werkzeug.formparser import FormDataParser
from werkzeug.routing import Map
from werkzeug.routing import Rule
from werkzeug.wrappers import Request as WerkzeugRequest
from werkzeug.wrappers import Response
from werkzeug.wsgi import ClosingIterator

from hosthooks.host import Host
from hosthooks.host import get_host
from hosthooks.runtime.sessions import CSRF_FIELD
from hosthooks.runtime.sessions import Session

logger: Final = logging.getLogger("hosthooks.web")

SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: Sent with every response: no MIME sniffing, no framing, no full referrers,
#: and nothing loaded or run that this site did not serve (no inline script).
SECURITY_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'",
}
#: Pages under this prefix show the host's plugins and hooks: staff only.
INSPECTOR_PREFIX: Final = "/-/"
#: The environ key set (True) for a request of the inspector's own: the recent
#: calls it shows leave out the calls its polling makes. A key of the environ,
#: read only while recording, rather than a context variable every request sets.
INSPECTING_KEY: Final = "hosthooks.inspecting"
#: The environ of the request this thread serves (None outside one): the
#: console's recent calls group hook calls by it.
CURRENT_ENVIRON: Final[ContextVar[dict[str, Any] | None]] = ContextVar(
    "hosthooks_environ", default=None
)
#: The environ key the response's status is noted under, once known.
STATUS_KEY: Final = "hosthooks.status"
#: Sent with a response to a request that came over HTTPS through the trusted
#: proxy: browsers then reach the site over HTTPS only, for a year.
HSTS_HEADER: Final = ("Strict-Transport-Security", "max-age=31536000")
#: The environ key set when the trusted proxy says the client used HTTPS.
PROXIED_HTTPS: Final = "hosthooks.proxied_https"
CSRF_HEADER: Final = "X-CSRF-Token"

View = Callable[..., Response]
StartResponse = Callable[..., Any]


class Request(WerkzeugRequest):
    """A Werkzeug request with the session and the user the app loaded for it.

    A form body that cannot be read (bytes that are not UTF-8, a broken
    multipart body) raises ``BadRequest`` (400) where Werkzeug would quietly
    give an empty form, which a CSRF check would then refuse for the wrong reason.
    """

    session: Session
    user: Any = None

    def make_form_data_parser(self) -> FormDataParser:
        parser = super().make_form_data_parser()
        parser.silent = False
        return parser

    def _load_form_data(self) -> None:
        try:
            super()._load_form_data()
        except ValueError as error:  # UnicodeDecodeError included
            raise BadRequest("The request body is not a well-formed form.") from error

    @property
    def csrf_token(self) -> str:
        """This session's CSRF token, made on first use."""
        token = self.session.get(CSRF_FIELD)
        if not isinstance(token, str):
            token = secrets.token_urlsafe(32)
            self.session[CSRF_FIELD] = token
        return token


class App:
    """A WSGI application: routes to views, sessions, CSRF checks, and the request hooks.

    :param routes: ``(path rule, endpoint, methods)`` triples, Werkzeug rule syntax.
    :param views: endpoint -> view; a view takes the request and the rule's
        arguments and returns a Response.
    :param secret_key: signs session cookies.
    :param load_user: session -> user or None, called once per request.
    :param max_body_size: larger request bodies answer 413.
    :param session_max_age: seconds a session cookie stays valid.
    :param cookie_name: the session cookie's name.
    :param debug: answer an unhandled error with its traceback (as plain text)
        instead of the plain 500 page; for development only.
    :param request_transaction: the context every unsafe request's view runs
        in (a POST's writes in one transaction, as Django's ATOMIC_REQUESTS);
        when the view raises, it must undo the request's writes.
    :param inspector_public: open the ``/-/`` pages to everyone; otherwise only
        users whose ``is_staff`` is true see them: others get 403 for a
        ``.json`` page and a redirect to ``login_url`` for any other.
    :param login_url: where the inspector sends a visitor who is not staff.
    :param trusted_proxy: the address of a TLS-terminating proxy whose
        ``X-Forwarded-Proto`` and ``X-Forwarded-For`` headers are believed, the
        hop nearest it in each (see :meth:`begin`); None believes no one.
    :param own_transactions: endpoints whose views begin their own
        transactions instead of running in ``request_transaction`` (a login
        counts its attempt, committed, before it checks the password).
    :param error_page: renders the page of an HTTP error (404, 500...), given
        the request when there is one; when it is None or itself fails,
        Werkzeug's plain page is sent.
    """

    def __init__(
        self,
        routes: Iterable[tuple[str, str, Iterable[str]]],
        views: dict[str, View],
        *,
        secret_key: str,
        load_user: Callable[[Session], Any] = lambda session: None,
        max_body_size: int = 1024 * 1024,
        session_max_age: int = 14 * 24 * 3600,
        cookie_name: str = "hosthooks_session",
        debug: bool = False,
        request_transaction: Callable[[], AbstractContextManager[None]] | None = None,
        inspector_public: bool = False,
        login_url: str = "/login",
        trusted_proxy: str | None = None,
        error_page: Callable[[HTTPException, Request | None], Response] | None = None,
        own_transactions: Iterable[str] = (),
    ) -> None:
        rules = [
            Rule(path, endpoint=endpoint, methods=list(methods))
            for path, endpoint, methods in routes
        ]
        # "/notes/" finds "/notes": no redirect, which would need the real host name.
        self.url_map = Map(rules, strict_slashes=False)
        self.views = views
        self.load_user = load_user
        self.max_body_size = max_body_size
        self.session_max_age = session_max_age
        self.cookie_name = cookie_name
        self.debug = debug
        self.request_transaction = request_transaction
        self.inspector_public = inspector_public
        self.login_url = login_url
        self.trusted_proxy = trusted_proxy
        self.error_page = error_page
        self.own_transactions = frozenset(own_transactions)
        self._signer = itsdangerous.URLSafeTimedSerializer(secret_key, salt="hosthooks.session")
        # Matching needs only the path and the method, so one adapter serves
        # every request (binding per request costs more than the match).
        self._routes = self.url_map.bind("localhost")

    # -- WSGI ---------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        host = get_host()
        sender = type(self)
        self.begin(environ)
        try:
            if host.has_listeners("request_started"):
                host.hook.request_started(sender=sender, environ=environ)
            response = self.respond(Request(environ))
        except BaseException as error:
            if is_ctrl_c(error):
                raise
            response = self.failed_before_view(host, error)
        self.finish_response(response, environ)
        status = response.status_code

        def finished() -> None:
            try:
                if host.has_listeners("request_finished"):
                    host.fire_robust("request_finished", sender=sender)
            except BaseException as error:
                if is_ctrl_c(error):
                    raise
                self.request_finished_failed(host, error)
            finally:
                log_request(environ, status, started)

        return ClosingIterator(response(environ, start_response), [finished])

    # -- what the WSGI and the ASGI entry points share ---------------------

    def begin(self, environ: dict[str, Any]) -> None:
        """Note whether this is an inspector request, and believe the trusted proxy.

        Only a request whose peer is the trusted proxy has its ``X-Forwarded-*``
        headers read, and in each only the hop nearest the proxy (the last):
        the proxy appends what it saw, while every earlier hop is whatever the
        client chose to send. The servers read none of these headers
        themselves, so WSGI and ASGI follow this one rule.
        """
        if str(environ.get("PATH_INFO", "")).startswith(INSPECTOR_PREFIX):
            environ[INSPECTING_KEY] = True
        CURRENT_ENVIRON.set(environ)
        if self.trusted_proxy is not None:
            self._believe_proxy(environ)

    def failed_before_view(self, host: Host, error: BaseException) -> Response:
        """The 500 for an error raised outside a view (request_started, a broken
        environ), logged with the plugin to blame."""
        logger.error(
            "error before the request reached a view%s", blame(host, error), exc_info=error
        )
        return self.error_response(InternalServerError())

    def finish_response(self, response: Response, environ: dict[str, Any]) -> None:
        environ[STATUS_KEY] = response.status_code
        response.headers.update(SECURITY_HEADERS)
        if environ.get(PROXIED_HTTPS):
            response.headers[HSTS_HEADER[0]] = HSTS_HEADER[1]

    def request_finished_failed(self, host: Host, error: BaseException) -> None:
        """Log what escaped request_finished: robust calls isolate exceptions, so
        this is ``sys.exit()``; the response was sent already, and the server goes on."""
        logger.error(
            "request_finished failed%s",
            blame(host, error, "request_finished"),
            exc_info=error,
        )

    def _believe_proxy(self, environ: dict[str, Any]) -> None:
        if environ.get("REMOTE_ADDR") != self.trusted_proxy:
            return
        scheme = _nearest_hop(environ, "HTTP_X_FORWARDED_PROTO").lower()
        if scheme in {"http", "https"}:
            environ["wsgi.url_scheme"] = scheme
            environ[PROXIED_HTTPS] = scheme == "https"
        # Without a usable address the client is known only as the proxy.
        with contextlib.suppress(ValueError):
            environ["REMOTE_ADDR"] = str(
                ipaddress.ip_address(_nearest_hop(environ, "HTTP_X_FORWARDED_FOR"))
            )

    def respond(self, request: Request) -> Response:
        """The response for ``request``: a view's, an HTTP error's, or a 500 page.

        An unsafe request's view runs in ``request_transaction``; a 5xx answer
        sends no session change, so a failed request leaves no trace in the
        client either.
        """
        request.max_content_length = self.max_body_size
        request.max_form_memory_size = self.max_body_size
        request.session = self.load_session(request)
        try:
            request.user = self.load_user(request.session)
            refused = self.check_inspector_access(request)
            response = refused if refused is not None else self.dispatch(request)
        except HTTPException as error:
            response = self.error_response(error, request)
        except BaseException as error:
            if is_ctrl_c(error):
                raise
            host = get_host()
            logger.error(
                "unhandled error in %s %s%s",
                request.method,
                request.path,
                blame(host, error),
                exc_info=error,
            )
            try:
                if host.has_listeners("got_request_exception"):
                    host.fire_robust("got_request_exception", sender=None, request=request)
            except BaseException as hook_error:
                if is_ctrl_c(hook_error):
                    raise
                logger.error(
                    "got_request_exception failed%s",
                    blame(host, hook_error, "got_request_exception"),
                    exc_info=hook_error,
                )
            if self.debug:
                response = Response(traceback.format_exc(), status=500, content_type="text/plain")
            else:
                response = self.error_response(InternalServerError(), request)
        if request.user is not None:
            # A page for one user must never be kept by a cache, shared or not.
            response.headers["Cache-Control"] = "no-store"
        if request.session.modified and response.status_code < 500:
            self.save_session(request, response)
        return response

    def dispatch(self, request: Request) -> Response:
        """The view's response; an unsafe request's view runs in ``request_transaction``.

        :raises HTTPException: for no route (404), a wrong method (405), a
            missing CSRF token (403), a form field holding U+0000 (400), or
            what the view raises.
        """
        endpoint, arguments = self._routes.match(request.path, method=request.method)
        unsafe = request.method not in SAFE_METHODS
        if unsafe:
            self.check_csrf(request)
            check_no_nul(request)
        transaction = self.request_transaction
        wrapped = unsafe and transaction is not None and endpoint not in self.own_transactions
        with transaction() if wrapped and transaction is not None else nullcontext():
            return self.views[endpoint](request, **arguments)

    def check_inspector_access(self, request: Request) -> Response | None:
        """None when ``request`` may see the page; else the refusal to send instead."""
        if not request.path.startswith(INSPECTOR_PREFIX) or self.inspector_public:
            return None
        if getattr(request.user, "is_staff", False) is True:
            return None
        if request.path.endswith(".json") or request.method not in SAFE_METHODS:
            body = json.dumps({"error": "The console is for staff users only."})
            return Response(body, status=403, content_type="application/json")
        query = urllib.parse.urlencode({"next": request.path})
        return Response("", status=303, headers={"Location": f"{self.login_url}?{query}"})

    # -- sessions and CSRF --------------------------------------------------

    def load_session(self, request: Request) -> Session:
        """The session in the request's cookie; a new empty one when the cookie is
        missing, tampered with, expired or malformed (never an error)."""
        cookie = request.cookies.get(self.cookie_name)
        if not cookie:
            return Session()
        try:
            payload = self._signer.loads(cookie, max_age=self.session_max_age)
        except itsdangerous.BadData:
            return Session()
        if not isinstance(payload, dict) or not isinstance(payload.get("k"), str):
            return Session()
        data = payload.get("d")
        return Session(data if isinstance(data, dict) else {}, key=payload["k"])

    def save_session(self, request: Request, response: Response) -> None:
        value = self._signer.dumps({"k": request.session.key, "d": dict(request.session)})
        response.set_cookie(
            self.cookie_name,
            value,
            max_age=self.session_max_age,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
            path="/",
        )
        response.headers["Cache-Control"] = "no-store"

    def check_csrf(self, request: Request) -> None:
        """Refuse an unsafe request whose form field or header does not carry the session's token.

        :raises Forbidden: (403) when the token is missing or wrong.
        """
        expected = request.session.get(CSRF_FIELD)
        submitted = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
        if not isinstance(expected, str) or not hmac.compare_digest(
            expected.encode(), submitted.encode()
        ):
            raise Forbidden("CSRF token missing or incorrect.")

    # -- error pages ----------------------------------------------------------

    def error_response(self, error: HTTPException, request: Request | None = None) -> Response:
        """The page for an HTTP error: the app's own, else a plain one, escaped either way.

        :param request: the request it answers, once its user is known; None
            for an error before that (the page then shows no one signed in).
        """
        response = None
        if self.error_page is not None:
            try:
                response = self.error_page(error, request)
            except BaseException as page_error:
                if is_ctrl_c(page_error):
                    raise
                # An error page that fails (a template_rendered hook that raises
                # or exits, say) must not turn the answer into a hung client.
                logger.error(
                    "the error page for %s failed%s",
                    error.code,
                    blame(get_host(), page_error),
                    exc_info=page_error,
                )
        if response is None:
            response = error.get_response()
        response.headers["Cache-Control"] = "no-store"
        return response


def is_ctrl_c(error: BaseException) -> bool:
    """Whether ``error`` may be the user's Ctrl-C, which must stop the server.

    Python raises ``KeyboardInterrupt`` for SIGINT only on the main thread and
    only from its default handler. Any other one (on a WSGI server's worker
    thread, or while uvicorn handles SIGINT itself) was raised by code, a
    plugin's say: it is that code's failure like ``sys.exit()``, and stopping
    the server for it, or leaving its client without an answer, would let one
    plugin take the site down.
    """
    return (
        isinstance(error, KeyboardInterrupt)
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    )


def _nearest_hop(environ: dict[str, Any], key: str) -> str:
    """The last comma-separated value of a forwarded header, stripped ("" if none)."""
    return str(environ.get(key, "")).rsplit(",", 1)[-1].strip()


def log_request(environ: dict[str, Any], status: int, started: float) -> None:
    """The access log line of a finished request (method, path, status, duration)."""
    logger.info(
        "%s %s %d %.1fms",
        environ.get("REQUEST_METHOD", "?"),
        environ.get("PATH_INFO", ""),
        status,
        (time.perf_counter() - started) * 1000,
    )


def blame(host: Host, error: BaseException, hook: str | None = None) -> str:
    """`` (raised by plugin 'p' in hook 'h')`` for an error a plugin raised; else "".

    Errors carry a note naming the plugin when a hook call saw them; others
    (``sys.exit()``, which hook calls let through untouched) are traced to the
    innermost implementation in their traceback, among ``hook``'s when given.
    Code shared by several implementations names only what they have in common.
    """
    for note in getattr(error, "__notes__", ()):
        if isinstance(note, str) and note.startswith("raised by plugin "):
            return f" ({note})"
    owners: dict[Any, list[tuple[str, str]]] = {}
    for caller in host.hook_callers():
        if hook is not None and caller.name != hook:
            continue
        for impl in caller.get_hookimpls():
            code = getattr(inspect.unwrap(impl.function), "__code__", None)
            if code is not None:
                owners.setdefault(code, []).append((impl.plugin_name, caller.name))
    found: list[tuple[str, str]] = []
    caller_name = ""
    entry = error.__traceback__
    while entry is not None:
        candidates = owners.get(entry.tb_frame.f_code)
        if candidates:
            # Implementations may share code (made by one factory): the call
            # plan that called this one names its hook in its file name.
            named = [owner for owner in candidates if owner[1] == caller_name]
            found = named or candidates
        caller_name = _plan_hook(entry.tb_frame.f_code)
        entry = entry.tb_next
    plugins = {plugin for plugin, _ in found}
    hooks = {name for _, name in found}
    # Naming the wrong plugin or hook would mislead: name only what is certain.
    if len(plugins) != 1:
        return ""
    where = f" in hook {hooks.pop()!r}" if len(hooks) == 1 else ""
    return f" (raised by plugin {plugins.pop()!r}{where})"


def _plan_hook(code: types.CodeType) -> str:
    """The hook a call plan's code runs (``"<hosthooks plan post_save>"``), or ""."""
    prefix = "<hosthooks plan "
    filename = code.co_filename
    if filename.startswith(prefix) and filename.endswith(">"):
        return filename[len(prefix) : -1]
    return ""


def check_no_nul(request: Request) -> None:
    """Refuse a form whose field holds U+0000, which no PostgreSQL text can
    hold and no user types: before the view, so nothing is written.

    :raises BadRequest: (400) naming the first such field.
    """
    for name, value in request.form.items(multi=True):
        if "\x00" in value or "\x00" in name:
            raise BadRequest(f"the field {name!r} may not hold the character U+0000 (NUL)")


def form_text(request: Request, name: str, *, max_length: int = 10_000) -> str:
    """A form field's text, stripped.

    :raises BadRequest: (400) when the field is too long.
    """
    value = request.form.get(name, "")
    if len(value) > max_length:
        raise BadRequest(f"the field {name!r} may have at most {max_length} characters")
    return value.strip()
