"""Per-request overhead of the request layer: a hello-world view called in process.

Contenders, in one process with interleaved rounds, each with one plugin (or
receiver) on request_started and one on request_finished:

- ``hosthooks``: the runtime's WSGI ``App`` (routing, cookie session, CSRF check);
- ``django-bare``: Django's ``WSGIHandler`` with no middleware: the like-for-like
  comparison, request handling and the two signals only, and the one reported first;
- ``django``: the same handler with ``startproject``'s default middleware
  (signed-cookie sessions, so neither side touches a database), what a new
  Django project runs.

Run: ``python -m bench.web [--rounds 9] [--json]`` (needs ``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from bench.timing import format_table
from bench.timing import interleaved_medians
from bench.timing import parse_arguments
from hosthooks import Host
from hosthooks import hookimpl
from hosthooks import set_default_host
from hosthooks.runtime.web import App
from hosthooks.runtime.web import Request

DEFAULT_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]


class _RequestListener:
    @hookimpl
    def request_started(self, environ: dict[str, Any]) -> None:
        pass

    @hookimpl
    def request_finished(self) -> None:
        pass


def _hello(request: Request) -> Response:
    return Response("Hello, world!", content_type="text/plain")


def _environ() -> dict[str, Any]:
    return EnvironBuilder(path="/", method="GET", headers=[("Host", "localhost")]).get_environ()


def _runner(app: Callable[..., Iterable[bytes]]) -> Callable[[int], None]:
    template = _environ()

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        pass

    def run(loops: int) -> None:
        for _ in range(loops):
            body = app(dict(template), start_response)
            for _chunk in body:
                pass
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return run


def _django_handlers() -> tuple[Callable[..., Iterable[bytes]], Callable[..., Iterable[bytes]]]:
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-" + "k" * 50,
        ALLOWED_HOSTS=["localhost"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=DEFAULT_MIDDLEWARE,
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
        ],
        SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
        MESSAGE_STORAGE="django.contrib.messages.storage.cookie.CookieStorage",
        DATABASES={},
    )
    django.setup()
    from django.core import signals
    from django.core.handlers.wsgi import WSGIHandler

    def started(sender: Any, **kwargs: Any) -> None:
        pass

    def finished(sender: Any, **kwargs: Any) -> None:
        pass

    signals.request_started.connect(started, weak=False)
    signals.request_finished.connect(finished, weak=False)
    # Django closes old database connections on these signals; with no
    # database configured there is nothing to close, so keep the comparison to
    # the one receiver each side has.
    from django.db import close_old_connections
    from django.db import reset_queries

    signals.request_started.disconnect(close_old_connections)
    signals.request_started.disconnect(reset_queries)
    signals.request_finished.disconnect(close_old_connections)
    full = WSGIHandler()
    with_no_middleware = WSGIHandler.__new__(WSGIHandler)
    settings.MIDDLEWARE = []
    WSGIHandler.__init__(with_no_middleware)
    settings.MIDDLEWARE = DEFAULT_MIDDLEWARE
    return full, with_no_middleware


def _django_view(request: Any) -> Any:
    from django.http import HttpResponse

    return HttpResponse("Hello, world!", content_type="text/plain")


def _urlpatterns() -> list[Any]:
    from django.urls import path

    return [path("", _django_view)]


def __getattr__(name: str) -> Any:
    # Django reads ROOT_URLCONF's urlpatterns lazily, once settings exist.
    if name == "urlpatterns":
        return _urlpatterns()
    raise AttributeError(name)


def contenders() -> dict[str, Callable[[int], None]]:
    host = Host()
    host.register(_RequestListener())
    set_default_host(host)
    app = App([("/", "hello", ["GET"])], {"hello": _hello}, secret_key="b" * 40)
    full, bare = _django_handlers()
    return {"hosthooks": _runner(app), "django-bare": _runner(bare), "django": _runner(full)}


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments("Per-request overhead of the request layer", argv, default_rounds=9)
    medians = interleaved_medians(contenders(), args.rounds)
    set_default_host(None)
    result = {
        "median_us": {name: value / 1000 for name, value in medians.items()},
        "hosthooks_vs_django_bare": medians["hosthooks"] / medians["django-bare"],
        "hosthooks_vs_django": medians["hosthooks"] / medians["django"],
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    version = sys.version.split()[0]
    print(f"hello-world request in process; medians of {args.rounds} rounds, Python {version}")
    rows = [[name, f"{value / 1000:.1f}"] for name, value in medians.items()]
    print(format_table(["contender", "us per request"], rows))
    print(
        f"hosthooks/django-bare (no middleware) {result['hosthooks_vs_django_bare']:.2f}  "
        f"hosthooks/django (startproject's middleware) {result['hosthooks_vs_django']:.2f}"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
