"""The keys post_queryset_update and post_queryset_delete get inside Django, on SQLite
and PostgreSQL: returned by Django's own statements (RETURNING), so each operation
costs the queries it costs without hosthooks, and agree with what Django returned;
where the database cannot return them, one SELECT first."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.test_django_bridge import REPO
from tests.test_django_bridge import project_environ

pytest.importorskip("django")


def _scenario(tmp_path: Path, backend: str) -> dict[str, Any]:
    env = project_environ(tmp_path, {"autoload": False, "bulk_hooks": True})

    def run() -> dict[str, Any]:
        result = subprocess.run(
            [sys.executable, "-m", "tests.djangoproject.bulk_key_scenarios", "keys"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=240,
        )
        assert result.returncode == 0, result.stderr
        report: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
        return report

    if backend == "sqlite":
        return run()
    from tests.databases import scratch_postgresql_database
    from tests.services import POSTGRESQL_PORT
    from tests.services import need_service

    need_service("PostgreSQL", POSTGRESQL_PORT)
    with scratch_postgresql_database("bulk_keys") as url:
        env["PROJECT_POSTGRESQL_DB"] = url.rsplit("/", 1)[1]
        return run()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def report(request, tmp_path_factory) -> dict[str, Any]:
    found = _scenario(tmp_path_factory.mktemp(request.param), request.param)
    assert found["vendor"] == request.param
    return found


def _expected(made: dict[str, list[str]]) -> dict[str, tuple[list[str], int, list[str]]]:
    """Each case's keys, count and key types."""
    books, restaurants, tickets = made["books"], made["restaurants"], made["tickets"]
    return {
        "update": ([books[0]], 1, ["int"]),
        "update joined": (sorted(books), 3, ["int"]),
        "update expression": (sorted(books), 3, ["int"]),
        "update none": ([], 0, []),
        "update child and parent fields": (sorted(restaurants), 2, ["int"]),
        "update parent fields only": (sorted(restaurants), 2, ["int"]),
        "delete fast": (sorted(tickets[:2]), 2, ["UUID"]),
        "delete fast joined": (tickets[2:], 1, ["UUID"]),
        # Terry, his book and his ticket.
        "delete cascading": (made["terry"], 3, ["int"]),
        # Not the children the roots took with them.
        "delete cascading into its own table": (sorted(made["nodes"]), 4, ["int"]),
        # The restaurant's row, and its place's.
        "delete child": (restaurants[1:], 2, ["int"]),
        "delete none": ([], 0, []),
    }


def _every_case(report: dict[str, Any]) -> set[str]:
    """The cases :func:`_expected` knows, after checking each run reported each of
    them: a comparison over the cases reported checks nothing of a case left out."""
    cases = set(_expected(report["plain"]["update"]["made"]))
    for mode in ("plain", "keys", "selected"):
        assert set(report[mode]) == cases, mode
    return cases


@pytest.mark.parametrize("mode", ["keys", "selected"])
def test_the_keys_are_the_rows_changed_and_agree_with_djangos_count(report, mode):
    _every_case(report)
    for case, seen in report[mode].items():
        keys, count, types = _expected(seen["made"])[case]
        assert seen["result"] == count, case
        assert seen["result"] == report["plain"][case]["result"], case
        [heard] = seen["heard"]
        assert heard[1:] == [keys, count, types], case


def test_the_keys_cost_no_query_of_their_own(report):
    _every_case(report)
    assert {case: seen["queries"] for case, seen in report["keys"].items()} == {
        case: seen["queries"] for case, seen in report["plain"].items()
    }


def test_where_the_database_cannot_return_them_the_keys_cost_one_select(report):
    _every_case(report)
    plain, selected = report["plain"], report["selected"]
    # Nothing to select where Django knows nothing matches before asking.
    assert {case: selected[case]["queries"] - plain[case]["queries"] for case in plain} == {
        case: 0 if case == "update none" else 1 for case in plain
    }
