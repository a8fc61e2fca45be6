"""Public import paths stay where users found them: every name of ``hosthooks``,
``hosthooks.runtime`` and ``hosthooks.deferred``, the Django app, the pytest
plugin's entry point, the console script, and every ``from hosthooks... import``
the README shows."""

from __future__ import annotations

import importlib
import re
from importlib.metadata import entry_points
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PUBLIC_PACKAGES = ["hosthooks", "hosthooks.runtime", "hosthooks.deferred"]


@pytest.mark.parametrize("package", PUBLIC_PACKAGES)
def test_every_public_name_imports_from_its_package(package):
    module = importlib.import_module(package)
    for name in module.__all__:
        value = getattr(module, name)
        assert value is not None, f"{package}.{name}"
        assert getattr(importlib.import_module(package), name) is value


def readme_imports() -> list[tuple[str, str]]:
    text = (REPO / "README.md").read_text()
    found: list[tuple[str, str]] = []
    for module, names in re.findall(r"^from (hosthooks[\w.]*) import ([\w, ]+)$", text, re.M):
        found.extend((module, name.strip()) for name in names.split(","))
    return sorted(set(found))


def test_the_readme_shows_imports_to_check():
    modules = {module for module, _ in readme_imports()}
    assert {"hosthooks", "hosthooks.runtime", "hosthooks.deferred"} <= modules


@pytest.mark.parametrize(("module", "name"), readme_imports())
def test_every_import_the_readme_shows_works(module, name):
    assert hasattr(importlib.import_module(module), name), f"from {module} import {name}"


def test_the_pytest_plugin_and_the_console_script_resolve():
    [pytest_point] = [p for p in entry_points(group="pytest11") if p.name == "hosthooks"]
    assert hasattr(pytest_point.load(), "hosthooks_host")
    [script] = [p for p in entry_points(group="console_scripts") if p.name == "hosthooks"]
    assert callable(script.load())


def test_the_django_app_is_where_installed_apps_names_it():
    apps = importlib.import_module("hosthooks.django.apps")
    config_classes = [
        value
        for value in vars(apps).values()
        if isinstance(value, type) and getattr(value, "name", None) == "hosthooks.django"
    ]
    assert len(config_classes) == 1
