"""The ``--settings`` module of Django's ``runtests.py`` when its tests of bulk and
queryset writes judge ``bulk_hooks``: Django's own SQLite settings, plus, in the
``bulk`` and ``bulk_pks`` modes (``HOSTHOOKS_JUDGE_MODE``), ``hosthooks.django``
with the setting on and a plugin implementing every bulk and queryset hook
(naming ``pks`` in ``bulk_pks`` only); ``plain`` adds nothing."""

from __future__ import annotations

import importlib
import os
import sys

# runtests' default settings, in its directory.
_defaults = importlib.import_module("test_sqlite")
globals().update({name: value for name, value in vars(_defaults).items() if name.isupper()})

if os.environ["HOSTHOOKS_JUDGE_MODE"].startswith("bulk"):
    _always_installed: list[str] = sys.modules["__main__"].ALWAYS_INSTALLED_APPS
    _always_installed[0:0] = ["hosthooks.django"]

TEST_RUNNER = "tests.django_judge.runner.JudgeRunner"
HOSTHOOKS = {"load_plugins": ["judge-bulk"], "bulk_hooks": True}
