"""Per-plugin error counts, muting a plugin until unmuted, and the circuit breaker,
on a real Host with plain and robust calls, sync and async."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Generator
from collections.abc import Iterator
from typing import Any

import pytest

from hosthooks import Host
from hosthooks import hookimpl
from hosthooks.engine.health import ERRORS
from hosthooks.engine.muting import BREAKER
from hosthooks.engine.muting import Breaker
from hosthooks.engine.muting import Mute
from hosthooks.report import plugins_json
from tests.probes import run_probe

POST_SAVE: dict[str, Any] = {
    "sender": object,
    "instance": 1,
    "created": True,
    "raw": False,
    "using": "default",
    "update_fields": None,
}


@pytest.fixture(autouse=True)
def fresh_counts() -> Iterator[None]:
    ERRORS.reset()
    yield
    ERRORS.reset()


class Failing:
    """Raises in post_save and request_finished until told to stop."""

    def __init__(self) -> None:
        self.failing = True
        self.calls: list[str] = []

    @hookimpl
    def post_save(self, instance: object) -> None:
        self.calls.append("post_save")
        if self.failing:
            raise ValueError("broken\nsecond line")

    @hookimpl
    def request_finished(self, sender: object) -> None:
        self.calls.append("request_finished")
        if self.failing:
            raise RuntimeError("finisher broke")

    @hookimpl
    def pre_save(self, instance: object) -> None:
        self.calls.append("pre_save")
        if self.failing:
            raise PermissionError("vetoed")


class Quiet:
    def __init__(self) -> None:
        self.calls: list[str] = []

    @hookimpl
    def post_save(self, instance: object) -> str:
        self.calls.append("post_save")
        return "quiet"

    @hookimpl
    def request_finished(self, sender: object) -> None:
        self.calls.append("request_finished")


def test_errors_are_counted_per_plugin_with_the_last_one_and_its_time(host: Host) -> None:
    failing, quiet = Failing(), Quiet()
    host.register(failing, "failing")
    host.register(quiet, "quiet")
    before = time.time()
    for _ in range(3):
        with pytest.raises(ValueError, match="broken"):
            host.hook.post_save(**POST_SAVE)
    counted = ERRORS.of("failing")
    assert counted.count == 3
    assert counted.last_error == "ValueError: broken"
    assert counted.last_hook == "post_save"
    assert counted.last_at is not None
    assert before <= counted.last_at <= time.time()
    # The plugin that succeeded has nothing counted.
    assert ERRORS.of("quiet").count == 0
    # A robust call counts its failures too.
    host.fire_robust("request_finished", sender=object)
    assert ERRORS.of("failing").count == 4
    assert ERRORS.of("failing").last_hook == "request_finished"


def test_an_error_passing_through_an_outer_hook_is_counted_once(host: Host) -> None:
    class Inner:
        @hookimpl
        def post_save(self, instance: object) -> None:
            raise KeyError("inner")

    class Outer:
        @hookimpl
        def request_started(self, sender: object) -> None:
            host.hook.post_save(**POST_SAVE)

    host.register(Inner(), "inner")
    host.register(Outer(), "outer")
    with pytest.raises(KeyError):
        host.hook.request_started(sender=object)
    assert (ERRORS.of("inner").count, ERRORS.of("outer").count) == (1, 0)


def test_async_calls_count_errors_too(host: Host) -> None:
    class AsyncFailing:
        @hookimpl
        async def post_save(self, instance: object) -> None:
            raise OSError("async broke")

    host.register(AsyncFailing(), "async-failing")
    with pytest.raises(OSError, match="async broke"):
        asyncio.run(host.ahook.post_save(**POST_SAVE))
    asyncio.run(host.afire_robust("post_save", **POST_SAVE))
    assert ERRORS.of("async-failing").count == 2


def test_a_muted_plugin_keeps_its_place_and_is_not_called_until_unmuted(host: Host) -> None:
    failing, quiet = Failing(), Quiet()
    failing.failing = False
    host.register(failing, "failing")
    host.register(quiet, "quiet")
    host.switchboard.mute(Mute("quiet", None, "operator", time.time()))
    assert host.hook.post_save(**POST_SAVE) == []
    assert quiet.calls == []
    assert failing.calls == ["post_save"]
    # Listed as muted; its status is what it was.
    info = next(p for p in plugins_json(host) if p["name"] == "quiet")
    assert (info["status"], info["muted"], info["muted_by"], info["muted_until"]) == (
        "active",
        True,
        "operator",
        None,
    )
    order = [impl.plugin_name for impl in host.implementations("post_save")]
    host.switchboard.unmute("quiet")
    assert [impl.plugin_name for impl in host.implementations("post_save")] == order
    assert host.hook.post_save(**POST_SAVE) == ["quiet"]
    assert quiet.calls == ["post_save"]
    assert next(p for p in plugins_json(host) if p["name"] == "quiet")["muted"] is False


def test_a_mute_with_an_end_ends_by_itself(host: Host) -> None:
    quiet = Quiet()
    host.register(quiet, "quiet")
    host.switchboard.mute(Mute("quiet", None, "operator", time.time(), time.time() + 0.2))
    until = next(p for p in plugins_json(host) if p["name"] == "quiet")["muted_until"]
    assert until is not None
    assert until.endswith("+00:00")
    host.fire_robust("request_finished", sender=object)
    assert quiet.calls == []
    time.sleep(0.25)
    host.fire_robust("request_finished", sender=object)
    assert quiet.calls == ["request_finished"]
    assert host.switchboard.plugin_mute("quiet") is None


def test_a_muted_call_is_traced_as_muted_under_the_plugins_own_function(host: Host) -> None:
    quiet = Quiet()
    host.register(quiet, "quiet")
    traces: list[Any] = []
    stop = host.add_call_listener(traces.append)
    try:
        host.switchboard.mute(Mute("quiet", None, "operator", time.time()))
        host.hook.post_save(**POST_SAVE)
        host.fire_robust("request_finished", sender=object)
    finally:
        stop()
    outcomes = [(t.hook, [(i.outcome, i.function) for i in t.impls]) for t in traces]
    assert outcomes == [
        ("post_save", [("muted", f"{__name__}.Quiet.post_save")]),
        ("request_finished", [("muted", f"{__name__}.Quiet.request_finished")]),
    ]


def test_the_breaker_mutes_a_plugin_in_one_hook_then_retries_it(host: Host) -> None:
    failing, quiet = Failing(), Quiet()
    host.register(failing, "failing")
    host.register(quiet, "quiet")
    host.switchboard.breaker = Breaker(host.switchboard, failures=3, cooldown=0.3)
    for _ in range(3):
        host.fire_robust("request_finished", sender=object)
    assert failing.calls == ["request_finished"] * 3
    [mute] = host.switchboard.hook_mutes("failing")
    assert (mute.hook, mute.by) == ("request_finished", BREAKER)
    # Open: not called in that hook, still called in every other one.
    host.fire_robust("request_finished", sender=object)
    assert failing.calls == ["request_finished"] * 3
    assert quiet.calls == ["request_finished"] * 4
    with pytest.raises(ValueError, match="broken"):
        host.hook.post_save(**POST_SAVE)
    # After the cool-down, one call goes through; failing again opens it at once.
    time.sleep(0.35)
    host.fire_robust("request_finished", sender=object)
    assert failing.calls.count("request_finished") == 4
    assert host.switchboard.hook_mutes("failing") != []
    # Recovered: after the next cool-down a success closes it for good.
    failing.failing = False
    time.sleep(0.35)
    for _ in range(5):
        host.fire_robust("request_finished", sender=object)
    assert failing.calls.count("request_finished") == 9
    assert host.switchboard.hook_mutes("failing") == []
    assert host.switchboard.breaker.trips == {("failing", "request_finished"): 2}


def test_the_breaker_ignores_pre_hooks_and_wrappers(host: Host) -> None:
    class Wrapping:
        @hookimpl(wrapper=True)
        def request_finished(self, sender: object) -> Generator[None, Any, Any]:
            yield
            raise RuntimeError("wrapper broke")

    failing = Failing()
    host.register(failing, "failing")
    host.register(Wrapping(), "wrapping")
    host.switchboard.breaker = Breaker(host.switchboard, failures=1, cooldown=60)
    for _ in range(3):
        host.fire_robust("pre_save", sender=object, instance=1, raw=False, using="default")
    assert failing.calls.count("pre_save") == 3
    host.fire_robust("request_finished", sender=object)
    # failing tripped in request_finished; the wrapper, failing as well, never trips.
    assert [m.plugin for m in host.switchboard.mutes()] == ["failing"]
    assert ERRORS.of("wrapping").count == 1


def test_the_breaker_refuses_nonsense() -> None:
    host = Host()
    with pytest.raises(ValueError, match="failures >= 1"):
        Breaker(host.switchboard, failures=0, cooldown=1)


def test_mutes_kept_in_the_database_reach_every_host_and_outlive_them(
    database_location: str,
) -> None:
    """Two hosts on one database (SQLite, then PostgreSQL) stand for two processes
    of the app; a third, made after, for the app restarted."""
    from hosthooks.runtime.console.mutes import MuteStore
    from hosthooks.runtime.console.mutes import MuteSync
    from hosthooks.runtime.db import Database

    opened: list[Database] = []

    def process(alias: str) -> tuple[Host, Quiet, MuteSync]:
        host, quiet = Host(), Quiet()
        host.register(quiet, "quiet")
        opened.append(Database(database_location, alias))
        return host, quiet, MuteSync(host, MuteStore(opened[-1]))

    try:
        _mutes_across_processes(process)
    finally:
        for database in opened:
            database.close()


def _mutes_across_processes(process: Any) -> None:
    first, first_quiet, first_sync = process("first")
    second, second_quiet, second_sync = process("second")
    stored = first_sync.store.mute("quiet", "operator", until=time.time() + 3600)
    assert stored.until is not None
    first_sync.sync()
    second_sync.sync()
    for host, quiet in ((first, first_quiet), (second, second_quiet)):
        host.fire_robust("request_finished", sender=object)
        assert quiet.calls == []
        mute = host.switchboard.plugin_mute("quiet")
        assert mute is not None
        assert mute.by == "operator"
        assert mute.until == pytest.approx(stored.until)
    # Restarted: a new host reads the mute at its start.
    restarted, restarted_quiet, restarted_sync = process("restarted")
    restarted_sync.sync()
    restarted.fire_robust("request_finished", sender=object)
    assert restarted_quiet.calls == []
    # A mute whose time is up is no longer in force anywhere.
    assert second_sync.store.unmute("quiet", "operator") is True
    second_sync.store.mute("quiet", "operator", until=time.time() - 1)
    for host, sync, quiet in (
        (first, first_sync, first_quiet),
        (restarted, restarted_sync, restarted_quiet),
    ):
        sync.sync()
        host.fire_robust("request_finished", sender=object)
        assert quiet.calls == ["request_finished"]
    assert second_sync.store.unmute("quiet", "operator") is True
    assert second_sync.store.unmute("quiet", "operator") is False
    assert second_sync.store.current() == []


def test_the_sync_thread_follows_the_database_within_its_interval(tmp_path) -> None:
    from hosthooks.runtime.console.mutes import MuteStore
    from hosthooks.runtime.console.mutes import MuteSync
    from hosthooks.runtime.db import Database

    host, quiet = Host(), Quiet()
    host.register(quiet, "quiet")
    store = MuteStore(Database(tmp_path / "app.sqlite3", "sync-test"))
    sync = MuteSync(host, store, interval=0.1)
    sync.start()
    try:
        MuteStore(Database(tmp_path / "app.sqlite3", "other-process")).mute("quiet", "someone")
        deadline = time.monotonic() + 5
        while host.switchboard.plugin_mute("quiet") is None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        sync.stop()


SETTINGS_PLUGIN = """
from dataclasses import dataclass
from hosthooks import hookimpl, setting


@dataclass
class Settings:
    url: str
    token: str = setting("", secret=True)
    retries: int = 3
    events: list[str] | None = None


hosthooks_settings = Settings


@hookimpl(tryfirst=True, sender="demo.Note")
def post_save(sender):
    pass
"""


def test_the_plugins_page_shows_typed_settings_their_source_and_one_error(
    tmp_path, monkeypatch
) -> None:
    from types import SimpleNamespace

    from hosthooks import HostConfig
    from hosthooks.runtime.console import data
    from hosthooks.runtime.console.views import NAVIGATION
    from hosthooks.runtime.templates import Templates

    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "webhook.py").write_text(SETTINGS_PLUGIN)
    (plugins / "broken.py").write_text("raise ImportError('no such dependency: leftpad')\n")
    monkeypatch.setenv("HOSTHOOKS_PLUGIN_WEBHOOK__RETRIES", "5")
    monkeypatch.setenv("HOSTHOOKS_PLUGIN_WEBHOOK__TOKEN", "hunter2")
    host = Host(
        HostConfig(
            autoload=False,
            plugins_dir=plugins,
            plugin_tables={"webhook": {"url": "http://127.0.0.1:9/"}},
        )
    )
    host.load_plugins()
    rows = {row["name"]: row for row in data.plugin_details(host)}
    assert rows["webhook"]["typed_settings"] == [
        {
            "key": "url",
            "type": "str",
            "value": "http://127.0.0.1:9/",
            "source": "file",
            "secret": False,
        },
        {
            "key": "token",
            "type": "str",
            "value": "********",
            "source": "environment",
            "secret": True,
        },
        {"key": "retries", "type": "int", "value": 5, "source": "environment", "secret": False},
        {
            "key": "events",
            "type": "list[str] | None",
            "value": None,
            "source": "default",
            "secret": False,
        },
    ]
    [impl] = rows["webhook"]["implementations"]
    assert impl["options"] == ["tryfirst", "sender=demo.Note"]
    broken = rows["broken"]
    assert broken["status"] == "failed"
    assert broken["attention"] is True
    assert broken["error"] not in broken["problems"]
    page = Templates().render(
        "console/plugins.html",
        {
            "user": SimpleNamespace(username="operator"),
            "csrf_token": "t",
            "project": "hosthooks",
            "navigation": NAVIGATION,
            "here": "/-/plugins",
            "fragment": False,
            "error": None,
            "plugins": list(rows.values()),
        },
    )
    assert page.count("no such dependency: leftpad") == 1
    assert "hunter2" not in page
    assert '<td class="source source-environment">environment</td>' in page
    assert "<code>5</code>" in page
    assert '<code>"http://127.0.0.1:9/"</code>' in page  # the value as JSON, typed


def test_a_host_whose_plugins_never_raise_defines_no_error_counting():
    # Start-up pays for what it uses: the counts are imported by the first error.
    probe = (
        "import sys\n"
        "from hosthooks import Host, hookimpl\n"
        "class Quiet:\n"
        "    @hookimpl\n"
        "    def post_save(self, created):\n"
        "        return created\n"
        "host = Host()\n"
        "host.register(Quiet(), 'quiet')\n"
        "assert host.hook.post_save(sender=object, instance=1, created=True, raw=False,"
        " using='default', update_fields=None) == [True]\n"
        "assert host.fire_robust('post_save', sender=object, instance=1, created=True,"
        " raw=False, using='default', update_fields=None) == [('quiet', True)]\n"
        "print('hosthooks.engine.health' in sys.modules)\n"
    )
    result = run_probe(probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.fixture
def eager(tmp_path) -> Iterator[Host]:
    """A host running deferred calls in process (the eager queue), on a migrated database."""
    import hosthooks
    from hosthooks import HostConfig
    from hosthooks.runtime import Database
    from hosthooks.runtime import migrate
    from tests.bookshop.models import MODELS

    host = Host(HostConfig(autoload=False, queue_backend="eager"))
    hosthooks.set_default_host(host)
    database = Database(tmp_path / "app.sqlite3")
    migrate(database, models=MODELS, verbosity=0)
    yield host
    database.close()
    hosthooks.set_default_host(None)


def test_deferred_runs_count_errors_and_trip_the_breaker_which_postpones_them(eager) -> None:
    from hosthooks.deferred.outbox import Outbox
    from hosthooks.runtime.db import runtime_layer
    from tests.bookshop.models import Author

    runs: list[int] = []

    class Flaky:
        @hookimpl(defer=True, retries=5)
        def post_save(self, instance: object) -> None:
            runs.append(1)
            raise ConnectionError("webhook down")

    eager.register(Flaky(), "flaky")
    eager.switchboard.breaker = Breaker(eager.switchboard, failures=2, cooldown=60)
    before = time.time()
    Author(name="Ann").save()
    # Two failures in a row trip it: the third attempt waits, uncounted, instead
    # of running (and of ending dead after its retries).
    assert len(runs) == 2
    assert ERRORS.of("flaky").count == 2
    assert ERRORS.of("flaky").last_error == "ConnectionError: webhook down"
    [mute] = eager.switchboard.hook_mutes("flaky")
    assert (mute.hook, mute.by) == ("post_save", BREAKER)
    (record,) = Outbox(runtime_layer, None).deliveries()
    assert (record.state, record.attempts) == ("pending", 2)
    assert record.next_attempt_at is not None
    assert before + 29 <= record.next_attempt_at <= time.time() + 31


def test_a_muted_plugin_defers_nothing_and_its_queued_calls_wait(eager) -> None:
    from hosthooks.deferred.outbox import Outbox
    from hosthooks.deferred.runner import run_eagerly
    from hosthooks.runtime.db import runtime_layer
    from tests.bookshop.models import Author

    runs: list[str] = []

    class Webhook:
        @hookimpl(defer=True, retries=0)
        def post_save(self, instance: object) -> None:
            runs.append("ran")
            raise ConnectionError("webhook down")

    eager.register(Webhook(), "webhook")
    Author(name="Ann").save()
    outbox = Outbox(runtime_layer, None)
    (dead,) = outbox.deliveries()
    assert (dead.state, runs) == ("dead", ["ran"])
    eager.switchboard.mute(Mute("webhook", None, "operator", time.time()))
    Author(name="Bob").save()
    assert len(outbox.deliveries()) == 1  # muted where the call is made: nothing queued
    # A queued call retried while muted waits (it is not run as the silent stand-in).
    assert outbox.retry([dead.event_id]) == [dead.event_id]
    run_eagerly(eager, outbox, dead.event_id)
    (waiting,) = outbox.deliveries()
    assert (waiting.state, waiting.attempts, runs) == ("pending", 0, ["ran"])
