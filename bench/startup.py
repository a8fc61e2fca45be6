"""What hosthooks costs before it does anything: command start-up beside
``pytest --version``, resident memory beside ``import pluggy``, and discovery of
N installed plugins beside pluggy's own entry-point loader.

Whole processes are timed, interleaved round by round; medians and ratios of
medians are printed. Run with the environment's interpreter:
``python -m bench.startup [--rounds N] [--plugins 100,500] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.timing import format_table
from bench.timing import parse_arguments

BIN = Path(sys.executable).parent

#: Prints the peak resident memory, in KiB, after the statement ran.
_PEAK_MEMORY = (
    "import resource; {statement}; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
)

#: Prints the seconds discovery took, in a process whose path holds N generated plugins.
_DISCOVER_HOSTHOOKS = """
import time
started = time.perf_counter()
import hosthooks
host = hosthooks.get_host()
elapsed = time.perf_counter() - started
assert sum(record.name.startswith("bench-") for record in host.plugins()) == {count}
print(elapsed)
"""
_DISCOVER_PLUGGY = """
import time
started = time.perf_counter()
import pluggy
manager = pluggy.PluginManager("hosthooks")
loaded = manager.load_setuptools_entrypoints("hosthooks")
elapsed = time.perf_counter() - started
assert sum(name.startswith("bench-") for name, _ in manager.list_name_plugin()) == {count}
print(elapsed)
"""


def _run(command: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.strip()[-500:]}")
    return result


def wall_seconds(command: list[str]) -> float:
    started = time.perf_counter()
    _run(command)
    return time.perf_counter() - started


def start_up(rounds: int) -> dict[str, float]:
    """Median seconds of each command, interleaved."""
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "pytest --version": [str(BIN / "pytest"), "--version"],
        "hosthooks --version": [str(BIN / "hosthooks"), "--version"],
        "hosthooks plugins --json": [str(BIN / "hosthooks"), "plugins", "--json"],
        "hosthooks hooks": [str(BIN / "hosthooks"), "hooks"],
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, command in commands.items():
            samples[name].append(wall_seconds(command))
    return {name: statistics.median(values) for name, values in samples.items()}


def peak_memory_kib(statement: str) -> int:
    output = _run([sys.executable, "-c", _PEAK_MEMORY.format(statement=statement)]).stdout
    return int(output.strip().splitlines()[-1])


def make_plugins(site: Path, count: int) -> None:
    """``count`` installed distributions, each a module with one implementation
    and one ``hosthooks`` entry point, as pip would leave them."""
    for index in range(count):
        name = f"bench_plugin_{index}"
        (site / f"{name}.py").write_text(
            "from hosthooks import hookimpl\n\n@hookimpl\ndef post_save(sender):\n    pass\n"
        )
        info = site / f"bench_plugin_{index}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: bench-plugin-{index}\nVersion: 1.0\n"
        )
        (info / "entry_points.txt").write_text(f"[hosthooks]\nbench-{index} = {name}\n")


def discovery(count: int, rounds: int) -> dict[str, float]:
    """Median seconds to discover and register ``count`` plugins: hosthooks, pluggy."""
    with tempfile.TemporaryDirectory() as directory:
        site = Path(directory)
        make_plugins(site, count)
        env = {"PYTHONPATH": str(site), "HOSTHOOKS_CONFIG": str(site / "none.toml")}
        (site / "none.toml").write_text("")
        scripts = {
            "hosthooks": _DISCOVER_HOSTHOOKS.format(count=count),
            "pluggy": _DISCOVER_PLUGGY.format(count=count),
        }
        samples: dict[str, list[float]] = {name: [] for name in scripts}
        for _ in range(rounds):
            for name, script in scripts.items():
                output = _run([sys.executable, "-c", script], env=env).stdout
                samples[name].append(float(output.strip().splitlines()[-1]))
        return {name: statistics.median(values) for name, values in samples.items()}


def _extend(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--plugins",
        default="100,500",
        help="comma-separated plugin counts for the discovery rows (default 100,500)",
    )


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(__doc__ or "", argv, default_rounds=9, extend=_extend)
    counts = [int(part) for part in arguments.plugins.split(",") if part.strip()]
    timings = start_up(arguments.rounds)
    pytest_version = timings["pytest --version"]
    memory = {
        "import pluggy": peak_memory_kib("import pluggy"),
        "import hosthooks; get_host()": peak_memory_kib("import hosthooks; hosthooks.get_host()"),
    }
    scaling = {count: discovery(count, max(1, arguments.rounds // 3)) for count in counts}
    report = {
        "start_up_seconds": timings,
        "start_up_vs_pytest_version": {
            name: value / pytest_version for name, value in timings.items()
        },
        "peak_memory_kib": memory,
        "memory_vs_pluggy": memory["import hosthooks; get_host()"] / memory["import pluggy"],
        "discovery_seconds": {str(count): value for count, value in scaling.items()},
        "discovery_vs_pluggy": {
            str(count): value["hosthooks"] / value["pluggy"] for count, value in scaling.items()
        },
        "discovery_per_plugin_ms": {
            str(count): value["hosthooks"] / count * 1000 for count, value in scaling.items()
        },
    }
    if arguments.json:
        print(json.dumps(report, indent=2))
        return 0
    rows = [
        [name, f"{value * 1000:.1f}", f"{value / pytest_version:.2f}"]
        for name, value in timings.items()
    ]
    print(format_table(["command", "median ms", "x pytest --version"], rows))
    print()
    print(
        format_table(
            ["process", "peak RSS KiB"], [[name, str(value)] for name, value in memory.items()]
        )
    )
    print(f"memory: hosthooks / pluggy = {report['memory_vs_pluggy']:.2f}")
    print()
    rows = [
        [
            str(count),
            f"{value['hosthooks'] * 1000:.1f}",
            f"{value['pluggy'] * 1000:.1f}",
            f"{value['hosthooks'] / value['pluggy']:.2f}",
            f"{value['hosthooks'] / count * 1000:.3f}",
        ]
        for count, value in scaling.items()
    ]
    print(
        format_table(["plugins", "hosthooks ms", "pluggy ms", "ratio", "hosthooks ms/plugin"], rows)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
