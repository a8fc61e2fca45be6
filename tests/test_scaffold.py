"""hosthooks new-plugin: what it writes, what it refuses, and, for real, that the
plugin installs with pip into a throwaway environment, passes its own tests
there, is listed active, and that typos in it are reported by that environment's CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from hosthooks.cli import main
from tests.venvs import REPO
from tests.venvs import Venv


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def test_new_plugin_writes_a_distribution_in_name_by_default(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "new-plugin", "hosthooks-hello")
    assert code == 0
    assert out.splitlines() == [
        "hosthooks-hello/pyproject.toml",
        "hosthooks-hello/README.md",
        "hosthooks-hello/.gitignore",
        "hosthooks-hello/hosthooks_hello/__init__.py",
        "hosthooks-hello/hosthooks_hello/py.typed",
        "hosthooks-hello/tests/test_hosthooks_hello.py",
    ]
    assert err.startswith("Next: pip install -e 'hosthooks-hello[test]'")
    pyproject = (tmp_path / "hosthooks-hello" / "pyproject.toml").read_text()
    assert 'name = "hosthooks-hello"' in pyproject
    assert '[project.entry-points.hosthooks]\nhosthooks-hello = "hosthooks_hello"' in pyproject
    code = (tmp_path / "hosthooks-hello" / "hosthooks_hello" / "__init__.py").read_text()
    assert "@hooks.post_save\ndef post_save(\n    sender: type[Any],\n    instance: Any," in code
    assert '    """A model instance has been written."""' in code


def test_the_plugin_requires_hosthooks_from_the_installed_minor_version_on(capsys, tmp_path):
    from hosthooks.loading.records import hosthooks_version

    version = hosthooks_version()
    assert version is not None
    major, minor = version.split(".")[:2]
    run(capsys, "new-plugin", "hosthooks-versioned", "--dir", str(tmp_path / "p"))
    assert (
        f'dependencies = ["hosthooks>={major}.{minor}"]'
        in (tmp_path / "p" / "pyproject.toml").read_text()
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bad-", "'bad-' is not a valid distribution name"),
        ("has space", "'has space' is not a valid distribution name"),
        ("2fast", "the package name '2fast' is not a Python identifier"),
        ("class", "the package name 'class' is not a Python identifier"),
    ],
)
def test_an_invalid_name_is_a_usage_error(capsys, tmp_path, name, message):
    code, out, err = run(capsys, "new-plugin", name, "--dir", str(tmp_path / "p"))
    assert (code, out) == (2, "")
    assert err.startswith(f"hosthooks: error: {message}")
    assert not (tmp_path / "p").exists()


def test_an_unknown_hook_is_a_usage_error_with_a_suggestion(capsys, tmp_path):
    code, _, err = run(
        capsys, "new-plugin", "x", "--dir", str(tmp_path / "p"), "--hook", "post_svae"
    )
    assert code == 2
    assert err == "hosthooks: error: no hook named 'post_svae'; did you mean 'post_save'?\n"
    assert not (tmp_path / "p").exists()


def test_an_existing_directory_is_never_overwritten(capsys, tmp_path):
    target = tmp_path / "taken"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    code, out, err = run(capsys, "new-plugin", "x", "--dir", str(target))
    assert (code, out) == (1, "")
    assert err == f"hosthooks: error: {target} exists already; new-plugin never overwrites\n"
    assert [path.name for path in target.iterdir()] == ["keep.txt"]


def test_the_written_plugin_is_lint_and_type_clean_and_its_tests_pass(capsys, tmp_path):
    target = tmp_path / "hosthooks-every-family"
    hooks = ["post_save", "pre_migrate", "user_login_failed", "request_started", "setting_changed"]
    code, _, _ = run(
        capsys,
        "new-plugin",
        "hosthooks-every-family",
        "--dir",
        str(target),
        *(option for hook in hooks for option in ("--hook", hook)),
    )
    assert code == 0

    def check(*command: str, **env: str) -> None:
        result = subprocess.run(
            [sys.executable, "-m", *command],
            cwd=target,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
            env={**os.environ, **env},
        )
        assert result.returncode == 0, result.stdout + result.stderr

    check("ruff", "check", "--no-cache", ".")
    check("ruff", "format", "--check", "--no-cache", ".")
    # The plugin's author has hosthooks installed; here the checkout stands for it.
    check(
        "mypy",
        "--strict",
        "--no-incremental",
        "hosthooks_every_family",
        "tests",
        MYPYPATH=str(REPO),
    )
    # pyright too, strict (basedpyright's wheel brings its own Node: nothing downloaded).
    (target / "pyrightconfig.json").write_text(
        json.dumps({"typeCheckingMode": "strict", "extraPaths": [str(REPO)]})
    )
    check("basedpyright", "--pythonpath", sys.executable, "hosthooks_every_family", "tests")
    check("pytest", "-q", "-p", "no:cacheprovider", PYTHONPATH=str(target))


@pytest.fixture(scope="module")
def venv(tmp_path_factory, hosthooks_wheel) -> Venv:
    return Venv.create(tmp_path_factory.mktemp("scaffold-venv"), hosthooks_wheel)


TYPOS = """
from hosthooks import hookimpl


@hookimpl
def post_svae(sender: Any) -> None:
    pass


@hookimpl(sender="demo.Nte")
def pre_delete(sender: Any) -> None:
    pass
"""


def test_for_real_installed_tested_listed_and_checked_in_a_throwaway_environment(venv, tmp_path):
    target = tmp_path / "hosthooks-greeter"
    written = venv.hosthooks(
        "new-plugin", "hosthooks-greeter", "--dir", str(target), "--hook", "user_logged_in"
    )
    assert written.returncode == 0, written.stderr
    venv.pip_install("-e", f"{target}[test]")

    tested = venv.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", target)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "2 passed" in tested.stdout

    listed = venv.hosthooks("plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    [plugin] = [p for p in json.loads(listed.stdout) if p["name"] == "hosthooks-greeter"]
    assert (plugin["status"], plugin["dist"], plugin["hooks"], plugin["problems"]) == (
        "active",
        "hosthooks-greeter",
        ["user_logged_in"],
        [],
    )
    assert (
        venv.hosthooks("check", "hosthooks-greeter").stdout == "1 plugin(s) checked, no problems.\n"
    )

    # An editable install: the author's edits are what the next command sees.
    package = target / "hosthooks_greeter" / "__init__.py"
    package.write_text(package.read_text() + TYPOS)
    checked = venv.hosthooks("check", "--app", "hosthooks.runtime.demo", "hosthooks-greeter")
    assert checked.returncode == 1
    assert checked.stdout.splitlines() == [
        "hosthooks-greeter: post_svae: unknown hook (did you mean 'post_save'?)",
        "hosthooks-greeter: pre_delete: sender 'demo.Nte' names no known model (did you mean 'demo.Note'?)",
    ]
    package.write_text(
        package.read_text().replace("def pre_delete(sender: Any)", "def pre_delete(sendr: Any)")
    )
    refused = venv.hosthooks("plugins", "--json")
    [plugin] = [p for p in json.loads(refused.stdout) if p["name"] == "hosthooks-greeter"]
    assert plugin["status"] == "failed"
    assert plugin["error"] == "pre_delete: unknown argument 'sendr' (did you mean 'sender'?)"


def test_name_names_the_plugin_apart_from_its_distribution(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "new-plugin", "hosthooks-auditlog", "--name", "auditlog")
    assert code == 0, err
    written = tmp_path / "hosthooks-auditlog"
    pyproject = (written / "pyproject.toml").read_text()
    assert 'name = "hosthooks-auditlog"' in pyproject
    assert '[project.entry-points.hosthooks]\nauditlog = "hosthooks_auditlog"' in pyproject
    assert 'PLUGIN = "auditlog"' in (written / "tests" / "test_hosthooks_auditlog.py").read_text()
    readme = (written / "README.md").read_text()
    assert "hosthooks check auditlog" in readme
    assert "[plugins.auditlog]" in readme


@pytest.mark.parametrize("plugin", ["audit.log", "audit log", "-audit", "a,b", ""])
def test_a_plugin_name_that_cannot_name_a_settings_table_is_a_usage_error(capsys, tmp_path, plugin):
    code, out, err = run(
        capsys, "new-plugin", "hosthooks-auditlog", "--name", plugin, "--dir", str(tmp_path / "x")
    )
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == (
        f"hosthooks: error: {plugin!r} is not a valid plugin name "
        "(letters, digits, '-' and '_', starting and ending with a letter or digit)"
    )
    assert not (tmp_path / "x").exists()
