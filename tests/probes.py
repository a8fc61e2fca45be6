"""Probes: a few lines of Python run by a fresh interpreter of this environment,
for what only a new process shows (which modules an import pulls in)."""

from __future__ import annotations

import subprocess
import sys


def run_probe(source: str) -> subprocess.CompletedProcess[str]:
    """``source`` run by ``python -c`` in this directory and environment; its output as text."""
    return subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, check=False, timeout=120
    )
