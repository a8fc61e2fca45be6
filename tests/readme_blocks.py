"""The README's fenced blocks, found by their fences, and how each is tried.

Every block is one of:

- ``python`` whose first line names a file (``# my_plugin.py``,
  ``# tests/test_my_plugin.py``, ``# settings.py``): written into a scratch
  project with every file block before it (the latest of each path), then
  imported, run by pytest (a test file), or made a Django project's settings
  (``settings.py``);
- ``python`` without one: executed, after the blocks without one earlier in the
  same section (a section's snippets continue one another); top-level ``await``
  runs on an event loop;
- ``toml`` naming its file (``# hosthooks.toml``, ``# pyproject.toml``): loaded;
- ``sh`` (or ``bash``): run when it talks only to this machine; parsed (``bash -n``) when it
  installs from the package index or names another host; ``manage.py`` lines
  run in the Django project the README's settings make; a command that serves
  until stopped (``serve``, ``worker``, ``relay``, ``runserver``) must start
  and still be serving a few seconds later;
- ``json``: parsed;
- ``text``, ``console`` or no language: output shown for reading, compared by
  the tests of what printed it.

A marker comment on the line before a fence says more: ``<!-- synopsis -->``
(a command's usage, each option checked against its ``--help``),
``<!-- test-command -->`` (the test suite's own command: parsed, never run).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"

#: Fence languages the harness knows; a block of any other fails the tests.
#: ``bash`` is tried as ``sh``; ``json`` is parsed; ``text``, ``console`` and no
#: language are output shown for reading.
KNOWN_LANGUAGES = ("python", "toml", "sh", "bash", "json", "text", "console", "")
SHELLS = ("sh", "bash")
#: Markers the harness knows.
KNOWN_MARKERS = ("synopsis", "test-command")

_FENCE = re.compile(r"^```(\S*)\s*$")
_MARKER = re.compile(r"^<!--\s*([\w-]+)\s*-->$")
_FILE_HEADER = re.compile(r"^#\s*([\w./-]+\.(?:py|toml))\s*$")
#: Hosts a shell block may name and still be run.
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Block:
    """One fenced block of the README."""

    line: int  # of its opening fence, 1-based
    language: str
    text: str
    section: str  # the heading it is under
    marker: str | None

    @property
    def file(self) -> str | None:
        """The file the block shows, when its first line names one."""
        first = self.text.split("\n", 1)[0]
        found = _FILE_HEADER.match(first)
        return found.group(1) if found else None

    @property
    def id(self) -> str:
        return f"L{self.line}-{self.language or 'text'}-{self.file or self.section[:30]}"

    @property
    def talks_elsewhere(self) -> str | None:
        """Why a shell block must not run here, or None: it installs from the
        package index or reaches a host other than this machine."""
        if re.search(r"\bpip install\b", self.text):
            return "installs from the package index"
        if re.search(r"\bapt-get\b", self.text):
            return "installs system packages"
        for host in re.findall(r"://(?:[^@/\s]*@)?([\w.-]+|\[[^\]]+\])", self.text):
            if host.strip("[]") not in _LOCAL_HOSTS:
                return f"names the host {host}"
        return None


def readme_blocks(text: str | None = None) -> list[Block]:
    """Every fenced block of the README, in order."""
    lines = (README.read_text(encoding="utf-8") if text is None else text).splitlines()
    blocks: list[Block] = []
    section = ""
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        fence = _FENCE.match(line)
        if fence is None:
            index += 1
            continue
        end = index + 1
        while not lines[end].startswith("```"):
            end += 1
        marker = _MARKER.match(lines[index - 1].strip()) if index else None
        blocks.append(
            Block(
                line=index + 1,
                language=fence.group(1),
                text="\n".join(lines[index + 1 : end]) + "\n",
                section=section,
                marker=marker.group(1) if marker else None,
            )
        )
        index = end + 1
    return blocks


def files_before(blocks: list[Block], block: Block) -> dict[str, str]:
    """The scratch project as the README has built it up to ``block`` (included):
    each file block's path with its latest text."""
    files: dict[str, str] = {}
    for earlier in blocks:
        if earlier.line > block.line:
            break
        if earlier.file is not None:
            files[earlier.file] = earlier.text
    return files


def section_snippets(blocks: list[Block], block: Block) -> list[Block]:
    """The Python blocks without a file that ``block`` continues, then ``block``."""
    return [
        earlier
        for earlier in blocks
        if earlier.line <= block.line
        and earlier.language == "python"
        and earlier.file is None
        and earlier.section == block.section
    ]
