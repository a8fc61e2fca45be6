"""Settings, template and connection hooks, fired by ``hosthooks.runtime.settings``,
``hosthooks.runtime.templates`` and ``hosthooks.runtime.db``."""

from __future__ import annotations

from typing import Any

from hosthooks.markers import hookspec


@hookspec
def setting_changed(sender: type[Any], setting: str, value: Any, enter: bool) -> None:
    """A setting was overridden, or an override ended.

    Fires from ``settings.override()`` once per setting on entry and once per
    setting on exit (with the restored value), the exit notifications even when
    the overridden block raised. On exit every implementation runs even if one
    raises; the first error is raised after all ran.

    :param sender: the settings class.
    :param setting: the name of the setting.
    :param value: the value now in force (None when the setting was unset);
        ``None`` when the sender leaves it out (Django's cache tests announce the
        end of a ``CACHES`` override without it).
    :param enter: True when the override starts, False when it ends.
    """


@hookspec
def template_rendered(sender: Any, template: Any, context: dict[str, Any]) -> None:
    """A template was rendered.

    Fires once per render, after the output was produced.

    :param sender: the template that was rendered.
    :param template: the same template.
    :param context: the context it was rendered with.
    """


@hookspec
def connection_created(sender: type[Any], connection: Any) -> None:
    """A new database connection was opened.

    Fires once per new connection, before it is used for any query; a good
    place for per-connection ``PRAGMA`` statements.

    :param sender: the database backend class.
    :param connection: the new connection.
    """
