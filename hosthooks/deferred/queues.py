"""Where deferred calls go: a small interface, Celery behind it, and an eager
queue that runs them in process."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from typing import Any
from typing import Final
from typing import Protocol

from hosthooks.deferred import runner

if TYPE_CHECKING:
    from hosthooks.host import Host

logger: Final = logging.getLogger("hosthooks.deferred")


class Queue(Protocol):
    """What the stand-in of a deferred implementation hands its call to."""

    def enqueue(self, message: dict[str, Any]) -> None:
        """Put one deferred call on the queue its message names.

        :raises Exception: when the call cannot be handed over (an unreachable
            broker, say); the caller's transaction has committed by then.
        """


class EagerQueue:
    """Runs each deferred call at once, in the calling process, with its retries.

    For tests and development: the same stand-in, serialisation and run as on
    a worker, without a broker. A failure is logged, never raised to the caller,
    as it would not reach the caller from a worker either.
    """

    def __init__(self, host: Host) -> None:
        self._host = host

    def enqueue(self, message: dict[str, Any]) -> None:
        for attempt in range(1, message["retries"] + 2):
            try:
                runner.run(self._host, message, attempt)
            except Exception:
                if attempt > message["retries"]:
                    logger.exception(
                        "deferred %s by plugin %r, event %s: gave up after %d attempts",
                        message["hook"],
                        message["plugin"],
                        message["event_id"],
                        attempt,
                    )
                continue
            return


class CeleryQueue:
    """Sends each deferred call to Celery workers (``hosthooks worker``)."""

    def __init__(self, host: Host) -> None:
        from hosthooks.deferred.celery_app import make_celery_app

        self._app = make_celery_app(host.config.broker_url, host.config.queue_visibility_timeout)

    def enqueue(self, message: dict[str, Any]) -> None:
        from hosthooks.deferred.celery_app import TASK_NAME

        self._app.send_task(TASK_NAME, args=[message], queue=message["queue"])


def queue_for(host: Host) -> Queue:
    """The queue the host's configuration names (``queue_backend``)."""
    if host.config.queue_backend == "eager":
        return EagerQueue(host)
    return CeleryQueue(host)
