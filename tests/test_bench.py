"""The benchmarks stay runnable: one round each, checking what they report (not how fast)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import dispatch
from tests.services import POSTGRESQL_PORT
from tests.services import need_service


def run_benchmark(*arguments: str) -> Any:
    """``python -m ARGUMENTS`` from the repository, in a process of its own (several
    benchmarks configure Django's settings, once per process): its JSON report."""
    repo = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, *arguments],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_dispatch_benchmark_reports_every_contender_and_ratio(capsys):
    assert dispatch.main(["--rounds", "1", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    results = printed["sync"]
    assert [result["implementations"] for result in results] == [0, 1, 5, 20]
    for result in results:
        assert set(result["median_ns"]) == {
            "hosthooks",
            "hosthooks-filtered",
            "pluggy",
            "django",
            "direct",
            "unrolled",
        }
        assert all(value > 0 for value in result["median_ns"].values())
        assert result["hosthooks_vs_django"] > 0
    assert results[0]["hosthooks_vs_direct"] is None
    assert results[0]["hosthooks_vs_unrolled"] is None
    assert all(result["hosthooks_vs_unrolled"] > 0 for result in results[1:])
    async_results = printed["async"]
    assert [result["implementations"] for result in async_results] == [1, 5, 20]
    for result in async_results:
        assert set(result["median_ns"]) == {
            "ahook",
            "awaited",
            "awaited-kw",
            "asend",
            "ahook-sync",
            "hook-sync",
        }
        assert all(value > 0 for value in result["median_ns"].values())
        for ratio in (
            "ahook_vs_awaited",
            "ahook_vs_awaited_kw",
            "ahook_vs_asend",
            "ahook_sync_vs_hook_sync",
        ):
            assert result[ratio] > 0


def test_dispatch_benchmark_measures_only_the_rows_asked_for(capsys):
    assert dispatch.main(["--rounds", "1", "--only", "async", "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"async"}


@pytest.mark.parametrize(
    ("module", "contenders", "ratio"),
    [
        ("bench.save", {"raw", "hosthooks", "hosthooks+5", "django"}, "hosthooks_vs_raw"),
        (
            "bench.web",
            {"hosthooks", "django", "django-bare", "hosthooks+console", "demo", "demo+console"},
            "hosthooks_vs_django",
        ),
    ],
)
def test_django_configuring_benchmarks_report_every_contender_and_ratio(module, contenders, ratio):
    # A subprocess each: these benchmarks configure Django's settings, once per process.
    report = run_benchmark("-m", module, "--rounds", "1", "--json")
    assert set(report["median_us"]) == contenders
    assert all(value > 0 for value in report["median_us"].values())
    assert report[ratio] > 0


def test_model_layer_benchmark_reports_every_case_contender_and_goal():
    # A subprocess: it configures Django's settings, once per process.
    report = run_benchmark(
        *("-m", "bench.model_layer", "--rounds", "1", "--rows", "200", "--pairs", "20"), "--json"
    )
    assert (report["rows"], report["pairs"], report["rounds"]) == (200, 20, 1)
    assert list(report["cases"]) == [
        "save-in-atomic",
        "bulk",
        "m2m-add-single",
        "m2m-add-many",
        "load-0",
        "load-3",
    ]
    for name, case in report["cases"].items():
        assert set(case["median_us"]) == {"raw", "hosthooks", "django"}
        assert all(value > 0 for value in case["median_us"].values())
        assert case["hosthooks_vs_raw"] > 0
        assert case["hosthooks_vs_django"] > 0
        if name == "bulk":
            assert (case["goal"], case["met"]) == (None, None)
        else:
            assert case["goal"].startswith("hosthooks_vs_")
            assert isinstance(case["met"], bool)


def test_model_layer_benchmark_on_postgresql_reports_every_case_and_contender():
    need_service("PostgreSQL", POSTGRESQL_PORT)
    report = run_benchmark(
        *("-m", "bench.model_layer_postgresql", "--rounds", "1", "--rows", "50"),
        *("--pairs", "10", "--json"),
    )
    assert (report["rows"], report["pairs"], report["rounds"]) == (50, 10, 1)
    assert list(report["cases"]) == [
        "save-in-atomic",
        "bulk",
        "m2m-add-single",
        "m2m-add-many",
        "load-0",
        "load-3",
    ]
    for case in report["cases"].values():
        assert set(case["median_us"]) == {"raw", "hosthooks", "django"}
        assert all(value > 0 for value in case["median_us"].values())
        # The SQLite goals do not carry over to a server's round trips.
        assert (case["goal"], case["met"]) == (None, None)


def test_django_bridge_benchmark_reports_every_contender_and_ratio():
    # A subprocess: the benchmark configures Django's settings, once per process.
    report = run_benchmark("-m", "bench.django_bridge", "--rounds", "1", "--json")
    assert set(report["median_ns"]) == {
        "bridge",
        "django",
        "bridge-none",
        "django-none",
        "bridge-unnamed",
        "django-unnamed",
    }
    assert all(value > 0 for value in report["median_ns"].values())
    assert report["bridge_vs_django"] > 0
    assert report["none_vs_django_none"] > 0
    assert report["unnamed_vs_django_unnamed"] > 0


def test_startup_benchmark_reports_commands_memory_discovery_and_goals():
    report = run_benchmark("-m", "bench.startup", "--rounds", "1", "--plugins", "0,3", "--json")
    assert set(report["start_up_seconds"]) == {
        "python -c pass",
        "pytest --version",
        "hosthooks --version",
        "hosthooks plugins --json",
        "hosthooks hooks",
    }
    assert report["start_up_vs_pytest_version"]["pytest --version"] == 1.0
    assert set(report["peak_memory_kib"]) == {"import pluggy", "import hosthooks; get_host()"}
    assert report["memory_vs_pluggy"] > 0
    # Each run discovers the generated plugins (the scripts assert the count).
    assert set(report["discovery_seconds"]["3"]) == {
        "hosthooks",
        "pluggy",
        "hosthooks plugins --json",
        "pluggy process",
    }
    assert report["discovery_vs_pluggy"]["3"] > 0
    assert report["plugins_json_vs_pluggy_process"]["3"] > 0
    assert report["discovery_per_plugin_ms"]["0"] is None
    assert set(report["discovery_per_plugin_ms"]["3"]) == {"hosthooks", "pluggy"}
    goals = {goal["goal"]: goal for goal in report["goals"]}
    assert set(goals) == {
        "hosthooks --version vs pytest --version",
        "hosthooks plugins --json vs pytest --version",
        "hosthooks hooks vs pytest --version",
        "memory: get_host() vs import pluggy",
        "get_host() vs pluggy's loader, 3 plugins",
        "plugins --json vs pluggy loader process, 3 plugins",
    }
    assert all(goal["met"] == (goal["ratio"] <= goal["limit"]) for goal in goals.values())


def test_deferred_benchmark_reports_caller_cost_and_worker_throughput():
    from tests.services import REDIS_PORT
    from tests.services import need_service

    need_service("Redis", REDIS_PORT)
    report = run_benchmark(
        "-m",
        "bench.deferred",
        "--rounds",
        "1",
        "--calls",
        "10",
        "--relay-rows",
        "200",
        "--e2e-calls",
        "40",
        "--purge-rows",
        "500",
        "--json",
    )
    assert set(report["save_us"]) >= {"sqlite"}
    for costs in report["save_us"].values():
        assert set(costs) == {"plain", "deferred", "on_commit send_task"}
    assert set(report["deferred_vs_send_on_commit"]) == set(report["save_us"])
    assert report["relay_rows_per_second"] > 0
    # Every one of the 40 calls ran with two workers (the benchmark raises when
    # any is missing), at some positive rate.
    assert report["end_to_end_runs_per_second_two_workers"] > 0
    # 500 done rows past the kept window purged, the 100 within it kept.
    assert report["purge"]["purged"] == 500
    assert (report["purge"]["beyond_window"], report["purge"]["kept"]) == (0, 100)


def test_bulk_hooks_benchmark_reports_every_case_contender_and_ratio():
    report = run_benchmark("-m", "bench.bulk_hooks", "--rounds", "1", "--rows", "50", "--json")
    assert list(report) == ["bulk_create", "update", "delete"]
    for case in report.values():
        assert set(case["ns_per_row"]) == {"django", "hosthooks", "hooked", "hooked+pks"}
        assert all(value > 0 for value in case["ns_per_row"].values())
        ratios = ("hooked_vs_hosthooks", "pks_vs_hooked", "hosthooks_vs_django", "hooked_vs_django")
        assert all(case[ratio] > 0 for ratio in ratios)


def test_otel_benchmark_reports_every_contender_and_ratio():
    report = run_benchmark("-m", "bench.otel", "--rounds", "1", "--json")
    assert list(report) == ["1", "5", "denied"]
    denied = report.pop("denied")
    assert set(denied["ns_per_call"]) == {"off", "on"}
    assert all(value > 0 for value in denied["ns_per_call"].values())
    assert denied["on_vs_off"] > 0
    for entry in report.values():
        assert set(entry["ns_per_call"]) == {"untraced", "noop", "sdk"}
        assert all(value > 0 for value in entry["ns_per_call"].values())
        assert set(entry["ns_per_implementation_above_untraced"]) == {"noop", "sdk"}
        assert entry["noop_vs_untraced"] > 0
        assert entry["sdk_vs_untraced"] > 0
