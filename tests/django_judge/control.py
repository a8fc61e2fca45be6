"""The control: a plain ``weak=False`` receiver of every built-in signal, as a
Django project would connect one, recording what it hears."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from django.apps import AppConfig

from hosthooks.django.signals import built_in_signals
from tests.django_judge import streams


def _hooks_by_signal() -> dict[int, str]:
    return {id(signal): hook for hook, signal in built_in_signals().items()}


_HOOKS = _hooks_by_signal()


def control(signal: Any, sender: Any, **kwargs: Any) -> None:
    streams.record("control", _HOOKS[id(signal)], {"sender": sender, **kwargs})


class ControlConfig(AppConfig):  # type: ignore[misc]
    name = "tests.django_judge.control"
    label = "hosthooks_judge_control"

    def __init__(self, app_name: str, app_module: ModuleType | None) -> None:
        super().__init__(app_name, app_module)
        # Before any model is imported, as the bridge keeps the classes for its
        # historic hook: every class_prepared is heard.
        built_in_signals()["class_prepared"].connect(control, weak=False)

    def ready(self) -> None:
        # Where a project connects its receivers, and the bridge its own: just
        # before them (this app comes first), so both sit at the same place
        # among Django's receivers.
        for hook, signal in built_in_signals().items():
            if hook != "class_prepared":
                signal.connect(control, weak=False)
