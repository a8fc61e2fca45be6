"""The outbox of deferred calls as a model of ``hosthooks.django``, so that
``manage.py migrate`` creates its table (:mod:`hosthooks.deferred.schema`
describes the same columns for the runtime). Rows are written and read by the
outbox's own SQL, never through the ORM: saving one fires no signal."""

from __future__ import annotations

from typing import ClassVar

from django.db import models


class DeferredCall(models.Model):  # type: ignore[misc]
    """One deferred call and its delivery record (see :mod:`hosthooks.deferred.outbox`)."""

    id = models.BigAutoField(primary_key=True)
    event_id = models.CharField(max_length=32, unique=True)
    hook = models.CharField(max_length=100)
    plugin = models.CharField(max_length=200)
    queue = models.CharField(max_length=200)
    state = models.CharField(max_length=10)
    attempts = models.IntegerField()
    retries = models.IntegerField()
    relayed = models.IntegerField()
    next_attempt_at = models.FloatField(null=True)
    held_since = models.FloatField(null=True)
    last_error = models.TextField(null=True)
    created_at = models.FloatField()
    updated_at = models.FloatField()
    message = models.TextField()
    traceparent = models.CharField(max_length=55, null=True)

    class Meta:
        db_table = "hosthooks_outbox"
        # The relay's indexes of due calls, as hosthooks.deferred.schema describes
        # them: a call just written is in neither on SQLite (its INSERT writes
        # one index fewer); PostgreSQL's index of calls just written is made
        # by migration 0002 on PostgreSQL only.
        indexes: ClassVar[list[models.Index]] = [
            models.Index(
                fields=["next_attempt_at"],
                name="hosthooks_outbox_due_again",
                condition=models.Q(relayed__gt=0),
            ),
            models.Index(
                fields=["updated_at"],
                name="hosthooks_outbox_done",
                condition=models.Q(state="done"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plugin}: {self.hook} {self.event_id} ({self.state})"
