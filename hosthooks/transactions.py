"""``hosthooks.on_commit``: run a callback once the current transaction commits,
on whichever host's transactions are in use.

The host that owns transactions (the runtime's databases, or Django through
the bridge) installs a commit handler with :func:`set_commit_handler`; plugins
and deferred implementations call :func:`on_commit` without knowing which.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Final

#: ``handler(callback, using)``: run ``callback`` after the transaction on
#: ``using`` (None: the default database) commits, at once outside one, never
#: after a rollback.
CommitHandler = Callable[[Callable[[], None], "str | None"], None]

_handler: CommitHandler | None = None
_lock: Final = threading.Lock()


def set_commit_handler(handler: CommitHandler | None) -> CommitHandler | None:
    """Install the handler :func:`on_commit` uses; returns the one it replaces.

    None removes it: callbacks then run at once, as there is no transaction to wait for.
    """
    global _handler
    with _lock:
        previous, _handler = _handler, handler
        return previous


def on_commit(callback: Callable[[], None], using: str | None = None) -> None:
    """Run ``callback`` after the current transaction on ``using`` commits.

    Outside a transaction, or with no host owning transactions, it runs at
    once. After a rollback it never runs. An exception from ``callback``
    propagates from wherever the commit happens.

    :param using: the database alias; None for the default one.
    """
    handler = _handler
    if handler is None:
        callback()
        return
    handler(callback, using)
