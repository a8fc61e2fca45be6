"""Writers to one SQLite file in this process, served in the order they came.

SQLite's busy handler polls the file's lock with growing sleeps: a writer that
waits is not served before later ones, and while other threads take the lock
again and again it can starve for its whole busy timeout. Writers of one
process therefore queue here first, and only the writer at the head of the
queue asks SQLite for the lock; writers in other processes still meet SQLite's
own busy handler.
"""

from __future__ import annotations

import threading
import weakref
from collections import deque
from pathlib import Path
from typing import Final


class WriteQueue:
    """A first-come-first-served lock: one writer holds the turn, the rest wait in line.

    The turn is handed from one writer directly to the next in line, so a writer
    that gives it up and asks again at once joins the back of the line. Any
    thread may give the turn up, not only the one that took it.
    """

    __slots__ = ("__weakref__", "_held", "_line", "_mutex")

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        #: One locked lock per waiting writer, oldest first: released to hand it the turn.
        self._line: deque[threading.Lock] = deque()

    @property
    def waiting(self) -> int:
        """How many writers wait in line (not counting the one holding the turn)."""
        return len(self._line)

    def acquire(self, timeout: float) -> bool:
        """Wait for the turn, at most ``timeout`` seconds; whether it was taken."""
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            baton = threading.Lock()
            baton.acquire()
            self._line.append(baton)
        if baton.acquire(timeout=max(timeout, 0.0)):
            return True
        with self._mutex:
            try:
                self._line.remove(baton)
            except ValueError:
                # Handed the turn between the timeout and here: it is this
                # writer's now, and refusing it would leave nobody holding it.
                return True
        return False

    def release(self) -> None:
        """Give the turn to the next writer in line, or free it when nobody waits."""
        with self._mutex:
            if self._line:
                self._line.popleft().release()
            else:
                self._held = False


_queues: Final[weakref.WeakValueDictionary[Path, WriteQueue]] = weakref.WeakValueDictionary()
_queues_lock: Final = threading.Lock()


def write_queue_for(location: str) -> WriteQueue:
    """The queue of every writer in this process to the SQLite file at ``location``.

    Two names of one file (relative and absolute, through a symbolic link) share it.
    """
    path = Path(location).resolve()
    with _queues_lock:
        queue = _queues.get(path)
        if queue is None:
            # Kept alive by the backends using it: a file nobody writes any more
            # leaves nothing behind.
            queue = _queues[path] = WriteQueue()
        return queue
