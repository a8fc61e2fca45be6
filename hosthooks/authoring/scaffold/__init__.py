"""What ``hosthooks new-plugin`` writes: a plugin distribution ready to install,
test and edit, from the templates beside this module.

The implementations are typed from the hookspecs and carry each hook's summary;
the tests use the fixtures of :mod:`hosthooks.authoring.pytest_plugin`.
"""

from __future__ import annotations

import ast
import inspect
import json
import keyword
import re
from importlib import resources
from pathlib import Path
from string import Template
from typing import Final

from hosthooks import specs
from hosthooks.authoring.reference import hook_docs
from hosthooks.loading.problems import closest
from hosthooks.loading.records import hosthooks_version

#: PEP 508's distribution names.
_DISTRIBUTION_NAME: Final = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
#: Names of ``typing`` the spec annotations use, imported by the plugin when used.
_TYPING_NAMES: Final = ("Any", "TextIO")


class ScaffoldError(Exception):
    """The plugin cannot be written; the message says why, in one line."""


def package_name(name: str) -> str:
    """The package a distribution's code lives in: its name with ``-`` and ``.`` as ``_``.

    :raises ScaffoldError: when ``name`` is no valid distribution name, or the
        package name would be no Python identifier.
    """
    if not _DISTRIBUTION_NAME.match(name):
        raise ScaffoldError(
            f"{name!r} is not a valid distribution name "
            "(letters, digits, '-', '_' and '.', starting and ending with a letter or digit)"
        )
    package = re.sub(r"[-.]", "_", name)
    if not package.isidentifier() or keyword.iskeyword(package):
        raise ScaffoldError(f"the package name {package!r} is not a Python identifier")
    return package


#: Plugin names: what ``[plugins.<name>]`` tables and ``--disable-plugins`` lists hold.
_PLUGIN_NAME: Final = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_-]*[A-Za-z0-9])?$")


def check_plugin_name(name: str) -> None:
    """:raises ScaffoldError: when ``name`` cannot name a plugin: letters, digits,
    ``-`` and ``_``, starting and ending with a letter or digit (a ``.`` would
    split its ``[plugins.<name>]`` table, a ``,`` its place in a list of names)."""
    if not _PLUGIN_NAME.match(name):
        raise ScaffoldError(
            f"{name!r} is not a valid plugin name "
            "(letters, digits, '-' and '_', starting and ending with a letter or digit)"
        )


def _template(name: str) -> Template:
    return Template(resources.files(__name__).joinpath(name).read_text(encoding="utf-8"))


def _requirement() -> str:
    """``"hosthooks>=0.1"`` when hosthooks 0.1.3 is installed: its minor version on."""
    parts = re.findall(r"\d+", hosthooks_version())[:2]
    # A version without a minor part ("1", a local build) leaves no floor to name.
    return f"hosthooks>={'.'.join(parts)}" if len(parts) == 2 else "hosthooks"


def _parameters(hook: str) -> list[inspect.Parameter]:
    family = specs.family_of(hook)
    assert family is not None
    return list(inspect.signature(getattr(specs.FAMILIES[family], hook)).parameters.values())


def _implementation(hook: str, summary: str) -> str:
    lines = []
    for parameter in _parameters(hook):
        empty = parameter.default is inspect.Parameter.empty
        default = "" if empty else f" = {parameter.default!r}"
        lines.append(f"    {parameter.name}: {parameter.annotation}{default},")
    return _template("implementation.py.tmpl").substitute(
        hook=hook, parameters="\n".join(lines), summary=summary
    )


#: A value of each kind of spec annotation, by how the annotation starts, for the
#: calls the written tests make: typed calls are checked, so each must fit.
_PLACEHOLDERS: Final = (
    ("bool", "False"),
    ("str", '"default"'),
    ("int", "0"),
    ("dict[", "{}"),
    ("tuple[", "()"),
    ("list[", "[]"),
    ("set[", "set()"),
    ("frozenset[", "frozenset()"),
    ("Sequence[", "[]"),
)


def _placeholder(annotation: str) -> str:
    if annotation in ("type[Any]", "Any"):
        return "object"
    if annotation == "None" or annotation.endswith("| None"):
        return "None"
    for start, value in _PLACEHOLDERS:
        if annotation.startswith(start):
            return value
    return "None"


def _hook_test(hook: str) -> str:
    values = {parameter.name: _placeholder(parameter.annotation) for parameter in _parameters(hook)}
    placeholders = "".join(f"            {name}={value},\n" for name, value in values.items())
    # The implementation logs its sender's repr: the literal's, evaluated here.
    logged = repr(ast.literal_eval(values["sender"])) if values["sender"] != "object" else None
    return _template("hook_test.py.tmpl").substitute(
        hook=hook,
        placeholders=placeholders,
        sender=values["sender"],
        logged=logged or "<class 'object'>",
    )


def check_hooks(hooks: list[str]) -> None:
    """:raises ScaffoldError: naming a hook no spec declares, with the closest one."""
    known = [name for module in specs.FAMILIES.values() for name in specs.hook_names(module)]
    for hook in hooks:
        if hook not in known:
            close = closest(hook, known)
            hint = f"; did you mean {close!r}?" if close else ""
            raise ScaffoldError(f"no hook named {hook!r}{hint}")


def write_plugin(
    name: str, directory: Path, hooks: list[str], plugin: str | None = None
) -> list[Path]:
    """Write the distribution ``name`` into ``directory``, implementing ``hooks``.

    :param plugin: the name hosthooks lists the plugin under (its entry point's,
        which names its settings table); the distribution's name when None.
    :returns: the files written, in the order they were.
    :raises ScaffoldError: for an invalid name, plugin name or hook, or when
        ``directory`` exists already (nothing is ever overwritten) or cannot be created.
    """
    package = package_name(name)
    plugin = name if plugin is None else plugin
    check_plugin_name(plugin)
    check_hooks(hooks)
    hooks = list(dict.fromkeys(hooks))
    if directory.exists():
        raise ScaffoldError(f"{directory} exists already; new-plugin never overwrites")
    summaries = {doc.name: doc.summary for doc in hook_docs()}
    implementations = "".join(_implementation(hook, summaries[hook]) for hook in hooks)
    used = [name for name in _TYPING_NAMES if re.search(rf"\b{name}\b", implementations)]
    typing_imports = f"from typing import {', '.join(used)}\n" if used else ""
    files = {
        Path("pyproject.toml"): _template("pyproject.toml.tmpl").substitute(
            name=name, plugin=plugin, package=package, requirement=_requirement()
        ),
        Path("README.md"): _template("README.md.tmpl").substitute(
            name=name,
            plugin=plugin,
            package=package,
            hook_list=", ".join(f"`{hook}`" for hook in hooks),
        ),
        Path(".gitignore"): _template("gitignore.tmpl").template,
        Path(package) / "__init__.py": _template("package.py.tmpl").substitute(
            name=name, typing_imports=typing_imports, implementations=implementations
        ),
        Path(package) / "py.typed": "",
        Path("tests") / f"test_{package}.py": _template("test_plugin.py.tmpl").substitute(
            name=name,
            plugin=plugin,
            package=package,
            sorted_hooks="".join(f"        {json.dumps(hook)},\n" for hook in sorted(hooks)),
            hook_tests="".join(_hook_test(hook) for hook in hooks),
        ),
    }
    try:
        directory.mkdir(parents=True)
        written = []
        for relative, text in files.items():
            path = directory / relative
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    except OSError as error:
        raise ScaffoldError(f"cannot write {directory}: {error.strerror}") from None
    return written
