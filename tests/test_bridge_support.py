"""What the Django bridge needs of the host, tested without Django: configuration
from a settings dict, model labels read from ``_meta``, watching which hooks
have implementations, a host without the runtime's built-in plugins."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from hosthooks import Host
from hosthooks import HostConfig
from hosthooks import hookimpl
from hosthooks import sender_label
from hosthooks.config import ConfigError
from hosthooks.config import Origin
from hosthooks.config import load_configuration


def test_a_settings_dict_takes_the_files_place_under_the_environment(tmp_path):
    # A file beside the project is not read once the settings configure hosthooks.
    (tmp_path / "hosthooks.toml").write_text("strict_plugins = true\n")
    config = load_configuration(
        environ={"HOSTHOOKS_TRACE": "0"},
        cwd=tmp_path,
        settings={
            "trace": True,
            "disable_plugins": ("a", "b"),
            "plugins_dir": Path("extra"),
            "plugins": {"audit": {"path": "/var/log/audit.jsonl"}},
        },
    )
    assert config.sourced("strict_plugins").source is Origin.DEFAULT
    assert config["strict_plugins"] is False
    assert config.sourced("trace").source is Origin.ENVIRONMENT
    assert config["trace"] is False
    assert config.sourced("disable_plugins").source is Origin.SETTINGS
    assert config["disable_plugins"] == ("a", "b")
    assert config["plugins_dir"] == tmp_path / "extra"
    assert config.plugins == {"audit": {"path": "/var/log/audit.jsonl"}}
    assert config.file is None
    assert config.report()["disable_plugins"] == {
        "value": ["a", "b"],
        "source": "settings",
        "file": None,
    }


def test_a_wrong_settings_key_is_named_where_it_is(tmp_path):
    with pytest.raises(ConfigError) as raised:
        load_configuration(environ={}, cwd=tmp_path, settings={"strict_plugin": True})
    assert str(raised.value) == (
        "settings.HOSTHOOKS['strict_plugin']: unknown key (did you mean 'strict_plugins'?)"
    )


def test_without_settings_the_file_is_read_as_before(tmp_path):
    (tmp_path / "hosthooks.toml").write_text("strict_plugins = true\n")
    config = load_configuration(environ={}, cwd=tmp_path)
    assert config.sourced("strict_plugins").source is Origin.FILE
    assert config["strict_plugins"] is True


class _Meta:
    label = "library.Book"


class DjangoLikeModel:
    """What a Django model class shows of itself: ``_meta.label``."""

    _meta = _Meta()


def test_a_models_meta_label_is_its_sender_label():
    assert sender_label(DjangoLikeModel) == "library.Book"
    # An instance is no sender class: labels are the classes'.
    assert sender_label(DjangoLikeModel()) is None


def test_a_label_filter_takes_a_django_like_model_and_a_class_filter_only_that_class():
    host = Host()
    heard: list[tuple[str, object]] = []

    class ByLabel:
        @hookimpl(sender="library.Book")
        def post_init(self, sender: object) -> None:
            heard.append(("label", sender))

    class ByClass:
        @hookimpl(sender=DjangoLikeModel)
        def post_init(self, sender: object) -> None:
            heard.append(("class", sender))

    host.register(ByLabel())
    host.register(ByClass())

    class SameLabelOtherClass:
        _meta = _Meta()

    host.hook.post_init(sender=DjangoLikeModel, instance=None)
    host.hook.post_init(sender=SameLabelOtherClass, instance=None)
    assert heard == [
        ("class", DjangoLikeModel),
        ("label", DjangoLikeModel),
        ("label", SameLabelOtherClass),
    ]


def test_a_watcher_hears_every_hook_then_each_change_of_listening():
    host = Host()
    heard: list[tuple[str, bool]] = []
    stop = host.watch_listening(lambda name, listening: heard.append((name, listening)))
    assert ("post_save", False) in heard
    assert not any(listening for _, listening in heard)
    heard.clear()

    plugin = types.SimpleNamespace(post_save=hookimpl(lambda sender: None))
    second = types.SimpleNamespace(post_save=hookimpl(lambda instance: None))
    host.register(plugin, "first")
    host.register(second, "second")  # post_save was listening already
    host.unregister("first")
    host.unregister("second")
    assert heard == [("post_save", True), ("post_save", False)]

    heard.clear()
    stop()
    host.register(plugin, "first")
    assert heard == []


def test_a_host_can_leave_the_runtimes_built_in_plugins_out():
    host = Host(HostConfig(autoload=False, builtin_plugins=False))
    host.load_plugins()
    assert host.plugins() == []
    with_builtins = Host(HostConfig(autoload=False))
    with_builtins.load_plugins()
    assert [record.name for record in with_builtins.plugins()] == ["hosthooks.last-login"]
