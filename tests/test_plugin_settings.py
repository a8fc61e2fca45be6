"""Typed plugin settings: declared as a dataclass, set in [plugins.<name>] or
HOSTHOOKS_PLUGIN_<NAME>__<KEY>, secrets from the environment or a file, redacted
wherever shown, checked by ``hosthooks check``."""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import pytest

import hosthooks
from hosthooks import Host
from hosthooks import HostConfig
from hosthooks import PluginSettingsError
from hosthooks import setting
from hosthooks.cli import main
from hosthooks.configuration.typed_settings import env_prefix
from hosthooks.configuration.typed_settings import shown_settings


@dataclass
class WebhookSettings:
    url: str
    token: str = setting("", secret=True)
    retries: int = 3
    timeout: float = 2.5
    verify: bool = True
    events: list[str] = field(default_factory=list)
    spool: Path | None = None


def load(table, environ=None, base=None) -> WebhookSettings:
    config_file = None if base is None else base / "hosthooks.toml"
    host = Host(
        HostConfig(autoload=False, plugin_tables={"web-hook": table}, config_file=config_file)
    )
    return host.plugin_settings("web-hook", WebhookSettings, environ or {})


def test_the_variable_prefix_is_the_name_upper_cased_with_two_underscores():
    assert env_prefix("web-hook") == "HOSTHOOKS_PLUGIN_WEB_HOOK__"
    assert env_prefix("hosthooks.last-login") == "HOSTHOOKS_PLUGIN_HOSTHOOKS_LAST_LOGIN__"


def test_defaults_then_the_table_then_the_environment():
    settings = load(
        {"url": "http://file", "retries": 5, "events": ["created"]},
        {"HOSTHOOKS_PLUGIN_WEB_HOOK__RETRIES": "7", "HOSTHOOKS_PLUGIN_WEB_HOOK__VERIFY": "no"},
    )
    assert settings == WebhookSettings(
        url="http://file", retries=7, verify=False, events=["created"]
    )
    from_env = load({"url": "x"}, {"HOSTHOOKS_PLUGIN_WEB_HOOK__EVENTS": "a, b"})
    assert from_env.events == ["a", "b"]
    assert load({"url": "x", "spool": "/tmp/s"}).spool == Path("/tmp/s")


@dataclass
class AliasedSettings:
    path: str = setting("", aliases=("OLD_PATH",))
    level: int = 1


def test_a_setting_is_given_by_the_table_or_a_variable_without_being_read():
    host = Host(HostConfig(autoload=False, plugin_tables={"web-hook": {"path": "x"}}))
    # Given is not valid: the value is not checked, only looked for.
    environ = {"HOSTHOOKS_PLUGIN_WEB_HOOK__LEVEL": "not a number"}
    assert host.plugin_setting_given("web-hook", AliasedSettings, "path", environ)
    assert host.plugin_setting_given("web-hook", AliasedSettings, "level", environ)
    assert not host.plugin_setting_given("web-hook", AliasedSettings, "level", {})
    bare = Host(HostConfig(autoload=False))
    assert bare.plugin_setting_given("web-hook", AliasedSettings, "path", {"OLD_PATH": "y"})
    assert not bare.plugin_setting_given("web-hook", AliasedSettings, "path", {})
    with pytest.raises(KeyError):
        bare.plugin_setting_given("web-hook", AliasedSettings, "nothere", {})


def test_secrets_come_from_a_variable_or_a_file_relative_to_the_configuration(tmp_path):
    (tmp_path / "token.txt").write_text("from-file\n")
    by_file = load({"url": "x", "token": {"file": "token.txt"}}, base=tmp_path)
    assert by_file.token == "from-file"
    by_env = load({"url": "x", "token": {"env": "WEBHOOK_TOKEN"}}, {"WEBHOOK_TOKEN": "t0k"})
    assert by_env.token == "t0k"


def test_every_problem_is_reported_at_once_naming_plugin_and_key(tmp_path):
    with pytest.raises(PluginSettingsError) as raised:
        load(
            {
                "retires": 1,
                "timeout": "soon",
                "verify": 1,
                "token": {"env": "NOT_SET_ANYWHERE"},
                "events": {"file": str(tmp_path / "missing")},
            },
            {"HOSTHOOKS_PLUGIN_WEB_HOOK__RETRIES": "many"},
        )
    assert raised.value.problems == [
        "web-hook: retires: unknown setting (did you mean 'retries'?)",
        "web-hook: url: required (set it in [plugins.web-hook] or HOSTHOOKS_PLUGIN_WEB_HOOK__URL)",
        "web-hook: token: the environment variable NOT_SET_ANYWHERE is not set",
        "web-hook: retries: expected a whole number, got 'many'",
        "web-hook: timeout: expected a number, got 'soon'",
        "web-hook: verify: expected true or false, got 1",
        f"web-hook: events: cannot read '{tmp_path / 'missing'}': No such file or directory",
    ]


def test_secrets_are_redacted_when_shown():
    shown = shown_settings(load({"url": "x", "token": "hunter2"}))
    assert shown["token"] == "********"
    assert shown["url"] == "x"
    assert "hunter2" not in json.dumps(shown)


PLUGIN = """
from dataclasses import dataclass
from dataclasses import field
from hosthooks import hookimpl, setting


@dataclass
class Settings:
    url: str
    token: str = setting("", secret=True)
    retries: int = 3


hosthooks_settings = Settings


@hookimpl
def post_save(sender):
    pass
"""


@pytest.fixture
def configured(tmp_path, monkeypatch) -> Iterator[Path]:
    """A working directory with a plugins directory holding ``webhook.py``."""
    for name in list(os.environ):
        if name.startswith("HOSTHOOKS_"):
            monkeypatch.delenv(name)
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "webhook.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOSTHOOKS_DISABLE_PLUGIN_AUTOLOAD", "1")
    yield tmp_path
    hosthooks.set_default_host(None)


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def test_plugins_json_shows_the_settings_redacted(configured, capsys, monkeypatch):
    (configured / "hosthooks.toml").write_text(
        'plugins_dir = "plugins"\n[plugins.webhook]\nurl = "http://127.0.0.1:9/"\n'
        'token = { env = "WEBHOOK_TOKEN" }\n'
    )
    monkeypatch.setenv("WEBHOOK_TOKEN", "hunter2")
    code, out, err = run(capsys, "plugins", "--json")
    assert (code, err) == (0, "")
    assert "hunter2" not in out
    (webhook,) = json.loads(out)
    assert webhook["settings"] == {"url": "http://127.0.0.1:9/", "token": "********", "retries": 3}
    code, out, _ = run(capsys, "check")
    assert code == 0


def test_check_fails_on_bad_settings_and_on_tables_for_missing_plugins(configured, capsys):
    (configured / "hosthooks.toml").write_text(
        'plugins_dir = "plugins"\n[plugins.webhook]\nretries = "3"\n[plugins.nothere]\nx = 1\n'
    )
    code, out, err = run(capsys, "check")
    assert code == 1
    lines = (out + err).splitlines()
    assert any(
        "webhook: url: required (set it in [plugins.webhook] or HOSTHOOKS_PLUGIN_WEBHOOK__URL)"
        in line
        for line in lines
    )
    assert any("webhook: retries: expected a whole number, got '3'" in line for line in lines)
    assert any(
        "[plugins.nothere] configures a plugin that is not installed" in line for line in lines
    )
    code, out, _ = run(capsys, "plugins", "--json")
    assert json.loads(out)[0]["settings"] is None


def test_the_audit_plugin_writes_where_its_table_says(tmp_path):
    import hosthooks_audit

    from hosthooks.runtime.auth import User

    log = tmp_path / "audit.jsonl"
    host = hosthooks.create_default_host(
        HostConfig(autoload=False, plugin_tables={"audit": {"path": str(log)}})
    )
    try:
        host.register(hosthooks_audit, "audit")
        user = User(pk=7, username="ada")
        host.hook.post_delete(sender=User, instance=user, using="no-such-db", origin=user)
    finally:
        hosthooks.set_default_host(None)
    written = json.loads(log.read_text())
    assert (written["event"], written["model"], written["pk"]) == ("deleted", "auth.User", 7)


def test_config_shows_each_plugins_settings_with_sources_and_secrets_redacted(
    configured, capsys, monkeypatch
):
    (configured / "hosthooks.toml").write_text(
        'plugins_dir = "plugins"\n[plugins.webhook]\nurl = "http://127.0.0.1:9/"\n'
        'token = "hunter2"\n'
    )
    monkeypatch.setenv("HOSTHOOKS_PLUGIN_WEBHOOK__RETRIES", "5")
    code, out, err = run(capsys, "config", "--json")
    assert (code, err) == (0, "")
    assert "hunter2" not in out
    report = json.loads(out)
    file = str(configured / "hosthooks.toml")
    assert report["plugins.webhook.url"] == {
        "value": "http://127.0.0.1:9/",
        "source": "file",
        "file": file,
        "problem": None,
    }
    assert report["plugins.webhook.token"] == {
        "value": "********",
        "source": "file",
        "file": file,
        "problem": None,
    }
    assert report["plugins.webhook.retries"] == {
        "value": 5,
        "source": "environment",
        "file": None,
        "problem": None,
    }
