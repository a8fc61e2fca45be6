"""How each plugin fares: errors counted as its implementations raise them.

The counts are always on, and touched only when an implementation raises:
the calls that succeed run no code of this module at all. They are kept per
process, by plugin name, like the log lines that name the plugin; a process
runs one host in production, and tests that look at them start from
:meth:`ErrorCounts.reset`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from dataclasses import replace
from typing import Final


@dataclass(frozen=True)
class PluginErrors:
    """What went wrong with one plugin so far in this process."""

    #: How many times one of its implementations raised.
    count: int = 0
    #: The last error, one line (``Type: message``).
    last_error: str | None = None
    #: The hook the last error was raised in.
    last_hook: str | None = None
    #: When (seconds since the epoch).
    last_at: float | None = None


def error_line(error: BaseException) -> str:
    """``Type: first line of the message`` (the type alone for an empty message)."""
    text = str(error)
    message = text.splitlines()[0] if text else ""
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


class ErrorCounts:
    """Errors by plugin name; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_plugin: dict[str, PluginErrors] = {}

    def failed(self, plugin: str, hook: str, error: BaseException) -> None:
        """``plugin``'s implementation of ``hook`` raised ``error``."""
        line = error_line(error)
        now = time.time()
        with self._lock:
            known = self._by_plugin.get(plugin, PluginErrors())
            self._by_plugin[plugin] = replace(
                known, count=known.count + 1, last_error=line, last_hook=hook, last_at=now
            )

    def of(self, plugin: str) -> PluginErrors:
        """The errors of ``plugin`` (none counted: a count of 0)."""
        with self._lock:
            return self._by_plugin.get(plugin, PluginErrors())

    def reset(self) -> None:
        """Forget every count."""
        with self._lock:
            self._by_plugin.clear()


#: This process's counts.
ERRORS: Final = ErrorCounts()
