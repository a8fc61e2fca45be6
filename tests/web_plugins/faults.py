"""A plugin for the HTTP tests that fails in the hook a request names.

A request with the header ``X-Fault: <hook>`` makes this plugin raise
``RuntimeError`` in that hook; ``X-Fault: <hook>:exit`` makes it call
``sys.exit()`` there instead. Requests without the header are left alone, so
one server serves the healthy requests and the faulty ones side by side.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from hosthooks import hookimpl

#: Every hook a request to the demo app can reach (not class_prepared, the
#: migration hooks or setting_changed, which fire at start or in tests only).
REACHABLE = (
    "request_started",
    "connection_created",
    "pre_init",
    "post_init",
    "pre_save",
    "post_save",
    "pre_delete",
    "post_delete",
    "m2m_changed",
    "user_logged_in",
    "user_logged_out",
    "user_login_failed",
    "template_rendered",
    "got_request_exception",
    "request_finished",
)

# Every hook of a request fires on the thread that serves it, request_started first.
_current = threading.local()


def _fail_if_named(hook: str) -> None:
    fault = getattr(_current, "fault", "")
    if fault == hook:
        raise RuntimeError(f"the faults plugin fails in {hook}")
    if fault == f"{hook}:exit":
        sys.exit(f"the faults plugin exits in {hook}")


# Last, as every failure here: the other plugins (the recorder, whose
# started and finished counts must match) see the request first.
@hookimpl(trylast=True)
def request_started(environ: dict[str, Any]) -> None:
    _current.fault = environ.get("HTTP_X_FAULT", "")
    _fail_if_named("request_started")


@hookimpl(trylast=True)
def pre_save() -> None:
    # got_request_exception needs a view that fails: a failing save is one.
    if getattr(_current, "fault", "").startswith("got_request_exception"):
        raise LookupError("the faults plugin breaks the save")
    _fail_if_named("pre_save")


def _failing_in(hook: str) -> Callable[[], None]:
    def fail() -> None:
        _fail_if_named(hook)

    fail.__name__ = fail.__qualname__ = f"fail_in_{hook}"
    # Last: every other plugin (the built-in last-login one included) has
    # already done its work, and its writes must be undone with the request's.
    return hookimpl(specname=hook, trylast=True)(fail)


for _hook in REACHABLE:
    if _hook not in {"request_started", "pre_save"}:
        globals()[f"fail_in_{_hook}"] = _failing_in(_hook)
