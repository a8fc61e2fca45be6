"""The built-in plugins: behaviour of the runtime written as plugins, listed by
``hosthooks plugins --all`` and blockable by name like any other.

They live outside the runtime package so that loading them (every
``hosthooks plugins``) imports no model layer, and they import nothing of it:
plugin loading sits below the runtime. Each asks the object it is handed to do
the work, so the runtime owns what is done.
"""

from __future__ import annotations

from typing import Any

from hosthooks.markers import hookimpl


class LastLogin:
    """Records ``last_login``, as Django's ``update_last_login`` does."""

    @hookimpl
    def user_logged_in(self, user: Any) -> None:
        # The runtime's User has update_last_login; a user of another host (Django
        # records last_login itself) has not, and is left alone.
        update = getattr(user, "update_last_login", None)
        if update is not None:
            update()


last_login = LastLogin()
