"""Deferred implementations: ``@hookimpl(defer=True)`` runs on a worker, after commit.

A deferred implementation does not run in the caller: the hook call encodes
the arguments it names (:mod:`hosthooks.deferred.serialise` says what a worker
gets for each kind), and once the outermost transaction commits (at once
outside one; never after a rollback) the call is put on the task queue. A
worker (``hosthooks worker``) loads the same plugins and configuration, runs
the implementation, retries it with backoff when it raises, and traces each
run. Delivery is at least once: a worker lost mid-run leaves the task to be
redelivered, so an implementation that must not act twice keys its effect on
:func:`current_event`'s ``event_id``.

``queue_backend = "eager"`` (``HOSTHOOKS_QUEUE_BACKEND=eager``) runs deferred
implementations in the calling process after commit instead, for tests and
development.
"""

from __future__ import annotations

from hosthooks.deferred.events import DeferredEvent
from hosthooks.deferred.events import current_event
from hosthooks.deferred.serialise import ModelSnapshot
from hosthooks.deferred.serialise import NotSerialisable

__all__ = ["DeferredEvent", "ModelSnapshot", "NotSerialisable", "current_event"]
