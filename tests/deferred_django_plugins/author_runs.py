"""The fault suite's deferred post_save on the Django project's authors: each run
as a JSON line in ``HOSTHOOKS_TEST_RECORD``, on ``HOSTHOOKS_TEST_QUEUE``."""

from __future__ import annotations

import json
import os

from hosthooks import hookimpl
from hosthooks.deferred import ModelSnapshot
from hosthooks.deferred import current_event


@hookimpl(
    defer=True, sender="library.Author", queue=os.environ.get("HOSTHOOKS_TEST_QUEUE", "hosthooks")
)
def post_save(instance: ModelSnapshot) -> None:
    event = current_event()
    assert event is not None
    entry = {
        "event_id": event.event_id,
        "title": instance.fields["name"],
        "stored": instance.load().name,
        "attempt": event.attempt,
        "pid": os.getpid(),
        "phase": "done",
    }
    with open(os.environ["HOSTHOOKS_TEST_RECORD"], "a", encoding="utf-8") as record:
        record.write(json.dumps(entry) + "\n")
