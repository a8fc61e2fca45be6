"""Deferred calls and hosthooks.on_commit inside the real test project
(tests/djangoproject), one process per scenario."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.test_django_bridge import project_environ

pytest.importorskip("django")

REPO = Path(__file__).resolve().parent.parent


def run_scenario(tmp_path: Path, name: str, hosthooks: dict[str, Any]) -> Any:
    result = subprocess.run(
        [sys.executable, "-m", "tests.djangoproject.deferred_scenarios", name],
        cwd=REPO,
        env=project_environ(tmp_path, hosthooks),
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_a_django_instance_travels_as_a_snapshot_through_the_outbox(tmp_path):
    # Before: every save raised "cannot travel" after its row was written.
    report = run_scenario(tmp_path, "deferred_eager", {"autoload": False, "queue_backend": "eager"})
    assert report["runs_inside_the_transaction"] == 0
    assert report["rows_inside_the_transaction"] == 1  # written on Django's connection
    first, second = report["runs"]
    assert first == {
        "sender": "library.Author",
        "label": "library.Author",
        "pk": first["pk"],
        "name": "Ursula",
        "loaded": "Ursula",  # .load() reads the row, on Django's connection
        "created": True,
        "attempt": 1,
        "in_atomic": False,
    }
    assert second["name"] == second["loaded"] == "Ursula K."
    assert second["created"] is False
    assert report["states"] == ["done", "done"]  # nothing for the rolled-back write


def test_on_commit_follows_djangos_transaction_after_the_runtime_is_imported(tmp_path):
    # Before: importing the runtime after ready() took over the one commit handler,
    # and callbacks ran at once, for rolled-back transactions too.
    report = run_scenario(tmp_path, "on_commit_after_runtime_import", {"autoload": False})
    assert report == {"ran_inside": [], "ran": ["committed"]}
