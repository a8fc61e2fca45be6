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
from hosthooks.configuration.files import load_configuration
from hosthooks.configuration.keys import ConfigError
from hosthooks.configuration.keys import Origin


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


def test_a_forwarder_passes_djangos_arguments_on_by_name_minus_signal():
    from hosthooks.django.bridge import make_forwarder

    host = Host()
    heard: list[dict[str, object]] = []

    class Plugin:
        @hookimpl
        def post_save(self, sender: object, instance: object, update_fields: object) -> str:
            heard.append({"sender": sender, "instance": instance, "update_fields": update_fields})
            return "saved"

    host.register(Plugin())
    forward = make_forwarder("post_save", host.hook.post_save)
    instance, fields = object(), frozenset({"title"})
    sent = {"instance": instance, "created": False, "raw": False, "using": "default"}
    assert forward(signal=object(), sender=DjangoLikeModel, update_fields=fields, **sent) == [
        "saved"
    ]
    # An argument the hook does not know is passed on, as a direct call would.
    assert forward(signal=None, sender=DjangoLikeModel, update_fields=None, later=1, **sent) == [
        "saved"
    ]
    assert heard[0]["instance"] is instance
    assert heard[0]["update_fields"] is fields
    assert heard[1]["update_fields"] is None
    assert forward.__name__ == "forward_post_save"
    assert forward.__module__ == "hosthooks.django.bridge"


def test_what_django_leaves_out_reaches_plugins_as_the_specs_default_without_a_warning():
    import warnings

    from hosthooks.django.bridge import make_forwarder

    host = Host()
    heard: list[tuple[object, ...]] = []

    def post_migrate(sender: object, interactive: object, using: object, plan: object) -> None:
        heard.append((sender, interactive, using, plan))

    host.register(types.SimpleNamespace(post_migrate=hookimpl(post_migrate)), "partial")
    forward = make_forwarder("post_migrate", host.hook.post_migrate)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # As Django's own sites tests send it: no interactive, using, plan.
        forward(signal=None, sender="sites", app_config="sites", verbosity=0)
        forward(signal=None, sender="sites", app_config="sites", verbosity=0, using="other")
    assert heard == [("sites", None, None, None), ("sites", None, "other", None)]


def test_a_plugin_raising_through_a_forwarder_is_named_in_a_note():
    from hosthooks.django.bridge import make_forwarder

    host = Host()

    def refuse(sender: object) -> None:
        raise PermissionError("read-only")

    host.register(types.SimpleNamespace(pre_save=hookimpl(refuse)), "guard")
    forward = make_forwarder("pre_save", host.hook.pre_save)
    with pytest.raises(PermissionError) as raised:
        forward(
            signal=None,
            sender=DjangoLikeModel,
            instance=None,
            raw=False,
            using="default",
            update_fields=None,
        )
    assert getattr(raised.value, "__notes__", None) == [
        "raised by plugin 'guard' in hook 'pre_save'"
    ]


def _imported_modules(path: Path) -> set[str]:
    import ast

    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            imported.add(node.module)
    return imported


def test_the_bridge_imports_nothing_of_the_runtime_and_nothing_imports_the_bridge():
    package = Path(__file__).resolve().parent.parent / "hosthooks"
    for path in sorted(package.rglob("*.py")):
        imported = _imported_modules(path)
        in_bridge = path.is_relative_to(package / "django")
        if in_bridge:
            assert not {name for name in imported if name.startswith("hosthooks.runtime")}, path
        else:
            assert not {name for name in imported if name.startswith("hosthooks.django")}, path


def test_djangos_raw_for_m2m_changed_reaches_plugins_and_its_default_when_left_out():
    import warnings

    from hosthooks.django.bridge import make_forwarder

    host = Host()
    heard: list[tuple[str, object]] = []

    def m2m_changed(action: str, raw: object) -> None:
        heard.append((action, raw))

    host.register(types.SimpleNamespace(m2m_changed=hookimpl(m2m_changed)), "fixtures")
    forward = make_forwarder("m2m_changed", host.hook.m2m_changed)
    sent = {"instance": None, "reverse": False, "model": None, "pk_set": {1}, "using": "default"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Django 6.1 sends raw (True while loading a fixture); Django 5.2 does not.
        forward(signal=None, sender=DjangoLikeModel, action="post_add", raw=True, **sent)
        forward(signal=None, sender=DjangoLikeModel, action="pre_add", **sent)
    assert heard == [("post_add", True), ("pre_add", False)]
