"""Login throttling: failed logins counted in the database, per account and per client address.

After ``LOGIN_FAILURES_PER_ACCOUNT`` failures (5) for one account, or
``LOGIN_FAILURES_PER_ADDRESS`` (20) from one client address, within
``LOGIN_FAILURE_WINDOW`` seconds (15 minutes), the next attempt for it waits:
one minute, then twice as long after each further failure, never longer than
the window, and never past the moment the oldest counted failures leave the
window. An attempt made while waiting is refused before any password is
hashed, and is not counted, so nothing locks an account for longer.

An attempt is counted as a failure *before* its password is checked, in a
transaction of its own that holds a lock on each of its keys: concurrent
attempts, in any number of ``serve`` processes sharing the database, each see
the others, so no more guesses get through than the limits allow. A good
password takes the count back (:meth:`Attempt.succeeded`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Final

from hosthooks.runtime.auth import LoginFailure
from hosthooks.runtime.auth import fold_username
from hosthooks.runtime.db import DEFAULT_ALIAS
from hosthooks.runtime.db import get_database
from hosthooks.runtime.settings import get_settings

#: The wait after the failure that reaches a limit, in seconds; it doubles
#: with each failure after that.
FIRST_DELAY: Final = 60.0
_LOCK_PREFIX: Final = "hosthooks.login:"


class Throttled(Exception):
    """Too many failed logins: no attempt is allowed for ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after} s")
        #: Whole seconds, rounded up: what ``Retry-After`` says.
        self.retry_after = retry_after


def wait_after(times: list[float], limit: int, window: float, now: float) -> float:
    """Seconds until one more attempt is allowed, given the times (ascending)
    of the failures counted within the window; 0 when one is allowed now.

    The ``limit``-th failure makes the next attempt wait :data:`FIRST_DELAY`,
    each failure after it twice as long as the one before, at most ``window``;
    the wait ends early when enough failures leave the window for the count
    to fall below ``limit``.
    """
    count = len(times)
    if count < limit:
        return 0.0
    delay = min(FIRST_DELAY * 2.0 ** (count - limit), window)
    # Once the failure at index count - limit leaves the window, limit - 1 remain.
    until = min(times[-1] + delay, times[count - limit] + window)
    return max(0.0, until - now)


@dataclass(frozen=True)
class Attempt:
    """A login attempt counted as failed until its password proves good."""

    #: The ids of its rows (one per key).
    ids: tuple[int, ...]
    #: Its account's key.
    account: str
    using: str

    def succeeded(self) -> None:
        """The password was right: forget this attempt and its account's earlier
        failures (the address's stay: they may be guesses at other accounts).
        Run it in the transaction that signs the user in."""
        table = LoginFailure._meta.table
        marks = ", ".join("?" for _ in self.ids)
        get_database(self.using).execute(
            f'DELETE FROM "{table}" WHERE "id" IN ({marks}) OR "key" = ?',
            [*self.ids, self.account],
        )

    def abandon(self) -> None:
        """Forget this attempt alone, in a transaction of its own: it ended in
        neither a failure nor a login (the login failed for another reason)."""
        table = LoginFailure._meta.table
        marks = ", ".join("?" for _ in self.ids)
        database = get_database(self.using)
        with database.atomic():
            database.execute(f'DELETE FROM "{table}" WHERE "id" IN ({marks})', list(self.ids))


def begin_attempt(username: str, address: str | None, *, using: str = DEFAULT_ALIAS) -> Attempt:
    """Count a login attempt for ``username`` from ``address`` as failed, unless
    either is throttled; commits before returning, so the password is checked
    outside any transaction.

    :param address: the client's address; None counts the account alone.
    :raises Throttled: when the account or the address must wait; nothing is counted.
    """
    settings = get_settings()
    window = float(settings.LOGIN_FAILURE_WINDOW)
    account = f"account:{fold_username(username.strip())}"
    limits = {account: settings.LOGIN_FAILURES_PER_ACCOUNT}
    if address:
        limits[f"address:{address}"] = settings.LOGIN_FAILURES_PER_ADDRESS
    keys = sorted(limits)
    table = LoginFailure._meta.table
    database = get_database(using)
    now = time.time()
    with database.atomic():
        # Locks in one order (sorted), so two attempts never wait on each other in a cycle.
        for key in keys:
            database.lock(_LOCK_PREFIX + key)
        database.execute(f'DELETE FROM "{table}" WHERE "at" <= ?', [now - window])
        marks = ", ".join("?" for _ in keys)
        rows = database.execute(
            f'SELECT "key", "at" FROM "{table}" WHERE "key" IN ({marks}) ORDER BY "at"', keys
        ).fetchall()
        wait = max(
            wait_after([at for key, at in rows if key == name], limit, window, now)
            for name, limit in limits.items()
        )
        if wait > 0:
            raise Throttled(math.ceil(wait))
        ids = tuple(
            database.insert(f'INSERT INTO "{table}" ("key", "at") VALUES (?, ?)', [key, now])
            for key in keys
        )
    return Attempt(ids, account, using)
