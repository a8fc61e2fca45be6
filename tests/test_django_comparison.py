"""The same scenario on Django's ORM and on hosthooks' runtime: the same hooks, call by call."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hosthooks import hookimpl
from hosthooks.runtime import Database
from hosthooks.runtime import migrate
from tests.comparison import scenario
from tests.comparison.models import MODELS
from tests.comparison.models import Author
from tests.comparison.models import Book
from tests.comparison.models import Tag

REPO = Path(__file__).resolve().parent.parent


class NormalisingRecorder:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []


def _recording(hook: str) -> Any:
    def implementation(self: NormalisingRecorder, **arguments: Any) -> None:
        self.records.append(scenario.normalise(hook, arguments))

    return implementation


def _make_impl(hook: str, argnames: tuple[str, ...]) -> Any:
    # pluggy passes the arguments an implementation names, so name them all.
    namespace: dict[str, Any] = {"record": _recording(hook)}
    exec(
        f"def {hook}(self, {', '.join(argnames)}):\n"
        f"    record(self, {', '.join(f'{name}={name}' for name in argnames)})\n",
        namespace,
    )
    return hookimpl(namespace[hook])


@pytest.fixture(scope="module")
def django_records() -> list[dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, "-m", "tests.comparison.run_django"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    records: list[dict[str, Any]] = json.loads(result.stdout)
    return records


@pytest.fixture
def our_records(tmp_path, default_host) -> list[dict[str, Any]]:
    database = Database(tmp_path / "comparison.sqlite3")
    migrate(database, models=MODELS, verbosity=0)
    recorder = NormalisingRecorder()
    for hook in scenario.HOOKS:
        spec = getattr(default_host.plugin_manager.hook, hook).spec
        setattr(NormalisingRecorder, hook, _make_impl(hook, (*spec.argnames, *spec.kwargnames)))
    default_host.register(recorder)
    scenario.run(Author, Tag, Book, lambda name: recorder.records.append({"step": name}))
    database.close()
    return recorder.records


def by_step(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    steps: dict[str, list[dict[str, Any]]] = {}
    current = None
    for record in records:
        if "step" in record:
            current = record["step"]
            steps[current] = []
        else:
            assert current is not None
            steps[current].append(record)
    return steps


def test_every_step_fires_what_django_sends(django_records, our_records):
    theirs, ours = by_step(django_records), by_step(our_records)
    assert list(ours) == list(theirs)
    for step in theirs:
        assert ours[step] == theirs[step], step


def test_the_comparison_covers_every_model_hook(django_records):
    assert {record.get("hook") for record in django_records} - {None} == set(scenario.HOOKS)
