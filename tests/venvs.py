"""Throwaway virtual environments with hosthooks installed from its wheel, for
the tests that install plugins with pip and run their CLI for real."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def build_wheel(workspace: Path) -> Path:
    """Build hosthooks' wheel from a copy of this checkout; its path.

    Copied first: setuptools builds in the source tree and would leave build/ behind.
    """
    source = workspace / "source"
    # Links are copied as links: a checkout's venv links (or dangling ones) are not
    # the project's, and following them could loop.
    shutil.copytree(
        REPO,
        source,
        symlinks=True,
        ignore=shutil.ignore_patterns(
            ".venv*", ".nox", ".git", "*.egg-info", "build", ".*_cache", ".hypothesis"
        ),
    )
    wheels = workspace / "wheels"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(wheels),
            str(source),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    [wheel] = wheels.glob("hosthooks-*.whl")
    return wheel


class Venv:
    """A virtual environment at ``root``, and the commands the tests run in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = root / "bin"

    @classmethod
    def create(cls, root: Path, wheel: Path) -> Venv:
        """A fresh environment at ``root`` with hosthooks installed from ``wheel``."""
        subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, timeout=300)
        env = cls(root)
        env.pip_install(wheel)
        return env

    def run(self, *command: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """A command of this environment (``bin/<command[0]>``), without HOSTHOOKS_ variables."""
        environment = {k: v for k, v in os.environ.items() if not k.startswith("HOSTHOOKS_")}
        return subprocess.run(
            [str(self.bin / command[0]), *map(str, command[1:])],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
            env=environment,
        )

    def pip_install(self, *targets: str | Path, no_deps: bool = False) -> None:
        options = ["--no-deps"] if no_deps else []
        result = self.run(
            "python", "-m", "pip", "install", "--quiet", *options, *targets, timeout=600
        )
        assert result.returncode == 0, result.stderr[-4000:]

    def pip_uninstall(self, *names: str) -> None:
        result = self.run("python", "-m", "pip", "uninstall", "--yes", "--quiet", *names)
        assert result.returncode == 0, result.stderr[-4000:]

    def hosthooks(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run("hosthooks", *args, timeout=120)
