"""The judge's test runner: Django's ``DiscoverRunner``, which also writes each
test's outcome and, when both listened, how their streams compare, as JSON to
``HOSTHOOKS_JUDGE_REPORT``."""

from __future__ import annotations

import json
import os
import unittest
from typing import Any

from django.test.runner import DiscoverRunner

from tests.django_judge import streams

#: Each test's outcome by its id: passed, failed, skipped, expected-failure.
outcomes: dict[str, str] = {}


def _set(test: Any, outcome: str) -> None:
    if outcomes.get(test.id()) != "failed":
        outcomes[test.id()] = outcome


class JudgeResult(unittest.TextTestResult):
    """A text result that also keeps each test's outcome."""

    def addSuccess(self, test: Any) -> None:
        super().addSuccess(test)
        _set(test, "passed")

    def addError(self, test: Any, err: Any) -> None:
        super().addError(test, err)
        _set(test, "failed")

    def addFailure(self, test: Any, err: Any) -> None:
        super().addFailure(test, err)
        _set(test, "failed")

    def addSubTest(self, test: Any, subtest: Any, err: Any) -> None:
        super().addSubTest(test, subtest, err)
        if err is not None:
            _set(test, "failed")

    def addSkip(self, test: Any, reason: str) -> None:
        super().addSkip(test, reason)
        _set(test, "skipped")

    def addExpectedFailure(self, test: Any, err: Any) -> None:
        super().addExpectedFailure(test, err)
        _set(test, "expected-failure")

    def addUnexpectedSuccess(self, test: Any) -> None:
        super().addUnexpectedSuccess(test)
        _set(test, "failed")


class JudgeRunner(DiscoverRunner):  # type: ignore[misc]
    def get_resultclass(self) -> type[unittest.TextTestResult]:
        return JudgeResult

    def run_tests(self, test_labels: Any, **kwargs: Any) -> int:
        failures: int = super().run_tests(test_labels, **kwargs)
        control, plugin = streams.events["control"], streams.events["plugin"]
        report: dict[str, Any] = {
            "outcomes": outcomes,
            "heard": {
                listener: sorted({event[0] for event in heard})
                for listener, heard in streams.events.items()
            },
            "disagreements": streams.disagreements,
        }
        if control and plugin:
            report["streams"] = streams.compare(control, plugin)
        if os.environ.get("HOSTHOOKS_JUDGE_EVENTS"):
            report["events"] = streams.events
        with open(os.environ["HOSTHOOKS_JUDGE_REPORT"], "w", encoding="utf-8") as file:
            json.dump(report, file)
        return failures
