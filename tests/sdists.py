"""Test suites shipped in sdists (pluggy's ``testing/``, Django's ``tests/``),
fetched once per version with ``pip download --no-binary :all:`` and kept under
the user's cache directory, outside the repository.

When the package index cannot be reached the test asking is skipped with the
reason, unless ``HOSTHOOKS_REQUIRE_SERVICES=1``, which makes it a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest


def cache_directory(project: str, version: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hosthooks" / f"{project}-{version}"


def unavailable(reason: str) -> None:
    if os.environ.get("HOSTHOOKS_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (HOSTHOOKS_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def fetch_sdist_directory(project: str, version: str, directory: str, marker: str) -> Path:
    """``directory`` of ``project``'s sdist at ``version``, downloaded and unpacked
    once; ``marker`` is a file in it whose presence says the copy is whole."""
    target = cache_directory(project, version) / directory
    if (target / marker).is_file():
        return target
    with tempfile.TemporaryDirectory() as scratch:
        download = subprocess.run(
            [
                *(sys.executable, "-m", "pip", "download", "--no-binary", ":all:"),
                *("--no-deps", "--disable-pip-version-check"),
                *(f"{project}=={version}", "--dest", scratch),
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        archives = [
            path
            for path in Path(scratch).glob("*.tar.gz")
            if path.name.lower() == f"{project}-{version}.tar.gz"
        ]
        if download.returncode != 0 or not archives:
            last_line = (download.stderr.strip().splitlines() or ["no output"])[-1]
            unavailable(f"cannot download {project} {version}'s sdist: {last_line}")
        unpacked = Path(scratch) / "unpacked"
        with tarfile.open(archives[0]) as archive:
            # The "data" filter (refusing links and paths out of the directory)
            # exists from Python 3.10.12 on.
            if hasattr(tarfile, "data_filter"):
                archive.extractall(unpacked, filter="data")
            else:  # pragma: no cover
                archive.extractall(unpacked)
        [root] = unpacked.iterdir()
        cache_directory(project, version).mkdir(parents=True, exist_ok=True)
        staged = Path(tempfile.mkdtemp(dir=cache_directory(project, version)))
        shutil.move(root / directory, staged / directory)
        # A rename, so that a concurrent run never sees half a directory.
        try:
            (staged / directory).rename(target)
        except OSError:
            if not (target / marker).is_file():
                raise
        shutil.rmtree(staged, ignore_errors=True)
    return target
