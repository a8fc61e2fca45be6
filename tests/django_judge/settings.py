"""The ``--settings`` module of Django's ``runtests.py`` for the judge: Django's
own SQLite settings, plus the apps of the run's mode (``HOSTHOOKS_JUDGE_MODE``):
``control`` (a plain receiver of every built-in signal), ``bridge``
(``hosthooks.django`` with the recording plugin) or ``both``.

runtests assigns its own ``INSTALLED_APPS`` (its ``ALWAYS_INSTALLED_APPS``, then
the test apps), so the apps are added to that list, first: ready before any of
Django's, as a project lists its own apps.
"""

from __future__ import annotations

import importlib
import os
import sys

# runtests' default settings, in its directory.
_defaults = importlib.import_module("test_sqlite")
globals().update({name: value for name, value in vars(_defaults).items() if name.isupper()})

_MODES = {
    "control": ["tests.django_judge.control.ControlConfig"],
    "bridge": ["hosthooks.django"],
    "both": ["tests.django_judge.control.ControlConfig", "hosthooks.django"],
}

_always_installed: list[str] = sys.modules["__main__"].ALWAYS_INSTALLED_APPS
_always_installed[0:0] = _MODES[os.environ["HOSTHOOKS_JUDGE_MODE"]]

TEST_RUNNER = "tests.django_judge.runner.JudgeRunner"
# Only the recording plugin, whatever else is installed.
HOSTHOOKS = {"load_plugins": ["judge-recorder"]}
