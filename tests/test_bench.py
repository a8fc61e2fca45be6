"""The benchmarks stay runnable: one round each, checking what they report (not how fast)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import dispatch


def test_dispatch_benchmark_reports_every_contender_and_ratio(capsys):
    assert dispatch.main(["--rounds", "1", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [result["implementations"] for result in results] == [0, 1, 5, 20]
    for result in results:
        assert set(result["median_ns"]) == {
            "hosthooks",
            "hosthooks-filtered",
            "pluggy",
            "django",
            "direct",
        }
        assert all(value > 0 for value in result["median_ns"].values())
        assert result["hosthooks_vs_django"] > 0
    assert results[0]["hosthooks_vs_direct"] is None


@pytest.mark.parametrize(
    ("module", "contenders", "ratio"),
    [
        ("bench.save", {"raw", "hosthooks", "hosthooks+5", "django"}, "hosthooks_vs_raw"),
        ("bench.web", {"hosthooks", "django", "django-bare"}, "hosthooks_vs_django"),
    ],
)
def test_django_configuring_benchmarks_report_every_contender_and_ratio(module, contenders, ratio):
    # A subprocess each: these benchmarks configure Django's settings, once per process.
    repo = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-m", module, "--rounds", "1", "--json"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report["median_us"]) == contenders
    assert all(value > 0 for value in report["median_us"].values())
    assert report[ratio] > 0
