"""A plugin for the HTTP tests: records every hook as a JSON line in $HOSTHOOKS_TEST_RECORD.

Loaded by a real ``hosthooks serve`` through ``--plugins-dir``; it also refuses
notes titled "REFUSE ME" (a raising pre_save).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any

from hosthooks import hookimpl

_lock = threading.Lock()


def _name(value: Any) -> Any:
    label = getattr(value, "hosthooks_label", None)
    if isinstance(label, str):
        return label
    if isinstance(value, type):
        return value.__name__
    if hasattr(value, "__name__") and not isinstance(value, str):
        return value.__name__
    return value


def record(hook: str, **details: Any) -> None:
    line = json.dumps({"hook": hook, **details}, default=repr, sort_keys=True)
    with _lock, open(os.environ["HOSTHOOKS_TEST_RECORD"], "a", encoding="utf-8") as log:
        log.write(line + "\n")


@hookimpl
def request_started(sender: Any, environ: dict[str, Any] | None, scope: Any) -> None:
    # Served over WSGI: the environ; over ASGI: the scope, and no environ.
    if environ is not None:
        assert scope is None
        method, path, server = environ["REQUEST_METHOD"], environ["PATH_INFO"], "wsgi"
    else:
        method, path, server = scope["method"], scope["path"], "asgi"
    record("request_started", sender=_name(sender), method=method, path=path, server=server)


@hookimpl
def request_finished(sender: Any) -> None:
    record("request_finished", sender=_name(sender))


@hookimpl
def got_request_exception(sender: Any, request: Any) -> None:
    error = sys.exc_info()[1]
    record(
        "got_request_exception",
        sender=sender,
        path=request.path,
        error=f"{type(error).__name__}: {error}",
    )


@hookimpl
def user_logged_in(sender: Any, request: Any, user: Any) -> None:
    record(
        "user_logged_in",
        sender=_name(sender),
        user=user.username,
        session_user=request.session.get("uid") == user.pk,
    )


@hookimpl
def user_logged_out(sender: Any, user: Any) -> None:
    record("user_logged_out", sender=_name(sender), user=None if user is None else user.username)


@hookimpl
def user_login_failed(sender: Any, credentials: dict[str, Any], request: Any) -> None:
    record(
        "user_login_failed", sender=sender, credentials=credentials, has_request=request is not None
    )


@hookimpl
def template_rendered(sender: Any, template: Any, context: dict[str, Any]) -> None:
    record(
        "template_rendered", template=template.name, same=sender is template, keys=sorted(context)
    )


@hookimpl
def pre_save(sender: Any, instance: Any, update_fields: Any) -> None:
    if getattr(instance, "title", None) == "REFUSE ME":
        raise RuntimeError("this plugin refuses the note")
    record(
        "pre_save",
        sender=_name(sender),
        fields=None if update_fields is None else sorted(update_fields),
    )


@hookimpl
def post_save(sender: Any, created: bool) -> None:
    record("post_save", sender=_name(sender), created=created)


@hookimpl
def pre_delete(sender: Any, origin: Any) -> None:
    record("pre_delete", sender=_name(sender), origin=_name(type(origin)))


@hookimpl
def post_delete(sender: Any, instance: Any) -> None:
    record("post_delete", sender=_name(sender), pk=instance.pk)


@hookimpl
def m2m_changed(sender: Any, action: str, pk_set: Any) -> None:
    record(
        "m2m_changed",
        sender=_name(sender),
        action=action,
        pk_set=None if pk_set is None else sorted(pk_set),
    )


@hookimpl
def connection_created(sender: Any) -> None:
    record("connection_created", sender=_name(sender))


@hookimpl
def post_migrate(sender: Any, plan: Any) -> None:
    record("post_migrate", sender=sender.__name__, operations=len(plan))
