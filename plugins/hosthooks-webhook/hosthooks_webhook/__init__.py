"""Posts every saved and deleted model to a webhook, from ``async def`` implementations."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from hosthooks import hooks
from hosthooks import instance_pk
from hosthooks import plugin_setting_given
from hosthooks import plugin_settings
from hosthooks import sender_label
from hosthooks import setting

logger = logging.getLogger("hosthooks.webhook")
PLUGIN_NAME = "webhook"


@dataclass
class WebhookSettings:
    """``[plugins.webhook]``: ``url``, where events are posted (nothing is posted
    without one); ``token``, sent as a bearer token; ``timeout``, in seconds."""

    url: str = ""
    token: str = setting("", secret=True)
    timeout: float = 5.0


hosthooks_settings = WebhookSettings


def url_given() -> bool:
    """Whether a URL is set at all: asked before every call of the implementations
    (``when=``), so that without one a save costs a few dictionary lookups, not
    an event loop (a synchronous save runs an async implementation on a loop of
    its own) and a full read of the settings."""
    return plugin_setting_given(PLUGIN_NAME, WebhookSettings, "url")


async def notify(event: dict[str, Any]) -> None:
    """POST ``event`` as JSON to the configured URL; a failure is logged, not raised."""
    settings = plugin_settings(PLUGIN_NAME, WebhookSettings)
    if not settings.url:
        # Given, but empty (or a secret's variable that is empty).
        return
    # Imported on the first event to post, not with the plugin: httpx (and the
    # click, pygments and ssl it brings) would double what listing plugins costs.
    import httpx

    headers = {"Authorization": f"Bearer {settings.token}"} if settings.token else {}
    # A client per event: the implementation may run on the server's loop or on
    # a loop of its own, and a client belongs to the loop it was made on.
    try:
        async with httpx.AsyncClient(timeout=settings.timeout) as client:
            response = await client.post(settings.url, json=event, headers=headers)
            response.raise_for_status()
    except httpx.HTTPError as error:
        # A notifier must never undo the save it reports.
        logger.warning("webhook: %s %s not delivered: %s", event["event"], event["model"], error)


@hooks.post_save.options(when=url_given)
async def post_save(sender: type[Any], instance: Any, created: bool, **_: object) -> None:
    await notify(
        {
            "event": "post_save",
            "model": sender_label(sender),
            "pk": instance_pk(instance),
            "created": created,
        }
    )


@hooks.post_delete.options(when=url_given)
async def post_delete(sender: type[Any], instance: Any, **_: object) -> None:
    await notify(
        {"event": "post_delete", "model": sender_label(sender), "pk": instance_pk(instance)}
    )
