"""The request layer: a WSGI application on Werkzeug, with signed cookie sessions and CSRF.

This module is the only place ``request_started``, ``request_finished`` and
``got_request_exception`` are fired:

- ``request_started(sender=App class, environ)`` before anything else;
- ``request_finished(sender=App class)`` when the server closes the response,
  after the body was sent (streamed bodies included), for every response;
- ``got_request_exception(sender=None, request)`` for an exception a view did
  not handle, inside the exception context, before the plain 500 page.

A raising implementation of the last two is logged with its plugin's name and
never turns a served response into an error.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import time
import traceback
from collections.abc import Callable
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from typing import Final

import itsdangerous
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import Forbidden
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError
from werkzeug.routing import Map
from werkzeug.routing import Rule
from werkzeug.wrappers import Request as WerkzeugRequest
from werkzeug.wrappers import Response
from werkzeug.wsgi import ClosingIterator

from hosthooks.host import get_host

logger: Final = logging.getLogger("hosthooks.web")

SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: Sent with every response: no MIME sniffing, no framing, no full referrers.
SECURITY_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
CSRF_FIELD: Final = "csrf_token"
CSRF_HEADER: Final = "X-CSRF-Token"
_MIN_SECRET_LENGTH: Final = 32

View = Callable[..., Response]
StartResponse = Callable[..., Any]


class Session(dict[str, Any]):
    """A request's session: a dict kept in a signed cookie, with a key that login rotates."""

    def __init__(self, data: dict[str, Any] | None = None, key: str | None = None) -> None:
        super().__init__(data or {})
        self.key = key or secrets.token_urlsafe(16)
        # Only a session that changed is sent back: a visitor who never stores
        # anything gets no cookie, and a request costs no signing.
        self.modified = False

    def __setitem__(self, name: str, value: Any) -> None:
        super().__setitem__(name, value)
        self.modified = True

    def __delitem__(self, name: str) -> None:
        super().__delitem__(name)
        self.modified = True

    def cycle_key(self) -> None:
        """A new key (and CSRF token), the same data: done at login."""
        self.key = secrets.token_urlsafe(16)
        self.pop(CSRF_FIELD, None)
        self.modified = True

    def flush(self) -> None:
        """Forget everything, under a new key: done at logout."""
        self.clear()
        self.cycle_key()


class Request(WerkzeugRequest):
    """A Werkzeug request with the session and the user the app loaded for it."""

    session: Session
    user: Any = None

    @property
    def csrf_token(self) -> str:
        """This session's CSRF token, made on first use."""
        token = self.session.get(CSRF_FIELD)
        if not isinstance(token, str):
            token = secrets.token_urlsafe(32)
            self.session[CSRF_FIELD] = token
        return token


def load_secret_key(database_path: str, configured: str | None) -> str:
    """The key sessions are signed with: ``configured`` if set, else the file
    ``<database>.secret``, generated on first run with owner-only permissions.

    :raises ValueError: when the key is shorter than 32 characters.
    """
    if configured:
        key = configured
    elif database_path == ":memory:":
        key = secrets.token_urlsafe(48)
    else:
        path = Path(f"{database_path}.secret")
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            key = path.read_text(encoding="utf-8").strip()
        else:
            key = secrets.token_urlsafe(48)
            with os.fdopen(descriptor, "w", encoding="utf-8") as secret_file:
                secret_file.write(key + "\n")
    if len(key) < _MIN_SECRET_LENGTH:
        raise ValueError(f"the secret key must have at least {_MIN_SECRET_LENGTH} characters")
    return key


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
        self._signer = itsdangerous.URLSafeTimedSerializer(secret_key, salt="hosthooks.session")
        # Matching needs only the path and the method, so one adapter serves
        # every request (binding per request costs more than the match).
        self._routes = self.url_map.bind("localhost")

    # -- WSGI ---------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        host = get_host()
        sender = type(self)
        try:
            if host.has_listeners("request_started"):
                host.hook.request_started(sender=sender, environ=environ)
            response = self.respond(Request(environ))
        except Exception:
            # Raised outside a view (request_started, a broken environ): still a 500.
            logger.exception("error before the request reached a view")
            response = self.error_response(InternalServerError())
        response.headers.update(SECURITY_HEADERS)
        status = response.status_code

        def finished() -> None:
            if host.has_listeners("request_finished"):
                host.fire_robust("request_finished", sender=sender)
            logger.info(
                "%s %s %d %.1fms",
                environ.get("REQUEST_METHOD", "?"),
                environ.get("PATH_INFO", ""),
                status,
                (time.perf_counter() - started) * 1000,
            )

        return ClosingIterator(response(environ, start_response), [finished])

    def respond(self, request: Request) -> Response:
        """The response for ``request``: a view's, an HTTP error's, or a 500 page."""
        request.max_content_length = self.max_body_size
        request.max_form_memory_size = self.max_body_size
        request.session = self.load_session(request)
        try:
            request.user = self.load_user(request.session)
            endpoint, arguments = self._routes.match(request.path, method=request.method)
            if request.method not in SAFE_METHODS:
                self.check_csrf(request)
            response = self.views[endpoint](request, **arguments)
        except HTTPException as error:
            response = self.error_response(error)
        except Exception:
            logger.exception("unhandled error in %s %s", request.method, request.path)
            host = get_host()
            if host.has_listeners("got_request_exception"):
                host.fire_robust("got_request_exception", sender=None, request=request)
            if self.debug:
                response = Response(traceback.format_exc(), status=500, content_type="text/plain")
            else:
                response = self.error_response(InternalServerError())
        if request.session.modified:
            self.save_session(request, response)
        return response

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

    @staticmethod
    def error_response(error: HTTPException) -> Response:
        """A plain page for an HTTP error: its code, name and description, escaped."""
        response = error.get_response()
        response.headers["Cache-Control"] = "no-store"
        return response


def form_text(request: Request, name: str, *, max_length: int = 10_000) -> str:
    """A form field's text, stripped.

    :raises BadRequest: (400) when the field is too long.
    """
    value = request.form.get(name, "")
    if len(value) > max_length:
        raise BadRequest(f"the field {name!r} may have at most {max_length} characters")
    return value.strip()
