"""The Host: registration, discovery from a directory and from entry points, failures, blocking."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pluggy
import pytest

import hosthooks
from hosthooks import Host
from hosthooks import HostConfig
from hosthooks import PluginLoadError
from hosthooks import PluginRecord
from hosthooks import Source
from hosthooks import Status
from hosthooks import hookimpl
from hosthooks.loading import records
from tests.probes import run_probe

GOOD_PLUGIN = """
from hosthooks import hookimpl

@hookimpl
def post_save(sender, instance, created):
    return ("good", created)
"""


def loaded(host: Host) -> list[PluginRecord]:
    """The plugins a test loaded: every record but the runtime's built-in ones."""
    return [record for record in host.plugins() if record.source is not Source.BUILTIN]


def write(directory: Path, name: str, source: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(source))
    return path


def test_a_new_host_has_every_spec_and_no_plugin(host):
    assert host.plugins() == []
    assert host.plugin_manager.get_plugins() == set()
    assert not host.has_listeners("post_save")


def test_register_and_fire_then_unregister(host):
    class Plugin:
        @hookimpl
        def post_save(self, instance, created):
            return (instance, created)

    name = host.register(Plugin(), "mine")
    assert name == "mine"
    assert host.has_listeners("post_save")
    arguments = {
        "sender": object,
        "instance": 1,
        "created": True,
        "raw": False,
        "using": "default",
        "update_fields": None,
    }
    assert host.hook.post_save(**arguments) == [(1, True)]
    assert host.hooks_of("mine") == ["post_save"]
    host.unregister("mine")
    assert host.hook.post_save(**arguments) == []
    assert not host.has_listeners("post_save")
    with pytest.raises(KeyError):
        host.unregister("mine")


def test_an_invalid_plugin_is_refused_whole(host):
    class Bad:
        @hookimpl
        def pre_save(self, instance):
            raise AssertionError("never registered")

        @hookimpl
        def post_save(self, instance, no_such_argument):
            raise AssertionError("never registered")

    with pytest.raises(pluggy.PluginValidationError, match="no_such_argument"):
        host.register(Bad(), "bad")
    assert host.plugins() == []
    assert host.implementations("pre_save") == []


def test_a_wrapper_on_a_historic_hook_is_refused(host):
    class Bad:
        @hookimpl(wrapper=True)
        def class_prepared(self, sender):
            yield

    with pytest.raises(pluggy.PluginValidationError, match="historic incompatible"):
        host.register(Bad(), "bad")


def test_directory_plugins_load_in_name_order_and_failures_are_recorded(tmp_path):
    write(tmp_path, "b_good.py", GOOD_PLUGIN)
    write(tmp_path, "a_broken.py", "import no_such_module_anywhere\n")
    write(
        tmp_path,
        "c_invalid.py",
        """
        from hosthooks import hookimpl

        @hookimpl
        def pre_save(sender, wrong_argument):
            pass
    """,
    )
    write(tmp_path, "_private.py", "raise SystemExit('never imported')\n")
    host = Host(HostConfig(autoload=False, plugins_dir=tmp_path))
    host.load_plugins()

    by_name = {record.name: record for record in loaded(host)}
    assert set(by_name) == {"a_broken", "b_good", "c_invalid"}
    assert by_name["b_good"].status is Status.ACTIVE
    assert by_name["b_good"].source is Source.DIRECTORY
    assert by_name["a_broken"].status is Status.FAILED
    assert (
        by_name["a_broken"].error
        == "ModuleNotFoundError: No module named 'no_such_module_anywhere'"
    )
    assert by_name["c_invalid"].status is Status.FAILED
    assert "wrong_argument" in str(by_name["c_invalid"].error)
    assert "\n" not in str(by_name["c_invalid"].error)
    # Nothing of the failed plugins was registered; the good one works.
    assert host.hooks_of("c_invalid") == []
    assert host.implementations("pre_save") == []
    assert host.hook.post_save(
        sender=object, instance=None, created=True, raw=False, using="default", update_fields=None
    ) == [("good", True)]
    assert [str(problem) for problem in host.check()] == [
        f"a_broken: {by_name['a_broken'].error}",
        f"c_invalid: {by_name['c_invalid'].error}",
    ]


def test_strict_mode_raises_on_the_first_failure(tmp_path):
    write(tmp_path, "broken.py", "raise RuntimeError('boom at import')\n")
    host = Host(HostConfig(autoload=False, plugins_dir=tmp_path, strict=True))
    with pytest.raises(
        PluginLoadError, match="'broken' failed to load: RuntimeError: boom at import"
    ):
        host.load_plugins()


def test_a_missing_plugins_directory_is_a_recorded_failure(tmp_path):
    host = Host(HostConfig(autoload=False, plugins_dir=tmp_path / "nowhere"))
    host.load_plugins()
    [record] = loaded(host)
    assert record.status is Status.FAILED
    assert "does not exist" in str(record.error)


def test_blocked_plugins_are_never_imported(tmp_path):
    write(tmp_path, "explosive.py", "raise SystemExit('imported although blocked')\n")
    write(tmp_path, "fine.py", GOOD_PLUGIN)
    host = Host(HostConfig(autoload=False, plugins_dir=tmp_path, disabled=frozenset({"explosive"})))
    host.load_plugins()
    statuses = {record.name: record.status for record in loaded(host)}
    assert statuses == {"explosive": Status.BLOCKED, "fine": Status.ACTIVE}
    with pytest.raises(ValueError, match="blocked"):
        host.register(object(), "explosive")


def test_blocking_an_active_plugin_unregisters_it(tmp_path):
    write(tmp_path, "fine.py", GOOD_PLUGIN)
    host = Host(HostConfig(autoload=False, plugins_dir=tmp_path))
    host.load_plugins()
    assert host.has_listeners("post_save")
    host.block("fine")
    assert not host.has_listeners("post_save")
    assert [record.status for record in loaded(host)] == [Status.BLOCKED]


def test_a_second_plugin_with_a_taken_name_fails_and_the_first_stays(tmp_path):
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    write(first, "same.py", GOOD_PLUGIN)
    write(second, "same.py", GOOD_PLUGIN)
    host = Host()
    host.load_directory(first)
    host.load_directory(second)
    statuses = [(record.status, record.origin) for record in host.plugins()]
    assert statuses == [
        (Status.ACTIVE, str(first / "same.py")),
        (Status.FAILED, str(second / "same.py")),
    ]
    assert "already taken" in str(host.failed_plugins()[0].error)


def test_config_from_environment():
    config = HostConfig.from_environ(
        {
            "HOSTHOOKS_DISABLE_PLUGIN_AUTOLOAD": "1",
            "HOSTHOOKS_DISABLE_PLUGINS": "a, b,,",
            "HOSTHOOKS_PLUGINS_DIR": "/srv/plugins",
            "HOSTHOOKS_STRICT_PLUGINS": "true",
            "HOSTHOOKS_TRACE_FILE": "/tmp/trace.jsonl",
        }
    )
    assert config == HostConfig(
        autoload=False,
        disabled=frozenset({"a", "b"}),
        plugins_dir=Path("/srv/plugins"),
        strict=True,
        trace=True,
        trace_file=Path("/tmp/trace.jsonl"),
    )
    assert HostConfig.from_environ({}) == HostConfig()


def test_get_host_is_created_once_from_the_environment(tmp_path, monkeypatch):
    write(tmp_path, "from_dir.py", GOOD_PLUGIN)
    monkeypatch.setenv("HOSTHOOKS_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("HOSTHOOKS_PLUGINS_DIR", str(tmp_path))
    hosthooks.set_default_host(None)
    try:
        first = hosthooks.get_host()
        assert first is hosthooks.get_host()
        assert [record.name for record in loaded(first)] == ["from_dir"]
    finally:
        hosthooks.set_default_host(None)


def test_entry_points_are_read_once_per_process(monkeypatch):
    from hosthooks.loading.installed import scan as real

    calls = []

    def counting(group):
        calls.append(group)
        return real(group)

    records.installed_entry_points.cache_clear()
    monkeypatch.setattr(records, "scan", counting)
    try:
        Host(HostConfig()).load_plugins()
        Host(HostConfig()).load_plugins()
    finally:
        records.installed_entry_points.cache_clear()
    assert calls == ["hosthooks"]


def test_entry_point_plugins_from_the_example_distributions_load_sorted():
    points = records.installed_entry_points()
    keys = [(entry.dist or "", entry.point.name) for entry in points]
    assert keys == sorted(keys)
    host = Host(HostConfig())
    host.load_plugins()
    by_name = {record.name: record for record in host.plugins()}
    assert by_name["audit"].dist == "hosthooks-audit"
    assert by_name["audit"].source is Source.ENTRY_POINT
    assert by_name["audit"].status is Status.ACTIVE
    assert by_name["audit"].version == "0.1.0"
    assert host.hooks_of("audit") == ["m2m_changed", "post_delete", "post_save"]


def test_a_new_host_compiles_its_paths_once_not_once_per_hook():
    # Compiling costs ~100 us; a host adopts every hook with a sync and an async path.
    probe = (
        "import builtins\n"
        "import hosthooks\n"
        "from hosthooks.engine import generated\n"
        "compiled = []\n"
        "real = builtins.compile\n"
        "def counting(*args, **kwargs):\n"
        "    compiled.append(args[1])\n"
        "    return real(*args, **kwargs)\n"
        "generated.compile = counting\n"
        "host = hosthooks.Host()\n"
        "assert len(list(host.hook_callers())) > 20\n"
        "print(sorted(compiled))\n"
    )
    result = run_probe(probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['<hosthooks async path>', '<hosthooks pluggy path>']"


def test_a_host_without_spans_loads_nothing_of_opentelemetry():
    # Every command that starts a host would pay for it (and for the random module).
    probe = (
        "import sys, hosthooks\n"
        "hosthooks.Host()\n"
        "print(sorted({'hosthooks.engine.otel', 'random'} & set(sys.modules)))\n"
    )
    result = run_probe(probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_importing_hosthooks_loads_no_plugin_and_reads_no_entry_point():
    probe = (
        "import sys, hosthooks\n"
        "from hosthooks import host\n"
        "from hosthooks.loading import records\n"
        "assert 'click' not in sys.modules\n"
        "assert 'hosthooks.runtime' not in sys.modules\n"
        "assert records.installed_entry_points.cache_info().currsize == 0\n"
        "assert host._default_host is None\n"
        "loaded = [m for m in sys.modules if m.startswith(('hosthooks_audit', 'hosthooks_request', 'hosthooks_login'))]\n"
        "assert loaded == [], loaded\n"
        "print('clean')\n"
    )
    result = run_probe(probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"


def test_load_plugins_registers_the_built_in_plugins_first_and_they_can_be_blocked():
    host = Host(HostConfig(autoload=False))
    host.load_plugins()
    [record] = host.plugins()
    assert (record.name, record.source, record.status) == (
        "hosthooks.last-login",
        Source.BUILTIN,
        Status.ACTIVE,
    )
    assert host.hooks_of("hosthooks.last-login") == ["user_logged_in"]
    blocked = Host(HostConfig(autoload=False, disabled=frozenset({"hosthooks.last-login"})))
    blocked.load_plugins()
    assert [record.status for record in blocked.plugins()] == [Status.BLOCKED]
    assert not blocked.has_listeners("user_logged_in")
