"""Counts failed logins per username and warns when one keeps failing."""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from typing import Any

from hosthooks import hookimpl

logger = logging.getLogger("hosthooks.login_guard")
DEFAULT_LIMIT = 5

_failures: Counter[str] = Counter()
_lock = threading.Lock()


def limit() -> int:
    """The failures after which a username is reported (``HOSTHOOKS_LOGIN_GUARD_LIMIT``).

    :raises ValueError: when the variable is not a positive whole number.
    """
    raw = os.environ.get("HOSTHOOKS_LOGIN_GUARD_LIMIT", str(DEFAULT_LIMIT))
    value = int(raw)
    if value < 1:
        raise ValueError(f"HOSTHOOKS_LOGIN_GUARD_LIMIT must be at least 1, not {raw!r}")
    return value


def failures(username: str) -> int:
    """Consecutive failed logins for ``username`` since its last success."""
    with _lock:
        return _failures[username]


def reset() -> None:
    """Forget every count."""
    with _lock:
        _failures.clear()


@hookimpl
def user_login_failed(credentials: dict[str, Any]) -> None:
    username = str(credentials.get("username", ""))
    with _lock:
        _failures[username] += 1
        count = _failures[username]
    if count >= limit():
        logger.warning("login-guard: %d consecutive failed logins for %r", count, username)


@hookimpl
def user_logged_in(user: Any) -> None:
    username = str(getattr(user, "username", ""))
    with _lock:
        _failures.pop(username, None)
