"""Names that generated code must survive: Python's builtins, the names the
generators use themselves, and names that differ from those by case or an
underscore. The property tests of every code generator draw field, argument
and hook names from here."""

from __future__ import annotations

import ast
import builtins
import keyword
import re
from collections.abc import Callable
from collections.abc import Iterable

from hypothesis import strategies as st


def identifiers_in(source: str) -> set[str]:
    """Every name ``source`` binds, reads or looks up as an attribute."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
    return names


def variants(name: str) -> set[str]:
    """``name``, and the names one case change or one underscore away from it."""
    return {
        name,
        name.lower(),
        name.upper(),
        name.capitalize(),
        name.swapcase(),
        f"_{name}",
        f"{name}_",
        f"__{name}",
        name[1:] if name.startswith("_") else name,
        name.lstrip("_"),
        name.replace("_", "", 1),
    }


def distinct_stems(names: Iterable[str]) -> list[str]:
    """``names`` sorted, keeping two of each family of numbered names (``c9``, ``c10``...)."""
    kept: dict[str, list[str]] = {}
    for name in sorted(set(names), key=lambda name: (len(name), name)):
        family = kept.setdefault(re.sub(r"[0-9]+", "#", name), [])
        if len(family) < 2:
            family.append(name)
    return sorted(name for family in kept.values() for name in family)


def usable(name: str) -> bool:
    """Whether ``name`` can be a parameter of a ``def`` (and a keyword argument)."""
    return name.isidentifier() and not keyword.iskeyword(name)


BUILTIN_NAMES: frozenset[str] = frozenset(
    name for name in dir(builtins) if usable(name) and not name.startswith("__")
)


def risky_names(
    own_names: Iterable[str], allowed: Callable[[str], bool] = lambda name: True
) -> st.SearchStrategy[str]:
    """Names drawn from the builtins, ``own_names`` (a generator's) and their variants,
    mixed with plain ones; only those ``allowed`` keeps."""
    own = distinct_stems(name for name in own_names if usable(name) and allowed(name))
    pool = {
        variant
        for name in [*BUILTIN_NAMES, *own_names]
        for variant in variants(name)
        if usable(variant) and allowed(variant)
    }
    # The generator's own names exactly are the likeliest to clash: drawn most.
    return st.one_of(
        st.sampled_from(own),
        st.sampled_from(sorted(pool)),
        st.from_regex(r"[a-z][a-z0-9_]{0,5}", fullmatch=True).filter(
            lambda name: usable(name) and allowed(name)
        ),
    )
