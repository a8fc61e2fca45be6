"""Keeps every model class Django prepares, from before the first app loads: the
order the bridge's historic class_prepared must replay."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import class_prepared

prepared: list[type] = []


def _keep(sender: type, **kwargs: Any) -> None:
    prepared.append(sender)


class_prepared.connect(_keep, weak=False, dispatch_uid="tests.djangoproject.early")

#: What the plugins of ``rebuild_plugins`` heard of class_prepared: kept here, in a
#: module imported once, as an installed plugin's module is whatever hosts load it.
heard_by_plugins: list[type] = []
