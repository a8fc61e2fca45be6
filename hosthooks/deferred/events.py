"""What travels on the queue for one deferred call, and what the implementation can ask of it."""

from __future__ import annotations

import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from typing import Final

#: The queue deferred calls go to unless ``@hookimpl(queue=...)`` names another.
DEFAULT_QUEUE: Final = "hosthooks"
#: How often a deferred call that raises is tried again, unless ``retries=`` says.
DEFAULT_RETRIES: Final = 3


@dataclass(frozen=True)
class DeferredEvent:
    """The deferred call being run, as :func:`current_event` returns it.

    :param event_id: the same for every delivery and retry of one call: the key
        for an implementation that must act once.
    :param attempt: 1 for the first run, 2 for the first retry after a failure...
        A redelivery after a lost worker runs the same attempt again.
    :param enqueued_at: when the call was put on the queue (``time.time()``).
    """

    event_id: str
    hook: str
    plugin: str
    queue: str
    attempt: int
    retries: int
    enqueued_at: float


_current: ContextVar[DeferredEvent | None] = ContextVar("hosthooks_deferred_event", default=None)


def current_event() -> DeferredEvent | None:
    """The deferred call being run in this context, or None outside one."""
    return _current.get()


def new_message(
    hook: str, plugin: str, queue: str, retries: int, arguments: dict[str, Any]
) -> dict[str, Any]:
    """A deferred call as it travels: JSON-ready, ``arguments`` already encoded."""
    return {
        "event_id": uuid.uuid4().hex,
        "hook": hook,
        "plugin": plugin,
        "queue": queue,
        "retries": retries,
        "enqueued_at": time.time(),
        "arguments": arguments,
    }


def event_of(message: dict[str, Any], attempt: int) -> DeferredEvent:
    return DeferredEvent(
        event_id=message["event_id"],
        hook=message["hook"],
        plugin=message["plugin"],
        queue=message["queue"],
        attempt=attempt,
        retries=message["retries"],
        enqueued_at=message["enqueued_at"],
    )
