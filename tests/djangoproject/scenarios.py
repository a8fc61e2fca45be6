"""Scenarios run inside the test project, one per process (Django is set up once):
``python -m tests.djangoproject.scenarios NAME`` prints what it found as JSON.

``PROJECT_DB`` names the SQLite file, ``PROJECT_HOSTHOOKS`` the ``HOSTHOOKS``
setting (JSON); ``DJANGO_SETTINGS_MODULE`` is set here.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import inspect
import json
import logging
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.djangoproject.settings"

import django

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402
from django.db import transaction  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.test.utils import teardown_test_environment  # noqa: E402

import hosthooks  # noqa: E402
from hosthooks import specs  # noqa: E402
from hosthooks.django.signals import built_in_signals  # noqa: E402
from tests.conftest import Recorder  # noqa: E402
from tests.djangoproject import early  # noqa: E402
from tests.djangoproject.library.models import Author  # noqa: E402
from tests.djangoproject.library.models import Book  # noqa: E402
from tests.djangoproject.library.models import Tag  # noqa: E402

PASSWORD = "correct horse"


# -- the model scenario ------------------------------------------------------------


def model_scenario() -> None:
    """Saves, update_fields, m2m from both sides, cascading and queryset deletes."""
    ursula = Author.objects.create(name="Ursula")
    terry = Author(name="Terry")
    terry.save()
    earthsea = Book.objects.create(title="Earthsea", pages=200, author=ursula)
    dispossessed = Book.objects.create(title="The Dispossessed", pages=380, author=ursula)
    mort = Book.objects.create(title="Mort", pages=250, author=terry)
    earthsea.pages = 210
    earthsea.save(update_fields=["pages"])
    earthsea.save(update_fields=[])  # sends nothing, as in Django
    fantasy = Tag.objects.create(name="fantasy")
    classic = Tag.objects.create(name="classic")
    fantasy.books.add(earthsea, mort)  # forward side
    dispossessed.tags.add(classic, fantasy)  # reverse side
    earthsea.tags.add(fantasy)  # already there: pk_set empty
    fantasy.books.remove(mort)
    classic.books.clear()
    mort.tags.set([classic])
    Book.objects.filter(pk=mort.pk).update(pages=260)  # sends nothing, as in Django
    list(Book.objects.all())  # rows loaded from the database: pre_init and post_init
    with transaction.atomic():
        ursula.delete()  # cascades to both of her books and their tag links
    Tag.objects.filter(name="classic").delete()  # a queryset delete
    try:
        with transaction.atomic():
            Author.objects.create(name="Rolled back")
            raise _RollBack
    except _RollBack:
        pass


class _RollBack(Exception):
    """Raised to roll a transaction back."""


# -- the web scenario --------------------------------------------------------------


@contextmanager
def served() -> Iterator[str]:
    """The project's WSGI application served by Django's runserver server (one
    thread) on a free local port."""
    from django.core.servers.basehttp import WSGIRequestHandler
    from django.core.servers.basehttp import WSGIServer
    from django.core.wsgi import get_wsgi_application

    server = WSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
    server.set_app(get_wsgi_application())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class Browser:
    """A client keeping cookies, with Django's CSRF token in its posts."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, fields: dict[str, str]) -> tuple[int, str]:
        token = next(cookie.value for cookie in self.jar if cookie.name == "csrftoken")
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token or ""}).encode()
        return self._open(urllib.request.Request(self.base + path, data=data))

    def _open(self, request: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            body = error.read().decode()
            error.close()
            return error.code, body


def web_scenario(settle: Callable[[], None]) -> dict[str, int]:
    """A page, a failing view, a failed login, a login and a logout, through a real
    server; ``settle`` waits until the server finished every request."""
    User.objects.create_user("ged", password=PASSWORD)
    statuses: dict[str, int] = {}
    with served() as base:
        browser = Browser(base)
        statuses["books"], _ = browser.get("/books/")
        settle()
        statuses["fail"], _ = browser.get("/fail/")
        settle()
        statuses["login_form"], _ = browser.get("/login/")
        settle()
        statuses["failed_login"], _ = browser.post(
            "/login/", {"username": "ged", "password": "wrong"}
        )
        settle()
        statuses["login"], page = browser.post("/login/", {"username": "ged", "password": PASSWORD})
        settle()
        statuses["logout"], _ = browser.post("/logout/", {})
        settle()
    return statuses


# -- what receivers and plugins heard ------------------------------------------------


class Heard:
    """Every call of a plain receiver connected to each built-in signal, and every
    call of a recording plugin, with the thread each ran in."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[tuple[int, str, str, dict[str, Any]]] = []

    def add(self, source: str, hook: str, arguments: dict[str, Any]) -> None:
        with self.lock:
            self.calls.append((threading.get_ident(), source, hook, arguments))

    def of(self, source: str) -> list[tuple[int, str, dict[str, Any]]]:
        with self.lock:
            return [(thread, hook, args) for thread, src, hook, args in self.calls if src == source]

    def count(self, source: str, hook: str) -> int:
        return sum(1 for _, name, _ in self.of(source) if name == hook)


def connect_plain_receivers(heard: Heard) -> None:
    for hook, signal in built_in_signals().items():

        def receiver(sender: Any, hook: str = hook, **kwargs: Any) -> None:
            kwargs.pop("signal")
            heard.add("django", hook, {"sender": sender, **kwargs})

        signal.connect(receiver, weak=False, dispatch_uid=f"tests.plain:{hook}")


class HeardRecorder(Recorder):
    def __init__(self, heard: Heard) -> None:
        super().__init__()
        self.heard = heard

    def record(self, hook: str, arguments: dict[str, Any]) -> None:
        self.heard.add("plugin", hook, arguments)


def spec_default(hook: str, argument: str) -> Any:
    """The value a plugin gets for ``argument`` of ``hook`` when Django leaves it out."""
    for family in specs.FAMILIES.values():
        spec = getattr(family, hook, None)
        if spec is not None:
            default = inspect.signature(spec).parameters[argument].default
            return None if default is inspect.Parameter.empty else default
    raise LookupError(hook)


def mismatches(heard: Heard) -> list[str]:
    """Where the plugin heard something else than the plain receiver: per thread, the
    same calls in the same order, each argument the very object Django sent."""
    found = []
    by_thread: dict[int, tuple[list[Any], list[Any]]] = {}
    for source, index in (("django", 0), ("plugin", 1)):
        for thread, hook, arguments in heard.of(source):
            by_thread.setdefault(thread, ([], []))[index].append((hook, arguments))
    for thread, (plain, plugin) in by_thread.items():
        if len(plain) != len(plugin):
            found.append(
                f"thread {thread}: {len(plain)} receiver calls, {len(plugin)} plugin calls"
            )
        for position, ((hook, expected), (got_hook, got)) in enumerate(
            zip(plain, plugin, strict=False)
        ):
            if hook != got_hook:
                found.append(f"call {position}: receiver heard {hook}, plugin {got_hook}")
                break
            # A spec argument Django leaves out (scope= under WSGI, environ= under
            # ASGI, raw= of m2m_changed before Django 6.1) reaches a plugin as the
            # spec's documented default: None unless the spec names another.
            defaulted = {
                name
                for name in got.keys() - expected.keys()
                if got[name] is spec_default(hook, name)
            }
            if expected.keys() != got.keys() - defaulted:
                found.append(f"call {position} ({hook}): {sorted(expected)} != {sorted(got)}")
            for name in expected.keys() & got.keys():
                if expected[name] is not got[name]:
                    found.append(
                        f"call {position} ({hook}): {name} {expected[name]!r} is not {got[name]!r}"
                    )
    return found


def settle_requests(heard: Heard) -> Callable[[], None]:
    def settle() -> None:
        # request_finished is sent when the server closes the response, which
        # can be after the client read all of it.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            started = heard.count("django", "request_started")
            if heard.count("plugin", "request_finished") == started:
                return
            time.sleep(0.01)

    return settle


def compare() -> dict[str, Any]:
    """A recording plugin against a plain receiver of every built-in signal."""
    host = hosthooks.get_host()
    heard = Heard()
    recorder = HeardRecorder(heard)
    host.register(recorder, "recorder")
    # What Django prepared before ready(), before migrate renders more.
    prepared_before_ready = list(early.prepared)
    replayed = [arguments["sender"] for _, hook, arguments in heard.of("plugin")]
    with heard.lock:
        heard.calls.clear()
    connect_plain_receivers(heard)
    connections.close_all()  # the next query opens a connection: connection_created
    call_command("migrate", verbosity=0, run_syncdb=True)
    model_scenario()
    render_to_string("library/book_list.html", {"books": Book.objects.all()})
    with override_settings(LOGIN_REDIRECT_URL="/elsewhere/"):
        pass
    statuses = web_scenario(settle_requests(heard))
    hooks = sorted({hook for _, hook, _ in heard.of("django")})
    return {
        "mismatches": mismatches(heard),
        "hooks": hooks,
        "counts": {hook: heard.count("plugin", hook) for hook in hooks},
        "statuses": statuses,
        "replayed_in_djangos_order": replayed == prepared_before_ready,
        "replayed": len(replayed),
        "threads": len({thread for thread, _, _, _ in heard.calls}),
    }


def settle_by_counting() -> Callable[[], None]:
    """``settle`` for a scenario without a recording plugin: plain receivers count
    the requests started and finished."""
    counts = {"request_started": 0, "request_finished": 0}
    lock = threading.Lock()
    signals = built_in_signals()
    for hook in counts:

        def count(sender: Any, hook: str = hook, **kwargs: Any) -> None:
            with lock:
                counts[hook] += 1

        signals[hook].connect(count, weak=False, dispatch_uid=f"tests.count:{hook}")

    def settle() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with lock:
                if counts["request_started"] == counts["request_finished"]:
                    return
            time.sleep(0.01)

    return settle


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.levelname}: {record.getMessage()}")


def example_plugins() -> dict[str, Any]:
    """The example plugins, installed with pip, unchanged: the comparison scenario
    (tests/comparison, which also runs on the runtime), a transaction rolled back,
    then the web scenario. Returns what they logged."""
    from tests.comparison import scenario
    from tests.comparison.django_app.models import Author as ScenarioAuthor
    from tests.comparison.django_app.models import Book as ScenarioBook
    from tests.comparison.django_app.models import Tag as ScenarioTag

    kept = _Kept()
    for name in ("hosthooks.audit", "hosthooks.login_guard", "hosthooks.request_timer"):
        logger = logging.getLogger(name)
        logger.addHandler(kept)
        logger.setLevel(logging.INFO)
    settle = settle_by_counting()
    call_command("migrate", verbosity=0, run_syncdb=True)
    scenario.run(ScenarioAuthor, ScenarioTag, ScenarioBook, lambda step: None)
    try:
        with transaction.atomic():
            ScenarioAuthor.objects.create(name="Rolled back")
            raise _RollBack
    except _RollBack:
        pass
    statuses = web_scenario(settle)
    host = hosthooks.get_host()
    return {
        "plugins": [(record.name, record.status.value) for record in host.plugins()],
        "runtime_modules": sorted(name for name in sys.modules if "hosthooks.runtime" in name),
        "statuses": statuses,
        # Durations differ from run to run.
        "logged": [re.sub(r" \d+\.\d\d ms", " <duration> ms", line) for line in kept.lines],
    }


def _bridge_receivers() -> list[str]:
    return [
        hook
        for hook, signal in built_in_signals().items()
        if any(entry[0][0] == f"hosthooks:{hook}" for entry in signal.receivers)
    ]


def plugins_change() -> dict[str, Any]:
    """Receivers follow the plugins; labels and classes filter senders; a raising
    plugin raises from send and is returned by send_robust."""
    from django.db.models.signals import post_save
    from django.template.base import Template

    from tests.comparison.django_app.models import Author as OtherAuthor

    host = hosthooks.get_host()
    report: dict[str, Any] = {"before": _bridge_receivers()}
    plain_render = Template._render
    heard: list[tuple[str, str]] = []

    class Filtered:
        @hosthooks.hookimpl(sender="library.Book")
        def post_save(self, sender: Any) -> None:
            heard.append(("label", sender._meta.label))

        @hosthooks.hookimpl(sender=Author)
        def pre_save(self, sender: Any) -> None:
            heard.append(("class", sender._meta.label))

        @hosthooks.hookimpl
        def template_rendered(self, template: Any) -> None:
            heard.append(("template", str(template.origin.template_name)))

    filtered = Filtered()
    host.register(filtered, "filtered")
    report["registered"] = _bridge_receivers()
    report["templates_send"] = Template._render is not plain_render
    call_command("migrate", verbosity=0, run_syncdb=True)
    ursula = Author.objects.create(name="Ursula")
    OtherAuthor.objects.create(name="Ursula")
    Book.objects.create(title="Earthsea", author=ursula)
    render_to_string("library/book_list.html", {"books": []})
    # Django's test runner instruments templates itself: one signal per render still.
    setup_test_environment()
    render_to_string("library/book_list.html", {"books": []})
    teardown_test_environment()
    report["sending_after_test_runner"] = Template._render is not plain_render
    report["heard"] = heard

    class Raising:
        @hosthooks.hookimpl(sender="library.Author")
        def post_save(self) -> None:
            raise ValueError("no authors today")

    host.register(Raising(), "raising")
    try:
        Author.objects.create(name="Terry")
    except ValueError as error:
        report["raised"] = [str(error), *getattr(error, "__notes__", [])]
    responses = post_save.send_robust(
        sender=Author,
        instance=ursula,
        created=False,
        raw=False,
        using="default",
        update_fields=None,
    )
    report["robust"] = [
        [receiver.__name__, repr(response), *getattr(response, "__notes__", [])]
        for receiver, response in responses
    ]
    host.unregister("raising")
    host.unregister("filtered")
    report["unregistered"] = _bridge_receivers()
    report["templates_plain_again"] = Template._render is plain_render
    return report


def async_send() -> dict[str, Any]:
    """Django's asend and send reach a plugin's async implementation, in hosthooks' order."""
    import asyncio

    from django.db.models.signals import post_save

    host = hosthooks.get_host()
    heard: list[list[Any]] = []

    class Mixed:
        @hosthooks.hookimpl
        async def post_save(self, instance: Any, created: bool) -> None:
            await asyncio.sleep(0)
            heard.append(["async", instance.name, created])

    class Plain:
        @hosthooks.hookimpl
        def post_save(self, instance: Any) -> None:
            heard.append(["sync", instance.name])

    call_command("migrate", verbosity=0, run_syncdb=True)
    host.register(Mixed(), "mixed")
    host.register(Plain(), "plain")
    ursula = Author.objects.create(name="Ursula")  # send, no loop running: run to completion
    report: dict[str, Any] = {"send": list(heard)}
    heard.clear()

    async def from_a_loop() -> None:
        await post_save.asend(
            sender=Author,
            instance=ursula,
            created=False,
            raw=False,
            using="default",
            update_fields=None,
        )

    asyncio.run(from_a_loop())
    report["asend"] = list(heard)
    heard.clear()

    async def sync_send_on_a_loop() -> None:
        post_save.send(
            sender=Author,
            instance=ursula,
            created=False,
            raw=False,
            using="default",
            update_fields=None,
        )

    try:
        asyncio.run(sync_send_on_a_loop())
        report["send_on_a_loop"] = "no error"
    except Exception as error:
        report["send_on_a_loop"] = [type(error).__name__, str(error)]
    host.unregister("plain")
    host.unregister("mixed")
    return report


def model_api() -> list[list[Any]]:
    """What hosthooks' model API reads of Django's instances (tests/model_api_plugin.py)."""
    from tests import model_api_plugin
    from tests.comparison.django_app.models import Author as ComparedAuthor
    from tests.comparison.django_app.models import Book as ComparedBook

    call_command("migrate", verbosity=0, run_syncdb=True)
    return model_api_plugin.run(ComparedAuthor, ComparedBook)


def bulk_hooks() -> dict[str, Any]:
    """hosthooks' own bulk and queryset hooks, heard through the wrapped QuerySet (or
    not, without ``bulk_hooks``), with the rollback a raising post_ hook causes."""
    from django.db.models import QuerySet
    from django.db.models.signals import post_delete
    from django.db.models.signals import pre_delete

    call_command("migrate", verbosity=0, run_syncdb=True)
    heard: list[list[Any]] = []

    class Bulk:
        @hosthooks.hookimpl
        def post_bulk_create(self, sender, objs, using):
            heard.append(["post_bulk_create", sender.__name__, [o.pk for o in objs], using])

        @hosthooks.hookimpl
        def pre_bulk_update(self, sender, objs, fields):
            heard.append(["pre_bulk_update", [o.pk for o in objs], sorted(fields)])

        @hosthooks.hookimpl
        def post_bulk_update(self, sender, fields):
            heard.append(["post_bulk_update", sender.__name__, sorted(fields)])

        @hosthooks.hookimpl
        def pre_queryset_update(self, sender, queryset, values):
            heard.append(["pre_queryset_update", values, queryset.count()])

        @hosthooks.hookimpl
        def post_queryset_update(self, sender, pks, count):
            heard.append(["post_queryset_update", sorted(pks), count])

        @hosthooks.hookimpl
        def pre_queryset_delete(self, sender, queryset):
            heard.append(["pre_queryset_delete", sender.__name__, queryset.count()])

        @hosthooks.hookimpl
        def post_queryset_delete(self, sender, pks, count):
            heard.append(["post_queryset_delete", sender.__name__, sorted(pks), count])

    host = hosthooks.get_host()
    host.register(Bulk(), "bulk")
    ursula, terry = Author.objects.bulk_create([Author(name="Ursula"), Author(name="Terry")])
    ursula.name, terry.name = "Ursula K.", "Terry P."
    written = Author.objects.bulk_update([ursula, terry], ["name"])
    Book.objects.bulk_create([Book(title=t, author=ursula) for t in ("A", "B")])
    changed = Book.objects.filter(title="A").update(pages=10)
    deleted = Author.objects.filter(name="Terry P.").delete()

    class Refuse:
        @hosthooks.hookimpl
        def post_queryset_update(self):
            raise RuntimeError("no")

    host.register(Refuse(), "refuse")
    with contextlib.suppress(RuntimeError):
        Book.objects.all().update(pages=99)
    host.unregister("refuse")
    return {
        "heard": heard,
        "results": [written, changed, deleted[0]],
        "pages": sorted(Book.objects.values_list("pages", flat=True)),
        "wrapped": hasattr(QuerySet.update, "__wrapped__"),
        # Nothing listens for Django's per-row delete signals: its fast delete stays.
        "delete_receivers": [pre_delete.has_listeners(Author), post_delete.has_listeners(Author)],
    }


SCENARIOS: dict[str, Callable[[], Any]] = {
    "async_send": async_send,
    "bulk_hooks": bulk_hooks,
    "model_api": model_api,
    "compare": compare,
    "example_plugins": example_plugins,
    "plugins_change": plugins_change,
}


if __name__ == "__main__":
    print(json.dumps(SCENARIOS[sys.argv[1]]()))
