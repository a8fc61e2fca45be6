"""A plugin keeping every class_prepared it hears, and listening to post_migrate."""

from __future__ import annotations

from typing import Any

from hosthooks import hookimpl

prepared: list[type] = []


@hookimpl
def class_prepared(sender: type) -> None:
    prepared.append(sender)


@hookimpl
def post_migrate(app_config: Any) -> None:
    pass
