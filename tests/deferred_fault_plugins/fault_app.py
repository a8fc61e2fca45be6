"""What the app does for the fault suite's special note titles (nothing deferred):
``rollback`` makes the save fail after the deferred call was written, so the
request's transaction rolls back; ``die-after-commit`` kills the app with
SIGKILL as soon as the note's transaction has committed."""

from __future__ import annotations

import os
import signal
from typing import Any

import hosthooks
from hosthooks import hookimpl


@hookimpl(sender="demo.Note", trylast=True)
def post_save(instance: Any) -> None:
    if instance.title.startswith("rollback"):
        raise RuntimeError("this note's transaction rolls back")
    if instance.title.startswith("die-after-commit"):
        hosthooks.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
