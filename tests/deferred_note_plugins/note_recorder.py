"""A deferred post_save of the demo's notes that records each run as a JSON line.

The queue and the record file come from the environment, so the app processes
that enqueue and the worker that runs agree.
"""

from __future__ import annotations

import json
import os
from typing import Any

from hosthooks import hookimpl
from hosthooks.deferred import ModelSnapshot
from hosthooks.deferred import current_event


@hookimpl(defer=True, sender="demo.Note", queue=os.environ.get("HOSTHOOKS_TEST_QUEUE", "hosthooks"))
def post_save(instance: ModelSnapshot, created: bool) -> None:
    event = current_event()
    assert event is not None
    # Read by the worker from the app's database (hosthooks worker --db).
    stored: Any = instance.load()
    entry = {
        "event_id": event.event_id,
        "pid": os.getpid(),
        "pk": instance.pk,
        "title": instance.fields["title"],
        "stored_title": stored.title,
        "created": created,
    }
    with open(os.environ["HOSTHOOKS_TEST_RECORD"], "a", encoding="utf-8") as record:
        record.write(json.dumps(entry) + "\n")
