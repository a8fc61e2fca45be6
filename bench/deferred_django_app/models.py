"""One small model: what each timed transaction writes."""

from __future__ import annotations

from django.db import models


class Entry(models.Model):  # type: ignore[misc]
    title = models.CharField(max_length=100)

    class Meta:
        app_label = "deferred_django_app"

    def __str__(self) -> str:
        return str(self.title)
