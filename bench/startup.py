"""What hosthooks costs before it does anything: command start-up beside
``pytest --version``, resident memory beside ``import pluggy``, and discovery of
N installed plugins beside pluggy's own entry-point loader (in the process, and
as whole ``hosthooks plugins --json`` processes beside one running pluggy's loader).

Whole processes are timed, interleaved round by round; medians and ratios of
medians are printed, each beside its goal. The cost per plugin is the marginal
one, (t(N) - t(0)) / N: what one more plugin costs, without the fixed cost of
starting. hosthooks and the example plugins are byte-compiled first, as
``pip install`` leaves an installed package, so that no contender pays for
compiling its source (pytest and pluggy are installed, compiled). Run with the
environment's interpreter:
``python -m bench.startup [--rounds N] [--plugins 100,500] [--json]``.
"""

from __future__ import annotations

import argparse
import compileall
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.timing import format_table
from bench.timing import parse_arguments

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parent.parent

#: Each goal: the report's key path, and the ratio it must not exceed.
GOALS: dict[str, tuple[tuple[str, ...], float]] = {
    "hosthooks --version vs pytest --version": (
        ("start_up_vs_pytest_version", "hosthooks --version"),
        0.6,
    ),
    "hosthooks plugins --json vs pytest --version": (
        ("start_up_vs_pytest_version", "hosthooks plugins --json"),
        0.8,
    ),
    "hosthooks hooks vs pytest --version": (
        ("start_up_vs_pytest_version", "hosthooks hooks"),
        0.8,
    ),
    "memory: get_host() vs import pluggy": (("memory_vs_pluggy",), 1.3),
}

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


def compile_sources() -> None:
    """Byte-compile hosthooks and the example plugins, as installing them would."""
    for folder in (REPO / "hosthooks", REPO / "plugins"):
        compileall.compile_dir(folder, quiet=2)


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
    """Median seconds with ``count`` plugins installed: ``hosthooks`` (import and
    ``get_host()``) and ``pluggy`` (import and its loader), each measured inside
    its process; ``hosthooks plugins --json`` and ``pluggy process`` (importing
    pluggy and running its loader), each a whole process."""
    with tempfile.TemporaryDirectory() as directory:
        site = Path(directory)
        make_plugins(site, count)
        compileall.compile_dir(site, quiet=2)
        env = {
            "PATH": str(BIN),
            "PYTHONPATH": str(site),
            "HOSTHOOKS_CONFIG": str(site / "none.toml"),
        }
        (site / "none.toml").write_text("")
        scripts = {
            "hosthooks": _DISCOVER_HOSTHOOKS.format(count=count),
            "pluggy": _DISCOVER_PLUGGY.format(count=count),
        }
        processes = {
            "hosthooks plugins --json": [str(BIN / "hosthooks"), "plugins", "--json"],
            "pluggy process": [sys.executable, "-c", _DISCOVER_PLUGGY.format(count=count)],
        }
        samples: dict[str, list[float]] = {name: [] for name in [*scripts, *processes]}
        for _ in range(rounds):
            for name, script in scripts.items():
                output = _run([sys.executable, "-c", script], env=env).stdout
                samples[name].append(float(output.strip().splitlines()[-1]))
            for name, command in processes.items():
                started = time.perf_counter()
                _run(command, env=env)
                samples[name].append(time.perf_counter() - started)
        return {name: statistics.median(values) for name, values in samples.items()}


def _per_plugin_ms(scaling: dict[int, dict[str, float]], count: int, name: str) -> float | None:
    """What one more plugin costs ``name``: the marginal milliseconds, over no plugins."""
    if count == 0 or 0 not in scaling:
        return None
    return (scaling[count][name] - scaling[0][name]) / count * 1000


def _lookup(report: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = report
    for key in path:
        value = value[key]
    return value


def goals(report: dict[str, Any], counts: list[int]) -> list[dict[str, Any]]:
    """Each goal with its measured ratio, the limit, and whether it is met."""
    rows = [
        {"goal": name, "ratio": _lookup(report, path), "limit": limit}
        for name, (path, limit) in GOALS.items()
    ]
    largest = str(max(counts))
    if int(largest) > 0:
        rows.append(
            {
                "goal": f"get_host() vs pluggy's loader, {largest} plugins",
                "ratio": report["discovery_vs_pluggy"][largest],
                "limit": 1.1,
            }
        )
        rows.append(
            {
                "goal": f"plugins --json vs pluggy loader process, {largest} plugins",
                "ratio": report["plugins_json_vs_pluggy_process"][largest],
                "limit": 1.3,
            }
        )
    per_plugin = report["discovery_per_plugin_ms"]
    measured = sorted(int(count) for count, value in per_plugin.items() if value is not None)
    if len(measured) >= 2:
        low, high = str(measured[0]), str(measured[-1])
        rows.append(
            {
                "goal": f"per-plugin cost at {high} vs at {low}",
                "ratio": per_plugin[high]["hosthooks"] / per_plugin[low]["hosthooks"],
                "limit": 1.1,
            }
        )
    for row in rows:
        row["met"] = row["ratio"] <= row["limit"]
    return rows


def _extend(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--plugins",
        default="0,100,500",
        help="comma-separated plugin counts for the discovery rows (default 0,100,500; "
        "with 0, each count's cost per plugin is its marginal cost over none)",
    )


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(__doc__ or "", argv, default_rounds=9, extend=_extend)
    counts = [int(part) for part in arguments.plugins.split(",") if part.strip()]
    compile_sources()
    timings = start_up(arguments.rounds)
    pytest_version = timings["pytest --version"]
    memory = {
        "import pluggy": peak_memory_kib("import pluggy"),
        "import hosthooks; get_host()": peak_memory_kib("import hosthooks; hosthooks.get_host()"),
    }
    # As many rounds as the commands: a cost per plugin is a difference of two
    # medians, and noise in either shows in it undivided.
    scaling = {count: discovery(count, arguments.rounds) for count in counts}
    report: dict[str, Any] = {
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
            str(count): {
                name: _per_plugin_ms(scaling, count, name) for name in ("hosthooks", "pluggy")
            }
            if count
            else None
            for count in scaling
        },
        "plugins_json_vs_pluggy_process": {
            str(count): value["hosthooks plugins --json"] / value["pluggy process"]
            for count, value in scaling.items()
        },
    }
    report["goals"] = goals(report, counts) if counts else []
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
    rows = []
    for count, value in scaling.items():
        per_plugin = report["discovery_per_plugin_ms"][str(count)]
        rows.append(
            [
                str(count),
                f"{value['hosthooks'] * 1000:.1f}",
                f"{value['pluggy'] * 1000:.1f}",
                f"{value['hosthooks'] / value['pluggy']:.2f}",
                "-" if per_plugin is None else f"{per_plugin['hosthooks']:.3f}",
                "-" if per_plugin is None else f"{per_plugin['pluggy']:.3f}",
                f"{value['hosthooks plugins --json'] * 1000:.1f}",
                f"{value['pluggy process'] * 1000:.1f}",
                f"{value['hosthooks plugins --json'] / value['pluggy process']:.2f}",
            ]
        )
    header = [
        "plugins",
        "get_host ms",
        "pluggy ms",
        "ratio",
        "ms/plugin",
        "pluggy ms/plugin",
        "plugins --json ms",
        "pluggy process ms",
        "ratio",
    ]
    print(format_table(header, rows))
    print()
    print(
        format_table(
            ["goal", "ratio", "limit", ""],
            [
                [
                    row["goal"],
                    f"{row['ratio']:.2f}",
                    f"{row['limit']:.2f}",
                    "met" if row["met"] else f"missed by {row['ratio'] / row['limit'] - 1:.0%}",
                ]
                for row in report["goals"]
            ],
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
