"""Which Django signal each hook is: the 19 built-in signals, by hook name."""

from __future__ import annotations

import functools
from typing import Any
from typing import Final

#: Hook name -> ``"module:attribute"`` of the Django signal it is.
SIGNAL_PATHS: Final = {
    "class_prepared": "django.db.models.signals:class_prepared",
    "pre_init": "django.db.models.signals:pre_init",
    "post_init": "django.db.models.signals:post_init",
    "pre_save": "django.db.models.signals:pre_save",
    "post_save": "django.db.models.signals:post_save",
    "pre_delete": "django.db.models.signals:pre_delete",
    "post_delete": "django.db.models.signals:post_delete",
    "m2m_changed": "django.db.models.signals:m2m_changed",
    "pre_migrate": "django.db.models.signals:pre_migrate",
    "post_migrate": "django.db.models.signals:post_migrate",
    "request_started": "django.core.signals:request_started",
    "request_finished": "django.core.signals:request_finished",
    "got_request_exception": "django.core.signals:got_request_exception",
    "setting_changed": "django.core.signals:setting_changed",
    "connection_created": "django.db.backends.signals:connection_created",
    "user_logged_in": "django.contrib.auth.signals:user_logged_in",
    "user_logged_out": "django.contrib.auth.signals:user_logged_out",
    "user_login_failed": "django.contrib.auth.signals:user_login_failed",
    "template_rendered": "django.test.signals:template_rendered",
}


@functools.cache
def built_in_signals() -> dict[str, Any]:
    """Hook name -> the Django ``Signal`` object, for every built-in signal.

    Imported on first use: ``django.test.signals`` connects Django's own
    ``setting_changed`` receivers, which a project not using the bridge never needs.
    """
    import importlib

    signals = {}
    for hook, path in SIGNAL_PATHS.items():
        module_name, _, attribute = path.partition(":")
        signals[hook] = getattr(importlib.import_module(module_name), attribute)
    return signals
