"""The Django app: ``INSTALLED_APPS += ["hosthooks.django"]``."""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType

from django.apps import AppConfig
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from hosthooks.configuration.files import Configuration
from hosthooks.configuration.files import load_configuration
from hosthooks.configuration.keys import ConfigError
from hosthooks.django.bridge import bridge
from hosthooks.host import Host
from hosthooks.host import create_default_host
from hosthooks.loading.loader import plugins_logger
from hosthooks.loading.records import HostConfig


def project_configuration() -> Configuration:
    """The configuration under Django: the ``HOSTHOOKS`` setting in the file's place
    (the file is read as usual when the setting is absent), under the environment.

    :raises ImproperlyConfigured: when the setting or the environment is unusable.
    """
    from django.conf import settings

    table = getattr(settings, "HOSTHOOKS", None)
    if table is not None and not isinstance(table, Mapping):
        raise ImproperlyConfigured("HOSTHOOKS must be a dict of hosthooks configuration keys")
    try:
        return load_configuration(settings=table)
    except ConfigError as error:
        raise ImproperlyConfigured(str(error)) from None


def model_labels() -> list[str]:
    """``app_label.ModelName`` of every model of the project, through models included."""
    return sorted(model._meta.label for model in apps.get_models(include_auto_created=True))


def create_project_host(configuration: Configuration | None = None) -> Host:
    """The process host of a Django project: its plugins discovered as usual, but
    not the runtime's built-in ones (Django has its own), and its ``sender=``
    labels checked against the project's models.

    When Django rebuilds its app registry (its test runner does, and so does
    ``override_settings(INSTALLED_APPS=...)``), the host attached already is
    kept if the configuration is unchanged: its plugins have heard every model
    prepared so far, and only the labels are checked anew. A label naming no
    model is a problem Django's system checks report (:mod:`hosthooks.django.checks`),
    never fatal here, not even in strict mode: the app defining that model may
    join the registry later.

    :raises hosthooks.PluginLoadError: when strict mode is on and a plugin fails to load.
    """
    config = HostConfig.from_configuration(configuration or project_configuration())
    config = config.with_changes(builtin_plugins=False)
    host = bridge.host
    if host is None or host.config != config or host.config.plugin_tables != config.plugin_tables:
        host = create_default_host(config)
    host.set_known_models(model_labels(), fatal=False)
    return host


class HostHooksConfig(AppConfig):  # type: ignore[misc]
    """Runs hosthooks plugins in the project: see :mod:`hosthooks.django.bridge`."""

    name = "hosthooks.django"
    label = "hosthooks"
    verbose_name = "hosthooks"

    def __init__(self, app_name: str, app_module: ModuleType | None) -> None:
        super().__init__(app_name, app_module)
        # Django creates every app config before it imports any model: from here,
        # each class_prepared is kept until ready() hands them to the host.
        bridge.keep_prepared_classes()

    def ready(self) -> None:
        # Django's system checks show the plugins' problems (each once, with its
        # id): the log lines that would repeat them are left out.
        plugins_logger.disabled = True
        from hosthooks.django import checks  # noqa: F401  (registers the checks)

        configuration = project_configuration()
        bridge.attach(create_project_host(configuration))
        if configuration["bulk_hooks"]:
            # Imported only then: a project that does not opt in keeps QuerySet as it is.
            from hosthooks.django import bulk

            bulk.install(lambda: bridge.host)
