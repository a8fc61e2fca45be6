"""A client for the demo app, driven in process: it keeps the session cookie and
sends the session's CSRF token with every unsafe request, as a browser would."""

from __future__ import annotations

import re
from typing import Any
from typing import Final

from werkzeug.test import Client
from werkzeug.test import TestResponse

from hosthooks.runtime.web import App

#: The hidden field every form of the demo carries.
_TOKEN_FIELD: Final = re.compile(r'name="csrf_token" value="([^"]+)"')
#: Read the whole body and close the response before returning, as a browser's
#: request ends: request_finished has fired by then.
_COMPLETE: Final = {"buffered": True}
#: Where a fresh session's token is found: every page's form has it.
_TOKEN_PAGE: Final = "/login"


class DemoClient:
    """Requests to the demo app, with its cookies, and the CSRF token of its session.

    :param app: the WSGI application, as ``make_app`` returns it.
    """

    def __init__(self, app: App) -> None:
        self.app = app
        self._client = Client(app)
        self._token: str | None = None

    def get(self, path: str, **options: Any) -> TestResponse:
        """``GET path``; options are werkzeug's ``Client.open`` ones."""
        return self._remember_token(self._client.get(path, **{**_COMPLETE, **options}))

    def post(self, path: str, data: dict[str, str] | None = None, **options: Any) -> TestResponse:
        """``POST path`` with ``data`` as a form, and the session's CSRF token added."""
        form = {"csrf_token": self.csrf_token(), **(data or {})}
        response = self._client.post(path, data=form, **{**_COMPLETE, **options})
        # Logging in or out starts a new session with a token of its own: read
        # it afresh unless this response shows it.
        self._token = None
        return self._remember_token(response)

    def csrf_token(self) -> str:
        """This session's CSRF token, read from a page the first time it is needed."""
        if self._token is None:
            self.get(_TOKEN_PAGE)
        if self._token is None:
            raise LookupError(f"no csrf_token field on {_TOKEN_PAGE}")
        return self._token

    def signup(self, username: str, password: str) -> TestResponse:
        """Create an account (which logs it in): 303 to ``/`` when it worked."""
        return self.post("/signup", {"username": username, "password": password})

    def login(self, username: str, password: str) -> TestResponse:
        """Log in: 303 to ``/`` when the credentials are right."""
        return self.post("/login", {"username": username, "password": password})

    def logout(self) -> TestResponse:
        return self.post("/logout")

    def _remember_token(self, response: TestResponse) -> TestResponse:
        found = _TOKEN_FIELD.search(response.get_data(as_text=True))
        if found:
            self._token = found.group(1)
        return response
