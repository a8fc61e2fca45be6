"""A plugin whose sender= labels name one model of the project and one it lacks."""

from __future__ import annotations

from typing import Any

from hosthooks import hookimpl


@hookimpl(sender="library.Book")
def post_save(instance: Any) -> None:
    pass


@hookimpl(sender="library.Bok")
def pre_save(instance: Any) -> None:
    pass
