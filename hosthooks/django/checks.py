"""hosthooks' problems in Django's system-check framework: ``manage.py check``
(and ``--fail-level``), ``runserver`` and ``migrate`` report them, each once.

- ``hosthooks.E001`` (error): a plugin failed to load.
- ``hosthooks.E002`` (error): a plugin requires a hosthooks other than the installed one.
- ``hosthooks.W001`` (warning; an error under ``strict_plugins``): a problem of
  an active plugin: a hook no spec declares, a ``sender=`` label naming no model
  of the project, an ordering cycle, unusable settings.

Each message is shown under the plugin's name, with what ``hosthooks check``
says of it.
"""

from __future__ import annotations

from typing import Any
from typing import Final

from django.core import checks

from hosthooks.django.bridge import bridge
from hosthooks.loading.records import Problem
from hosthooks.loading.records import Status

#: A plugin that failed to load.
FAILED_TO_LOAD: Final = "hosthooks.E001"
#: A plugin refused before import: it requires another hosthooks.
INCOMPATIBLE: Final = "hosthooks.E002"
#: A problem of an active plugin.
PLUGIN_PROBLEM: Final = "hosthooks.W001"

_FAILED_HINT: Final = "'manage.py hosthooks --traceback check' shows the plugin's traceback."


@checks.register("hosthooks")  # type: ignore[untyped-decorator]
def plugin_checks(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """One message per problem of the attached host's plugins (none before ``ready()``)."""
    host = bridge.host
    if host is None:
        return []
    of_failed: dict[Problem, str] = {}
    for record in host.plugins():
        if record.status is Status.FAILED:
            code = FAILED_TO_LOAD if record.compatible else INCOMPATIBLE
            of_failed.update(dict.fromkeys(record.all_problems(), code))
    messages: list[checks.CheckMessage] = []
    for problem in host.check():
        code = of_failed.get(problem, PLUGIN_PROBLEM)
        if code == FAILED_TO_LOAD:
            messages.append(
                checks.Error(problem.detail, hint=_FAILED_HINT, obj=problem.plugin, id=code)
            )
        elif code == INCOMPATIBLE or host.config.strict:
            messages.append(checks.Error(problem.detail, obj=problem.plugin, id=code))
        else:
            messages.append(checks.Warning(problem.detail, obj=problem.plugin, id=code))
    return messages
