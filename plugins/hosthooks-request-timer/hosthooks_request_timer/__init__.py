"""Times every request from ``request_started`` to the end of ``request_finished``."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Generator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from hosthooks import hookimpl
from hosthooks import hooks
from hosthooks import plugin_settings

logger = logging.getLogger("hosthooks.request_timer")
PLUGIN_NAME = "request-timer"


@dataclass
class RequestTimerSettings:
    """``[plugins.request-timer]``: ``slow_ms``, the duration from which a request
    is logged as a warning (also ``HOSTHOOKS_PLUGIN_REQUEST_TIMER__SLOW_MS``)."""

    slow_ms: float = 500.0


hosthooks_settings = RequestTimerSettings


@dataclass
class Timing:
    """One request's timing."""

    method: str
    path: str
    started: float
    failed: bool = False
    duration_ms: float | None = None


# A WSGI server runs a request's start and its close in one thread, and each
# thread has its own context; an ASGI server runs each request in a task of its
# own (and asgiref hands a task's context to the view's thread): either way,
# concurrent requests never see each other's.
_current: ContextVar[Timing | None] = ContextVar("hosthooks_request_timer", default=None)
_recent: deque[Timing] = deque(maxlen=1000)
_recent_lock = threading.Lock()


def recent() -> list[Timing]:
    """The last 1,000 finished requests, oldest first."""
    with _recent_lock:
        return list(_recent)


@hooks.request_started
def request_started(
    environ: dict[str, Any] | None, scope: dict[str, Any] | None, **_: object
) -> None:
    # A WSGI server sends the environ, an ASGI server the scope.
    if environ is not None:
        method, path = environ.get("REQUEST_METHOD", "?"), environ.get("PATH_INFO", "")
    else:
        method, path = (scope or {}).get("method", "?"), (scope or {}).get("path", "")
    _current.set(Timing(method=str(method), path=str(path), started=time.perf_counter()))


@hooks.got_request_exception
def got_request_exception(**_: object) -> None:
    timing = _current.get()
    if timing is not None:
        timing.failed = True


@hookimpl(wrapper=True)
def request_finished() -> Generator[None, object, object]:
    # Runs around the other request_finished implementations: the clock stops
    # after them, so the time they take is part of the request's.
    try:
        return (yield)
    finally:
        timing = _current.get()
        if timing is not None:
            _current.set(None)
            timing.duration_ms = (time.perf_counter() - timing.started) * 1000
            with _recent_lock:
                _recent.append(timing)
            outcome = "failed" if timing.failed else "ok"
            slow = timing.duration_ms >= plugin_settings(PLUGIN_NAME, RequestTimerSettings).slow_ms
            logger.log(
                logging.WARNING if slow else logging.INFO,
                "request-timer: %s %s %s %.2f ms%s",
                timing.method,
                timing.path,
                outcome,
                timing.duration_ms,
                " (slow)" if slow else "",
            )
