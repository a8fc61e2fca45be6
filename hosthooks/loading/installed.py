"""The installed distributions' entry points of one group, read from their
metadata directories on ``sys.path``.

What :func:`scan` finds is what ``importlib.metadata.entry_points(group=...)``
finds, with the same rule for a distribution present twice (the first on the
path, and the first a directory lists, wins), and each distribution's name,
version and ``Requires-Dist`` read from its metadata file. It reads the few
files that matter itself instead of importing ``importlib.metadata``, which
brings the email parser and ~20 ms of imports to every command that lists
plugins. Where a path entry is a zip archive, or an import finder other than
the standard one declares distributions, ``importlib.metadata`` reads it:
those are rare, and its rules are the ones to keep.
"""

from __future__ import annotations

import importlib
import io
import os
import re
import sys
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Final
from typing import NamedTuple

if TYPE_CHECKING:
    import importlib.metadata

#: The files whose absence (or unreadability) means "no such metadata", as
#: ``importlib.metadata`` treats them; a file that cannot be decoded is skipped
#: too, where ``importlib.metadata`` would crash the whole scan.
_UNREADABLE: Final = (OSError, UnicodeDecodeError)

#: ``module``, ``module:attribute`` or ``module:a.b``, optionally followed by extras.
_VALUE: Final = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((\[.*\])\s*)?$")

#: ``-`` and ``.`` as ``_``, for :func:`normalize` (no regular expression: it
#: would be compiled by every command that lists plugins).
_TO_UNDERSCORE: Final = str.maketrans("-.", "__")


class EntryPoint(NamedTuple):
    """One entry point: ``name = value`` in the ``[group]`` of ``entry_points.txt``."""

    name: str
    value: str
    group: str

    def load(self) -> object:
        """Import the module the value names and return it, or its named attribute.

        :raises ValueError: when the value is not ``module[:attribute]``.
        :raises ImportError: (or whatever the module raises) when it cannot be imported.
        :raises AttributeError: when the module has no such attribute.
        """
        matched = _VALUE.match(self.value)
        if matched is None:
            raise ValueError(f"entry point {self.name!r} has an invalid value {self.value!r}")
        found: object = importlib.import_module(matched.group("module"))
        for attribute in (matched.group("attr") or "").split("."):
            if attribute:
                found = getattr(found, attribute)
        return found


class InstalledEntryPoint(NamedTuple):
    """An entry point with what its distribution says of itself: its name,
    version and requirements (``Requires-Dist``), read once per distribution."""

    point: EntryPoint
    dist: str | None
    version: str | None
    requires: tuple[str, ...]


class _Distribution(NamedTuple):
    #: The name duplicates are recognised by (PEP 503, with underscores), or
    #: None when only the metadata's ``Name`` can say.
    key: str | None
    read_text: Callable[[str], str | None]


def normalize(name: str) -> str:
    """A distribution name as duplicates are compared: ``Foo.Bar-baz`` is ``foo_bar_baz``."""
    folded = name.translate(_TO_UNDERSCORE).lower()
    while "__" in folded:
        folded = folded.replace("__", "_")
    return folded


def scan(group: str, paths: Sequence[str] | None = None) -> list[InstalledEntryPoint]:
    """Every entry point of ``group`` that the distributions on ``paths`` declare,
    in the order ``importlib.metadata`` finds them.

    A distribution whose name was seen earlier on the path is left out whole,
    entry points and all. Unreadable metadata and malformed lines are skipped.

    :param paths: where to look; ``sys.path`` when None.
    """
    if _other_finders_declare_distributions():
        return _scan_with_importlib_metadata(group)
    found: list[InstalledEntryPoint] = []
    seen: set[str] = set()
    for entry in sys.path if paths is None else paths:
        for dist in _distributions_at(entry):
            headers: dict[str, list[str]] | None = None
            key = dist.key
            if key is None:
                headers = _headers(dist)
                key = normalize(_first(headers, "name") or "")
            if key in seen:
                continue
            seen.add(key)
            text = dist.read_text("entry_points.txt")
            # Most distributions declare no entry point of ours: the substring
            # test spares parsing their files, and their metadata entirely.
            if not text or group not in text:
                continue
            points = [EntryPoint(name, value, group) for name, value in _section(text, group)]
            if not points:
                continue
            if headers is None:
                headers = _headers(dist)
            name, version = _first(headers, "name"), _first(headers, "version")
            requires = tuple(headers.get("requires-dist", ()))
            found.extend(InstalledEntryPoint(point, name, version, requires) for point in points)
    return found


def _distributions_at(entry: str) -> Iterator[_Distribution]:
    """The metadata directories of one path entry, in ``importlib.metadata``'s order:
    grouped by name in the order the directory lists them, ``.egg`` metadata last."""
    if not isinstance(entry, str):
        return
    root = entry or "."
    try:
        children = os.listdir(root)
    except NotADirectoryError:
        yield from _archived_distributions(entry)
        return
    except OSError:
        return
    by_name: dict[str, list[str]] = {}
    eggs: list[str] = []
    base_is_egg = os.path.basename(root).lower().endswith(".egg")
    for child in children:
        low = child.lower()
        if low.endswith((".dist-info", ".egg-info")):
            by_name.setdefault(normalize(low.rpartition(".")[0].partition("-")[0]), []).append(
                child
            )
        elif base_is_egg and low == "egg-info":
            eggs.append(child)
    for children_of_name in by_name.values():
        for child in children_of_name:
            # Only an exactly spelled suffix names the distribution by its
            # folder; otherwise its metadata's Name does (as importlib.metadata).
            stem, _, suffix = child.rpartition(".")
            key = normalize(stem.partition("-")[0]) if suffix in ("dist-info", "egg-info") else None
            yield _Distribution(key, _reader(os.path.join(root, child)))
    for child in eggs:
        yield _Distribution(None, _reader(os.path.join(root, child)))


def _reader(directory: str) -> Callable[[str], str | None]:
    def read_text(filename: str) -> str | None:
        try:
            with open(os.path.join(directory, filename), encoding="utf-8") as file:
                return file.read()
        except _UNREADABLE:
            return None

    return read_text


def _archived_distributions(entry: str) -> Iterator[_Distribution]:
    """A zip archive's distributions, read by ``importlib.metadata`` (any other file has none)."""
    import zipfile

    if not zipfile.is_zipfile(entry):
        return
    import importlib.metadata

    for dist in importlib.metadata.distributions(path=[entry]):
        yield _Distribution(getattr(dist, "_normalized_name", None), dist.read_text)


def _other_finders_declare_distributions() -> bool:
    from importlib.machinery import PathFinder

    return any(
        finder is not PathFinder and getattr(finder, "find_distributions", None) is not None
        for finder in sys.meta_path
    )


def _scan_with_importlib_metadata(group: str) -> list[InstalledEntryPoint]:
    import importlib.metadata

    found = []
    parsed: dict[int, tuple[str | None, str | None, tuple[str, ...]]] = {}
    points = importlib.metadata.entry_points(group=group)
    dists = [point.dist for point in points]  # kept alive: parsed is keyed by identity
    for point, dist in zip(points, dists, strict=True):
        info: tuple[str | None, str | None, tuple[str, ...]] = (None, None, ())
        if dist is not None:
            info = parsed.get(id(dist)) or parsed.setdefault(id(dist), _metadata_of(dist))
        found.append(InstalledEntryPoint(EntryPoint(point.name, point.value, group), *info))
    return found


def _metadata_of(
    dist: importlib.metadata.Distribution,
) -> tuple[str | None, str | None, tuple[str, ...]]:
    metadata = dist.metadata
    return metadata["Name"], metadata["Version"], tuple(metadata.get_all("Requires-Dist") or ())


def _section(text: str, group: str) -> Iterator[tuple[str, str]]:
    """The ``name = value`` pairs of one ``[group]`` of an ``entry_points.txt``."""
    current: str | None = None
    for line in _stripped(text.splitlines()):
        if line.startswith("[") and line.endswith("]"):
            current = line.strip("[]")
        elif current == group:
            name, equals, value = line.partition("=")
            if equals:
                yield name.strip(), value.strip()


def _stripped(lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            yield line


def _headers(dist: _Distribution) -> dict[str, list[str]]:
    """The header fields of a distribution's ``METADATA`` (else ``PKG-INFO``), by
    lower-case name, each value as the email parser gives it (continuation lines kept)."""
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    headers: dict[str, list[str]] = {}
    name: str | None = None
    value = ""
    # Lines end as the email parser ends them (\n, \r\n or \r), not at every
    # character str.splitlines() would split at (a form feed in a description).
    for line in io.StringIO(text, newline=""):
        if line[:1] in (" ", "\t"):
            if name is not None:
                value += line
            continue
        if name is not None:
            headers.setdefault(name, []).append(value.rstrip("\r\n"))
            name = None
        field, colon, rest = line.partition(":")
        # The first line that is no header field (a blank one, usually) starts the body.
        if not colon or any(c <= " " or c > "~" for c in field):
            break
        name, value = field.lower(), rest.lstrip(" \t")
    if name is not None:
        headers.setdefault(name, []).append(value.rstrip("\r\n"))
    return headers


def _first(headers: dict[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None
