"""Silencing implementations without changing anyone's place in the call order:
the registered implementation is swapped for a stand-in that does nothing, and
swapped back. For a block of code (:func:`silence`, ``Host.muted``), or until
unmuted (:class:`Switchboard`: an operator's mutes and the circuit breaker's)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Generator
from collections.abc import Iterable
from typing import Any
from typing import Final
from typing import NamedTuple

import pluggy

#: What each silenced implementation ran before, so traces and listings name it.
MUTED_ORIGINALS: Final[dict[pluggy.HookImpl, Callable[..., object]]] = {}


def _silent(*args: Any, **kwargs: Any) -> None:
    return None


def _silent_wrapper(*args: Any, **kwargs: Any) -> Generator[None, Any, Any]:
    # A new-style wrapper hands back what the implementations it wraps returned.
    return (yield)


def _silent_hookwrapper(*args: Any, **kwargs: Any) -> Generator[None, Any, None]:
    yield


def silence(
    callers: Iterable[pluggy.HookCaller],
    plugins: Collection[str] | None,
    hooks: Collection[str] | None,
) -> tuple[Callable[[], None], list[str]]:
    """Make the implementations of ``plugins`` (every plugin when None) for
    ``hooks`` (every hook when None) do nothing; the caller rebuilds what it
    built from them (call plans).

    :returns: the function that puts every silenced implementation back, and
        the names of the hooks whose implementations changed.
    """
    swapped: list[tuple[pluggy.HookImpl, Callable[..., object]]] = []
    changed: list[str] = []
    for caller in callers:
        if hooks is not None and caller.name not in hooks:
            continue
        for impl in caller.get_hookimpls():
            if plugins is not None and impl.plugin_name not in plugins:
                continue
            stand_in = (
                _silent_wrapper
                if impl.wrapper
                else _silent_hookwrapper
                if impl.hookwrapper
                else _silent
            )
            swapped.append((impl, impl.function))
            MUTED_ORIGINALS.setdefault(impl, impl.function)
            if caller.name not in changed:
                changed.append(caller.name)
            # pluggy has no way to swap a registered implementation: changed in
            # place, as deferred implementations are.
            setattr(impl, "function", stand_in)  # noqa: B010 - Final to type checkers

    def restore() -> None:
        for impl, function in swapped:
            setattr(impl, "function", function)  # noqa: B010
            if function not in SILENT_STAND_INS:
                MUTED_ORIGINALS.pop(impl, None)

    return restore, changed


#: The stand-ins a silenced implementation runs instead of its own function.
SILENT_STAND_INS: Final = frozenset({_silent, _silent_wrapper, _silent_hookwrapper})


def _stand_in_for(impl: pluggy.HookImpl) -> Callable[..., Any]:
    if impl.wrapper:
        return _silent_wrapper
    return _silent_hookwrapper if impl.hookwrapper else _silent


class Mute(NamedTuple):
    """One plugin silenced, in every hook (``hook`` None) or in one.

    A named tuple, not a dataclass: every host imports this module, and defining
    a dataclass costs each process that starts one (as config keys are named tuples).

    :param by: who muted it: a user's name, or ``"circuit breaker"``.
    :param until: when it ends by itself (seconds since the epoch); None: when unmuted.
    """

    plugin: str
    hook: str | None
    by: str
    at: float
    until: float | None = None


#: Who :class:`Breaker` names as having muted a plugin.
BREAKER: Final = "circuit breaker"


class Switchboard:
    """The mutes in force on a host's implementations, applied as they change.

    An operator mutes a whole plugin (:meth:`replace_plugin_mutes`, from the
    app's database); the circuit breaker mutes one plugin in one hook for a
    cool-down. A muted implementation keeps its place in the call order and
    runs a stand-in that does nothing, as :func:`silence` does; a plugin's
    status is unchanged, and unmuting puts its functions back.

    :param callers: every hook caller of the host, when asked.
    :param refresh: rebuilds a hook's call plans once its implementations changed.
    """

    def __init__(
        self,
        callers: Callable[[], Iterable[pluggy.HookCaller]],
        refresh: Callable[[str], None],
    ) -> None:
        self._callers = callers
        self._refresh = refresh
        self._lock = threading.RLock()
        self._mutes: dict[tuple[str, str | None], Mute] = {}
        self._originals: dict[pluggy.HookImpl, Callable[..., object]] = {}
        #: The earliest ``until`` among the mutes: checked by :meth:`expire` in one comparison.
        self.next_expiry: float | None = None
        #: Mutes plugins that keep failing in one hook; None: off (the default).
        self.breaker: Breaker | None = None

    def mutes(self) -> list[Mute]:
        """The mutes in force, plugin mutes first."""
        with self._lock:
            return sorted(self._mutes.values(), key=lambda m: (m.hook is not None, m.plugin))

    def plugin_mute(self, plugin: str) -> Mute | None:
        """The mute of the whole ``plugin``, if any."""
        with self._lock:
            return self._mutes.get((plugin, None))

    def hook_mutes(self, plugin: str) -> list[Mute]:
        """The mutes of ``plugin`` in single hooks (the circuit breaker's)."""
        with self._lock:
            return sorted(
                (m for (name, hook), m in self._mutes.items() if name == plugin and hook),
                key=lambda m: m.hook or "",
            )

    def is_muted(self, plugin: str, hook: str) -> bool:
        with self._lock:
            return (plugin, None) in self._mutes or (plugin, hook) in self._mutes

    def mute(self, mute: Mute) -> None:
        """Put ``mute`` in force (replacing the one of the same plugin and hook)."""
        with self._lock:
            self._mutes[(mute.plugin, mute.hook)] = mute
            self._apply()

    def unmute(self, plugin: str, hook: str | None = None) -> None:
        with self._lock:
            if self._mutes.pop((plugin, hook), None) is not None:
                self._apply()

    def replace_plugin_mutes(self, mutes: Iterable[Mute]) -> None:
        """Make these the whole-plugin mutes in force (what the database holds);
        the hook mutes stay."""
        with self._lock:
            wanted = {key: m for key, m in self._mutes.items() if key[1] is not None}
            wanted.update(((m.plugin, None), m) for m in mutes if m.hook is None)
            if wanted != self._mutes:
                self._mutes = wanted
                self._apply()

    def expire(self, now: float | None = None) -> None:
        """End the mutes whose time is up (a cool-down over: the plugin is tried again)."""
        due = self.next_expiry
        if due is None:
            return
        now = time.time() if now is None else now
        if now < due:
            return
        with self._lock:
            ended = [
                key for key, m in self._mutes.items() if m.until is not None and now >= m.until
            ]
            for key in ended:
                del self._mutes[key]
                if key[1] is not None and self.breaker is not None:
                    self.breaker.half_open(key[0], key[1])
            self._apply()

    def reapply(self) -> None:
        """Silence the implementations registered since the mutes were set."""
        with self._lock:
            self._apply()

    def _apply(self) -> None:
        untils = [m.until for m in self._mutes.values() if m.until is not None]
        self.next_expiry = min(untils) if untils else None
        changed: list[str] = []
        for caller in self._callers():
            for impl in caller.get_hookimpls():
                wanted = (impl.plugin_name, None) in self._mutes or (
                    impl.plugin_name,
                    caller.name,
                ) in self._mutes
                if wanted and impl not in self._originals:
                    self._originals[impl] = impl.function
                    MUTED_ORIGINALS.setdefault(impl, impl.function)
                    # pluggy has no way to swap a registered implementation: in place.
                    setattr(impl, "function", _stand_in_for(impl))  # noqa: B010
                elif not wanted and impl in self._originals:
                    setattr(impl, "function", self._originals.pop(impl))  # noqa: B010
                    MUTED_ORIGINALS.pop(impl, None)
                else:
                    continue
                if caller.name not in changed:
                    changed.append(caller.name)
        for name in changed:
            self._refresh(name)


class Breaker:
    """Mutes a plugin in one hook after ``failures`` failures in a row there, for
    ``cooldown`` seconds; then lets one call through: a failure mutes it again
    at once, a success closes the circuit.

    It is told only of failures already isolated from the caller (robust calls,
    deferred runs): never of ``pre_*`` hooks, where raising is a veto, nor of
    wrappers.

    :raises ValueError: for fewer than one failure or a negative cool-down.
    """

    def __init__(self, switchboard: Switchboard, failures: int, cooldown: float) -> None:
        if failures < 1 or cooldown < 0:
            raise ValueError("the circuit breaker needs failures >= 1 and cooldown >= 0")
        self._switchboard = switchboard
        self.failures: Final = failures
        self.cooldown: Final = cooldown
        self._lock = threading.Lock()
        self._in_a_row: dict[tuple[str, str], int] = {}
        #: How many times each (plugin, hook) tripped.
        self.trips: dict[tuple[str, str], int] = {}

    @staticmethod
    def counts(impl: pluggy.HookImpl, hook: str) -> bool:
        """Whether ``impl``'s failures in ``hook`` count at all."""
        return not hook.startswith("pre_") and not (impl.wrapper or impl.hookwrapper)

    def failed(self, impl: pluggy.HookImpl, hook: str) -> None:
        if self.counts(impl, hook):
            self.failed_in(impl.plugin_name, hook)

    def failed_in(self, plugin: str, hook: str) -> None:
        """``plugin`` failed in ``hook`` where no wrapper runs (a deferred run)."""
        if hook.startswith("pre_"):
            return
        key = (plugin, hook)
        with self._lock:
            in_a_row = self._in_a_row.get(key, 0) + 1
            tripped = in_a_row >= self.failures
            self._in_a_row[key] = 0 if tripped else in_a_row
            if tripped:
                self.trips[key] = self.trips.get(key, 0) + 1
        if tripped:
            now = time.time()
            self._switchboard.mute(Mute(key[0], hook, BREAKER, now, now + self.cooldown))

    def succeeded(self, impl: pluggy.HookImpl, hook: str) -> None:
        self.succeeded_in(impl.plugin_name, hook)

    def succeeded_in(self, plugin: str, hook: str) -> None:
        key = (plugin, hook)
        if key in self._in_a_row:
            with self._lock:
                self._in_a_row.pop(key, None)

    def half_open(self, plugin: str, hook: str) -> None:
        """The cool-down is over: the next failure trips it again."""
        with self._lock:
            self._in_a_row[(plugin, hook)] = self.failures - 1
