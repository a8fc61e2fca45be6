"""The benchmarks stay runnable: one round each, checking what they report (not how fast)."""

from __future__ import annotations

import json

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
