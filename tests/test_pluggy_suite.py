"""pluggy's own test suite, with every plugin manager a hosthooks host's.

The suite ships in pluggy's sdist (``testing/``), fetched once for the
installed pluggy by :mod:`tests.sdists`.

It runs, unedited, in a pytest subprocess with ``tests/pluggy_bridge.py``,
which makes ``pluggy.PluginManager`` a host's plugin manager, in two modes:
``routed`` (``pm.hook`` holds pluggy ``HookCaller`` objects whose calls run
``host.hook``'s plans) and ``shared`` (``pm.hook`` is ``host.hook``).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from tests.sdists import fetch_sdist_directory

REPOSITORY = Path(__file__).resolve().parent.parent
PLUGGY_VERSION = importlib.metadata.version("pluggy")

#: pluggy tests left out, each with the reason. Only a test relying on pluggy's
#: private methods in a way a host's plugin manager cannot honour may be here.
EXCLUDED: dict[str, str] = {}


def fetch_pluggy_tests() -> Path:
    """pluggy's ``testing/`` directory for the installed version, downloaded once."""
    return fetch_sdist_directory("pluggy", PLUGGY_VERSION, "testing", "conftest.py")


@pytest.fixture(scope="module")
def pluggy_tests() -> Path:
    return fetch_pluggy_tests()


@pytest.fixture(scope="module")
def collected(pluggy_tests: Path) -> int:
    """How many tests pytest collects from pluggy's suite on its own, without hosthooks."""
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", pluggy_tests.name, "--collect-only", "-q"),
            *("-p", "no:cacheprovider", "-c", os.devnull, "--rootdir", str(pluggy_tests.parent)),
        ],
        cwd=pluggy_tests.parent,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    summary = result.stdout.strip().splitlines()[-1]
    assert " tests collected in " in summary, result.stdout
    return int(summary.split()[0])


def run_suite(testing: Path, mode: str, scratch: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Run pluggy's suite in ``mode``: (outcome counts, what the bridge reported)."""
    junit, report = scratch / f"{mode}.xml", scratch / f"{mode}.json"
    environ = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPOSITORY), os.environ.get("PYTHONPATH", "")]),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "HOSTHOOKS_PLUGGY_MODE": mode,
        "HOSTHOOKS_PLUGGY_REPORT": str(report),
    }
    deselected = [f"--deselect={testing.name}/{test}" for test in EXCLUDED]
    # pluggy's own configuration (tox.ini [pytest]) turns warnings into errors.
    command = [
        sys.executable,
        "-m",
        "pytest",
        testing.name,
        "-p",
        "tests.pluggy_bridge",
        "-p",
        "no:cacheprovider",
        "-W",
        "error",
        "-c",
        os.devnull,
        "--rootdir",
        str(testing.parent),
        f"--junitxml={junit}",
        "-q",
        *deselected,
    ]
    result = subprocess.run(
        command,
        cwd=testing.parent,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert junit.is_file(), result.stdout + result.stderr
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None
    counts = {key: int(suite.get(key, "0")) for key in ("tests", "failures", "errors", "skipped")}
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    return counts, json.loads(report.read_text())


@pytest.mark.parametrize("mode", ["routed", "shared"])
def test_pluggys_suite_passes_through_hosthooks_hosts(pluggy_tests, collected, tmp_path, mode):
    counts, bridge = run_suite(pluggy_tests, mode, tmp_path)
    print(f"pluggy {PLUGGY_VERSION} suite, {mode}: {counts}, {bridge['hosts']} hosts")
    assert counts["failures"] == counts["errors"] == counts["skipped"] == 0
    # Every test pluggy ships ran, less the ones excluded above.
    assert counts["tests"] == collected - len(EXCLUDED)
    # Most tests make a plugin manager (136 of 219 in 1.7.0): each was a host's.
    assert bridge["mode"] == mode
    assert bridge["hosts"] >= 100
