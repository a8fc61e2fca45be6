"""Authentication hooks: Django's ``contrib.auth.signals``, fired by ``runtime.auth``."""

from __future__ import annotations

from typing import Any

from hosthooks.markers import hookspec


@hookspec
def user_logged_in(sender: type[Any], request: Any, user: Any) -> None:
    """A user has logged in.

    Fires from ``login()`` after the session key was rotated and the user's id
    stored in the session. Recording ``last_login`` is itself an implementation
    of this hook, as in Django.

    :param sender: the class of the user who logged in.
    :param request: the current request.
    :param user: the user who logged in.
    """


@hookspec
def user_logged_out(sender: type[Any], request: Any, user: Any) -> None:
    """A user is logging out.

    Fires from ``logout()`` before the session is flushed, so the session's
    data is still readable.

    :param sender: the class of the user logging out, or ``NoneType`` when the
        request was anonymous.
    :param request: the current request.
    :param user: the user logging out, or None when the request was anonymous.
    """


@hookspec
def user_login_failed(sender: str, credentials: dict[str, Any], request: Any) -> None:
    """Credentials failed to authenticate.

    Fires from ``authenticate()`` when no user matches the credentials. Every
    credential whose key matches ``api``, ``token``, ``key``, ``secret``,
    ``password`` or ``signature`` (case-insensitive) is replaced by
    ``"********************"`` before the hook sees it.

    :param sender: the name of the module that authenticated,
        ``"hosthooks.runtime.auth"``.
    :param credentials: the submitted credentials, with secrets masked.
    :param request: the request that carried the credentials, or None.
    """
