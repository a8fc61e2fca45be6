"""A deferred post_save that records each run's start and end as JSON lines.

The queue and the record file come from the environment, so the process that
enqueues and the worker that runs agree. An author named ``slow...`` takes
``HOSTHOOKS_TEST_SLOW_SECONDS``; one named ``fail-once...`` raises on its first attempt.
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


@hookimpl(defer=True, queue=os.environ.get("HOSTHOOKS_TEST_QUEUE", "hosthooks"), retries=2)
def post_save(sender: Any, instance: ModelSnapshot, created: bool) -> None:
    event = current_event()
    assert event is not None
    name = str(instance.fields["name"])
    entry = {
        "event_id": event.event_id,
        "attempt": event.attempt,
        "pid": os.getpid(),
        "sender": sender.hosthooks_label,
        "label": instance.label,
        "pk": instance.pk,
        "name": name,
        "created": created,
    }
    _record({**entry, "phase": "start"})
    if name.startswith("slow"):
        time.sleep(float(os.environ.get("HOSTHOOKS_TEST_SLOW_SECONDS", "30")))
    if name.startswith("fail-once") and event.attempt == 1:
        raise RuntimeError("failing the first attempt")
    _record({**entry, "phase": "done"})
