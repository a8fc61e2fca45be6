"""Plugin problems: unknown hooks, unknown arguments and sender labels naming no
known model, each one line with the closest known name, wherever plugins are shown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import cast

import pluggy
import pytest

import hosthooks
from hosthooks import Host
from hosthooks import HostConfig
from hosthooks import PluginLoadError
from hosthooks import ProblemKind
from hosthooks import Status
from hosthooks import hookimpl
from hosthooks.cli import main
from tests.probes import run_probe
from tests.serving import PASSWORD
from tests.serving import Client
from tests.serving import Server

HOSTHOOKS = Path(sys.executable).with_name("hosthooks")

TYPO_HOOK = """
from hosthooks import hookimpl

@hookimpl
def post_svae(sender):
    pass

@hookimpl(optionalhook=True)
def my_own_hook(sender):
    pass
"""

TYPO_ARGUMENT = """
from hosthooks import hookimpl

@hookimpl
def pre_save(sender, instnace):
    pass

@hookimpl
def post_save(sender, craeted, using):
    pass
"""

TYPO_LABEL = """
from hosthooks import hookimpl

@hookimpl(sender="demo.Nte")
def post_save(sender, instance):
    pass

@hookimpl(sender=("demo.Note", "auth.Usr"))
def pre_delete(sender):
    pass

@hookimpl(sender="hosthooks.runtime.auth")  # a module name, as user_login_failed sends
def user_login_failed(credentials):
    pass
"""


def write_plugins(directory: Path, **sources: str) -> Path:
    directory.mkdir(exist_ok=True)
    for name, source in sources.items():
        (directory / f"{name}.py").write_text(textwrap.dedent(source))
    return directory


def loaded_host(directory: Path, *, strict: bool = False) -> Host:
    host = Host(HostConfig(autoload=False, plugins_dir=directory, strict=strict))
    host.load_plugins()
    return host


def lines(host: Host) -> list[str]:
    return [str(problem) for problem in host.check()]


def test_an_unknown_hook_is_a_problem_with_a_suggestion_and_the_plugin_stays_active(tmp_path):
    host = loaded_host(write_plugins(tmp_path, typo=TYPO_HOOK))
    [record] = [record for record in host.plugins() if record.name == "typo"]
    assert record.status is Status.ACTIVE
    # optionalhook=True says the hook is meant to be unknown: no problem.
    assert [(p.kind, p.hook, p.suggestion) for p in record.problems] == [
        (ProblemKind.UNKNOWN_HOOK, "post_svae", "post_save")
    ]
    assert lines(host) == ["typo: post_svae: unknown hook (did you mean 'post_save'?)"]


def test_unknown_arguments_fail_the_plugin_each_named_with_a_suggestion(tmp_path):
    host = loaded_host(write_plugins(tmp_path, typo=TYPO_ARGUMENT))
    [record] = host.failed_plugins()
    assert record.error == "post_save: unknown argument 'craeted' (did you mean 'created'?)"
    assert lines(host) == [
        "typo: post_save: unknown argument 'craeted' (did you mean 'created'?)",
        "typo: pre_save: unknown argument 'instnace' (did you mean 'instance'?)",
    ]
    assert host.implementations("pre_save") == []  # refused whole, as pluggy refuses it


def test_registering_an_unknown_argument_raises_pluggys_error_with_the_suggestion(host):
    class Plugin:
        @hookimpl
        def post_save(self, sender, instnace):
            pass

    with pytest.raises(pluggy.PluginValidationError) as refused:
        host.register(Plugin(), "mine")
    assert getattr(refused.value, "__notes__", []) == [
        "mine: post_save: unknown argument 'instnace' (did you mean 'instance'?)"
    ]


def test_labels_are_checked_only_once_the_host_knows_its_models(tmp_path):
    host = loaded_host(write_plugins(tmp_path, labels=TYPO_LABEL))
    assert lines(host) == []
    host.set_known_models(["auth.User", "demo.Note", "demo.Note_tags", "demo.Tag"])
    assert lines(host) == [
        "labels: post_save: sender 'demo.Nte' names no known model (did you mean 'demo.Note'?)",
        "labels: pre_delete: sender 'auth.Usr' names no known model (did you mean 'auth.User'?)",
    ]
    [record] = host.plugins()[1:]
    assert record.status is Status.ACTIVE
    host.set_known_models(None)
    assert lines(host) == []


def test_strict_mode_makes_any_problem_fatal_and_registers_nothing_of_the_plugin(tmp_path):
    with pytest.raises(PluginLoadError) as raised:
        loaded_host(write_plugins(tmp_path, typo=TYPO_HOOK), strict=True)
    assert str(raised.value) == (
        "plugin 'typo': post_svae: unknown hook (did you mean 'post_save'?)"
    )
    strict = Host(HostConfig(autoload=False, strict=True))

    class Plugin:
        @hookimpl(sender="shop.Itme")
        def post_save(self, sender):
            pass

    strict.register(Plugin(), "mine")
    with pytest.raises(PluginLoadError, match=r"sender 'shop\.Itme' names no known model"):
        strict.set_known_models(["shop.Item"])
    assert strict.plugins() == []
    assert strict.implementations("post_save") == []


def test_a_failed_plugin_keeps_its_own_traceback(tmp_path):
    write_plugins(tmp_path, broken="def helper():\n    raise RuntimeError('boom')\n\nhelper()\n")
    [record] = loaded_host(tmp_path).failed_plugins()
    assert record.traceback is not None
    assert f'File "{tmp_path / "broken.py"}", line 2, in helper' in record.traceback
    assert record.traceback.rstrip().endswith("RuntimeError: boom")


def test_a_model_label_honours_meta_app_label(default_host):
    from hosthooks.runtime import Model
    from hosthooks.runtime import fields

    class Shelf(Model):
        class Meta:
            app_label = "library"

    class Volume(Model):
        shelves = fields.ManyToMany(Shelf)

        class Meta:
            app_label = "library"

    assert Shelf.hosthooks_label == "library.Shelf"
    assert Volume.shelves.relation.through.hosthooks_label == "library.Volume_shelves"
    seen = []

    class Plugin:
        @hookimpl(sender="library.Shelf")
        def post_init(self, sender):
            seen.append(sender)

    default_host.register(Plugin(), "shelf-watcher")
    Volume()
    Shelf()
    assert seen == [Shelf]


# -- the CLI --------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("HOSTHOOKS_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("HOSTHOOKS_PLUGINS_DIR", str(tmp_path / "plugins"))
    yield write_plugins(tmp_path / "plugins")
    hosthooks.set_default_host(None)


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def test_plugins_shows_problems_in_the_table_json_and_once_on_stderr(cli_env, capsys):
    write_plugins(cli_env, typo=TYPO_HOOK, args=TYPO_ARGUMENT, broken="import nowhere_at_all\n")
    code, out, err = run(capsys, "plugins")
    assert code == 0
    rows = [line.split() for line in out.splitlines()]
    assert rows == [
        ["NAME", "DIST", "VERSION", "SOURCE", "STATUS", "HOOKS", "PROBLEMS"],
        ["typo", "-", "-", "directory", "active", "my_own_hook,", "post_svae", "1"],
        ["args", "-", "-", "directory", "failed", "-", "2"],
        ["broken", "-", "-", "directory", "failed", "-", "-"],
    ]
    assert err.splitlines() == [
        "typo: post_svae: unknown hook (did you mean 'post_save'?)",
        "args: post_save: unknown argument 'craeted' (did you mean 'created'?)",
        "args: pre_save: unknown argument 'instnace' (did you mean 'instance'?)",
        "broken: ModuleNotFoundError: No module named 'nowhere_at_all'",
    ]
    code, out, err = run(capsys, "plugins", "--json")
    problems = {plugin["name"]: plugin["problems"] for plugin in json.loads(out)}
    assert problems == {
        "typo": ["typo: post_svae: unknown hook (did you mean 'post_save'?)"],
        "args": [
            "args: post_save: unknown argument 'craeted' (did you mean 'created'?)",
            "args: pre_save: unknown argument 'instnace' (did you mean 'instance'?)",
        ],
        "broken": [],
    }
    assert err == ""


def test_check_names_plugins_and_refuses_an_unknown_name(cli_env, capsys):
    write_plugins(cli_env, typo=TYPO_HOOK, fine="")
    code, out, _ = run(capsys, "check", "fine")
    assert (code, out) == (0, "1 plugin(s) checked, no problems.\n")
    code, out, _ = run(capsys, "check", "typo", "fine")
    assert (code, out) == (1, "typo: post_svae: unknown hook (did you mean 'post_save'?)\n")
    code, out, err = run(capsys, "check", "fnie")
    assert (code, out) == (2, "")
    assert err == "hosthooks: error: no plugin named 'fnie'; did you mean 'fine'?\n"
    # A built-in plugin is checked when named, though not listed by default.
    code, out, _ = run(capsys, "check", "hosthooks.last-login")
    assert (code, out) == (0, "1 plugin(s) checked, no problems.\n")


def test_check_json_lists_the_checked_plugins_as_plugins_json_does(cli_env, capsys):
    write_plugins(cli_env, typo=TYPO_HOOK, fine="")
    code, out, err = run(capsys, "check", "--json")
    assert (code, err) == (1, "")
    checked = json.loads(out)
    code, listed, _ = run(capsys, "plugins", "--json")
    assert checked == json.loads(listed)
    assert [(plugin["name"], plugin["problems"]) for plugin in checked] == [
        ("fine", []),
        ("typo", ["typo: post_svae: unknown hook (did you mean 'post_save'?)"]),
    ]
    code, out, _ = run(capsys, "check", "--json", "fine")
    assert code == 0
    assert [plugin["name"] for plugin in json.loads(out)] == ["fine"]


def test_check_app_checks_labels_against_that_modules_models(cli_env, capsys):
    write_plugins(
        cli_env,
        labels="""
        from hosthooks import hookimpl

        @hookimpl(sender="bookshop.Bok")
        def post_save(sender):
            pass
    """,
    )
    code, out, _ = run(capsys, "check")
    assert (code, out) == (0, "1 plugin(s) checked, no problems.\n")
    code, out, _ = run(capsys, "check", "--app", "tests.bookshop.models")
    assert code == 1
    assert out == (
        "labels: post_save: sender 'bookshop.Bok' names no known model "
        "(did you mean 'bookshop.Book'?)\n"
    )


def test_check_holds_labels_to_the_configured_applications_models(tmp_path):
    plugins = write_plugins(
        tmp_path / "plugins",
        labels="""
        from hosthooks import hookimpl

        @hookimpl(sender="bookshop.Bok")
        def post_save(sender):
            pass

        @hookimpl(sender="demo.Nte")
        def post_delete(sender):
            pass
    """,
    )
    # A models module beside the configuration file; the command runs elsewhere.
    (tmp_path / "shopapp.py").write_text(
        "from hosthooks.runtime import Model, fields\n\n"
        "class Book(Model):\n    title = fields.Text()\n\n"
        "    class Meta:\n        app_label = 'bookshop'\n"
    )
    config = tmp_path / "hosthooks.toml"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOSTHOOKS_")}
    env.update(HOSTHOOKS_DISABLE_PLUGIN_AUTOLOAD="1", HOSTHOOKS_PLUGINS_DIR=str(plugins))

    def check() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(HOSTHOOKS), "--config", str(config), "check"],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    config.write_text('apps = ["shopapp"]\n')
    result = check()
    assert (result.returncode, result.stdout.splitlines()) == (
        1,
        [
            "labels: post_delete: sender 'demo.Nte' names no known model",
            "labels: post_save: sender 'bookshop.Bok' names no known model "
            "(did you mean 'bookshop.Book'?)",
        ],
    )
    # The demo's models module, once configured, knows demo.Note.
    config.write_text('apps = ["hosthooks.runtime.demo"]\n')
    result = check()
    assert (result.returncode, result.stdout.splitlines()) == (
        1,
        [
            "labels: post_delete: sender 'demo.Nte' names no known model "
            "(did you mean 'demo.Note'?)",
            "labels: post_save: sender 'bookshop.Bok' names no known model",
        ],
    )
    config.write_text('apps = ["no_such_app"]\n')
    result = check()
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines()[-1] == (
        "hosthooks: error: apps no_such_app: No module named 'no_such_app'"
    )


def test_check_without_app_does_not_import_the_runtime(cli_env):
    write_plugins(cli_env, labels=TYPO_LABEL)
    probe = (
        "import sys\n"
        "from hosthooks.cli import main\n"
        "try:\n"
        "    main(['--disable-plugins', 'hosthooks.last-login', 'check'])\n"
        "except SystemExit as done:\n"
        "    assert done.code == 0, done.code\n"
        "assert not [m for m in sys.modules if m.startswith('hosthooks.runtime')]\n"
    )
    result = run_probe(probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "1 plugin(s) checked, no problems.\n"


def test_traceback_shows_a_failed_plugins_own_traceback(cli_env, capsys):
    write_plugins(cli_env, broken="raise RuntimeError('at import')\n")
    for command in ("plugins", "check"):
        code, out, err = run(capsys, "--traceback", command)
        assert err.count("Traceback (most recent call last):") == 1, command
        # The plugin's own: it starts at the plugin's frame, not the host's.
        frames = err.split("Traceback (most recent call last):\n", 1)[1]
        assert frames.startswith(f'  File "{cli_env / "broken.py"}", line 1, in <module>\n')
    code, _, err = run(capsys, "check")
    assert "Traceback" not in err


def test_strict_plugins_makes_a_problem_one_error_line(cli_env, capsys):
    write_plugins(cli_env, typo=TYPO_HOOK)
    code, out, err = run(capsys, "--strict-plugins", "plugins")
    assert (code, out) == (1, "")
    assert err == (
        "hosthooks: error: plugin 'typo': post_svae: unknown hook (did you mean 'post_save'?)\n"
    )


def test_a_broken_built_in_plugin_is_listed_and_counted_by_both(cli_env, capsys, monkeypatch):
    from hosthooks.loading import records

    monkeypatch.setitem(records.BUILTIN_PLUGINS, "hosthooks.gone", "no_such_module:plugin")
    code, out, err = run(capsys, "plugins")
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["hosthooks.gone"]
    assert err == "hosthooks.gone: ModuleNotFoundError: No module named 'no_such_module'\n"
    code, out, _ = run(capsys, "check")
    assert (code, out) == (1, err)


def test_serve_reports_label_problems_at_start_up_and_in_plugins_json(tmp_path):
    directory = write_plugins(tmp_path / "plugins", labels=TYPO_LABEL)
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOSTHOOKS_")}
    env["HOSTHOOKS_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    command = [str(HOSTHOOKS), "--plugins-dir", str(directory), "serve", "--port", "0"]
    command += ["--db", str(tmp_path / "demo.sqlite3")]
    # /-/plugins.json is for staff: one is made first.
    created = subprocess.run(
        [
            str(HOSTHOOKS),
            "--plugins-dir",
            str(directory),
            "createuser",
            "operator",
            "--staff",
            "--db",
            str(tmp_path / "demo.sqlite3"),
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert created.returncode == 0, created.stderr
    expected = [
        "labels: post_save: sender 'demo.Nte' names no known model (did you mean 'demo.Note'?)",
        "labels: pre_delete: sender 'auth.Usr' names no known model (did you mean 'auth.User'?)",
    ]
    strict = subprocess.run(
        [command[0], "--strict-plugins", *command[1:]],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert strict.returncode == 1
    assert strict.stderr == f"hosthooks: error: plugin 'labels': {expected[0].split(': ', 1)[1]}\n"

    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stderr is not None
        start_up = [process.stderr.readline().rstrip("\n") for _ in range(5)]
        assert start_up[:2] == expected
        # Then where the data lives, which plugins run, and where to connect.
        assert start_up[2].startswith("hosthooks: database ")
        assert start_up[3].startswith("hosthooks: plugins hosthooks.last-login, labels")
        assert start_up[4].startswith("hosthooks: serving the demo app on http://127.0.0.1:")
        port = int(start_up[4].rsplit(":", 1)[1].split("/")[0])
        client = Client(cast(Server, types.SimpleNamespace(port=port)))
        client.get("/login")
        assert client.post("/login", {"username": "operator", "password": PASSWORD})[0] == 303
        [served] = json.loads(client.get("/-/plugins.json")[2])
        assert served["problems"] == expected
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)


def test_the_readme_lists_the_demos_model_labels():
    import re

    from hosthooks.runtime import demo  # noqa: F401 - defines the demo's models
    from hosthooks.runtime.models import registry

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    sentence = readme[readme.index("The demo app's models are") :]
    sentence = sentence[: sentence.index(".\n")]
    listed = re.findall(r"`(\w+\.[A-Z][a-z]\w*)`", sentence)  # labels, not auth.MODELS
    demo_labels = {
        label
        for label, model in registry.items()
        if model.__module__ in ("hosthooks.runtime.demo", "hosthooks.runtime.auth")
    }
    assert sorted(listed) == sorted(demo_labels)
