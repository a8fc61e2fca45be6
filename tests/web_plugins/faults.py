"""A plugin for the HTTP tests that fails in the hook a request names.

A request with the header ``X-Fault: <hook>`` makes this plugin raise
``RuntimeError`` in that hook; ``X-Fault: <hook>:exit`` makes it call
``sys.exit()`` there instead, and ``X-Fault: <hook>:interrupt`` raise
``KeyboardInterrupt``. Requests without the header are left alone, so
one server serves the healthy requests and the faulty ones side by side.

Every implementation is trylast: the other plugins (the recorder, whose
started and finished counts must match, and the built-in last-login one) do
their work first, and their writes must be undone with the request's. Each is
a function of its own, as a plugin author writes them.
"""

from __future__ import annotations

import sys
from contextvars import ContextVar
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

# The fault of the request being served. A context variable, not a per-thread
# one: over ASGI one thread runs every request's view while request_started and
# request_finished run on the event loop, and the request's context is what
# follows it from the one to the other (under WSGI, a thread's context is its own).
_fault: ContextVar[str] = ContextVar("fault", default="")


def _fail_if_named(hook: str) -> None:
    fault = _fault.get()
    if fault == hook:
        raise RuntimeError(f"the faults plugin fails in {hook}")
    if fault == f"{hook}:exit":
        sys.exit(f"the faults plugin exits in {hook}")
    if fault == f"{hook}:interrupt":
        raise KeyboardInterrupt(f"the faults plugin interrupts {hook}")


@hookimpl(trylast=True)
def request_started(environ: dict[str, Any] | None, scope: Any) -> None:
    if environ is not None:
        fault = environ.get("HTTP_X_FAULT", "")
    else:
        headers = dict(scope["headers"])
        fault = headers.get(b"x-fault", b"").decode("latin-1")
    _fault.set(fault)
    _fail_if_named("request_started")


@hookimpl(trylast=True)
def connection_created() -> None:
    _fail_if_named("connection_created")


@hookimpl(trylast=True)
def pre_init() -> None:
    _fail_if_named("pre_init")


@hookimpl(trylast=True)
def post_init() -> None:
    _fail_if_named("post_init")


@hookimpl(trylast=True)
def pre_save() -> None:
    # got_request_exception needs a view that fails: a failing save is one.
    if _fault.get().startswith("got_request_exception"):
        raise LookupError("the faults plugin breaks the save")
    _fail_if_named("pre_save")


@hookimpl(trylast=True)
def post_save() -> None:
    _fail_if_named("post_save")


@hookimpl(trylast=True)
def pre_delete() -> None:
    _fail_if_named("pre_delete")


@hookimpl(trylast=True)
def post_delete() -> None:
    _fail_if_named("post_delete")


@hookimpl(trylast=True)
def m2m_changed() -> None:
    _fail_if_named("m2m_changed")


@hookimpl(trylast=True)
def user_logged_in() -> None:
    _fail_if_named("user_logged_in")


@hookimpl(trylast=True)
def user_logged_out() -> None:
    _fail_if_named("user_logged_out")


@hookimpl(trylast=True)
def user_login_failed() -> None:
    _fail_if_named("user_login_failed")


@hookimpl(trylast=True)
def template_rendered() -> None:
    _fail_if_named("template_rendered")


@hookimpl(trylast=True)
def got_request_exception() -> None:
    _fail_if_named("got_request_exception")


@hookimpl(trylast=True)
def request_finished() -> None:
    _fail_if_named("request_finished")
