"""Typed hook calls (``host.hook``, ``host.ahook``) and typed implementations
(``@hooks.<name>``): generated from the specs, and checked by mypy --strict and
by pyright (basedpyright, whose wheel brings its own Node) for real."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from hosthooks import Host
from hosthooks import hooks
from hosthooks.authoring import typed_hooks
from tests.venvs import REPO


class Article:
    pass


class Comment:
    pass


def test_the_generated_modules_are_in_step_with_the_specs():
    for name, source in typed_hooks.render().items():
        committed = (REPO / "hosthooks" / name).read_text(encoding="utf-8")
        assert committed == source, f"run: python -m hosthooks.authoring.typed_hooks ({name})"


def test_every_hook_has_a_marker_and_a_typed_caller():
    from hosthooks import typed_calls

    for hook in typed_hooks.hook_names():
        assert repr(getattr(hooks, hook)) == f"<typed hookimpl marker {hook}>"
        assert hook in typed_calls.Hooks.__dict__
        if hook != "class_prepared":  # historic: pluggy calls it through call_historic only
            assert hook in typed_calls.AsyncHooks.__dict__


def test_a_typed_implementation_is_an_implementation_of_its_hook_under_any_name():
    seen: list[tuple[str, object]] = []

    class Plugin:
        @hooks.post_save.method
        def remember(self, instance: Any, created: bool, **_: object) -> None:
            seen.append(("any", instance))

        @hooks.post_save.options(sender=Article, tryfirst=True).method
        async def articles_only(self, instance: Any, **_: object) -> None:
            seen.append(("article", instance))

    host = Host()
    host.register(Plugin(), "typed")
    common: dict[str, Any] = {
        "created": True,
        "raw": False,
        "using": "default",
        "update_fields": None,
    }
    host.hook.post_save(sender=Comment, instance=1, **common)
    asyncio.run(host.ahook.post_save(sender=Article, instance=2, **common))
    assert seen == [("any", 1), ("article", 2), ("any", 2)]
    assert [impl.function.__name__ for impl in host.implementations("post_save")] == [
        "articles_only",
        "remember",
    ]
    assert host.check() == []


def test_the_options_are_checked_as_hookimpl_checks_them():
    with pytest.raises(TypeError, match="queue= and retries= apply only with defer=True"):
        hooks.post_save.options(queue="mail")(lambda **_: None)


# What a plugin author writes, and what the checkers must say of it.
GOOD_PLUGIN = """
from typing import Any

from hosthooks import hooks


@hooks.post_save
def audit(sender: type[Any], instance: Any, created: bool, **_: object) -> None:
    pass


@hooks.post_delete.options(sender="blog.Article", defer=True)
async def forget(instance: object, using: str, **_: object) -> None:
    pass


@hooks.request_started
def started(sender: type[Any], environ: dict[str, Any] | None = None, **_: object) -> None:
    pass


audit(sender=object, instance=1, created=True)  # still the function it was


class Plugin:
    @hooks.user_logged_in.method
    def greet(self, user: object, **_: object) -> None:
        pass
"""

WRONG_METHOD_PLUGIN = """
from hosthooks import hooks


class Plugin:
    @hooks.user_logged_in.method
    def greet(self, usr: object, **_: object) -> None:
        pass
"""

WRONG_NAME_PLUGIN = """
from typing import Any

from hosthooks import hooks


@hooks.post_save
def audit(sender: type[Any], instanse: Any, **_: object) -> None:
    pass
"""

WRONG_TYPE_PLUGIN = """
from typing import Any

from hosthooks import hooks


@hooks.post_delete
def forget(sender: type[Any], using: int, **_: object) -> None:
    pass
"""

GOOD_CALL = """
from hosthooks import Host

host = Host()
results: list[None] = host.hook.post_save(
    sender=object, instance=1, created=True, raw=False, using="default", update_fields=None
)
host.hook.request_started(sender=object)  # the spec's defaults may be left out


async def later() -> list[None]:
    return await host.ahook.post_delete(sender=object, instance=1, using="default", origin=None)
"""

WRONG_NAME_CALL = """
from hosthooks import Host

host = Host()
host.hook.post_delete(sender=object, instanse=1, using="default", origin=None)
"""

WRONG_TYPE_CALL = """
from hosthooks import Host


async def later(host: Host) -> None:
    await host.ahook.post_delete(sender=object, instance=1, using=2, origin=None)
"""

WRONG_RESULT_CALL = """
from hosthooks import Host

names: list[str] = Host().hook.pre_delete(sender=object, instance=1, using="default", origin=None)
"""

README = (REPO / "README.md").read_text(encoding="utf-8")
README_SECTION = README[
    README.index("### Typed hooks, checked") : README.index("### A plugin's settings")
]
README_PLUGIN, README_OUTPUT = re.findall(r"```\w*\n(.*?)```", README_SECTION, flags=re.DOTALL)

CASES = {
    "readme_plugin": README_PLUGIN,
    "readme_plugin_misspelt": README_PLUGIN.replace(
        "instance: Any, created", "instanse: Any, created"
    ),
    "good_plugin": GOOD_PLUGIN,
    "wrong_name_plugin": WRONG_NAME_PLUGIN,
    "wrong_type_plugin": WRONG_TYPE_PLUGIN,
    "wrong_method_plugin": WRONG_METHOD_PLUGIN,
    "good_call": GOOD_CALL,
    "wrong_name_call": WRONG_NAME_CALL,
    "wrong_type_call": WRONG_TYPE_CALL,
    "wrong_result_call": WRONG_RESULT_CALL,
}


def _run(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env={**os.environ, **env},
    )


@pytest.fixture(scope="module")
def checked(tmp_path_factory) -> dict[str, dict[str, list[str]]]:
    """Each case's error lines, per checker: one run of each over every case."""
    project = tmp_path_factory.mktemp("typed")
    for name, source in CASES.items():
        (project / f"{name}.py").write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    files = [f"{name}.py" for name in CASES]
    # The author has hosthooks installed; here the checkout stands for it.
    mypy = _run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *files],
        project,
        MYPYPATH=str(REPO),
    )
    (project / "pyrightconfig.json").write_text(
        json.dumps({"typeCheckingMode": "strict", "extraPaths": [str(REPO)]})
    )
    pyright = _run(
        [
            sys.executable,
            "-m",
            "basedpyright",
            "--outputjson",
            "--pythonpath",
            sys.executable,
            *files,
        ],
        project,
    )
    report = json.loads(pyright.stdout)
    errors: dict[str, dict[str, list[str]]] = {name: {"mypy": [], "pyright": []} for name in CASES}
    for line in mypy.stdout.splitlines():
        name, _, rest = line.partition(".py:")
        if name in errors and ": error:" in rest:
            errors[name]["mypy"].append(rest)
    for diagnostic in report["generalDiagnostics"]:
        if diagnostic["severity"] == "error":
            errors[Path(diagnostic["file"]).stem]["pyright"].append(diagnostic["message"])
    return errors


#: What pyright adds, in strict mode, once a decorator refused its function.
OBSCURED = "Untyped function decorator obscures type of function; ignoring decorator"


@pytest.mark.parametrize("case", ["readme_plugin", "good_plugin", "good_call"])
def test_a_correct_plugin_and_correct_calls_pass_both_checkers(checked, case):
    assert checked[case] == {"mypy": [], "pyright": []}


def test_a_misspelt_argument_of_an_implementation_is_named_by_both_checkers(checked):
    [mypy] = checked["wrong_name_plugin"]["mypy"]
    assert 'cannot be "def audit(sender: type[Any], instanse: Any, **_: object)' in mypy
    pyright, *follows = checked["wrong_name_plugin"]["pyright"]
    assert pyright.endswith('Extra parameter "instanse"')
    assert follows == [OBSCURED]


def test_a_misspelt_argument_of_a_method_is_named_by_both_checkers(checked):
    [mypy] = checked["wrong_method_plugin"]["mypy"]
    assert 'cannot be "def greet(self: Plugin, usr: object, **_: object)' in mypy
    pyright, *follows = checked["wrong_method_plugin"]["pyright"]
    assert pyright.endswith('Extra parameter "usr"')
    assert follows == [OBSCURED]


def test_an_argument_of_the_wrong_type_in_an_implementation_is_named_by_both_checkers(checked):
    [mypy] = checked["wrong_type_plugin"]["mypy"]
    assert 'cannot be "def forget(sender: type[Any], using: int, **_: object)' in mypy
    pyright, *follows = checked["wrong_type_plugin"]["pyright"]
    assert follows == [OBSCURED]
    assert 'Keyword parameter "using" of type "str" is incompatible with type "int"' in pyright


def test_a_misspelt_argument_of_a_call_is_named_by_both_checkers(checked):
    [mypy] = checked["wrong_name_call"]["mypy"]
    assert 'Unexpected keyword argument "instanse" for "__call__" of "PostDeleteCaller"' in mypy
    assert 'did you mean "instance"?' in mypy
    pyright = checked["wrong_name_call"]["pyright"]
    assert any('No parameter named "instanse"' in line for line in pyright)


def test_an_argument_of_the_wrong_type_in_a_call_is_named_by_both_checkers(checked):
    [mypy] = checked["wrong_type_call"]["mypy"]
    assert 'Argument "using" to "post_delete" of "AsyncHooks" has incompatible type "int"' in mypy
    [pyright] = checked["wrong_type_call"]["pyright"]
    assert 'Argument of type "Literal[2]" cannot be assigned to parameter "using"' in pyright


def test_a_call_s_result_is_typed(checked):
    [mypy] = checked["wrong_result_call"]["mypy"]
    assert 'has type "list[None]", variable has type "list[str]"' in mypy
    [pyright] = checked["wrong_result_call"]["pyright"]
    assert '"list[None]" is not assignable to "list[str]"' in pyright


def test_the_example_plugins_pass_pyright_strict(tmp_path):
    # mypy --strict covers them with the whole tree (test_code_quality).
    (tmp_path / "pyrightconfig.json").write_text(
        json.dumps({"typeCheckingMode": "strict", "extraPaths": [str(REPO)]})
    )
    packages = sorted(str(path.parent) for path in (REPO / "plugins").glob("*/*/__init__.py"))
    assert len(packages) == 4
    result = _run(
        [sys.executable, "-m", "basedpyright", "--pythonpath", sys.executable, *packages], tmp_path
    )
    assert result.returncode == 0, result.stdout
    assert "0 errors" in result.stdout


def test_the_readme_shows_what_the_checkers_say(checked):
    # Then the body's use of instance is an error too.
    mypy, _ = checked["readme_plugin_misspelt"]["mypy"]
    shown = README_OUTPUT.splitlines()
    said = " ".join(line.strip() for line in shown[1:3])
    assert f"{said}  [type-var]" in mypy
    pyright, *_ = checked["readme_plugin_misspelt"]["pyright"]
    assert pyright.endswith(shown[4].removeprefix("error: ... "))
