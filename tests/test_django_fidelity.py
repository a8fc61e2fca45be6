"""What Django's own test suite asks of the bridge, in the test project
(tests/djangoproject), one process per scenario: partial sends, receivers
narrowed to the senders plugins name, an app registry rebuilt under a running
host, and hosthooks' problems in Django's system checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import hosthooks
from tests.test_django_bridge import project_environ
from tests.test_django_bridge import run_scenario

pytest.importorskip("django")

REPO = Path(__file__).resolve().parent.parent
PROJECT = REPO / "tests" / "djangoproject"


def run_fidelity(tmp_path: Path, name: str, hosthooks: dict[str, Any]) -> Any:
    return run_scenario(tmp_path, name, hosthooks, module="tests.djangoproject.fidelity")


def test_partial_sends_reach_plugins_as_the_documented_defaults(tmp_path):
    # The project runs with warnings as errors: a warning would fail the send.
    report = run_fidelity(tmp_path, "partial_sends", {"autoload": False})
    assert report["heard"] == [
        ["setting_changed", "CACHES", None, False],
        ["post_migrate", "library", 0, None, None, None],
    ]
    # The receiver connected after the bridge's ran, and heard what Django sent.
    assert report["after_the_bridge"] == [["enter", "setting"], ["app_config", "verbosity"]]


@pytest.fixture(scope="module")
def narrowed(tmp_path_factory) -> Any:
    return run_fidelity(tmp_path_factory.mktemp("narrowed"), "narrowed", {"autoload": False})


def test_sender_filters_narrow_the_senders_django_sees(narrowed):
    report = narrowed
    assert report["listening"] == {
        "pre_delete Book": True,
        "pre_delete Author": False,
        "pre_delete Tag": False,
        "m2m_changed library.Tag_books": False,
        "m2m_changed django_app.Book_tags": True,
    }
    # A class and a label in a tuple: one receiver per model, in the plugin's order.
    assert report["receivers"] == {
        "pre_delete": ["library.Book"],
        "post_save": ["library.Book", "library.Author"],
        "m2m_changed": ["django_app.Book_tags"],
    }
    assert report["heard"] == [
        ["post_save", "library.Author"],
        ["post_save", "library.Book"],
        ["pre_delete", "library.Book", "Earthsea"],
    ]


def test_models_a_filter_does_not_name_keep_djangos_fast_paths(narrowed):
    report = narrowed
    # The tags' rows of the through table are deleted without being read first.
    assert report["tag_delete"] == [
        'SELECT "library_tag"."id", "library_tag"."name"',
        "BEGIN",
        'DELETE FROM "library_tag_books"',
        'DELETE FROM "library_tag"',
        "COMMIT",
    ]
    # Adding to a many-to-many relation inserts, ignoring conflicts, without a SELECT.
    assert report["m2m_add"] == ["BEGIN", "INSERT OR IGNORE", "COMMIT"]


def test_an_unfiltered_implementation_keeps_one_receiver_for_every_sender(narrowed):
    report = narrowed
    assert report["receivers_with_an_unfiltered_one"] == [None]
    assert report["listening_with_an_unfiltered_one"] == {
        "pre_delete Book": True,
        "pre_delete Author": True,
        "pre_delete Tag": True,
        "m2m_changed library.Tag_books": False,
        "m2m_changed django_app.Book_tags": True,
    }
    assert report["receivers_after"] == []


def run_rebuilt(tmp_path: Path, strict: bool) -> Any:
    settings = {
        "autoload": False,
        "strict_plugins": strict,
        "plugins_dir": str(PROJECT / "rebuild_plugins"),
    }
    return run_fidelity(tmp_path, "registry_rebuilt", settings)


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> Any:
    return run_rebuilt(tmp_path_factory.mktemp("rebuilt"), strict=False)


def test_each_model_is_prepared_once_for_plugins_across_registry_rebuilds(rebuilt):
    assert rebuilt["same_host"] is True
    assert rebuilt["prepared_more_than_once"] == []
    assert rebuilt["admin_prepared"] == 1
    assert rebuilt["prepared_as_django_did"] is True


def test_the_bridges_receivers_keep_their_place_across_registry_rebuilds(rebuilt):
    before = rebuilt["post_migrate_receivers_before"]
    # Django's own (auth's and contenttypes', more of them from Django 6), the
    # bridge's, then the receiver connected after it.
    assert before[-2:] == ["forward_post_migrate", "registry_rebuilt.<locals>.plain"]
    assert "create_contenttypes" in before
    assert rebuilt["post_migrate_receivers_during"] == before
    assert rebuilt["post_migrate_receivers_after"] == before


def test_a_label_of_an_app_joining_later_is_a_warning_until_it_joins(rebuilt):
    # Level 30: Django's WARNING.
    assert rebuilt["problems_before"] == [
        ["hosthooks.W001", 30, "post_save: sender 'admin.LogEntry' names no known model"]
    ]
    # Once the app joined, the label names its model, and the receiver is narrowed to it.
    assert rebuilt["problems_during"] == []
    assert rebuilt["post_save_senders_during"] == ["admin.LogEntry"]


def test_a_label_of_an_app_joining_later_is_a_checked_error_not_fatal_in_strict_mode(tmp_path):
    rebuilt = run_rebuilt(tmp_path, strict=True)
    # Strict mode: an error of Django's checks (level 40), not of ready().
    assert rebuilt["problems_before"] == [
        ["hosthooks.W001", 40, "post_save: sender 'admin.LogEntry' names no known model"]
    ]
    assert rebuilt["problems_during"] == []
    assert rebuilt["post_save_senders_during"] == ["admin.LogEntry"]


def manage_check(
    tmp_path: Path, hosthooks: dict[str, Any], *options: str, pythonpath: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = project_environ(tmp_path, hosthooks)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [sys.executable, "-m", "tests.djangoproject.manage", "check", *options],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


MISSPELT = (
    "misspelt: (hosthooks.W001) pre_save: sender 'library.Bok' names no known model"
    " (did you mean 'library.Book'?)"
)


def test_manage_check_reports_a_plugins_problem_once_as_a_warning(tmp_path):
    settings = {"autoload": False, "plugins_dir": str(PROJECT / "label_plugins")}
    result = manage_check(tmp_path, settings)
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "System check identified some issues:\n\nWARNINGS:\n"
        f"{MISSPELT}\n\nSystem check identified 1 issue (0 silenced).\n"
    )
    assert result.stdout == ""
    failing = manage_check(tmp_path, settings, "--fail-level", "WARNING")
    assert failing.returncode == 1
    assert failing.stderr.count("names no known model") == 1
    assert MISSPELT in failing.stderr.splitlines()


def test_under_strict_plugins_a_plugins_problem_fails_manage_check(tmp_path):
    settings = {
        "autoload": False,
        "strict_plugins": True,
        "plugins_dir": str(PROJECT / "label_plugins"),
    }
    result = manage_check(tmp_path, settings)
    assert result.returncode == 1
    assert result.stderr.splitlines()[:3] == [
        "SystemCheckError: System check identified some issues:",
        "",
        "ERRORS:",
    ]
    assert result.stderr.count("names no known model") == 1
    assert MISSPELT in result.stderr.splitlines()


def test_manage_check_reports_a_plugin_that_failed_to_load_as_an_error(tmp_path):
    settings = {"autoload": False, "plugins_dir": str(PROJECT / "broken_plugins")}
    result = manage_check(tmp_path, settings)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert "broken: (hosthooks.E001) RuntimeError: broken on purpose" in lines
    assert "\tHINT: 'manage.py hosthooks --traceback check' shows the plugin's traceback." in lines
    assert result.stderr.count("broken on purpose") == 1


def test_manage_check_reports_an_incompatible_plugin_as_an_error(tmp_path):
    # An installed distribution (metadata on sys.path) requiring a hosthooks to come.
    site = tmp_path / "site"
    info = site / "hosthooks_future-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: hosthooks-future\nVersion: 1.0\n"
        "Requires-Dist: hosthooks>=999\n"
    )
    (info / "entry_points.txt").write_text("[hosthooks]\nfuture = hosthooks_future\n")
    result = manage_check(tmp_path, {"load_plugins": ["future"]}, pythonpath=site)
    assert result.returncode == 1
    [line] = [line for line in result.stderr.splitlines() if "hosthooks.E002" in line]
    assert line == (
        "future: (hosthooks.E002) IncompatiblePlugin: requires hosthooks>=999,"
        f" but hosthooks {hosthooks.__version__} is installed"
    )
