"""The configuration: one file, precedence option > environment > file > default,
sources reported, clear errors, the allow-list, and ``hosthooks config``."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import hosthooks
from hosthooks.cli import main
from hosthooks.configuration.files import load_configuration
from hosthooks.configuration.keys import ConfigError
from hosthooks.configuration.keys import Origin
from hosthooks.configuration.keys import Sourced
from hosthooks.loading.records import HostConfig
from hosthooks.runtime.settings import Settings
from tests.probes import run_probe
from tests.serving import SERVERS


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Iterator[Path]:
    """An empty working directory and an environment with no HOSTHOOKS_* variable."""
    for name in list(os.environ):
        if name.startswith("HOSTHOOKS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    hosthooks.set_default_host(None)


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def test_each_key_comes_from_the_highest_source_that_sets_it(workdir):
    (workdir / "hosthooks.toml").write_text(
        'trace = true\nstrict_plugins = true\nbroker_url = "redis://file/1"\n'
        'disable_plugins = ["a", "b"]\nplugins_dir = "extra"\n'
    )
    config = load_configuration(
        options={"trace": None, "disable_plugins": ("c",)},
        environ={"HOSTHOOKS_STRICT_PLUGINS": "0", "HOSTHOOKS_DISABLE_PLUGINS": "d,e"},
        cwd=workdir,
    )
    assert config.sourced("disable_plugins").value == ("c",)  # the option replaces the lists below
    assert config.sourced("disable_plugins").source is Origin.OPTION
    assert config.sourced("strict_plugins").value is False  # the environment beats the file
    assert config.sourced("strict_plugins").source is Origin.ENVIRONMENT
    assert config.sourced("trace").value is True  # an option given as None leaves the file's
    assert config.sourced("trace").source is Origin.FILE
    assert config.sourced("trace").file == workdir / "hosthooks.toml"
    assert config["broker_url"] == "redis://file/1"
    assert config["plugins_dir"] == workdir / "extra"  # relative to the file
    assert config.sourced("queue_backend") == Sourced("celery", Origin.DEFAULT, None)


def test_a_list_from_the_environment_replaces_the_files(workdir):
    (workdir / "hosthooks.toml").write_text('disable_plugins = ["a", "b"]\n')
    config = load_configuration(environ={"HOSTHOOKS_DISABLE_PLUGINS": "c"}, cwd=workdir)
    assert config["disable_plugins"] == ("c",)
    assert HostConfig.from_configuration(config).disabled == frozenset({"c"})


def test_hosthooks_toml_wins_over_pyproject_and_no_parent_is_searched(workdir):
    (workdir / "pyproject.toml").write_text("[tool.hosthooks]\ntrace = true\n")
    assert load_configuration(environ={}, cwd=workdir).file == workdir / "pyproject.toml"
    assert load_configuration(environ={}, cwd=workdir)["trace"] is True
    (workdir / "hosthooks.toml").write_text("strict_plugins = true\n")
    config = load_configuration(environ={}, cwd=workdir)
    assert config.file == workdir / "hosthooks.toml"
    assert (config["trace"], config["strict_plugins"]) == (False, True)
    child = workdir / "child"
    child.mkdir()
    assert load_configuration(environ={}, cwd=child).file is None


def test_a_pyproject_without_the_table_is_no_configuration(workdir):
    (workdir / "pyproject.toml").write_text('[project]\nname = "app"\n')
    assert load_configuration(environ={}, cwd=workdir).file is None


@pytest.mark.parametrize(
    "pyproject",
    [
        '[ "tool" . hosthooks ]\ntrace = true\n',
        "[tool] # tools\nblack = {}\n\n[project]\n[tool.other]\n[tool.hosthooks]\ntrace = true\n",
        "tool.hosthooks.trace = true\n",
        "tool = { hosthooks = { trace = true } }\n",
        "[tool]\nhosthooks.trace = true\n",
        "['tool']\nhosthooks = { trace = true }\n",
        '[tool."host\\u0068ooks"]\ntrace = true\n',
    ],
)
def test_every_spelling_of_the_pyproject_table_is_found(workdir, pyproject):
    (workdir / "pyproject.toml").write_text(pyproject)
    config = load_configuration(environ={}, cwd=workdir)
    assert config.file == workdir / "pyproject.toml"
    assert config["trace"] is True


def test_a_pyproject_certainly_without_the_table_is_not_parsed(workdir):
    # Not even read as TOML: a project's broken file is not hosthooks' concern.
    (workdir / "pyproject.toml").write_text('[project]\nname = "hosthooks-app\n[tool.black]\n')
    probe = (
        "import sys\n"
        "from hosthooks.configuration.files import load_configuration\n"
        "assert load_configuration(environ={}).file is None\n"
        "assert 'tomllib' not in sys.modules\n"
    )
    result = run_probe(probe)
    assert result.returncode == 0, result.stderr
    (workdir / "pyproject.toml").write_text("[tool.hosthooks\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_configuration(environ={}, cwd=workdir)


def test_the_named_file_wins_and_the_old_variable_still_names_it(workdir, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("conf") / "app.toml"
    elsewhere.write_text('[runtime]\nDATABASE = "named.sqlite3"\n')
    (workdir / "hosthooks.toml").write_text('[runtime]\nDATABASE = "local.sqlite3"\n')
    for variable in ("HOSTHOOKS_CONFIG", "HOSTHOOKS_SETTINGS_FILE"):
        config = load_configuration(environ={variable: str(elsewhere)}, cwd=workdir)
        assert config.file == elsewhere
        # Relative to the file that names it, not to where the command runs.
        assert config.runtime["DATABASE"].value == str(elsewhere.parent / "named.sqlite3")
    explicit = load_configuration(environ={}, cwd=workdir, config_file=elsewhere)
    assert explicit.file == elsewhere


def test_runtime_settings_come_from_the_runtime_table_and_the_environment(workdir):
    (workdir / "hosthooks.toml").write_text(
        '[runtime]\nDATABASE = "app.sqlite3"\nDEBUG = true\nMAX_BODY_SIZE = 10\n'
        "INSPECTOR_PUBLIC = true\n"
    )
    settings = Settings({"HOSTHOOKS_MAX_BODY_SIZE": "2048"})
    database = settings.DATABASE
    assert database == str(workdir / "app.sqlite3")
    assert settings.DEBUG is True
    assert settings.INSPECTOR_PUBLIC is True
    assert settings.MAX_BODY_SIZE == 2048
    assert settings.SESSION_COOKIE_NAME == "hosthooks_session"


def test_plugin_tables_are_kept_as_written(workdir):
    (workdir / "hosthooks.toml").write_text(
        '[plugins.audit]\npath = "audit.log"\n[plugins.login-guard]\nlimit = 3\n'
    )
    config = load_configuration(environ={}, cwd=workdir)
    assert config.plugins == {"audit": {"path": "audit.log"}, "login-guard": {"limit": 3}}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("traec = true\n", r"hosthooks.toml: traec: unknown key \(did you mean 'trace'\?\)$"),
        ('autoload = "yes"\n', r"hosthooks.toml: autoload: expected true or false$"),
        ("disable_plugins = 'a,b'\n", r"disable_plugins: expected a list of plugin names$"),
        ('queue_backend = "rq"\n', r"queue_backend: 'rq' is not one of celery, eager$"),
        ("[runtime]\nDEBUGG = true\n", r"runtime.DEBUGG: unknown runtime setting"),
        ("[runtime]\nMAX_BODY_SIZE = true\n", r"MAX_BODY_SIZE: expected a whole number, got True$"),
        ("[runtime]\nDEBUG = 1\n", r"runtime.DEBUG: expected true or false, got 1$"),
        ("runtime = 3\n", r"runtime: expected a table of runtime settings$"),
        ("plugins = { audit = 3 }\n", r"plugins: expected a \[plugins.<name>\] table per plugin$"),
        ("trace = \n", r"is not valid TOML"),
    ],
)
def test_a_bad_file_is_one_clear_error_naming_file_and_key(workdir, content, message):
    (workdir / "hosthooks.toml").write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_configuration(environ={}, cwd=workdir)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"HOSTHOOKS_STRICT_PLUGINS": "maybe"},
            r"^HOSTHOOKS_STRICT_PLUGINS: 'maybe' is not a boolean",
        ),
        ({"HOSTHOOKS_QUEUE_BACKEND": "rq"}, r"^HOSTHOOKS_QUEUE_BACKEND: 'rq' is not one of"),
        (
            {"HOSTHOOKS_SESSION_MAX_AGE": "soon"},
            r"^HOSTHOOKS_SESSION_MAX_AGE: 'soon' is not a whole",
        ),
        (
            {"HOSTHOOKS_CONFIG": "/no/such.toml"},
            r"^configuration file '/no/such.toml' does not exist$",
        ),
    ],
)
def test_a_bad_environment_value_is_one_clear_error(workdir, environ, message):
    with pytest.raises(ConfigError, match=message):
        load_configuration(environ=environ, cwd=workdir)


def test_a_file_that_is_not_text_is_one_clear_error(workdir):
    (workdir / "hosthooks.toml").write_bytes(b"trace = \xff\n")
    with pytest.raises(ConfigError, match=r"is not UTF-8 text$"):
        load_configuration(environ={}, cwd=workdir)


def test_the_cli_answers_a_bad_configuration_with_exit_2_and_one_line(workdir, capsys):
    (workdir / "hosthooks.toml").write_text("strict_plugin = true\n")
    code, out, err = run(capsys, "plugins")
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "hosthooks: error: "
        f"{workdir / 'hosthooks.toml'}: strict_plugin: unknown key "
        "(did you mean 'strict_plugins'?)"
    ]
    code, out, err = run(capsys, "--config", str(workdir / "missing.toml"), "config")
    assert code == 2
    assert (
        err == f"hosthooks: error: configuration file '{workdir / 'missing.toml'}' does not exist\n"
    )


def test_config_json_reports_value_source_and_file_with_secrets_redacted(
    workdir, capsys, monkeypatch
):
    (workdir / "hosthooks.toml").write_text(
        'trace = true\n[runtime]\nSECRET_KEY = "s3cret-from-file"\n'
    )
    monkeypatch.setenv("HOSTHOOKS_DEBUG", "1")
    code, out, err = run(capsys, "--strict-plugins", "config", "--json")
    assert (code, err) == (0, "")
    report = json.loads(out)
    file = str(workdir / "hosthooks.toml")
    assert report["trace"] == {"value": True, "source": "file", "file": file}
    assert report["strict_plugins"] == {"value": True, "source": "option", "file": None}
    assert report["autoload"] == {"value": True, "source": "default", "file": None}
    assert report["runtime.DEBUG"] == {"value": True, "source": "environment", "file": None}
    assert report["runtime.SECRET_KEY"] == {"value": "********", "source": "file", "file": file}
    assert "s3cret-from-file" not in out
    assert set(report) >= {
        "autoload",
        "disable_plugins",
        "load_plugins",
        "plugins_dir",
        "strict_plugins",
        "trace",
        "trace_file",
        "broker_url",
        "queue_backend",
    }


def test_config_table_names_the_file(workdir, capsys):
    (workdir / "hosthooks.toml").write_text("trace = true\n")
    code, out, _ = run(capsys, "config")
    assert code == 0
    assert out.splitlines()[0] == f"configuration file: {workdir / 'hosthooks.toml'}"
    assert ["trace", "true", "file"] in [line.split() for line in out.splitlines()]


def _statuses(capsys, *args: str) -> dict[str, str]:
    code, out, err = run(capsys, *args, "plugins", "--json")
    assert (code, err) == (0, "")
    return {plugin["name"]: plugin["status"] for plugin in json.loads(out)}


def test_the_allow_list_loads_only_the_named_entry_point_plugins(workdir, capsys, monkeypatch):
    # The example plugins are installed with the test extras: audit, login-guard,
    # request-timer, webhook.
    assert _statuses(capsys) == {
        "audit": "active",
        "login-guard": "active",
        "request-timer": "active",
        "webhook": "active",
    }
    assert _statuses(capsys, "--load-plugins", "audit") == {
        "audit": "active",
        "login-guard": "blocked",
        "request-timer": "blocked",
        "webhook": "blocked",
    }
    # An empty allow-list loads no entry-point plugin, and none is imported.
    monkeypatch.setenv("HOSTHOOKS_LOAD_PLUGINS", "")
    assert set(_statuses(capsys).values()) == {"blocked"}
    monkeypatch.delenv("HOSTHOOKS_LOAD_PLUGINS")
    (workdir / "hosthooks.toml").write_text('load_plugins = ["login-guard"]\n')
    assert _statuses(capsys)["login-guard"] == "active"
    assert _statuses(capsys)["audit"] == "blocked"


def test_an_entry_point_left_out_by_the_allow_list_is_never_imported(workdir, capsys):

    sys.modules.pop("hosthooks_audit", None)
    _statuses(capsys, "--load-plugins", "login-guard")
    assert "hosthooks_audit" not in sys.modules


@pytest.mark.parametrize("kind", SERVERS)
def test_serve_takes_the_runtime_settings_from_the_named_file(tmp_path, kind):
    import http.client

    from tests.serving import serving

    config = tmp_path / "prod.toml"
    config.write_text('[runtime]\nSESSION_COOKIE_NAME = "from_config_file"\n')
    with serving(tmp_path, options=["--config", str(config)], kind=kind) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("GET", "/login")
        response = connection.getresponse()
        response.read()
        connection.close()
    assert response.status == 200
    assert (response.getheader("Set-Cookie") or "").startswith("from_config_file=")


def test_a_broker_password_is_redacted_when_shown(workdir, capsys, monkeypatch):
    monkeypatch.setenv("HOSTHOOKS_BROKER_URL", "amqp://guest:s3cret@127.0.0.1:5672//")
    code, out, _ = run(capsys, "config", "--json")
    assert code == 0
    assert json.loads(out)["broker_url"]["value"] == "amqp://guest:********@127.0.0.1:5672//"
    assert "s3cret" not in out
