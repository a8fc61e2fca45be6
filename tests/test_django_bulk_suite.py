"""Django's own tests of bulk_create, bulk_update, update() and delete() judge the
bulk hooks inside Django (``HOSTHOOKS = {"bulk_hooks": True}``): run unmodified
with Django's ``runtests.py`` on SQLite, without hosthooks (``plain``) and with the
app, the setting and a plugin implementing all eight hooks (``bulk``; keys
included: ``bulk_pks``). Every test passing plain passes with the hooks, fast
deletes included: the hooks connect no receiver to Django's per-row delete
signals. Where a plugin names ``pks``, Django's own UPDATE and DELETE statements
return the keys (``RETURNING``), so the tests counting queries pass too, and
every key list agrees with the count Django returned."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hosthooks.specs import bulk
from hosthooks.specs import hook_names
from tests.sdists import fetch_sdist_directory
from tests.test_django_suite import run_django_tests

django = pytest.importorskip("django")

REPOSITORY = Path(__file__).resolve().parent.parent
LABELS = ("bulk_create", "update", "queries.test_bulk_update", "delete", "delete_regress")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, dict[str, Any]]:
    tests = fetch_sdist_directory("django", django.__version__, "tests", "runtests.py")
    site = tmp_path_factory.mktemp("bulk-site")
    info = site / "hosthooks_judge_bulk-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: hosthooks-judge-bulk\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(
        "[hosthooks]\njudge-bulk = tests.django_judge.bulk_recorder\n"
    )
    scratch = tmp_path_factory.mktemp("bulk-judge")
    reports = {}
    for mode in ("plain", "bulk", "bulk_pks"):
        reports[mode] = run_django_tests(
            tests, site, mode, scratch, settings="tests.django_judge.bulk_settings", labels=LABELS
        )
    return reports


def _with(report: dict[str, Any], outcome: str) -> set[str]:
    return {test for test, seen in report["outcomes"].items() if seen == outcome}


#: Django's tests that cannot pass while a plugin listens, and why. From Django 6.1 a
#: bulk_create of one batch outside any transaction opens none, and this test counts
#: its statements expecting the INSERT alone. With the hooks listening, pre_bulk_create,
#: the INSERT and post_bulk_create share one transaction (a pre_ hook that raises must
#: leave nothing written; post_ hooks run inside the write's transaction, as post_save
#: does), and SQLite's BEGIN is a statement Django counts. Django 5.2 has no such test.
NEEDS_ITS_TRANSACTION = [
    "bulk_create.tests.BulkCreateTransactionTests.test_no_unnecessary_transaction",
]


def test_every_test_passing_plain_passes_with_the_bulk_hooks(runs):
    passed = _with(runs["plain"], "passed")
    assert len(passed) > 150  # the run ran: 183 with Django 5.2
    expected = sorted(passed & set(NEEDS_ITS_TRANSACTION))
    assert sorted(passed - _with(runs["bulk"], "passed")) == expected


def test_with_the_keys_the_tests_counting_queries_pass_too(runs):
    passed = _with(runs["plain"], "passed")
    expected = sorted(passed & set(NEEDS_ITS_TRANSACTION))
    assert sorted(passed - _with(runs["bulk_pks"], "passed")) == expected


def test_the_keys_agree_with_the_counts_django_returned(runs):
    assert runs["bulk_pks"]["disagreements"] == []


def test_the_plugin_heard_every_bulk_and_queryset_hook(runs):
    assert runs["bulk"]["heard"]["plugin"] == sorted(hook_names(bulk))
    assert runs["bulk_pks"]["heard"]["plugin"] == sorted(hook_names(bulk))
    assert runs["plain"]["heard"]["plugin"] == []
