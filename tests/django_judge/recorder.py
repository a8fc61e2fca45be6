"""The recording plugin: one implementation of each of the 19 hooks of Django's
built-in signals, naming every argument of its spec. Loaded by its entry point
(``judge-recorder``) from a distribution the judge installs."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from hosthooks import hookimpl
from hosthooks.django.signals import SIGNAL_PATHS
from hosthooks.specs import FAMILIES
from tests.django_judge import streams


def _implementation(hook: str, names: list[str]) -> Callable[..., Any]:
    # Generated: pluggy passes an implementation the arguments its signature names.
    namespace: dict[str, Any] = {}
    recorded = ", ".join(f"{name!r}: {name}" for name in names)
    exec(
        f"def {hook}({', '.join(names)}):\n    record('plugin', {hook!r}, {{{recorded}}})\n",
        {"record": streams.record},
        namespace,
    )
    implementation: Callable[..., Any] = hookimpl(namespace[hook])
    return implementation


for _module in FAMILIES.values():
    for _hook in SIGNAL_PATHS:
        _spec = getattr(_module, _hook, None)
        if _spec is not None:
            globals()[_hook] = _implementation(_hook, list(inspect.signature(_spec).parameters))
