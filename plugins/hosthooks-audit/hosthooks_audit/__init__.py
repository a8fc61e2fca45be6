"""An audit log of model changes: one JSON line per save, delete and relation change."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hosthooks import hooks
from hosthooks import instance_pk
from hosthooks import model_label
from hosthooks import on_commit
from hosthooks import plugin_settings
from hosthooks import sender_label
from hosthooks import setting

logger = logging.getLogger("hosthooks.audit")
PLUGIN_NAME = "audit"


@dataclass
class AuditSettings:
    """``[plugins.audit]``: ``path``, the file the log is appended to (also
    ``HOSTHOOKS_PLUGIN_AUDIT__PATH``, or the older ``HOSTHOOKS_AUDIT_LOG``); a
    relative path in the configuration file is relative to the file. Unset or
    empty: entries go to the ``hosthooks.audit`` logger."""

    path: Path | None = setting(None, aliases=("HOSTHOOKS_AUDIT_LOG",))


hosthooks_settings = AuditSettings
_write_lock = threading.Lock()


def _model_name(sender: Any) -> str:
    # The label a sender= filter matches: "app.Model" for a model of either host.
    return sender_label(sender) or repr(sender)


def write_entry(entry: dict[str, Any]) -> None:
    """Append one entry to the file the ``path`` setting names, or log it when none is set.

    The setting is read on each write so that a host started before it was set
    (or a test that sets it) writes where it says.
    """
    line = json.dumps(entry, sort_keys=True, default=str)
    path = plugin_settings(PLUGIN_NAME, AuditSettings).path
    if path is None:
        logger.info("%s", line)
        return
    with _write_lock, open(path, "a", encoding="utf-8") as log:
        log.write(line + "\n")


def after_commit(using: str, entry: dict[str, Any]) -> None:
    """Write ``entry`` once the transaction on ``using`` commits; never if it rolls back.

    Whichever host runs (the runtime, or Django through ``hosthooks.django``)
    owns the transactions; with none to wait for, the entry is written at once.
    """
    on_commit(lambda: write_entry(entry), using=using)


@hooks.post_save
def post_save(
    sender: Any,
    instance: Any,
    created: bool,
    using: str,
    update_fields: frozenset[str] | None,
    **_: object,
) -> None:
    after_commit(
        using,
        {
            "event": "created" if created else "updated",
            "model": _model_name(sender),
            "pk": instance_pk(instance),
            "using": using,
            "fields": sorted(update_fields) if update_fields is not None else None,
        },
    )


@hooks.post_delete
def post_delete(sender: Any, instance: Any, using: str, **_: object) -> None:
    after_commit(
        using,
        {
            "event": "deleted",
            "model": _model_name(sender),
            "pk": instance_pk(instance),
            "using": using,
            "fields": None,
        },
    )


@hooks.m2m_changed
def m2m_changed(
    sender: Any,
    instance: Any,
    action: str,
    model: Any,
    pk_set: set[Any] | None,
    using: str,
    **_: object,
) -> None:
    if not action.startswith("post_"):
        return
    after_commit(
        using,
        {
            "event": f"m2m:{action}",
            "model": model_label(instance),
            "pk": instance_pk(instance),
            "using": using,
            "related": _model_name(model),
            "pks": sorted(pk_set) if pk_set is not None else None,
            "fields": None,
        },
    )
