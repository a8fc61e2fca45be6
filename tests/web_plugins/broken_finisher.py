"""A plugin for the HTTP tests whose request_finished always raises."""

from __future__ import annotations

from hosthooks import hookimpl


@hookimpl(trylast=True)
def request_finished() -> None:
    raise RuntimeError("request_finished is broken in this plugin")
