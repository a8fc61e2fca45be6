"""What travels on the queue for one deferred call, and what the implementation can ask of it."""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from typing import Final

#: The queue deferred calls go to unless ``@hookimpl(queue=...)`` names another.
DEFAULT_QUEUE: Final = "hosthooks"
#: How often a deferred call that raises is tried again, unless ``retries=`` says.
DEFAULT_RETRIES: Final = 3
#: The one Celery task: the relay sends it, a worker runs it.
TASK_NAME: Final = "hosthooks.deferred.run"


def nudge(event_ids: Sequence[str], using: str | None) -> dict[str, Any]:
    """What travels on the broker for a few calls of one database: their event
    ids and its alias (the calls themselves stay in the outbox)."""
    return {"event_ids": list(event_ids), "using": using}


@dataclass(frozen=True)
class DeferredEvent:
    """The deferred call being run, as :func:`current_event` returns it.

    :param event_id: the same for every delivery and retry of one call: the key
        for an implementation that must act once.
    :param attempt: 1 for the first run, 2 for the first retry after a failure...
        A redelivery after a lost worker runs the same attempt again.
    :param enqueued_at: when the call was written to the outbox (``time.time()``),
        in the transaction of the write that made it.
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
