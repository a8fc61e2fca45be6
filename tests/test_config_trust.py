"""What operators rely on in the configuration: paths in a file mean the same
wherever a command runs, pathlib paths are paths, secrets are never shown, a
command that cannot finish writes nothing, and every problem is shown once,
beside what it concerns."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from pathlib import PurePosixPath

import pytest

from hosthooks import Host
from hosthooks import HostConfig
from hosthooks import setting
from hosthooks.configuration.files import load_configuration
from hosthooks.configuration.keys import ConfigError
from hosthooks.report import plugin_infos
from tests.serving import HOSTHOOKS

PASSWORD = "s3cr3t-pw"
SECRET = "4242"


def environ(**extra: str) -> dict[str, str]:
    """This process's environment without HOSTHOOKS_ variables (entry points load)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOSTHOOKS_")}
    env.update(extra)
    return env


def hosthooks(
    cwd: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HOSTHOOKS), *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env=environ() if env is None else env,
        timeout=120,
    )


@pytest.fixture
def ops(tmp_path: Path) -> Path:
    """An operator's folder of configuration, and an empty folder to run commands from."""
    (tmp_path / "ops" / "logs").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    return tmp_path / "ops"


# -- 1. paths relative to the file; nothing half-done -------------------------


def test_every_path_in_the_file_is_relative_to_the_file(ops: Path):
    (ops / "hosthooks.toml").write_text(
        'load_plugins = ["audit"]\n'
        '[runtime]\nDATABASE = "app.sqlite3"\n'
        '[plugins.audit]\npath = "logs/audit.jsonl"\n'
    )
    elsewhere = ops.parent / "elsewhere"
    result = hosthooks(
        elsewhere,
        "--config",
        "../ops/hosthooks.toml",
        "createuser",
        "zed",
        "--password-stdin",
        stdin="a good password\n",
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert list(elsewhere.iterdir()) == []
    assert (ops / "app.sqlite3").is_file()
    entries = [json.loads(line) for line in (ops / "logs" / "audit.jsonl").read_text().splitlines()]
    assert [(entry["event"], entry["model"]) for entry in entries] == [("created", "auth.User")]
    shown = hosthooks(elsewhere, "--config", "../ops/hosthooks.toml", "config", "--json")
    report = json.loads(shown.stdout)
    assert report["runtime.DATABASE"]["value"] == str(ops / "app.sqlite3")
    assert report["plugins.audit.path"]["value"] == str(ops / "logs" / "audit.jsonl")


def test_a_relative_path_from_the_environment_is_relative_to_the_working_directory(tmp_path):
    configuration = load_configuration(environ={"HOSTHOOKS_DATABASE": "here.sqlite3"}, cwd=tmp_path)
    assert configuration.runtime["DATABASE"].value == "here.sqlite3"
    url = "postgresql://postgres@127.0.0.1:5432/app"
    (tmp_path / "hosthooks.toml").write_text(f'[runtime]\nDATABASE = "{url}"\n')
    assert load_configuration(environ={}, cwd=tmp_path).runtime["DATABASE"].value == url


@pytest.mark.parametrize("command", ["createuser", "migrate"])
def test_a_command_that_writes_writes_nothing_when_a_plugin_cannot_use_its_settings(
    ops: Path, command: str
):
    (ops / "hosthooks.toml").write_text(
        'load_plugins = ["audit"]\n[runtime]\nDATABASE = "app.sqlite3"\n[plugins.audit]\npath = 5\n'
    )
    arguments = {
        "createuser": ["createuser", "zed", "--password-stdin"],
        "migrate": ["migrate", "--db", str(ops / "app.sqlite3")],
    }[command]
    result = hosthooks(ops, *arguments, stdin="a good password\n")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "audit: path: expected a path, got 5",
        "hosthooks: error: nothing was written: the settings of audit are unusable "
        "(see above; hosthooks config shows them)",
    ]
    assert not (ops / "app.sqlite3").exists()


# -- 2. os.PathLike wherever a path or a string path goes ----------------------


@dataclass
class Paths:
    log: Path | None = None
    name: str = ""
    extra: list[str] = field(default_factory=list)
    token: str = setting("", secret=True)


def test_pathlib_paths_are_taken_for_path_and_string_settings(tmp_path):
    (tmp_path / "token.txt").write_text("t0k\n")
    # What a Django project writes: "path": BASE_DIR / "audit.jsonl".
    configuration = load_configuration(
        environ={},
        cwd=tmp_path,
        settings={
            "plugins": {
                "paths": {
                    "log": tmp_path / "audit.jsonl",
                    "name": PurePosixPath("a/b"),
                    "extra": [tmp_path / "one", "two"],
                    "token": {"file": tmp_path / "token.txt"},
                }
            },
            "runtime": {"DATABASE": tmp_path / "app.sqlite3"},
            "trace_file": tmp_path / "trace.jsonl",
        },
    )
    assert configuration.runtime["DATABASE"].value == str(tmp_path / "app.sqlite3")
    assert configuration["trace_file"] == tmp_path / "trace.jsonl"
    host = Host(HostConfig.from_configuration(configuration))
    try:
        settings = host.plugin_settings("paths", Paths, environ={})
    finally:
        host.close()  # it traces to the trace file: closing closes it
    assert settings == Paths(
        log=tmp_path / "audit.jsonl", name="a/b", extra=[str(tmp_path / "one"), "two"], token="t0k"
    )


def test_a_relative_path_setting_in_the_file_is_relative_to_the_file(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "hosthooks.toml").write_text('[plugins.paths]\nlog = "x/log.jsonl"\n')
    configuration = load_configuration(environ={}, config_file=tmp_path / "conf" / "hosthooks.toml")
    host = Host(HostConfig.from_configuration(configuration))
    log = host.plugin_settings("paths", Paths, environ={}).log
    assert log == tmp_path / "conf" / "x" / "log.jsonl"
    from_environment = {"HOSTHOOKS_PLUGIN_PATHS__LOG": "y/log.jsonl"}
    assert host.plugin_settings("paths", Paths, environ=from_environment).log == Path("y/log.jsonl")


# -- 3. secrets are never shown ----------------------------------------------


@pytest.fixture
def secretive(ops: Path) -> Path:
    (ops / "hosthooks.toml").write_text(
        'load_plugins = ["webhook"]\n'
        f'broker_url = "redis://worker:{PASSWORD}@127.0.0.1:1/0"\n'
        f'[runtime]\nDATABASE = "postgresql://postgres:{PASSWORD}@127.0.0.1:5432/app"\n'
        f'[plugins.webhook]\nurl = "http://127.0.0.1:9/"\ntoken = {SECRET}\n'
    )
    return ops


def test_config_shows_no_password_of_a_url(secretive: Path):
    for arguments in (["config"], ["config", "--json"]):
        result = hosthooks(secretive, *arguments)
        assert result.returncode == 1  # the token's type is wrong
        assert PASSWORD not in result.stdout + result.stderr
        assert SECRET not in result.stdout + result.stderr
    report = json.loads(hosthooks(secretive, "config", "--json").stdout)
    assert report["runtime.DATABASE"]["value"] == (
        "postgresql://postgres:********@127.0.0.1:5432/app"
    )
    assert report["broker_url"]["value"] == "redis://worker:********@127.0.0.1:1/0"


def test_a_secret_of_the_wrong_type_is_described_not_shown(secretive: Path):
    problem = "webhook: token: expected a string, got a value of type int (a secret: not shown)"
    check = hosthooks(secretive, "check")
    assert (check.returncode, check.stdout) == (1, problem + "\n")
    listed = hosthooks(secretive, "plugins", "--json")
    infos = {info["name"]: info for info in json.loads(listed.stdout)}
    assert infos["webhook"]["problems"] == [problem]
    assert SECRET not in listed.stdout + listed.stderr


def test_the_inspector_shows_a_wrong_secret_by_its_type(secretive: Path):
    # What /-/plugins.json serves.
    configuration = load_configuration(environ={}, cwd=secretive)
    host = Host(HostConfig.from_configuration(configuration))
    host.load_plugins()
    served = json.dumps(plugin_infos(host, host.plugins()))
    assert "a value of type int (a secret: not shown)" in served
    assert SECRET not in served
    host.close()


def test_the_serve_log_shows_a_wrong_secret_by_its_type(ops: Path):
    (ops / "hosthooks.toml").write_text(
        'load_plugins = ["webhook"]\n[runtime]\nDATABASE = "app.sqlite3"\n'
        f'[plugins.webhook]\nurl = "http://127.0.0.1:9/"\ntoken = {SECRET}\n'
    )
    server = subprocess.Popen(
        [str(HOSTHOOKS), "serve", "--port", "0"],
        cwd=ops,
        env=environ(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    logged: list[str] = []
    try:
        assert server.stderr is not None
        for _ in range(20):  # the lines before it serves
            line = server.stderr.readline()
            logged.append(line)
            if not line or "serving the demo app" in line:
                break
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
    assert logged[0] == (
        "webhook: token: expected a string, got a value of type int (a secret: not shown)\n"
    )
    assert "serving the demo app" in logged[-1]
    assert SECRET not in "".join(logged)


def test_a_secret_key_of_the_wrong_type_is_not_echoed(ops: Path):
    (ops / "hosthooks.toml").write_text(f"[runtime]\nSECRET_KEY = {SECRET}\n")
    with pytest.raises(ConfigError) as raised:
        load_configuration(environ={}, cwd=ops)
    assert str(raised.value) == (
        f"{ops / 'hosthooks.toml'}: runtime.SECRET_KEY: expected a string, "
        "got a value of type int (a secret: not shown)"
    )
    for command in (["config"], ["check"], ["serve", "--port", "0"]):
        result = hosthooks(ops, *command)
        assert result.returncode == 2, result.stderr
        assert SECRET not in result.stdout + result.stderr


def test_the_worker_names_its_broker_without_the_password(secretive: Path):
    pytest.importorskip("celery")
    no_plugins = environ(HOSTHOOKS_LOAD_PLUGINS="")
    migrated = hosthooks(secretive, "migrate", "--db", "app.sqlite3", env=no_plugins)
    assert migrated.returncode == 0, migrated.stderr
    worker = subprocess.Popen(
        [str(HOSTHOOKS), "worker", "--db", str(secretive / "app.sqlite3")],
        cwd=secretive,
        env=no_plugins,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stderr is not None
        first = worker.stderr.readline()
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.communicate()
    assert first.startswith("hosthooks: worker on redis://worker:********@127.0.0.1:1/0, ")
    assert PASSWORD not in first


# -- 4. problems shown beside what they concern, once --------------------------


def test_config_shows_a_plugins_unusable_settings_with_the_problem_beside_them(ops: Path):
    (ops / "hosthooks.toml").write_text(
        'load_plugins = ["webhook"]\n'
        '[plugins.webhook]\nurl = "http://127.0.0.1:9/"\ntimeout = "soon"\ncolour = "red"\n'
    )
    result = hosthooks(ops, "config", "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    file = str(ops / "hosthooks.toml")
    rows = {key: entry for key, entry in report.items() if key.startswith("plugins.webhook.")}
    assert rows == {
        "plugins.webhook.url": {
            "value": "http://127.0.0.1:9/",
            "source": "file",
            "file": file,
            "problem": None,
        },
        "plugins.webhook.token": {"value": "", "source": "default", "file": None, "problem": None},
        "plugins.webhook.timeout": {
            "value": "soon",
            "source": "file",
            "file": file,
            "problem": "expected a number, got 'soon'",
        },
        "plugins.webhook.colour": {
            "value": "red",
            "source": "file",
            "file": file,
            "problem": "unknown setting",
        },
    }
    table = hosthooks(ops, "config")
    assert table.returncode == 1
    timeout_row = next(
        line for line in table.stdout.splitlines() if line.startswith("plugins.webhook.timeout")
    )
    assert timeout_row.split() == [
        "plugins.webhook.timeout",
        '"soon"',
        "file",
        *["expected", "a", "number,", "got", "'soon'"],
    ]


def test_check_counts_only_the_plugins_it_checked(ops: Path):
    (ops / "hosthooks.toml").write_text('load_plugins = ["audit", "webhook"]\n')
    every = hosthooks(ops, "check")
    assert (every.returncode, every.stdout) == (0, "2 plugin(s) checked, no problems.\n")
    blocked = hosthooks(ops, "--disable-plugins", "webhook", "check")
    assert (blocked.returncode, blocked.stdout) == (0, "1 plugin(s) checked, no problems.\n")


@pytest.mark.parametrize("arguments", [["hooks"], ["hooks", "post_save"], ["hooks", "--json"]])
def test_hooks_shows_a_missing_secret_once(ops: Path, arguments: list[str]):
    (ops / "hosthooks.toml").write_text(
        'load_plugins = ["webhook"]\n'
        '[plugins.webhook]\nurl = "http://127.0.0.1:9/"\ntoken = { env = "NO_SUCH_TOKEN" }\n'
    )
    result = hosthooks(ops, *arguments)
    assert result.returncode == 0
    assert result.stderr == "webhook: token: the environment variable NO_SUCH_TOKEN is not set\n"
