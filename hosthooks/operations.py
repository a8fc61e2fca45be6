"""What operators do to a running host: put plugin mutes in force, set the
circuit breaker, read each plugin's error counts.

The console (:mod:`hosthooks.runtime.console`) reaches the call engine's
switchboard and error counters through here, as the runtime reaches the rest
of the engine through the Host.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Iterable
from typing import NamedTuple

import pluggy

from hosthooks.engine.health import ERRORS
from hosthooks.engine.health import PluginErrors
from hosthooks.engine.muting import MUTED_ORIGINALS
from hosthooks.engine.muting import Breaker
from hosthooks.engine.muting import Mute
from hosthooks.host import Host


class PluginMute(NamedTuple):
    """A whole plugin muted: by whom, since when and until when (None: until unmuted)."""

    plugin: str
    by: str
    at: float
    until: float | None


def set_breaker(host: Host, failures: int, cooldown: float) -> None:
    """Mute a plugin in one hook after ``failures`` failures in a row there, for
    ``cooldown`` seconds; ``failures=0`` switches the breaker off."""
    host.switchboard.breaker = Breaker(host.switchboard, failures, cooldown) if failures else None


def put_plugin_mutes(host: Host, mutes: Iterable[PluginMute]) -> None:
    """Make ``mutes`` the whole-plugin mutes in force (the breaker's stay), then
    drop the ones whose time is up."""
    host.switchboard.replace_plugin_mutes(
        Mute(mute.plugin, None, mute.by, mute.at, mute.until) for mute in mutes
    )
    host.switchboard.expire()


def plugin_errors(plugin: str) -> PluginErrors:
    """How often ``plugin``'s implementations raised in this process, and the last error."""
    return ERRORS.of(plugin)


def written_function(impl: pluggy.HookImpl) -> Callable[..., object]:
    """The function ``impl`` was registered with, even while muted (a stand-in runs then)."""
    return MUTED_ORIGINALS.get(impl, impl.function)


def muted_until(host: Host, plugin: str, hook: str) -> float | None:
    """Whether ``plugin`` is muted in ``hook`` on ``host`` (by an operator or the
    circuit breaker): when that ends, ``inf`` when it lasts until unmuted; None
    when it is not muted."""
    host.switchboard.expire()
    ends = [
        math.inf if mute.until is None else mute.until
        for mute in host.switchboard.mutes()
        if mute.plugin == plugin and mute.hook in (None, hook)
    ]
    return max(ends) if ends else None


def deferred_run_ended(host: Host, plugin: str, hook: str, error: BaseException | None) -> None:
    """A deferred run of ``plugin``'s ``hook`` ended (``error`` None: it ran well):
    counted against the plugin when it raised, and told to the circuit breaker."""
    breaker = host.switchboard.breaker
    if error is not None:
        ERRORS.failed(plugin, hook, error)
        if breaker is not None:
            breaker.failed_in(plugin, hook)
    elif breaker is not None:
        breaker.succeeded_in(plugin, hook)
