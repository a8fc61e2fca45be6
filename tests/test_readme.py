"""The README is tested: every Python snippet runs, every TOML file loads, every
Django settings example makes a working project, every shell block that talks
only to this machine runs, and the others parse (tests/readme_blocks.py says
how each kind of block is tried). An example that breaks fails here."""

from __future__ import annotations

import ast
import functools
import json
import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from tests.readme_blocks import KNOWN_LANGUAGES
from tests.readme_blocks import KNOWN_MARKERS
from tests.readme_blocks import REPO
from tests.readme_blocks import SHELLS
from tests.readme_blocks import Block
from tests.readme_blocks import files_before
from tests.readme_blocks import readme_blocks
from tests.readme_blocks import section_snippets

BLOCKS = readme_blocks()
BIN = Path(sys.executable).parent


def blocks_of(*languages: str) -> list[Any]:
    return [pytest.param(block, id=block.id) for block in BLOCKS if block.language in languages]


def environ(**extra: str) -> dict[str, str]:
    """This process's environment without HOSTHOOKS_ variables, this interpreter first on PATH."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOSTHOOKS_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONPATH", None)
    env.update(extra)
    return env


def run(
    arguments: list[str], cwd: Path, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        arguments,
        cwd=cwd,
        env=environ() if env is None else env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def scratch_project(directory: Path, block: Block) -> Path:
    """Every file the README has shown up to ``block``, written into ``directory``."""
    for path, text in files_before(BLOCKS, block).items():
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return directory


def test_every_block_is_of_a_kind_the_harness_tries():
    assert BLOCKS, "no fenced block found in the README"
    unknown = [
        block.id
        for block in BLOCKS
        if block.language not in KNOWN_LANGUAGES
        or (block.marker is not None and block.marker not in KNOWN_MARKERS)
    ]
    assert unknown == []
    # A TOML block names its file: what it configures depends on which it is.
    assert [block.id for block in BLOCKS if block.language == "toml" and not block.file] == []


# -- Python ---------------------------------------------------------------------

#: Runs the snippets given as JSON (a list of [line, source]) in one namespace,
#: each compiled with top-level await allowed, as a reader would type them.
_DRIVER = """
import ast, asyncio, inspect, json, sys, types
# A module of its own, as a reader's script is: models defined here have an app.
module = sys.modules["readme_example"] = types.ModuleType("readme_example")
namespace = module.__dict__
for line, source in json.load(open(sys.argv[1])):
    code = compile(source, f"README.md line {line}", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    if code.co_flags & inspect.CO_COROUTINE:
        asyncio.run(eval(code, namespace))
    else:
        exec(code, namespace)
"""


@pytest.mark.parametrize("block", blocks_of("python"))
def test_python_block(block: Block, tmp_path: Path, django_project: Path | None):
    if block.file == "settings.py":
        # Its project is made by the django_project fixture: it migrated and audited.
        assert django_project is not None
        entries = (django_project / "audit.jsonl").read_text().splitlines()
        assert entries, "the audit plugin, configured by the settings, wrote nothing"
        assert {json.loads(entry)["event"] for entry in entries} == {"created"}
        return
    env = environ(HOSTHOOKS_DISABLE_PLUGIN_AUTOLOAD="1")
    if block.file is None:
        sources = [[snippet.line, snippet.text] for snippet in section_snippets(BLOCKS, block)]
        (tmp_path / "snippets.json").write_text(json.dumps(sources))
        result = run([sys.executable, "-c", _DRIVER, "snippets.json"], tmp_path, env)
        assert result.returncode == 0, result.stderr
        return
    project = scratch_project(tmp_path, block)
    path = Path(block.file)
    if path.name.startswith("test_"):
        result = run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)],
            project,
            env,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert " passed" in result.stdout
        return
    module = ".".join(path.with_suffix("").parts)
    result = run([sys.executable, "-c", f"import {module}"], project, env)
    assert result.returncode == 0, result.stderr


# -- TOML -----------------------------------------------------------------------


@pytest.mark.parametrize("block", blocks_of("toml"))
def test_toml_block(block: Block, tmp_path: Path):
    data = tomllib.loads(block.text)
    project = scratch_project(tmp_path, block)
    if block.file == "pyproject.toml":
        # Each entry point names a module (or module:object) the README has shown.
        points = data.get("project", {}).get("entry-points", {}).get("hosthooks", {})
        assert points, "a pyproject.toml example declares a hosthooks entry point"
        for value in points.values():
            module, _, attribute = value.partition(":")
            probe = f"import {module}" + (f"; {module}.{attribute}" if attribute else "")
            result = run([sys.executable, "-c", probe], project)
            assert result.returncode == 0, result.stderr
        return
    assert block.file == "hosthooks.toml"
    result = run([str(BIN / "hosthooks"), "config", "--json"], project)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    for key, value in data.items():
        if key == "runtime":
            for name in value:
                assert report[f"runtime.{name.upper()}"]["source"] == "file", name
        elif key == "plugins":
            for plugin, table in value.items():
                for name in table:
                    entry = report[f"plugins.{plugin}.{name}"]
                    assert (entry["source"], entry["problem"]) == ("file", None), entry
        else:
            assert report[key]["source"] == "file", key
    # Paths in the file are relative to the file.
    for name, entry in report.items():
        if name in {"runtime.DATABASE", "plugins.audit.path"} and entry["source"] == "file":
            assert Path(entry["value"]).parent == project


def test_every_json_block_parses():
    # One test over however many there are (none today): an empty parameter set
    # would be a skip in every run.
    for block in blocks_of("json"):
        json.loads(block.text)


# -- Django settings --------------------------------------------------------------

#: What every Django project has; the README's settings example goes after it.
_BASE_SETTINGS = """
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "readme-tests-only-not-secret"
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
"""
_MANAGE = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
"""


def _with_existing_values(settings: str) -> str:
    """The README's settings with ``[..., "x"]`` read as a reader does: the
    project's existing list, then ``"x"``."""
    tree = ast.parse(settings)
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.List | ast.Tuple):
            (target,) = node.targets
            assert isinstance(target, ast.Name)
            node.value.elts = [
                ast.Starred(ast.Name(target.id, ast.Load()), ast.Load())
                if isinstance(element, ast.Constant) and element.value is Ellipsis
                else element
                for element in node.value.elts
            ]
    return ast.unparse(ast.fix_missing_locations(tree))


@pytest.fixture(scope="module")
def django_project(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """A Django project made from the README's ``settings.py`` example, migrated
    (its plugins, entry points included, hear the migration's saves)."""
    pytest.importorskip("django")
    examples = [block for block in BLOCKS if block.file == "settings.py"]
    if not examples:
        return None
    (settings,) = examples
    project = tmp_path_factory.mktemp("django_project")
    (project / "settings.py").write_text(_BASE_SETTINGS + _with_existing_values(settings.text))
    (project / "manage.py").write_text(_MANAGE)
    result = run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], project)
    assert result.returncode == 0, result.stderr
    return project


# -- shell ----------------------------------------------------------------------


@functools.cache
def _help(command: str | None) -> str:
    arguments = [str(BIN / "hosthooks"), *(command.split() if command else []), "--help"]
    result = run(arguments, REPO)
    assert result.returncode == 0, f"hosthooks {command or ''} --help: {result.stderr}"
    return result.stdout


def hosthooks_options_exist(script: str) -> None:
    """Each ``hosthooks [OPTIONS] COMMAND [ARGS]`` line names a command that exists
    and options it (or the group, before it) takes."""
    for line in script.splitlines():
        words = line.split("#", 1)[0].split()
        if "hosthooks" not in words:
            continue
        words = words[words.index("hosthooks") + 1 :]
        if not words or words[0] == "-m":
            continue
        position = 0
        while position < len(words) and words[position].startswith("-"):
            position += 1 if "=" in words[position] or words[position] == "--traceback" else 2
        group_options, rest = words[:position], words[position:]
        if not rest:
            continue
        command = rest[0]
        assert re.search(rf"^\s+{re.escape(command)}\b", _help(None), re.M), (
            f"no command {command!r}: {line}"
        )
        # A group's own command (hosthooks deliveries retry ...) takes options of its own.
        if len(rest) > 1 and re.search(
            rf"^Commands:\n(?:\s+.*\n)*?\s+{re.escape(rest[1])}\b", _help(command), re.M
        ):
            command, rest = f"{command} {rest[1]}", rest[1:]
        for option in re.findall(r"(?<![\w-])--[a-z][\w-]*", " ".join(rest[1:])):
            assert option in _help(command), f"hosthooks {command} has no {option}: {line}"
        for option in re.findall(r"(?<![\w-])--[a-z][\w-]*", " ".join(group_options)):
            assert option in _help(None), f"hosthooks has no {option}: {line}"


@pytest.mark.parametrize("block", blocks_of(*SHELLS))
def test_shell_block(block: Block, tmp_path: Path, django_project: Path | None):
    parsed = run(["bash", "-n", "-c", block.text], tmp_path)
    assert parsed.returncode == 0, parsed.stderr
    if block.marker == "test-command":
        # The whole suite's command: what .ci/run runs, never run from inside it.
        assert "pytest" in block.text
        return
    if block.marker == "synopsis":
        hosthooks_options_exist(
            "\n".join(
                line.replace("[", " ").replace("]", " ").replace("|", " ")
                for line in block.text.splitlines()
            )
        )
        return
    hosthooks_options_exist(block.text)
    if block.talks_elsewhere is not None:
        return  # parsed, not run: see Block.talks_elsewhere
    cwd = tmp_path
    if "manage.py" in block.text:
        assert django_project is not None, "a manage.py block without a settings.py example"
        cwd = django_project
    for command in _commands(block.text):
        if _runs_until_stopped(command):
            _starts_and_keeps_running(command, cwd)
            continue
        result = run(["bash", "-e", "-o", "pipefail", "-c", command], cwd)
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"


#: Commands that serve until stopped: tried by starting them.
_SERVERS = ("serve", "worker", "relay", "runserver")


def _runs_until_stopped(command: str) -> bool:
    words = shlex.split(command)
    return any(word in _SERVERS for word in words[1:]) and "--help" not in words


def _starts_and_keeps_running(command: str, cwd: Path, seconds: float = 8.0) -> None:
    """``command`` starts and is still serving after ``seconds``; then it is stopped."""
    process = subprocess.Popen(
        ["bash", "-c", f"exec {command}"],
        cwd=cwd,
        env=environ(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return  # serving, as it should
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
    _, errors = process.communicate()
    raise AssertionError(f"{command} stopped at once ({process.returncode}): {errors}")


def _commands(script: str) -> list[str]:
    """The script's commands, one per line (comments dropped)."""
    commands = []
    for line in script.splitlines():
        words = shlex.split(line, comments=True)
        if words:
            commands.append(shlex.join(words))
    return commands


def test_the_harness_finds_blocks_by_fence_and_marker_and_refuses_what_is_not_there():
    text = (
        "# Title\n\n## Use\n\n<!-- synopsis -->\n```sh\nhosthooks config [--json]\n```\n\n"
        "```python\n# my_plugin.py\nx = 1\n```\n\n```toml\n# hosthooks.toml\ntrace = true\n```\n"
        "```sh\npip install hosthooks\ncurl http://db.internal/\n```\n"
    )
    synopsis, module, toml, remote = readme_blocks(text)
    assert (synopsis.marker, synopsis.section, synopsis.language) == ("synopsis", "Use", "sh")
    assert (module.file, toml.file) == ("my_plugin.py", "hosthooks.toml")
    assert files_before([synopsis, module, toml], toml) == {
        "my_plugin.py": "# my_plugin.py\nx = 1\n",
        "hosthooks.toml": "# hosthooks.toml\ntrace = true\n",
    }
    assert remote.talks_elsewhere == "installs from the package index"
    assert synopsis.talks_elsewhere is None
    with pytest.raises(AssertionError, match="hosthooks config has no --bogus"):
        hosthooks_options_exist("hosthooks config --bogus")
    with pytest.raises(AssertionError, match="no command 'nosuchcommand'"):
        hosthooks_options_exist("hosthooks nosuchcommand")
