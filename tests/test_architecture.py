"""The rules of the house hold: the import contracts of ``[tool.importlinter]`` in
pyproject.toml are kept, and each one reports a deliberately wrong import by name."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10 reads TOML with the tomli backport
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def contract_names() -> list[str]:
    table = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    return [contract["name"] for contract in table["contracts"]]


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_every_import_contract_is_kept():
    checked = lint_imports(REPO)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for name in contract_names():
        assert f"{name} KEPT" in checked.stdout


# One wrong arrow per contract: (contract, module written into a copy of the
# package, its source). Function-level imports count, as the second case shows.
WRONG_IMPORTS = [
    (
        "The wings stand in layers: a wing imports only the wings below it",
        "loading/wrong_arrow.py",
        "from hosthooks import report\n",
    ),
    (
        "Specs and markers are leaves: they import nothing of hosthooks but each other",
        "specs/wrong_arrow.py",
        "def late() -> None:\n    from hosthooks.engine import tracing\n",
    ),
    (
        "The call engine knows pluggy, not the runtime, the CLI or Django",
        "engine/wrong_arrow.py",
        "from hosthooks.runtime import db\n",
    ),
    (
        "The Host never imports the runtime, the CLI, deferred/ or Django",
        "loading/wrong_arrow.py",
        "def late() -> None:\n    from hosthooks.deferred import events\n",
    ),
    (
        "The runtime never imports the CLI or Django",
        "runtime/wrong_arrow.py",
        "from hosthooks import cli\n",
    ),
    (
        "The runtime reaches the call engine through the Host, but for tracing",
        "runtime/wrong_arrow.py",
        "from hosthooks.engine import plans\n",
    ),
    (
        "The Django bridge never imports the runtime",
        "django/wrong_arrow.py",
        "from hosthooks.runtime import db\n",
    ),
    (
        "deferred/ never imports the Django bridge",
        "deferred/wrong_arrow.py",
        "from hosthooks.django import bridge\n",
    ),
    (
        "Only the CLI's entry point imports the commands",
        "authoring/wrong_arrow.py",
        "from hosthooks.commands import listing\n",
    ),
]


def test_every_contract_has_a_wrong_import_that_breaks_it():
    assert sorted(name for name, _, _ in WRONG_IMPORTS) == sorted(contract_names())


@pytest.mark.parametrize(("contract", "module", "source"), WRONG_IMPORTS)
def test_a_wrong_import_is_reported_with_the_contract_name(tmp_path, contract, module, source):
    shutil.copytree(
        REPO / "hosthooks", tmp_path / "hosthooks", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "hosthooks" / module).write_text(source)

    checked = lint_imports(tmp_path)

    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert f"{contract} BROKEN" in checked.stdout
    wrong_module = "hosthooks." + module.removesuffix(".py").replace("/", ".")
    assert wrong_module in checked.stdout
