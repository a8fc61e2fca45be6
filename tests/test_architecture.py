"""The rules of the house hold: the import contracts of ``[tool.importlinter]`` in
pyproject.toml are kept, and each one reports a deliberately wrong import by name;
the map of the house (docs/architecture.md) names every contract, and every module
it names exists."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final

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


# -- circles ------------------------------------------------------------------------

#: The model layer's modules know each other, as an ORM's do (a model's manager
#: makes querysets of models, a deletion collects models, a database asks the
#: model registry): the one circle the house keeps.
ORM: Final = frozenset(
    {
        "hosthooks.runtime.db",
        "hosthooks.runtime.deletion",
        "hosthooks.runtime.models",
        "hosthooks.runtime.queries",
        "hosthooks.runtime.relations",
    }
)


#: Prints each group of modules of the package on the path that import one another.
_CIRCLES = """
import json
import grimp

graph = grimp.build_graph("hosthooks", exclude_type_checking_imports=True, cache_dir=None)
circles, left = [], set(graph.modules)
while left:
    module = min(left)
    group = {module} | {
        other
        for other in graph.find_downstream_modules(module)
        if graph.chain_exists(importer=module, imported=other)
    }
    left -= group
    if len(group) > 1:
        circles.append(sorted(group))
print(json.dumps(circles))
"""


def import_circles(root: Path) -> list[list[str]]:
    """Each group of modules of the package under ``root`` that import one another,
    directly or not, counting imports inside functions as lint-imports does (not
    those made only for type checking)."""
    found = subprocess.run(
        [sys.executable, "-c", _CIRCLES],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    circles: list[list[str]] = json.loads(found.stdout)
    return circles


def test_no_import_circle_but_the_models():
    circles = [circle for circle in import_circles(REPO) if not set(circle) <= ORM]
    assert circles == [], f"modules that import one another: {circles}"
    assert any(set(circle) <= ORM for circle in import_circles(REPO))


def test_a_circle_closed_inside_a_function_is_found(tmp_path):
    shutil.copytree(
        REPO / "hosthooks", tmp_path / "hosthooks", ignore=shutil.ignore_patterns("__pycache__")
    )
    (tmp_path / "hosthooks" / "deferred" / "events.py").write_text(
        "def late() -> None:\n    from hosthooks.deferred import relay\n"
    )
    assert ["hosthooks.deferred.events", "hosthooks.deferred.relay"] in import_circles(tmp_path)


# -- the map: docs/architecture.md -------------------------------------------------

MAP = REPO / "docs" / "architecture.md"
#: A path in the package: hosthooks/engine/callers.py, hosthooks/runtime/ ...
PACKAGE_PATH = re.compile(r"(?<![\w.])hosthooks(?:/[\w.]+)+/?")
#: A file named by a shorter path, relative to the wing the text is about: deletion.py,
#: engine/ordering.py, tests/databases.py.
SHORT_PATH = re.compile(r"(?<![\w./])(?!hosthooks/)(?:[\w.]+/)*\w+\.py\b")
#: A dotted name: a module (hosthooks.cli), a name a module defines (hosthooks.on_commit),
#: or module:name as the host imports by name (hosthooks.deferred.runner:prepare).
DOTTED_NAME = re.compile(r"(?<![\w/.])hosthooks(?:\.\w+)+(?::\w+)?")


def module_file(dotted: str) -> Path | None:
    base = REPO.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def defined_names(source: Path) -> set[str]:
    """The names a module defines at its top level, and those its ``__all__`` lists."""
    names: set[str] = set()
    for node in ast.parse(source.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(target.id for target in targets if isinstance(target, ast.Name))
            if any(isinstance(target, ast.Name) and target.id == "__all__" for target in targets):
                assert node.value is not None
                names.update(ast.literal_eval(node.value))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def name_exists(dotted: str) -> bool:
    module, _, attribute = dotted.partition(":")
    source = module_file(module)
    if source is None:
        # Not a module: then a name its parent module defines (hosthooks.on_commit).
        if attribute:
            return False
        module, _, attribute = module.rpartition(".")
        source = module_file(module)
        if source is None:
            return False
    return not attribute or attribute in defined_names(source)


def test_the_map_names_every_import_contract():
    text = " ".join(MAP.read_text(encoding="utf-8").split())
    missing = [name for name in contract_names() if name not in text]
    assert missing == [], f"docs/architecture.md does not name these contracts: {missing}"


def test_every_path_the_map_names_exists():
    text = MAP.read_text(encoding="utf-8")
    named = {match.rstrip(".") for match in PACKAGE_PATH.findall(text)}
    assert len(named) >= 30, sorted(named)
    missing = sorted(path for path in named if not (REPO / path).exists())
    assert missing == [], f"docs/architecture.md names paths that do not exist: {missing}"


def test_every_short_path_the_map_names_is_a_file_of_the_repository():
    text = MAP.read_text(encoding="utf-8")
    files = [
        path.relative_to(REPO).as_posix()
        for folder in (REPO / "hosthooks", REPO / "tests")
        for path in folder.rglob("*.py")
    ]
    named = set(SHORT_PATH.findall(text))
    assert {"deletion.py", "engine/ordering.py", "tests/databases.py"} <= named
    missing = sorted(
        short for short in named if not any(f"/{file}".endswith(f"/{short}") for file in files)
    )
    assert missing == [], f"docs/architecture.md names files that do not exist: {missing}"


def test_every_dotted_name_the_map_names_exists():
    named = set(DOTTED_NAME.findall(MAP.read_text(encoding="utf-8")))
    assert {"hosthooks.cli", "hosthooks.on_commit", "hosthooks.deferred.runner:prepare"} <= named
    missing = sorted(name for name in named if not name_exists(name))
    assert missing == [], (
        f"docs/architecture.md names modules or names that do not exist: {missing}"
    )


@pytest.mark.parametrize(
    ("dotted", "exists"),
    [
        ("hosthooks.engine.plans", True),
        ("hosthooks.engine", True),
        ("hosthooks.on_commit", True),
        ("hosthooks.deferred.runner:prepare", True),
        ("hosthooks.engine.planz", False),
        ("hosthooks.no_such_name", False),
        ("hosthooks.deferred.runner:no_such_name", False),
        ("hosthooks.no_such_module:prepare", False),
    ],
)
def test_a_name_the_map_could_name_is_judged_by_the_tree(dotted, exists):
    assert name_exists(dotted) is exists


def test_the_readme_links_the_map():
    assert "(docs/architecture.md)" in (REPO / "README.md").read_text(encoding="utf-8")
