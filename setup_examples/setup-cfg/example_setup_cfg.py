"""The example plugin: counts saves per model (declared the setup-cfg way)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hosthooks import hookimpl

__version__ = "1.0.0"

saves: Counter[str] = Counter()


@hookimpl
def post_save(sender: Any, created: bool) -> None:
    saves[getattr(sender, "__qualname__", repr(sender))] += 1
