"""The built-in plugins: behaviour of the runtime written as plugins, listed by
``hosthooks plugins --all`` and blockable by name like any other.

They live outside the runtime package so that loading them (every
``hosthooks plugins``) imports no model layer: the runtime is imported only when
a hook they implement is called, which only the runtime does.
"""

from __future__ import annotations

import datetime
from typing import Any

from hosthooks.markers import hookimpl


class LastLogin:
    """Records ``last_login``, as Django's ``update_last_login`` does."""

    @hookimpl
    def user_logged_in(self, user: Any) -> None:
        from hosthooks.runtime.auth import User

        if isinstance(user, User):
            user.last_login = datetime.datetime.now(datetime.timezone.utc)
            user.save(update_fields=["last_login"])


last_login = LastLogin()
