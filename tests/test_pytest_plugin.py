"""The pytest plugin for plugin authors: its entry point, its light import, and
each fixture, including that it undoes what it changed when a test fails."""

from __future__ import annotations

import importlib.metadata
import re
import textwrap
from pathlib import Path

import pytest

import hosthooks
from hosthooks import HookCalls
from hosthooks import Host
from hosthooks import PluginLoadError
from hosthooks import hookimpl
from hosthooks.authoring.pytest_plugin import MuteHooks
from hosthooks.runtime import Model
from hosthooks.runtime import fields
from hosthooks.runtime import get_database
from hosthooks.runtime.demo_client import DemoClient
from tests.probes import run_probe

pytest_plugins = ["pytester"]


class Gadget(Model):
    name = fields.Text()

    class Meta:
        app_label = "workshop"


class Order:
    """A plugin saying which implementations ran, in order."""

    def __init__(self, tag: str, ran: list[str]) -> None:
        self.tag, self.ran = tag, ran

    @hookimpl
    def post_save(self, created: bool) -> None:
        self.ran.append(f"{self.tag}:{created}")

    @hookimpl(wrapper=True)
    def pre_save(self):
        self.ran.append(f"{self.tag}:wrap")
        return (yield)


def save(host: Host, created: bool = True) -> None:
    host.hook.pre_save(sender=Gadget, instance=None, raw=False, using="default", update_fields=None)
    host.hook.post_save(
        sender=Gadget,
        instance=None,
        created=created,
        raw=False,
        using="default",
        update_fields=None,
    )


def test_the_plugin_is_the_pytest11_entry_point_named_hosthooks():
    [point] = [
        p for p in importlib.metadata.entry_points(group="pytest11") if p.name == "hosthooks"
    ]
    assert point.value == "hosthooks.authoring.pytest_plugin"
    assert point.dist is not None
    assert point.dist.metadata["Name"] == "hosthooks"


def test_importing_the_plugin_loads_nothing_of_the_runtime_and_no_plugin():
    probe = (
        "import sys, hosthooks.authoring.pytest_plugin\n"
        "from hosthooks import host\n"
        "heavy = [m for m in ('hosthooks.runtime', 'werkzeug', 'jinja2', 'sqlite3',"
        " 'click') if m in sys.modules]\n"
        "assert heavy == [], heavy\n"
        "assert host._default_host is None\n"
        "print('light')\n"
    )
    result = run_probe(probe)
    assert (result.returncode, result.stdout) == (0, "light\n"), result.stderr


def test_no_hosthooks_turns_the_fixtures_off(pytester):
    pytester.makepyfile("def test_it(hosthooks_host):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:hosthooks")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'hosthooks_host' not found*"])


def test_hosthooks_host_is_the_default_for_the_test_and_strict(hosthooks_host):
    assert hosthooks.get_host() is hosthooks_host
    assert hosthooks_host.plugins() == []

    class Typo:
        @hookimpl
        def post_svae(self, sender):
            pass

    with pytest.raises(
        PluginLoadError, match=r"post_svae: unknown hook \(did you mean 'post_save'\?\)"
    ):
        hosthooks_host.register(Typo(), "typo")
    assert hosthooks_host.plugins() == []


def test_the_fixtures_undo_what_they_changed_when_a_test_fails(pytester):
    pytester.makepyfile(
        textwrap.dedent("""
        from hosthooks import hookimpl
        from hosthooks import host

        default_before = host._default_host
        seen = {}

        class Plugin:
            @hookimpl
            def post_save(self, created):
                return "ran"

        def test_fails(hosthooks_host, hosthooks_db, mute_hooks):
            hosthooks_host.register(Plugin(), "plugin")
            mute_hooks("post_save")
            seen["host"], seen["db"] = hosthooks_host, hosthooks_db
            raise AssertionError("on purpose")

        def test_after():
            assert host._default_host is default_before
            assert seen["host"].hook.post_save(
                sender=None, instance=None, created=True, raw=False, using="default",
                update_fields=None,
            ) == ["ran"]
            assert seen["db"]._all_connections == []
    """)
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)


def test_hook_calls_records_every_argument_and_asserts(hosthooks_host, hook_calls):
    save(hosthooks_host)
    save(hosthooks_host, created=False)
    assert hook_calls.hooks() == ["pre_save", "post_save", "pre_save", "post_save"]
    assert hook_calls.calls[1].arguments == {
        "sender": Gadget,
        "instance": None,
        "created": True,
        "raw": False,
        "using": "default",
        "update_fields": None,
    }
    assert hook_calls.assert_fired("post_save", created=False) is hook_calls.calls[3]
    hook_calls.assert_fired("post_save", times=2, sender=Gadget)
    hook_calls.assert_not_fired("post_delete")
    hook_calls.assert_order("pre_save", "post_save", "post_save")
    with pytest.raises(AssertionError) as never:
        hook_calls.assert_fired("post_delete", sender=Gadget)
    assert str(never.value) == (
        "post_delete(sender=<class 'tests.test_pytest_plugin.Gadget'>) was never called; "
        "calls: pre_save, post_save, pre_save, post_save"
    )
    with pytest.raises(AssertionError, match=r"called 2 time\(s\), not 1"):
        hook_calls.assert_fired("post_save", times=1)
    with pytest.raises(AssertionError, match="post_save\\(created=True\\) was called: post_save"):
        hook_calls.assert_not_fired("post_save", created=True)
    with pytest.raises(AssertionError, match="'post_delete' was not called after 'post_save'"):
        hook_calls.assert_order("post_save", "post_delete")


def test_hook_calls_leaves_out_the_replayed_history_of_class_prepared(hosthooks_host, hook_calls):
    assert hook_calls.calls == []

    class Fresh(Model):
        pass

    assert hook_calls.named("class_prepared") == [{"sender": Fresh}]


def test_mute_hooks_silences_named_plugins_and_keeps_everyone_elses_order(
    hosthooks_host: Host, hook_calls: HookCalls, mute_hooks: MuteHooks
):
    ran: list[str] = []
    for tag in ("a", "b", "c"):
        hosthooks_host.register(Order(tag, ran), tag)
    save(hosthooks_host)
    assert ran == ["c:wrap", "b:wrap", "a:wrap", "c:True", "b:True", "a:True"]
    ran.clear()
    mute_hooks(plugins=["b"])
    save(hosthooks_host)
    assert ran == ["c:wrap", "a:wrap", "c:True", "a:True"]
    ran.clear()
    mute_hooks("post_save")
    save(hosthooks_host)
    assert ran == ["c:wrap", "a:wrap"]
    hook_calls.assert_fired("post_save", times=3)  # the recorder is never muted
    with pytest.raises(KeyError, match="no plugin named 'd' is registered"):
        mute_hooks(plugins=["d"])
    with pytest.raises(KeyError, match="no hook named 'post_svae'"):
        mute_hooks("post_svae")


def test_a_muted_block_is_undone_on_error(hosthooks_host):
    ran: list[str] = []
    hosthooks_host.register(Order("a", ran), "a")
    with pytest.raises(RuntimeError), hosthooks_host.muted(plugins=["a"]):
        save(hosthooks_host)
        raise RuntimeError
    save(hosthooks_host)
    assert ran == ["a:wrap", "a:True"]


def test_hosthooks_db_is_the_migrated_default_database(hosthooks_db, hook_calls):
    assert get_database() is hosthooks_db
    gadget = Gadget.objects.create(name="lever")
    assert Gadget.objects.get(pk=gadget.pk).name == "lever"
    hook_calls.assert_fired("post_save", sender=Gadget, created=True)


def test_hosthooks_client_handles_sessions_and_csrf(hosthooks_client: DemoClient, hook_calls):
    assert hosthooks_client.signup("ann", "a long enough password").status_code == 303
    created = hosthooks_client.post("/notes", {"title": "first", "body": "", "tags": "a, b"})
    assert created.status_code == 303
    assert "first" in hosthooks_client.get("/").get_data(as_text=True)
    assert hosthooks_client.logout().status_code == 303
    assert hosthooks_client.login("ann", "a long enough password").status_code == 303
    hook_calls.assert_order("user_logged_in", "post_save", "user_logged_out", "user_logged_in")
    forged = hosthooks_client.post("/logout", {"csrf_token": "forged"})
    assert forged.status_code == 403


def test_the_readmes_testing_example_passes_as_written(pytester):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("## Testing a plugin") : readme.index("## The command")]
    plugin, test = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    pytester.makepyfile(my_plugin=plugin)
    pytester.mkpydir("tests")
    (pytester.path / "tests" / "test_my_plugin.py").write_text(test)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--import-mode=importlib")
    result.assert_outcomes(passed=1)


def test_hosthooks_plugin_settings_sets_a_plugins_settings_for_one_test(pytester, tmp_path):
    pytester.makepyfile(
        textwrap.dedent("""
        import dataclasses
        from pathlib import Path

        import pytest

        import hosthooks
        from hosthooks import setting

        @dataclasses.dataclass
        class LogSettings:
            path: Path | None = None
            level: int = setting(1, aliases=("OLD_LOG_LEVEL",))
            token: str = setting("", secret=True)

        class LogPlugin:
            hosthooks_settings = LogSettings

            @hosthooks.hookimpl
            def post_save(self, sender):
                return hosthooks.plugin_settings("log", LogSettings)

        def saved(host):
            return host.hook.post_save(
                sender=None, instance=None, created=True, raw=False, using="default",
                update_fields=None,
            )

        def test_set(hosthooks_host, hosthooks_plugin_settings, monkeypatch):
            monkeypatch.setenv("OLD_LOG_LEVEL", "7")  # the environment would win
            hosthooks_host.register(LogPlugin(), "log")
            hosthooks_plugin_settings("log", path=Path("/var/log/x.jsonl"), level=3)
            hosthooks_plugin_settings("log", token="t")  # calls add up
            assert saved(hosthooks_host) == [LogSettings(Path("/var/log/x.jsonl"), 3, "t")]
            with pytest.raises(KeyError, match="log has no setting 'colour'"):
                hosthooks_plugin_settings("log", colour="red")
            with pytest.raises(hosthooks.PluginSettingsError, match="log: level: expected"):
                hosthooks_plugin_settings("log", level="high")
            # A refused call changed nothing.
            assert saved(hosthooks_host) == [LogSettings(Path("/var/log/x.jsonl"), 3, "t")]
            hosthooks_host.seen = True
            raise AssertionError("undone even when the test fails")

        def test_undone(hosthooks_host):
            hosthooks_host.register(LogPlugin(), "log")
            assert hosthooks_host.config.plugin_tables == {}
            assert saved(hosthooks_host) == [LogSettings()]
    """)
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    assert "undone even when the test fails" in result.stdout.str()
