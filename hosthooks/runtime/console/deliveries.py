"""The console's deliveries page: the deferred outbox's delivery records, counted
by state and by plugin, the dead ones with their last error, and the operator's
verbs (retry, purge) as POSTs: staff only, CSRF-checked, logged with who."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from hosthooks.configuration.keys import duration_from_text

if TYPE_CHECKING:
    from hosthooks.deferred.outbox import Outbox

logger: Final = logging.getLogger("hosthooks.console")

#: How many dead calls the page lists (the newest).
DEAD_SHOWN: Final = 100


def runtime_outbox() -> Outbox:
    """The outbox of the app's default database.

    :raises OutboxMissing: when the database has no outbox table.
    """
    # Imported here: the deferred wing imports the runtime, not the other way at load.
    from hosthooks.deferred.outbox import Outbox
    from hosthooks.runtime.db import runtime_layer

    outbox = Outbox(runtime_layer, None)
    outbox.require()
    return outbox


def summary(outbox: Outbox) -> dict[str, Any]:
    """``counts`` by state, ``plugins`` (each plugin's counts by state) and ``dead``
    (the newest dead calls, their last error included)."""
    plugins: dict[str, dict[str, int]] = {}
    states = list(outbox.counts())
    for plugin, state, count in outbox.counts_by_plugin():
        plugins.setdefault(plugin, dict.fromkeys(states, 0))[state] = count
    return {
        "counts": outbox.counts(),
        "plugins": dict(sorted(plugins.items())),
        "dead": [d.as_json() for d in outbox.deliveries(state="dead", limit=DEAD_SHOWN)],
    }


def retry(outbox: Outbox, who: str, event_ids: list[str], every_dead: bool) -> list[str]:
    """Send these calls (or every dead one) back to the queue with their retries
    anew; the event ids retried. Logged with who. With the eager queue (tests,
    one-process apps) nothing else would pick them up: they run here, now.
    """
    from hosthooks.deferred.runner import run_retried
    from hosthooks.host import get_host

    if every_dead:
        retried = outbox.retry(dead=True)
    else:
        retried = outbox.retry(event_ids) if event_ids else []
    if retried:
        logger.warning(
            "%d deferred call(s) retried by %s: %s", len(retried), who, ", ".join(retried)
        )
    run_retried(get_host(), outbox, retried)
    return retried


def purge(outbox: Outbox, who: str, older_than: str) -> int:
    """Delete the done calls older than the duration ``older_than``; how many. Logged.

    :raises ValueError: when ``older_than`` is not a duration.
    """
    seconds = duration_from_text(older_than)
    removed = outbox.purge_done(seconds)
    logger.warning("%d done deferred call(s) older than %s purged by %s", removed, older_than, who)
    return removed
