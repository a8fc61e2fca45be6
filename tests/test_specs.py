"""The hookspecs: exactly Django's 19 built-in signals, each documented argument by argument."""

from __future__ import annotations

import inspect
import re

import pytest

from hosthooks import Host
from hosthooks import specs

DJANGO_SIGNALS = {
    "pre_save",
    "post_save",
    "pre_delete",
    "post_delete",
    "m2m_changed",
    "pre_init",
    "post_init",
    "class_prepared",
    "user_logged_in",
    "user_logged_out",
    "user_login_failed",
    "request_started",
    "request_finished",
    "got_request_exception",
    "pre_migrate",
    "post_migrate",
    "setting_changed",
    "template_rendered",
    "connection_created",
}

ALL_SPECS = [
    (family, name, getattr(module, name))
    for family, module in specs.FAMILIES.items()
    for name in specs.hook_names(module)
]


def test_the_hooks_are_djangos_built_in_signals_and_hosthooks_own_bulk_hooks():
    names = [name for family, name, _ in ALL_SPECS if family not in specs.OWN_FAMILIES]
    assert len(names) == len(set(names)) == 19
    assert set(names) == DJANGO_SIGNALS
    own = [name for family, name, _ in ALL_SPECS if family in specs.OWN_FAMILIES]
    assert own == [
        "pre_bulk_create",
        "post_bulk_create",
        "pre_bulk_update",
        "post_bulk_update",
        "pre_queryset_update",
        "post_queryset_update",
        "pre_queryset_delete",
        "post_queryset_delete",
    ]
    assert not set(own) & DJANGO_SIGNALS


def test_a_host_declares_every_spec():
    host = Host()
    for _, name, _ in ALL_SPECS:
        assert getattr(host.plugin_manager.hook, name).spec is not None


@pytest.mark.parametrize(
    ("family", "name", "function"), ALL_SPECS, ids=[n for _, n, _ in ALL_SPECS]
)
def test_every_argument_is_documented_and_annotated(family, name, function):
    doc = inspect.getdoc(function)
    assert doc, name
    summary = doc.splitlines()[0]
    assert summary.endswith("."), f"{name}: summary line {summary!r}"
    parameters = list(inspect.signature(function).parameters.values())
    assert parameters[0].name == "sender", f"{name}: sender must come first"
    documented = re.findall(r"^:param (\w+):", doc, flags=re.MULTILINE)
    assert documented == [p.name for p in parameters], f"{name}: one :param: per argument, in order"
    for parameter in parameters:
        assert parameter.annotation is not inspect.Parameter.empty, f"{name}.{parameter.name}"
    assert inspect.signature(function).return_annotation in ("None", None)


@pytest.mark.parametrize(
    ("family", "name", "function"), ALL_SPECS, ids=[n for _, n, _ in ALL_SPECS]
)
def test_no_argument_that_pluggy_would_silently_drop(family, name, function):
    for parameter in inspect.signature(function).parameters.values():
        assert parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, (
            f"{name}.{parameter.name} is {parameter.kind.description}: pluggy never passes it"
        )


def test_only_class_prepared_is_historic_and_none_is_firstresult():
    host = Host()
    for _, name, _ in ALL_SPECS:
        caller = getattr(host.plugin_manager.hook, name)
        assert caller.is_historic() == (name == "class_prepared")
        assert not caller.spec.opts.get("firstresult")


def test_conditional_migrate_arguments_have_defaults():
    host = Host()
    for name in ("pre_migrate", "post_migrate"):
        spec = getattr(host.plugin_manager.hook, name).spec
        assert spec.argnames == ("sender", "app_config", "verbosity", "interactive", "using")
        assert spec.kwargdefaults == {"apps": None, "plan": None, "stdout": None}


def test_family_of_names_each_hooks_family():
    assert specs.family_of("m2m_changed") == "models"
    assert specs.family_of("user_login_failed") == "auth"
    assert specs.family_of("got_request_exception") == "requests"
    assert specs.family_of("post_migrate") == "management"
    assert specs.family_of("connection_created") == "other"
    assert specs.family_of("no_such_hook") is None


def test_specs_import_nothing_of_the_runtime():
    for module in specs.FAMILIES.values():
        source = inspect.getsource(module)
        assert "runtime" not in re.findall(r"^(?:from|import) (\S+)", source, flags=re.MULTILINE)
        assert not re.search(r"^(?:from|import) hosthooks\.runtime", source, flags=re.MULTILINE)
