"""The operations console under ``/-/``: each plugin's health, its settings and
implementations, the hooks in call order, recent calls as request waterfalls,
deferred deliveries, and muting a plugin without a restart.

Staff only, every page with a JSON twin; no script but the one that keeps a
page live (``/-/console.js``), which the Content-Security-Policy allows.
"""

from __future__ import annotations

from hosthooks.host import get_host
from hosthooks.operations import set_breaker
from hosthooks.runtime.console.mutes import MuteStore
from hosthooks.runtime.console.mutes import MuteSync
from hosthooks.runtime.console.recording import RecentCalls
from hosthooks.runtime.console.views import ROUTES
from hosthooks.runtime.console.views import ConsoleViews
from hosthooks.runtime.db import Database
from hosthooks.runtime.settings import Settings
from hosthooks.runtime.templates import Templates

__all__ = ["ROUTES", "ConsoleViews", "follow_mutes", "setup"]


def setup(database: Database, templates: Templates, settings: Settings) -> ConsoleViews:
    """The console of an app on ``database``: the mutes it holds put in force now
    and followed from now on, the circuit breaker set as the settings say.

    :raises ValueError: for a negative BREAKER_FAILURES or BREAKER_COOLDOWN.
    :raises DatabaseError: when the mutes cannot be read.
    """
    store, sync = follow_mutes(database, settings)
    return ConsoleViews(templates, RecentCalls(), store, sync)


def follow_mutes(database: Database, settings: Settings) -> tuple[MuteStore, MuteSync]:
    """Put the mutes ``database`` holds in force on this process's host and follow
    them from now on; set the circuit breaker as the settings say. What every
    process of the app does: ``serve`` (through :func:`setup`) and ``worker``.

    :raises ValueError: for a negative BREAKER_FAILURES or BREAKER_COOLDOWN.
    :raises DatabaseError: when the mutes cannot be read.
    """
    host = get_host()
    failures, cooldown = int(settings.BREAKER_FAILURES), float(settings.BREAKER_COOLDOWN)
    if failures < 0 or cooldown < 0:
        raise ValueError("BREAKER_FAILURES and BREAKER_COOLDOWN must not be negative")
    set_breaker(host, failures, cooldown)
    store = MuteStore(database)
    sync = MuteSync(host, store)
    sync.start()
    return store, sync
