"""The receivers connected to a Django signal, as ``manage.py hosthooks hooks --json``
shows them under the key ``receivers``."""

from __future__ import annotations

import weakref
from typing import Any

from hosthooks.django.signals import built_in_signals
from hosthooks.engine.dispatch import sender_label


def _senders_by_key() -> dict[object, object]:
    """The senders a receiver may be connected to that the project can name (its
    models, through models included), by the key Django files them under."""
    from django.apps import apps
    from django.dispatch.dispatcher import _make_id

    return {_make_id(model): model for model in apps.get_models(include_auto_created=True)}


def _shown_sender(sender_key: object, known: dict[object, object]) -> str | None:
    from django.dispatch.dispatcher import NONE_ID

    if sender_key == NONE_ID:
        return None
    if sender_key not in known:
        # Django keeps only the id of the sender a receiver is connected to.
        return f"<object {sender_key!r}>"
    sender = known[sender_key]
    return sender_label(sender) or repr(sender)


def _read_entry(entry: tuple[Any, ...]) -> tuple[Any, Any, bool, bool]:
    """A ``Signal.receivers`` entry as (lookup key, receiver reference, whether the
    receiver is async, whether the sender it is connected to is still alive).

    Django 5.x files ``(lookup_key, receiver, is_async)``; 6.1 adds a weak
    reference to the sender, ``(lookup_key, receiver, sender_ref, is_async)``, and
    skips a receiver whose sender was collected.
    """
    import django

    if django.VERSION >= (6, 1):
        lookup_key, reference, sender_ref, is_async = entry
        return lookup_key, reference, bool(is_async), sender_ref is None or sender_ref() is not None
    lookup_key, reference, is_async = entry
    return lookup_key, reference, bool(is_async), True


def describe_receivers(hook: str) -> list[dict[str, Any]]:
    """Every live receiver of the Django signal ``hook`` names, in the order Django
    calls them for a sender they all take: the synchronous ones in the order they
    were connected, then the asynchronous ones (Django gathers those last).

    The bridge's own receiver is among them, where the plugins run.

    :raises KeyError: when ``hook`` is no built-in signal's name.
    """
    from django.dispatch.dispatcher import _make_id

    signal = built_in_signals()[hook]
    with signal.lock:
        entries = list(signal.receivers)
    known = _senders_by_key()
    synchronous: list[dict[str, Any]] = []
    asynchronous: list[dict[str, Any]] = []
    for entry in entries:
        (receiver_key, sender_key), reference, is_async, sender_alive = _read_entry(entry)
        weak = isinstance(reference, weakref.ReferenceType)
        receiver = reference() if weak else reference
        if receiver is None or not sender_alive:
            continue  # collected: Django skips it, and drops it on its next connect
        function = getattr(receiver, "__func__", receiver)
        if not hasattr(function, "__qualname__"):
            function = type(function)  # a callable instance
        described = {
            "module": getattr(function, "__module__", None),
            "function": function.__qualname__,
            "sender": _shown_sender(sender_key, known),
            "dispatch_uid": None if receiver_key == _make_id(receiver) else receiver_key,
            "weak": weak,
        }
        (asynchronous if is_async else synchronous).append(described)
    return synchronous + asynchronous
