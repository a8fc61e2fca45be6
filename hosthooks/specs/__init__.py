"""Every Django built-in signal as a pluggy hookspec, one module per signal family,
and hosthooks' own hooks for the writes Django never signals (:mod:`~hosthooks.specs.bulk`).

The specs know nothing of the runtime that fires them: a firing site passes
every argument by keyword, ``sender`` first, exactly as Django sends them
(minus ``signal=``, since the hook name is the signal).

A few of Django's sends leave arguments out. Through the Django bridge, an
argument left out reaches implementations as the spec's default, ``None``
where the spec has none, never as an error or a warning; where a Django send
is known to leave one out, its ``:param:`` says so with the words of
:data:`LEFT_OUT_DEFAULT_NOTE`.
"""

from __future__ import annotations

from types import ModuleType
from typing import Final

from hosthooks.specs import auth
from hosthooks.specs import bulk
from hosthooks.specs import management
from hosthooks.specs import models
from hosthooks.specs import other
from hosthooks.specs import requests

#: How a spec's ``:param:`` documents the value an argument has when a sender
#: leaves it out (the spec's default, or ``None`` when it has none).
LEFT_OUT_DEFAULT_NOTE: Final = "``None`` when the sender leaves it out"

#: Family name -> the module holding that family's hookspecs, in display order.
FAMILIES: Final[dict[str, ModuleType]] = {
    "models": models,
    "auth": auth,
    "requests": requests,
    "management": management,
    "other": other,
    "bulk": bulk,
}

#: The families of hosthooks' own hooks: no Django signal has their names.
OWN_FAMILIES: Final = frozenset({"bulk"})

#: The hooks an implementation may mark ``defer=True``: their arguments can all
#: travel to a worker, and their point is not to run before something
#: (``m2m_changed`` is deferred for its ``post_`` actions only).
DEFERRABLE_HOOKS: Final = frozenset(
    {
        "post_save",
        "post_delete",
        "m2m_changed",
        "post_migrate",
        "setting_changed",
        "post_bulk_create",
        "post_bulk_update",
        "post_queryset_update",
        "post_queryset_delete",
    }
)

#: The hooks whose sender is a model class, so that a ``sender=`` label on their
#: implementations names a model (``"app.Model"``). The other hooks send an
#: application, a backend, a template or a module name.
MODEL_SENDER_HOOKS: Final = frozenset(
    {
        "class_prepared",
        "pre_init",
        "post_init",
        "pre_save",
        "post_save",
        "pre_delete",
        "post_delete",
        "m2m_changed",
        "user_logged_in",
        "user_logged_out",
        *(name for name in vars(bulk) if name.startswith(("pre_", "post_"))),
    }
)


def hook_names(module: ModuleType) -> list[str]:
    """The names of the hookspecs a family module declares, in source order.

    :param module: one of the values of :data:`FAMILIES`.
    :returns: hook names, as they appear in the module.
    """
    marker = "hosthooks_spec"
    return [name for name, value in vars(module).items() if hasattr(value, marker)]


def family_of(hook_name: str) -> str | None:
    """The family a built-in hook belongs to, or None for a hook no spec declares.

    :param hook_name: a hook name such as ``"post_save"``.
    """
    for family, module in FAMILIES.items():
        if hook_name in hook_names(module):
            return family
    return None
