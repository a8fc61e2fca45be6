"""Per-request overhead of the request layer: a hello-world view called in process.

Contenders, in one process with interleaved rounds, each with one plugin (or
receiver) on request_started and one on request_finished:

- ``hosthooks``: the runtime's WSGI ``App`` (routing, cookie session, CSRF check);
- ``django-bare``: Django's ``WSGIHandler`` with no middleware: the like-for-like
  comparison, request handling and the two signals only, and the one reported first;
- ``django``: the same handler with ``startproject``'s default middleware
  (signed-cookie sessions, so neither side touches a database), what a new
  Django project runs;
- ``hosthooks+console``: the runtime's ``App`` while a console page is open: a
  staff user's calls page, whose script asks for its live part
  (``GET /-/calls?fragment=1&since=N``) every 2 seconds, asked as the script
  does, through the console's own views and App, on the contender's host while
  its rounds run. Recording is what those polls switch on and keep on, as in a
  served app, not switched on by the benchmark;
- ``demo`` and ``demo+console``: the demo app's home page (``hosthooks serve``'s
  app on a SQLite file: session, template, the request hooks), without and with
  a console page open (polling likewise): a page as the app serves it, not a
  hello-world.

A poll's time is not counted in the round it falls in: the rounds of one
contender take a sixth of the run, so a poll every 2 seconds of the run would
weigh six times what it weighs on a server, and a median would leave it out
anyway. What an open page costs is reported as the two parts a busy server
pays: the requests served while recording (the ratio of medians, open over
closed) plus the polls' share of one core (their total time over the run's).

Run: ``python -m bench.web [--rounds 9] [--json]`` (needs ``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import atexit
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any
from typing import Final

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from bench.timing import Run
from bench.timing import format_table
from bench.timing import interleaved_medians
from bench.timing import parse_arguments
from hosthooks import Host
from hosthooks import hookimpl
from hosthooks import set_default_host
from hosthooks.runtime import console
from hosthooks.runtime.console import ConsoleViews
from hosthooks.runtime.console.mutes import MuteStore
from hosthooks.runtime.console.mutes import MuteSync
from hosthooks.runtime.console.recording import RecentCalls
from hosthooks.runtime.db import Database
from hosthooks.runtime.db import get_database
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


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
    pass


def _serve(app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> None:
    body = app(environ, _start_response)
    for _chunk in body:
        pass
    close = getattr(body, "close", None)
    if close is not None:
        close()


def _runner(app: Callable[..., Iterable[bytes]]) -> Callable[[int], None]:
    template = _environ()

    def run(loops: int) -> None:
        for _ in range(loops):
            _serve(app, dict(template))

    return run


class OpenPage:
    """A console calls page open in a staff user's browser, on ``host``'s app:
    :meth:`poll_if_due` asks for its live part when 2 seconds have passed since
    it last did, as the page's script does, and keeps the time it took."""

    def __init__(self, host: Host, database: Database) -> None:
        self.host = host
        store = MuteStore(database)
        views = ConsoleViews(Templates(), RecentCalls(), store, MuteSync(host, store))
        # The console's views on an App of their own: the served requests stay
        # exactly the closed contender's, and the page is staff's.
        self.app = App(
            console.ROUTES,
            views.endpoints(),
            secret_key="c" * 40,
            load_user=lambda session: _STAFF,
        )
        self.recent = views.recent
        self.last = ""
        self.due = math.inf
        #: Seconds each poll took.
        self.polls: list[float] = []

    def open(self) -> None:
        """Load the page (the whole of it, once: not one of its polls); its
        script's first poll comes 2 seconds later."""
        self._get("")
        self.due = time.perf_counter() + POLL_SECONDS

    def poll_if_due(self) -> float:
        """Poll if it is time; the seconds that took (0 if it was not time)."""
        now = time.perf_counter()
        if now < self.due:
            return 0.0
        self.due = now + POLL_SECONDS
        self._get("fragment=1" + (f"&since={self.last}" if self.last else ""))
        took = time.perf_counter() - now
        self.polls.append(took)
        return took

    def _get(self, query: str) -> None:
        environ = EnvironBuilder(
            path="/-/calls", query_string=query, headers=[("Host", "localhost")]
        ).get_environ()
        captured: dict[str, str] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> None:
            captured.update(headers)
            captured["status"] = status

        set_default_host(self.host)
        body = self.app(environ, start_response)
        for _chunk in body:
            pass
        getattr(body, "close", lambda: None)()
        if not captured["status"].startswith(("200", "204")):
            raise RuntimeError(f"the console page's poll answered {captured['status']}")
        self.last = captured.get("X-Console-Last", self.last)


class _Staff:
    username = "bench"
    is_staff = True


_STAFF: Final = _Staff()


def _with_open_page(page: OpenPage, run: Callable[[int], None]) -> Run:
    """``run``, on ``page``'s host, with the page polling while it runs; returns
    the seconds its polls took, which the round leaves out (see the module's
    docstring)."""

    def serve(loops: int) -> float:
        # Asked every few requests: the page polls on its own clock.
        done, polling = 0, 0.0
        while done < loops:
            polling += page.poll_if_due()
            set_default_host(page.host)
            step = min(loops - done, 16)
            run(step)
            done += step
        return polling

    return serve


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


def contenders() -> tuple[dict[str, Run], list[OpenPage]]:
    """The contenders, and the console pages open on two of them."""
    host = Host()
    host.register(_RequestListener())
    app = App([("/", "hello", ["GET"])], {"hello": _hello}, secret_key="b" * 40)
    watched = Host()
    watched.register(_RequestListener())
    full, bare = _django_handlers()
    demo_host, demo_watched = Host(), Host()
    for each in (demo_host, demo_watched):
        each.register(_RequestListener())
    set_default_host(demo_host)
    folder = tempfile.mkdtemp(prefix="bench-web-")
    # The demo's database is the benchmark's own: gone when the process ends.
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    demo_app = make_app(os.path.join(folder, "demo.sqlite3"), Settings(environ={}))
    database = get_database()
    page, demo_page = OpenPage(watched, database), OpenPage(demo_watched, database)
    page.open()
    demo_page.open()
    return {
        "hosthooks": _with_host(host, _runner(app)),
        "django-bare": _runner(bare),
        "django": _runner(full),
        "hosthooks+console": _with_open_page(page, _runner(app)),
        "demo": _with_host(demo_host, _runner(demo_app)),
        "demo+console": _with_open_page(demo_page, _runner(demo_app)),
    }, [page, demo_page]


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments("Per-request overhead of the request layer", argv, default_rounds=9)
    runs, (page, demo_page) = contenders()
    started = time.perf_counter()
    medians = interleaved_medians(runs, args.rounds)
    wall = time.perf_counter() - started
    set_default_host(None)
    if not (page.recent.recording and demo_page.recent.recording):
        raise RuntimeError("an open console page should have kept recording on")
    polls = page.polls + demo_page.polls
    # Each page polled every 2 s of the run: its polls' share of one core.
    share = sum(page.polls) / wall
    demo_share = sum(demo_page.polls) / wall
    requests_ratio = medians["hosthooks+console"] / medians["hosthooks"]
    demo_requests_ratio = medians["demo+console"] / medians["demo"]
    result = {
        "median_us": {name: value / 1000 for name, value in medians.items()},
        "hosthooks_vs_django_bare": medians["hosthooks"] / medians["django-bare"],
        "hosthooks_vs_django": medians["hosthooks"] / medians["django"],
        "console_open_vs_closed": requests_ratio + share,
        "demo_console_open_vs_closed": demo_requests_ratio + demo_share,
        "console_requests_open_vs_closed": requests_ratio,
        "demo_console_requests_open_vs_closed": demo_requests_ratio,
        "console_polls": len(polls),
        # None when the run was shorter than the pages' first poll.
        "console_poll_ms": statistics.median(polls) * 1000 if polls else None,
        "console_poll_share": share,
        "demo_console_poll_share": demo_share,
    }
    poll_ms = statistics.median(polls or [0.0]) * 1000
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
        f"console open/closed {result['console_open_vs_closed']:.3f} per hello-world request, "
        f"{result['demo_console_open_vs_closed']:.3f} per demo page: requests while recording "
        f"{requests_ratio:.3f} and {demo_requests_ratio:.3f}, plus the page's polls "
        f"(every {POLL_SECONDS:g} s: {len(polls)}, median {poll_ms:.1f} ms) "
        f"{share:.2%} and {demo_share:.2%} of one core"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
