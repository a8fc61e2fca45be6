"""Async dispatch against sync dispatch: the same random plugin sets give the same
results, exceptions and call order."""

from __future__ import annotations

import asyncio
import types
from collections.abc import Generator
from typing import Any

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from hosthooks import Host
from hosthooks import hookimpl
from hosthooks import hookspec


class Specs:
    @hookspec(firstresult=True)
    def choose(self, sender: Any, value: Any) -> Any:
        """Pick one."""

    @hookspec
    def collect(self, sender: Any, value: Any) -> Any:
        """Collect all."""


class Article:
    pass


class Comment:
    pass


SENDERS = {"any": None, "article": Article, "comment": Comment}

implementations = st.lists(
    st.fixed_dictionaries(
        {
            "kind": st.sampled_from(["sync", "async", "thread", "wrapper"]),
            "position": st.sampled_from(["plain", "tryfirst", "trylast"]),
            "outcome": st.sampled_from(["none", "value", "raise"]),
            "sender": st.sampled_from(sorted(SENDERS)),
        }
    ),
    max_size=7,
)


def build(descriptions: list[dict[str, str]], hook: str, calls: list[str]) -> Host:
    host = Host(specs=[Specs])
    for index, description in enumerate(descriptions):
        name = f"p{index}-{description['kind']}"
        outcome = description["outcome"]
        options: dict[str, Any] = {description["position"]: True}
        if description["position"] == "plain":
            options = {}
        sender = SENDERS[description["sender"]]
        if sender is not None:
            options["sender"] = sender

        def act(name: str = name, outcome: str = outcome) -> Any:
            calls.append(name)
            if outcome == "raise":
                raise ValueError(f"{name} fails")
            return name if outcome == "value" else None

        if description["kind"] == "wrapper":

            def wrapper(
                value: Any, name: str = name, outcome: str = outcome
            ) -> Generator[None, Any, Any]:
                calls.append(f"{name} enters")
                result = yield
                calls.append(f"{name} leaves")
                if outcome == "raise":
                    raise ValueError(f"{name} fails on the way out")
                return [result, name] if outcome == "value" else result

            function: Any = hookimpl(wrapper=True, **options)(wrapper)
        elif description["kind"] == "async":

            async def coroutine(value: Any, act: Any = act) -> Any:
                await asyncio.sleep(0)
                return act()

            function = hookimpl(**options)(coroutine)
        else:

            def plain(value: Any, act: Any = act) -> Any:
                return act()

            function = hookimpl(thread=description["kind"] == "thread", **options)(plain)
        host.register(types.SimpleNamespace(**{hook: function}), name)
    return host


def outcome_of(call: Any) -> tuple[str, Any]:
    try:
        return "result", call()
    except Exception as error:
        return "raised", (type(error).__name__, str(error), getattr(error, "__notes__", None))


@settings(max_examples=150, deadline=None)
@given(
    descriptions=implementations,
    hook=st.sampled_from(["choose", "collect"]),
    sender=st.sampled_from(sorted(SENDERS)),
)
def test_async_dispatch_matches_sync_dispatch(descriptions, hook, sender):
    calls: list[str] = []
    host = build(descriptions, hook, calls)
    kwargs = {"sender": SENDERS[sender], "value": 1}
    sync = outcome_of(lambda: getattr(host.hook, hook)(**kwargs))
    sync_calls = list(calls)
    calls.clear()
    asynchronous = outcome_of(lambda: asyncio.run(getattr(host.ahook, hook)(**kwargs)))
    assert asynchronous == sync
    assert calls == sync_calls
