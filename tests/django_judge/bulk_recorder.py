"""A plugin implementing hosthooks' eight bulk and queryset hooks, each naming every
argument of its spec but ``pks``, which it names too in the judge's ``bulk_pks``
mode (so the keys are read), and then checks them against the count Django
returned: an update's keys are as many as the rows it changed, all distinct; a
deletion's are distinct, no more than the rows it deleted (cascades count too)
and at least one where it deleted any. Loaded by its entry point (``judge-bulk``) while Django's own tests of
these operations run."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from typing import Any

from hosthooks import hookimpl
from hosthooks.specs import bulk
from hosthooks.specs import hook_names
from tests.django_judge import streams


def _check_updated(sender: Any, pks: list[Any], count: int) -> None:
    if len(pks) != count or len(set(pks)) != len(pks):
        streams.disagreements.append(["post_queryset_update", sender.__name__, len(pks), count])


def _check_deleted(sender: Any, pks: list[Any], count: int) -> None:
    # Cascaded rows count too, so only more keys than rows is wrong, or none at
    # all where rows went: those were the queryset's own rows, or cascaded from them.
    if len(pks) > count or (count and not pks) or len(set(pks)) != len(pks):
        streams.disagreements.append(["post_queryset_delete", sender.__name__, len(pks), count])


_CHECKS = {"post_queryset_update": _check_updated, "post_queryset_delete": _check_deleted}


def _implementation(hook: str, names: list[str]) -> Callable[..., Any]:
    # Generated: pluggy passes an implementation the arguments its signature names.
    namespace: dict[str, Any] = {}
    check = "    check(sender, pks, count)\n" if "pks" in names else ""
    exec(
        f"def {hook}({', '.join(names)}):\n    record('plugin', {hook!r}, {{}})\n{check}",
        {"record": streams.record, "check": _CHECKS.get(hook)},
        namespace,
    )
    implementation: Callable[..., Any] = hookimpl(namespace[hook])
    return implementation


_KEYS = os.environ.get("HOSTHOOKS_JUDGE_MODE") == "bulk_pks"

for _hook in hook_names(bulk):
    _names = list(inspect.signature(getattr(bulk, _hook)).parameters)
    if not _KEYS and "pks" in _names:
        _names.remove("pks")
    globals()[_hook] = _implementation(_hook, _names)
