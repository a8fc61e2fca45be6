"""Settings: the runtime's part of the configuration, and ``override()``.

This module is the only place ``setting_changed`` is fired.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import Final
from typing import TypeVar

from hosthooks.configuration.files import Configuration
from hosthooks.configuration.files import load_configuration
from hosthooks.configuration.keys import RUNTIME_SETTINGS
from hosthooks.configuration.keys import ConfigError
from hosthooks.host import get_host

_F = TypeVar("_F", bound=Callable[..., Any])

#: Every setting with its default (declared with the configuration, which reads
#: them from the ``[runtime]`` table of the configuration file and from
#: ``HOSTHOOKS_<NAME>`` variables without importing the runtime).
DEFAULTS: Final[dict[str, Any]] = {
    name: setting.default for name, setting in RUNTIME_SETTINGS.items()
}

_UNSET: Final = object()


class SettingsError(ConfigError):
    """A settings file or environment value is unusable; the message says which and why."""


class Settings:
    """The settings in force: attribute access (``settings.DEBUG``), overridable in tests.

    Values come from the configuration (:mod:`hosthooks.configuration.files`): a
    ``HOSTHOOKS_<NAME>`` variable, else the ``[runtime]`` table of the
    configuration file, else the default.

    :param environ: where ``HOSTHOOKS_*`` variables are read; ``os.environ`` when None.
    :param configuration: the configuration to take values from; read from
        ``environ`` and the working directory when None.
    :raises SettingsError: for an unreadable configuration file, an unknown
        setting in it, or a value of the wrong type.
    """

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        configuration: Configuration | None = None,
    ) -> None:
        if configuration is None:
            try:
                configuration = load_configuration(environ=environ)
            except ConfigError as error:
                raise SettingsError(str(error)) from None
        values = dict(DEFAULTS)
        values.update({name: sourced.value for name, sourced in configuration.runtime.items()})
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "_lock", threading.RLock())

    def __getattr__(self, name: str) -> Any:
        values: dict[str, Any] = object.__getattribute__(self, "_values")
        try:
            return values[name]
        except KeyError:
            raise AttributeError(f"no setting named {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("settings are read-only; use settings.override(...)")

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    def override(self, **values: Any) -> _Override:
        """Change settings for a ``with`` block or a decorated function.

        On entry each setting is changed and ``setting_changed(enter=True)``
        fires; on exit (even when the block raised) each is restored and
        ``setting_changed(enter=False)`` fires with the restored value. The exit
        notifications are robust: every implementation runs, and the first error
        is raised after all ran. Settings no default names may be overridden too.
        """
        return _Override(self, values)

    def _set(self, name: str, value: Any) -> None:
        with self._lock:
            if value is _UNSET:
                self._values.pop(name, None)
            else:
                self._values[name] = value


class _Override:
    """``settings.override(...)``: a context manager and a decorator."""

    def __init__(self, settings: Settings, values: dict[str, Any]) -> None:
        self._settings = settings
        self._values = values
        self._saved: list[dict[str, Any]] = []

    def __enter__(self) -> Settings:
        current: dict[str, Any] = self._settings._values
        self._saved.append({name: current.get(name, _UNSET) for name in self._values})
        host = get_host()
        try:
            for name, value in self._values.items():
                self._settings._set(name, value)
                if host.has_listeners("setting_changed"):
                    host.hook.setting_changed(
                        sender=type(self._settings), setting=name, value=value, enter=True
                    )
        except Exception:
            # As Django does: an override that fails to start is undone at once.
            self.__exit__(None, None, None)
            raise
        return self._settings

    def __exit__(self, *exc_info: object) -> None:
        saved = self._saved.pop()
        host = get_host()
        first_error: Exception | None = None
        for name, value in saved.items():
            self._settings._set(name, value)
            restored = None if value is _UNSET else value
            if not host.has_listeners("setting_changed"):
                continue
            outcomes = host.fire_robust(
                "setting_changed",
                sender=type(self._settings),
                setting=name,
                value=restored,
                enter=False,
            )
            for _, outcome in outcomes:
                if isinstance(outcome, Exception) and first_error is None:
                    first_error = outcome
        if first_error is not None and exc_info[0] is None:
            raise first_error

    def __call__(self, function: _F) -> _F:
        @functools.wraps(function)
        def overridden(*args: Any, **kwargs: Any) -> Any:
            with self:
                return function(*args, **kwargs)

        return overridden  # type: ignore[return-value]


_settings: Settings | None = None
_settings_lock: Final = threading.Lock()


def get_settings() -> Settings:
    """The process's settings, read from the environment on first use.

    :raises SettingsError: as :class:`Settings` does.
    """
    global _settings
    with _settings_lock:
        if _settings is None:
            _settings = Settings()
        return _settings


def reset_settings(settings: Settings | None = None) -> None:
    """Replace the process's settings (None: read anew on next use)."""
    global _settings
    with _settings_lock:
        _settings = settings
