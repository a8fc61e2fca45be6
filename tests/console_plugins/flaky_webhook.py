"""A plugin for the console's deliveries tests: a deferred post_save that fails
(as a webhook whose server is down) until the file HOSTHOOKS_TEST_HEALED names exists."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hosthooks import hookimpl


@hookimpl(defer=True, retries=1, sender="demo.Note")
def post_save(sender: Any, instance: Any, created: bool) -> None:
    if not Path(os.environ["HOSTHOOKS_TEST_HEALED"]).exists():
        raise RuntimeError("the webhook's server is down")
    Path(os.environ["HOSTHOOKS_TEST_HEALED"]).with_suffix(".delivered").touch()
