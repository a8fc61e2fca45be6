"""The same scenario on Django's ORM and on hosthooks' runtime: the same hooks, call by call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hosthooks.runtime import Database
from hosthooks.runtime import migrate
from tests.comparison import scenario
from tests.comparison.models import MODELS
from tests.comparison.models import Author
from tests.comparison.models import Book
from tests.comparison.models import Tag
from tests.conftest import Recorder
from tests.databases import scratch_postgresql_database

REPO = Path(__file__).resolve().parent.parent


class NormalisingRecorder(Recorder):
    """Keeps each model hook call in the normal form compared with Django's, taken
    as the call happens (a pk is set by save and cleared by delete afterwards)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[dict[str, Any]] = []

    def record(self, hook: str, arguments: dict[str, Any]) -> None:
        if hook in scenario.HOOKS:
            self.records.append(scenario.normalise(hook, arguments))


def run_django(database_url: str | None) -> list[dict[str, Any]]:
    environment = dict(os.environ)
    if database_url is not None:
        environment["COMPARISON_DATABASE_URL"] = database_url
    result = subprocess.run(
        [sys.executable, "-m", "tests.comparison.run_django"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env=environment,
    )
    assert result.returncode == 0, result.stderr
    records: list[dict[str, Any]] = json.loads(result.stdout)
    return records


@pytest.fixture(scope="module")
def django_records_on_sqlite() -> list[dict[str, Any]]:
    return run_django(None)


@pytest.fixture(scope="module")
def django_records_on_postgresql(postgresql_url) -> list[dict[str, Any]]:
    # A database of Django's own: both ORMs name their tables alike.
    with scratch_postgresql_database("django") as url:
        return run_django(url)


@pytest.fixture
def django_records(request, database_location) -> list[dict[str, Any]]:
    """What Django sends for the scenario on the same backend as ``our_records``'."""
    vendor = "postgresql" if database_location.startswith("postgresql://") else "sqlite"
    records: list[dict[str, Any]] = request.getfixturevalue(f"django_records_on_{vendor}")
    return records


@pytest.fixture
def our_records(database_location, default_host) -> list[dict[str, Any]]:
    database = Database(database_location)
    migrate(database, models=MODELS, verbosity=0)
    recorder = NormalisingRecorder()
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
