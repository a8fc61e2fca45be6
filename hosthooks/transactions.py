"""``hosthooks.on_commit``: run a callback once the current transaction commits,
on whichever data layer's transaction is open on the connection in use.

A data layer owns databases and their transactions: the runtime's
(:mod:`hosthooks.runtime.db`) or Django's (through the bridge). Each adds
itself with :func:`add_data_layer` when it is set up. There is no single
process-wide slot that the last import wins: every call asks the layers which
one has a transaction open on ``using`` in this thread, and waits for that
one. The outbox of deferred calls (:mod:`hosthooks.deferred.outbox`) writes
its rows through the same question, on the same connection.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any
from typing import Final
from typing import Protocol

logger: Final = logging.getLogger("hosthooks.transactions")


class DataLayer(Protocol):
    """What the owner of databases tells hosthooks: transactions, and statements
    on the connection a transaction is open on.

    SQL passed to :meth:`execute` uses ``?`` markers and double-quoted names;
    the layer turns it into what its driver takes.
    """

    #: ``"runtime"`` or ``"django"``: named in messages.
    name: str

    def has_database(self, using: str | None) -> bool:
        """Whether this layer has a database under the alias (None: the default one)."""

    def in_transaction(self, using: str | None) -> bool:
        """Whether this thread has a transaction open on ``using`` in this layer."""

    def on_commit(self, callback: Callable[[], None], using: str | None) -> None:
        """Run ``callback`` when this thread's transaction on ``using`` commits
        (at once outside one; never after a rollback)."""

    def vendor(self, using: str | None) -> str:
        """``"sqlite"`` or ``"postgresql"``."""

    def execute(self, using: str | None, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run one statement on this thread's connection to ``using`` (inside its
        open transaction if there is one); the rows it returns (empty when none)."""

    def atomic(self, using: str | None) -> AbstractContextManager[object]:
        """A transaction (a savepoint inside one) on ``using``."""

    def describe(self, using: str | None) -> str:
        """Where the database is, without its password."""

    def model(self, label: str) -> type[Any] | None:
        """The model class this layer knows by ``label`` (``"app.Model"``), or None."""


_layers: list[DataLayer] = []
_lock: Final = threading.Lock()


def add_data_layer(layer: DataLayer) -> Callable[[], None]:
    """Make ``layer``'s transactions known to :func:`on_commit`; returns what removes it.

    Adding a layer again moves it last (the others are asked first when no
    transaction is open).
    """
    with _lock:
        if layer in _layers:
            _layers.remove(layer)
        _layers.append(layer)

    def remove() -> None:
        with _lock:
            if layer in _layers:
                _layers.remove(layer)

    return remove


def data_layers() -> list[DataLayer]:
    """The data layers known, in the order they were added."""
    return list(_layers)


def layer_for(using: str | None) -> DataLayer | None:
    """The layer whose transaction is open on ``using`` in this thread; with none
    open, the first one that has a database under that alias; else None."""
    layers = _layers
    if len(layers) == 1:
        # A layer with a transaction open on the alias has a database under it:
        # alone, it is the answer either way, without asking for its connection
        # (under Django that lookup is a deferred call's dearest step but one).
        (layer,) = layers
        return layer if layer.has_database(using) else None
    for layer in layers:
        if layer.in_transaction(using):
            return layer
    for layer in layers:
        if layer.has_database(using):
            return layer
    return None


def on_commit(callback: Callable[[], None], using: str | None = None) -> None:
    """Run ``callback`` after the transaction open on ``using`` commits.

    The transaction is whichever layer's (the runtime's or Django's) is open on
    that alias in this thread. Outside a transaction, or with no data layer, it
    runs at once. After a rollback it never runs.

    An exception from ``callback`` is logged, naming the plugin and hook that
    registered it, and goes no further: the caller's data has committed, and
    the other callbacks of the transaction still run.

    :param using: the database alias; None for the default one.
    """
    # The calling frames' code, kept to name the plugin and hook should the
    # callback raise: looked up then, so that registering stays cheap.
    codes = _calling_code(sys._getframe(1))
    _register(callback, using, lambda: _registered_by(codes, callback))


def on_commit_named(
    callback: Callable[[], None], using: str | None, plugin: str, hook: str
) -> None:
    """:func:`on_commit`, for a caller that knows which ``plugin`` and ``hook`` the
    callback belongs to (named when it raises)."""
    _register(callback, using, lambda: (plugin, hook))


def _register(
    callback: Callable[[], None], using: str | None, owner: Callable[[], tuple[str, str]]
) -> None:
    def robust() -> None:
        try:
            callback()
        except Exception:
            plugin, hook = owner()
            logger.exception(
                "after-commit callback %s of plugin %r, hook %r raised; the transaction "
                "committed and the other callbacks ran",
                getattr(callback, "__qualname__", repr(callback)),
                plugin,
                hook,
            )

    layer = layer_for(using)
    if layer is None:
        robust()
        return
    layer.on_commit(robust, using)


#: Given a code object, the (plugin, hook) whose implementation it is, or None:
#: the host module provides it (this module sits below the host and cannot ask it).
CallerFinder = Callable[[Any], "tuple[str, str] | None"]
_finders: list[CallerFinder] = []


def add_caller_finder(finder: CallerFinder) -> None:
    """Let :func:`on_commit` name the plugin and hook of a callback through ``finder``."""
    if finder not in _finders:
        _finders.append(finder)


def _calling_code(frame: Any) -> tuple[Any, ...]:
    codes: list[Any] = []
    while frame is not None and len(codes) < 40:
        codes.append(frame.f_code)
        frame = frame.f_back
    return tuple(codes)


def _registered_by(codes: tuple[Any, ...], callback: Callable[[], None]) -> tuple[str, str]:
    """The plugin and hook whose implementation called :func:`on_commit`, from the
    code of the frames it was called in."""
    for code in codes:
        for finder in _finders:
            found = finder(code)
            if found is not None:
                return found
    module = getattr(callback, "__module__", None) or "?"
    return f"unknown (callback from {module})", "unknown"
