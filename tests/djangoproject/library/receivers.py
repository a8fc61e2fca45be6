"""Plain Django receivers: what a project has before it installs any plugin."""

from __future__ import annotations

from collections import Counter
from typing import Any

saves: Counter[str] = Counter()


def count_book_saves(sender: type, **kwargs: Any) -> None:
    saves["library.Book"] += 1


def note_saved(sender: type, **kwargs: Any) -> None:
    saves["any"] += 1
