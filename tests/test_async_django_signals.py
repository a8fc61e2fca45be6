"""Django's async signal tests (``tests/signals/tests.py``, ``AsyncReceiversTests``),
each translated under its own name: a custom hookspec stands in for Django's custom
``Signal()``, plugins for its receivers.

Django's ``asend`` runs the sync receivers first and gathers the async ones
concurrently; hosthooks runs every implementation one after another in its
documented call order (last registered first, as pluggy does). Where only that
separates the two, these tests assert hosthooks' order, and say so.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hosthooks import Host
from hosthooks import hookimpl
from hosthooks import hookspec


class CustomSignal:
    @hookspec
    def custom(self, sender: Any) -> Any:
        """Django's ``dispatch.Signal()`` in its tests."""


class SyncHandler:
    param = 0

    @hookimpl
    def custom(self) -> tuple[str, int]:
        self.param += 1
        return "sync_handler", self.param


class AsyncHandler:
    param = 0

    @hookimpl
    async def custom(self) -> tuple[str, int]:
        self.param += 1
        return "async_handler", self.param


class ReceiverException(Exception):
    pass


class FailingAsyncHandler:
    def __init__(self, exception: Exception) -> None:
        self.exception = exception

    @hookimpl
    async def custom(self) -> None:
        raise self.exception


# Any: the host's hooks are typed for the built-in hooks, and custom is not one.
def connected(*plugins: tuple[str, object]) -> Any:
    """A host of the custom hook, its plugins registered in Django's connect order."""
    host = Host(specs=[CustomSignal])
    for name, plugin in plugins:
        host.register(plugin, name)
    return host


def test_asend():
    host = connected(("sync_handler", SyncHandler()), ("async_handler", AsyncHandler()))
    result = asyncio.run(host.ahook.custom(sender=test_asend))
    # Django: [(sync_handler, 1), (async_handler, 1)], sync receivers first.
    # hosthooks: the last registered first, awaited in turn.
    assert result == [("async_handler", 1), ("sync_handler", 1)]


def test_send():
    host = connected(("sync_handler", SyncHandler()), ("async_handler", AsyncHandler()))
    result = host.hook.custom(sender=test_send)
    # The async implementation ran to completion from the synchronous call.
    assert result == [("async_handler", 1), ("sync_handler", 1)]


def test_send_robust():
    receiver_exception = ReceiverException()
    host = connected(
        ("failing_async_handler", FailingAsyncHandler(receiver_exception)),
        ("async_handler", AsyncHandler()),
        ("sync_handler", SyncHandler()),
    )
    result = host.fire_robust("custom", sender=test_send_robust)
    # Django's order differs from its connect order (sync receivers first);
    # hosthooks' is the reverse of registration, for sync and async alike.
    assert result == [
        ("sync_handler", ("sync_handler", 1)),
        ("async_handler", ("async_handler", 1)),
        ("failing_async_handler", receiver_exception),
    ]


def test_asend_robust():
    receiver_exception = ReceiverException()
    host = connected(
        ("failing_async_handler", FailingAsyncHandler(receiver_exception)),
        ("async_handler", AsyncHandler()),
        ("sync_handler", SyncHandler()),
    )
    result = asyncio.run(host.afire_robust("custom", sender=test_asend_robust))
    assert result == [
        ("sync_handler", ("sync_handler", 1)),
        ("async_handler", ("async_handler", 1)),
        ("failing_async_handler", receiver_exception),
    ]


def test_asend_only_async_receivers():
    host = connected(("async_handler", AsyncHandler()))
    result = asyncio.run(host.ahook.custom(sender=test_asend_only_async_receivers))
    assert result == [("async_handler", 1)]


def test_asend_robust_only_async_receivers():
    host = connected(("async_handler", AsyncHandler()))
    result = asyncio.run(host.afire_robust("custom", sender=test_asend_robust_only_async_receivers))
    assert result == [("async_handler", ("async_handler", 1))]
