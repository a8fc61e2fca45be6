"""Per-request overhead of the request layer: a hello-world view called in process.

Contenders, in one process with interleaved rounds, each with one plugin (or
receiver) on request_started and one on request_finished:

- ``hosthooks``: the runtime's WSGI ``App`` (routing, cookie session, CSRF check);
- ``django-bare``: Django's ``WSGIHandler`` with no middleware: the like-for-like
  comparison, request handling and the two signals only, and the one reported first;
- ``django``: the same handler with ``startproject``'s default middleware
  (signed-cookie sessions, so neither side touches a database), what a new
  Django project runs;
- ``hosthooks+console``: the runtime's ``App`` while a console page is open:
  every hook call recorded (what an open console costs each request). The
  page's own polling is timed apart: one poll (the overview's data, and the
  calls page's live part rendered over a full buffer of recorded calls) every
  2 seconds, as a share of one core;
- ``demo`` and ``demo+console``: the demo app's home page (``hosthooks serve``'s
  app on a SQLite file: session, template, the request hooks), without and with
  a console page open: a page as the app serves it, not a hello-world.

Run: ``python -m bench.web [--rounds 9] [--json]`` (needs ``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
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
from hosthooks.runtime.console import data
from hosthooks.runtime.console.recording import RecentCalls
from hosthooks.runtime.demo import make_app
from hosthooks.runtime.settings import Settings
from hosthooks.runtime.templates import Templates
from hosthooks.runtime.web import App
from hosthooks.runtime.web import Request

#: How often an open console page asks for its live part.
POLL_SECONDS = 2.0
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


def _with_host(host: Host, run: Callable[[int], None]) -> Callable[[int], None]:
    """``run`` with ``host`` as the default host (the App fires through it)."""

    def on_host(loops: int) -> None:
        set_default_host(host)
        run(loops)

    return on_host


def contenders() -> tuple[dict[str, Callable[[int], None]], Callable[[], None]]:
    """The contenders, and one poll of an open console page."""
    host = Host()
    host.register(_RequestListener())
    app = App([("/", "hello", ["GET"])], {"hello": _hello}, secret_key="b" * 40)
    watched = Host()
    watched.register(_RequestListener())
    recent = RecentCalls(linger=3600)
    recent.touch(watched)
    full, bare = _django_handlers()
    plain = _with_host(host, _runner(app))
    console = _with_host(watched, _runner(app))
    demo_host, demo_watched = Host(), Host()
    for each in (demo_host, demo_watched):
        each.register(_RequestListener())
    set_default_host(demo_host)
    folder = tempfile.mkdtemp(prefix="bench-web-")
    # The demo's database is the benchmark's own: gone when the process ends.
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    demo_app = make_app(os.path.join(folder, "demo.sqlite3"), Settings(environ={}))
    demo_recent = RecentCalls(linger=3600)
    demo_recent.touch(demo_watched)
    return {
        "hosthooks": plain,
        "django-bare": _runner(bare),
        "django": _runner(full),
        "hosthooks+console": console,
        "demo": _with_host(demo_host, _runner(demo_app)),
        "demo+console": _with_host(demo_watched, _runner(demo_app)),
    }, _poll(watched, recent)


def _poll(host: Host, recent: RecentCalls) -> Callable[[], None]:
    """What one poll of an open console page does (overview data, and the calls
    page's live part rendered over the recorded calls)."""
    templates = Templates()

    def poll() -> None:
        set_default_host(host)
        data.overview(host, recent)
        calls = recent.after(0)
        wanted = data.CallFilter()
        found = {
            "recording": True,
            "last": 0,
            "filter": {},
            "calls": calls,
            "groups": data.grouped_calls(calls, recent.requests(), wanted),
        }
        templates.render(
            "console/calls.html",
            {"fragment": True, "found": found, "wanted": wanted, "hooks": [], "plugins": []},
        )

    return poll


def _poll_ms(poll: Callable[[], None], rounds: int) -> float:
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        poll()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments("Per-request overhead of the request layer", argv, default_rounds=9)
    runs, poll = contenders()
    medians = interleaved_medians(runs, args.rounds)
    poll_ms = _poll_ms(poll, args.rounds)  # over the calls the rounds recorded
    set_default_host(None)
    result = {
        "median_us": {name: value / 1000 for name, value in medians.items()},
        "hosthooks_vs_django_bare": medians["hosthooks"] / medians["django-bare"],
        "hosthooks_vs_django": medians["hosthooks"] / medians["django"],
        "console_open_vs_closed": medians["hosthooks+console"] / medians["hosthooks"],
        "demo_console_open_vs_closed": medians["demo+console"] / medians["demo"],
        "console_poll_ms": poll_ms,
        "console_poll_share": poll_ms / (POLL_SECONDS * 1000),
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
    print(
        f"console open/closed {result['console_open_vs_closed']:.2f} per hello-world request, "
        f"{result['demo_console_open_vs_closed']:.2f} per demo page, "
        f"plus one poll every {POLL_SECONDS:g} s: {poll_ms:.1f} ms "
        f"({result['console_poll_share']:.2%} of one core)"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
