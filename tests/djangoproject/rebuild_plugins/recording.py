"""A plugin keeping every class_prepared it hears (in a module imported once, as an
installed plugin's is), and listening to post_migrate."""

from __future__ import annotations

from typing import Any

from hosthooks import hookimpl
from tests.djangoproject import early


@hookimpl
def class_prepared(sender: type) -> None:
    early.heard_by_plugins.append(sender)


@hookimpl
def post_migrate(app_config: Any) -> None:
    pass
