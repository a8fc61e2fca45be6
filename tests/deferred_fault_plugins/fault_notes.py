"""The fault suite's plugin on the demo's notes: a deferred post_save recording each
run's start and end as JSON lines, and what a note's title asks of the app.

A title starting ``poison`` always raises; ``key-error`` raises KeyError on its
first attempt; ``slow`` takes ``HOSTHOOKS_TEST_SLOW_SECONDS``. What the app does
for other titles is fault_app.py's.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from hosthooks import hookimpl
from hosthooks.deferred import ModelSnapshot
from hosthooks.deferred import current_event


def _record(entry: dict[str, Any]) -> None:
    with open(os.environ["HOSTHOOKS_TEST_RECORD"], "a", encoding="utf-8") as record:
        record.write(json.dumps(entry) + "\n")


@hookimpl(
    defer=True,
    sender="demo.Note",
    queue=os.environ.get("HOSTHOOKS_TEST_QUEUE", "hosthooks"),
    retries=2,
)
def post_save(instance: ModelSnapshot) -> None:
    event = current_event()
    assert event is not None
    title = str(instance.fields["title"])
    entry = {
        "event_id": event.event_id,
        "attempt": event.attempt,
        "pid": os.getpid(),
        "title": title,
    }
    _record({**entry, "phase": "start"})
    if title.startswith("slow"):
        time.sleep(float(os.environ.get("HOSTHOOKS_TEST_SLOW_SECONDS", "5")))
    if title.startswith("poison"):
        raise RuntimeError("poisoned")
    if title.startswith("key-error") and event.attempt == 1:
        raise KeyError("missing")
    _record({**entry, "phase": "done"})
