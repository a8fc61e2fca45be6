"""``hosthooks install`` and ``uninstall``: pip in hosthooks' own environment, then
what changed among the plugins.

The plugins are listed before and after by a fresh interpreter: entry points
are read once per process, and a module pip replaced cannot be re-imported in
the process that already imported it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import Final

#: Lists plugins as ``hosthooks plugins --all --json`` does, in a fresh interpreter.
_LIST_PLUGINS: Final = "from hosthooks.cli import main; main(['plugins', '--all', '--json'])"


class PipFailed(Exception):
    """pip exited non-zero; the message is its last error line."""


@dataclass(frozen=True)
class Change:
    """What became of one plugin: ``added``, ``removed`` or ``changed`` (status or version)."""

    kind: str
    name: str
    dist: str | None
    version: str | None
    status: str | None
    error: str | None

    def __str__(self) -> str:
        where = f" ({self.dist} {self.version})" if self.dist else ""
        if self.kind == "removed":
            return f"removed: {self.name}{where}"
        error = f": {self.error}" if self.error else ""
        return f"{self.kind}: {self.name}{where} {self.status}{error}"


def list_plugins() -> dict[str, dict[str, Any]]:
    """Every plugin a fresh host in this environment would see, by name.

    :raises RuntimeError: when the listing itself fails (its last line says why).
    """
    result = subprocess.run(
        [sys.executable, "-c", _LIST_PLUGINS],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or ["no output"]
        raise RuntimeError(f"listing the plugins failed: {lines[-1]}")
    return {plugin["name"]: plugin for plugin in json.loads(result.stdout)}


def run_pip(arguments: Sequence[str]) -> None:
    """``python -m pip ARGUMENTS`` in this interpreter's environment, its output
    shown on stderr as it comes (stdout is left for what changed).

    :raises PipFailed: when pip exits non-zero, with its last ``ERROR:`` line
        (or its last line when none says ERROR).
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "pip", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        sys.stderr.write(line)
        if line.strip():
            lines.append(line.strip())
    code = process.wait()
    if code != 0:
        errors = [line for line in lines if line.startswith("ERROR:")]
        last = (errors or lines or [f"pip exited with status {code}"])[-1]
        raise PipFailed(last)


def changes(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> list[Change]:
    """The plugins added, removed, or changed in status or version, by name."""
    found = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if new is None:
            assert old is not None
            found.append(_change("removed", name, old))
        elif old is None:
            found.append(_change("added", name, new))
        elif (old["status"], old["version"]) != (new["status"], new["version"]):
            found.append(_change("changed", name, new))
    return found


def _change(kind: str, name: str, plugin: dict[str, Any]) -> Change:
    return Change(kind, name, plugin["dist"], plugin["version"], plugin["status"], plugin["error"])
