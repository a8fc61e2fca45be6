"""A plugin naming a model of an app that joins Django's registry after ready()."""

from __future__ import annotations

from typing import Any

from hosthooks import hookimpl


@hookimpl(sender="admin.LogEntry")
def post_save(instance: Any) -> None:
    pass
