"""Counts failed logins per username and warns when one keeps failing."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from hosthooks import field_values
from hosthooks import hooks
from hosthooks import plugin_settings
from hosthooks import setting

logger = logging.getLogger("hosthooks.login_guard")
PLUGIN_NAME = "login-guard"
DEFAULT_LIMIT = 5


@dataclass
class LoginGuardSettings:
    """``[plugins.login-guard]``: ``limit``, the failures after which a username is
    reported (also ``HOSTHOOKS_PLUGIN_LOGIN_GUARD__LIMIT``, or the older
    ``HOSTHOOKS_LOGIN_GUARD_LIMIT``)."""

    limit: int = setting(DEFAULT_LIMIT, aliases=("HOSTHOOKS_LOGIN_GUARD_LIMIT",))


hosthooks_settings = LoginGuardSettings

_failures: Counter[str] = Counter()
_lock = threading.Lock()


def limit() -> int:
    """The failures after which a username is reported (the ``limit`` setting).

    :raises hosthooks.PluginSettingsError: when it is not a whole number.
    :raises ValueError: when it is less than 1.
    """
    value = plugin_settings(PLUGIN_NAME, LoginGuardSettings).limit
    if value < 1:
        raise ValueError(f"{PLUGIN_NAME}: limit must be at least 1, not {value}")
    return value


def failures(username: str) -> int:
    """Consecutive failed logins for ``username`` since its last success."""
    with _lock:
        return _failures[username]


def reset() -> None:
    """Forget every count."""
    with _lock:
        _failures.clear()


@hooks.user_login_failed
def user_login_failed(credentials: dict[str, Any], **_: object) -> None:
    username = str(credentials.get("username", ""))
    with _lock:
        _failures[username] += 1
        count = _failures[username]
    if count >= limit():
        logger.warning("login-guard: %d consecutive failed logins for %r", count, username)


@hooks.user_logged_in
def user_logged_in(user: Any, **_: object) -> None:
    # The user is a model instance of whichever host runs: read through the model API.
    username = str(field_values(user).get("username", ""))
    with _lock:
        _failures.pop(username, None)
