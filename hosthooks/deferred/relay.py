"""The relay: moves due calls from the outboxes to the broker, and purges done ones.

It runs inside ``hosthooks worker`` (a thread) by default, or alone as
``hosthooks relay``. Each round it takes a batch of due rows per outbox
(marking them ``sent`` in one statement; on PostgreSQL skipping rows another
relay holds, so relays on several machines share one outbox) and publishes
one small message per call over one broker connection. When the broker is
away the rows go back to ``pending`` and the relay tries again every few
seconds, logging one line when the broker goes and one when it is back: an
outage delays calls, never loses them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any
from typing import Final

from hosthooks.deferred.events import TASK_NAME
from hosthooks.deferred.events import nudge
from hosthooks.deferred.outbox import Outbox

logger: Final = logging.getLogger("hosthooks.deferred.relay")

#: Rows taken per outbox per round.
BATCH: Final = 1000
#: The most calls one message carries: a worker takes and records them together
#: (one statement each way), so a backlog costs few round trips. Fewer are
#: packed while fewer are due, down to one per message, so that work spreads
#: over every worker thread.
PER_MESSAGE: Final = 50
#: How many messages a round's calls are spread over, at least, when there are enough.
SPREAD: Final = 32
#: Seconds between two looks at the outboxes when nothing was due.
IDLE_WAIT: Final = 0.1
#: Seconds between two tries while the broker is away (at most 10, as promised).
BROKER_RETRY: Final = 3.0
#: Seconds between two purges of done calls.
PURGE_EVERY: Final = 60.0


class Relay:
    """Relays ``outboxes`` to the broker of ``app`` (a Celery app of
    :func:`hosthooks.deferred.celery_app.make_celery_app`).

    :param keep: seconds done calls are kept before they are purged.
    """

    def __init__(self, app: Any, outboxes: Sequence[Outbox], *, keep: float) -> None:
        self.app = app
        self.outboxes = list(outboxes)
        self.keep = keep
        self.broker_down_since: float | None = None
        self._last_purge = 0.0

    def run(self, stop: threading.Event) -> None:
        """Relay until ``stop`` is set. Nothing raises from here: a failing
        database or broker is logged and tried again."""
        while not stop.is_set():
            try:
                moved = self.run_once()
            except Exception:
                logger.exception("relay: a round failed; trying again")
                stop.wait(BROKER_RETRY)
                continue
            if self.broker_down_since is not None:
                stop.wait(BROKER_RETRY)
            elif moved == 0:
                stop.wait(IDLE_WAIT)

    def run_once(self, now: float | None = None) -> int:
        """One round: every outbox's due calls to the broker (and a purge when
        due); how many calls were handed over."""
        moment = time.time() if now is None else now
        if moment - self._last_purge >= PURGE_EVERY:
            self._last_purge = moment
            self.purge(moment)
        moved = 0
        for outbox in self.outboxes:
            moved += self._relay(outbox)
        return moved

    def purge(self, now: float | None = None) -> int:
        """Delete done calls older than the kept window from every outbox; how many."""
        purged = 0
        for outbox in self.outboxes:
            purged += outbox.purge_done(self.keep, now)
        if purged:
            logger.info("relay: purged %d done deferred calls older than %ds", purged, self.keep)
        return purged

    def _relay(self, outbox: Outbox) -> int:
        due = outbox.take_due(BATCH)
        if not due:
            return 0
        messages = pack(due)
        sent = 0
        try:
            with self.app.producer_or_acquire() as producer:
                for queue, event_ids in messages:
                    self.app.send_task(
                        TASK_NAME,
                        args=[nudge(event_ids, outbox.using)],
                        queue=queue,
                        producer=producer,
                    )
                    sent += 1
        except Exception as error:
            # Whatever the broker's failure: the calls not handed over wait.
            unsent = [event_id for _, event_ids in messages[sent:] for event_id in event_ids]
            outbox.give_back(unsent, time.time())
            if self.broker_down_since is None:
                self.broker_down_since = time.time()
                logger.warning(
                    "relay: the broker is unreachable (%s); deferred calls wait in the "
                    "outbox, trying again every %.0fs",
                    " ".join(str(error).split()) or type(error).__name__,
                    BROKER_RETRY,
                )
            return len(due) - len(unsent)
        if self.broker_down_since is not None:
            logger.warning(
                "relay: the broker is back after %.0fs; relaying again",
                time.time() - self.broker_down_since,
            )
            self.broker_down_since = None
        return len(due)


def pack(due: Sequence[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """Due calls (event id, queue), oldest first, as messages: (queue, event ids)."""
    by_queue: dict[str, list[str]] = {}
    for event_id, queue in due:
        by_queue.setdefault(queue, []).append(event_id)
    messages = []
    for queue, event_ids in by_queue.items():
        size = max(1, min(PER_MESSAGE, len(event_ids) // SPREAD))
        for start in range(0, len(event_ids), size):
            messages.append((queue, event_ids[start : start + size]))
    return messages
