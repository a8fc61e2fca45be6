"""The benchmarks stay runnable: one round each, checking what they report (not how fast)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench import dispatch


def test_dispatch_benchmark_reports_every_contender_and_ratio(capsys):
    assert dispatch.main(["--rounds", "1", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [result["implementations"] for result in results] == [0, 1, 5, 20]
    for result in results:
        assert set(result["median_ns"]) == {"hosthooks", "pluggy", "django", "direct"}
        assert all(value > 0 for value in result["median_ns"].values())
        assert result["hosthooks_vs_django"] > 0
    assert results[0]["hosthooks_vs_direct"] is None


def test_save_benchmark_reports_every_contender_and_ratio():
    # A subprocess: the benchmark configures Django's settings, once per process.
    repo = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-m", "bench.save", "--rounds", "1", "--json"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report["median_us"]) == {"raw", "hosthooks", "hosthooks+5", "django"}
    assert all(value > 0 for value in report["median_us"].values())
    assert report["hosthooks_vs_raw"] > 0


def test_web_benchmark_reports_every_contender_and_ratio():
    repo = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-m", "bench.web", "--rounds", "1", "--json"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report["median_us"]) == {"hosthooks", "django", "django-bare"}
    assert report["hosthooks_vs_django"] > 0
