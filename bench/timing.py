"""Interleaved timing rounds and ratio tables shared by the benchmarks.

Machines are shared and noisy: every contender is timed once per round, rounds
are interleaved, and only medians and ratios of medians are reported.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence

#: A contender: ``run(loops)`` makes ``loops`` calls; it may return seconds of
#: its own time not to count (work of another kind done meanwhile).
Run = Callable[[int], float | None]


def per_call_ns(run: Run, loops: int) -> float:
    """Nanoseconds per call of ``run(loops)``, which makes ``loops`` calls."""
    started = time.perf_counter_ns()
    left_out = run(loops) or 0.0
    return (time.perf_counter_ns() - started - left_out * 1e9) / loops


def calibrate(run: Run, target_seconds: float = 0.02) -> int:
    """A loop count that makes one timing last about ``target_seconds``."""
    loops = 100
    while True:
        started = time.perf_counter()
        run(loops)
        elapsed = time.perf_counter() - started
        if elapsed >= target_seconds / 4 or loops >= 10_000_000:
            return max(100, int(loops * target_seconds / max(elapsed, 1e-9)))
        loops *= 4


def interleaved_medians(contenders: Mapping[str, Run], rounds: int) -> dict[str, float]:
    """Median nanoseconds per call of each contender over ``rounds`` interleaved rounds."""
    loops = {name: calibrate(run) for name, run in contenders.items()}
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            samples[name].append(per_call_ns(run, loops[name]))
    return {name: statistics.median(values) for name, values in samples.items()}


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[col]) for row in [header, *rows]) for col in range(len(header))]
    lines = []
    for row in [header, *rows]:
        lines.append("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
    return "\n".join(lines)


def parse_arguments(
    description: str,
    argv: list[str] | None,
    default_rounds: int,
    extend: Callable[[argparse.ArgumentParser], None] | None = None,
) -> argparse.Namespace:
    """``--rounds N`` and ``--json``, the options every benchmark takes (and ``extend``'s)."""
    parser = argparse.ArgumentParser(description=description)
    if extend is not None:
        extend(parser)
    parser.add_argument(
        "--rounds",
        type=int,
        default=default_rounds,
        help=f"interleaved rounds (default {default_rounds})",
    )
    parser.add_argument("--json", action="store_true", help="print JSON only")
    arguments = parser.parse_args(argv)
    if arguments.rounds < 1:
        parser.error("--rounds must be at least 1")
    return arguments
