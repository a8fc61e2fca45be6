"""Request hooks: Django's ``django.core.signals``, fired by ``hosthooks.runtime.web``."""

from __future__ import annotations

from typing import Any

from hosthooks.markers import hookspec


@hookspec
def request_started(
    sender: type[Any],
    environ: dict[str, Any] | None = None,
    scope: dict[str, Any] | None = None,
) -> None:
    """The application has begun handling a request.

    Fires before anything else is done with the request: before routing,
    sessions or authentication. Served over WSGI it gets ``environ``; over ASGI
    (``hosthooks serve --asgi``) it gets ``scope``, once the request body was
    read, as Django's ASGI handler sends it.

    :param sender: the class of the application handling the request.
    :param environ: the WSGI environ of the request; None under ASGI.
    :param scope: the ASGI scope of the request; None under WSGI.
    """


@hookspec
def request_finished(sender: type[Any]) -> None:
    """The application has finished delivering a response.

    Fires when the server closes the response, after the last byte of the body
    was sent (streamed responses included), for every response: 404s and 500s
    too. An implementation that raises is logged and never turns a delivered
    response into an error.

    :param sender: the class of the WSGI application that handled the request.
    """


@hookspec
def got_request_exception(sender: None, request: Any) -> None:
    """A view raised an exception nobody handled.

    Fires inside the exception context (``sys.exc_info()`` is the exception),
    before the 500 response is built. Not fired for 4xx answers. An
    implementation that raises is logged and the 500 response is still served.

    :param sender: always None, as in Django.
    :param request: the request whose handling raised.
    """
