"""The webhook plugin in process: nothing without a URL; an unreachable webhook is
logged and never fails the call (the end-to-end test over ``serve --asgi`` is
the host's tests/test_webhook_asgi.py)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import hosthooks_webhook
import pytest

from hosthooks import Host
from hosthooks.runtime.demo import Note


@pytest.fixture
def host(hosthooks_host: Host) -> Host:
    hosthooks_host.register(hosthooks_webhook, "webhook")
    return hosthooks_host


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def save(host: Host) -> object:
    return host.hook.post_save(
        sender=Note,
        instance=Note(id=3),
        created=True,
        raw=False,
        using="default",
        update_fields=None,
    )


def asave(host: Host) -> Any:
    return host.ahook.post_save(
        sender=Note,
        instance=Note(id=4),
        created=False,
        raw=False,
        using="default",
        update_fields=None,
    )


def test_the_implementations_are_async(host: Host) -> None:
    assert {impl.plugin_name for impl in host.implementations("post_save")} == {"webhook"}
    from hosthooks.report import hooks_json

    [post_save] = [hook for hook in hooks_json(host) if hook["name"] == "post_save"]
    assert [impl["async"] for impl in post_save["impls"]] == [True]


def test_without_a_url_nothing_is_posted(host: Host, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOSTHOOKS_PLUGIN_WEBHOOK__URL", raising=False)
    assert save(host) == []


def test_without_a_url_a_save_makes_no_event_loop_and_reads_no_settings(
    host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A synchronous save would run the async implementation with asgiref's
    # async_to_sync: a thread and an event loop per save, for nothing to post.
    monkeypatch.delenv("HOSTHOOKS_PLUGIN_WEBHOOK__URL", raising=False)

    def no_loop(*args: object, **kwargs: object) -> None:
        raise AssertionError("an event loop was made for a webhook without a URL")

    monkeypatch.setattr("asgiref.sync.async_to_sync", no_loop)
    monkeypatch.setattr(hosthooks_webhook, "plugin_settings", no_loop)
    assert save(host) == []
    assert asyncio.run(asave(host)) == []


def test_an_unreachable_webhook_is_logged_and_the_save_goes_on(
    host: Host, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/hook"
    monkeypatch.setenv("HOSTHOOKS_PLUGIN_WEBHOOK__URL", url)
    with caplog.at_level("WARNING", logger="hosthooks.webhook"):
        # From synchronous code (no loop running), then awaited.
        assert save(host) == []
        assert asyncio.run(asave(host)) == []
    assert caplog.text.count("webhook: post_save demo.Note not delivered") == 2
