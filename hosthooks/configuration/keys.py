"""The configuration's vocabulary: every key, what it holds, how a value is read
from the file and from the environment, and the runtime's upper-case settings.

Nothing here reads a file; :mod:`hosthooks.configuration.files` does.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Final
from typing import NamedTuple

CONFIG_FILE_NAME: Final = "hosthooks.toml"
PYPROJECT_TABLE: Final = ("tool", "hosthooks")
CONFIG_ENV: Final = "HOSTHOOKS_CONFIG"
#: The variable the runtime read its settings file from before there was one configuration file.
LEGACY_CONFIG_ENV: Final = "HOSTHOOKS_SETTINGS_FILE"
RUNTIME_TABLE: Final = "runtime"
PLUGINS_TABLE: Final = "plugins"

_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off", ""})


class ConfigError(Exception):
    """The configuration cannot be used: the message names the file or variable,
    the key and what is wrong, in one line."""


class Origin(str, enum.Enum):
    """Where a value came from, highest precedence first."""

    OPTION = "option"
    ENVIRONMENT = "environment"
    FILE = "file"
    #: A ``HOSTHOOKS`` dict in Django's settings, which stands in for the file.
    SETTINGS = "settings"
    DEFAULT = "default"


@dataclass(frozen=True)
class Sourced:
    """A value and where it came from.

    :param file: the configuration file, when the value came from one.
    """

    value: Any
    source: Origin
    file: Path | None = None


# -- what each key holds ------------------------------------------------------

#: Turns what a TOML file (or Django's ``HOSTHOOKS`` setting) holds into the key's
#: value, relative paths taken from the given folder; raises ValueError saying what
#: was expected.
_FromFile = Callable[[object, Path], Any]
#: Turns an environment variable's text into the key's value; raises ValueError likewise.
_FromText = Callable[[str], Any]


def _bool_from_file(value: object, _: Path) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


def _bool_from_text(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{text!r} is not a boolean (1/0, true/false, yes/no, on/off)")


def _names_from_file(value: object, _: Path) -> tuple[str, ...]:
    # A tuple too: Django's settings are Python, where tuples are as common as lists.
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise ValueError("expected a list of plugin names")
    return tuple(dict.fromkeys(item.strip() for item in value if item.strip()))


def _modules_from_file(value: object, _: Path) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise ValueError('expected a list of module names (["myapp.models"])')
    return tuple(dict.fromkeys(item.strip() for item in value if item.strip()))


def _hooks_from_file(value: object, _: Path) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise ValueError('expected a list of hook names (["post_save"])')
    return tuple(dict.fromkeys(item.strip() for item in value if item.strip()))


def _share_from_file(value: object, _: Path) -> float:
    if type(value) not in (int, float) or not 0 <= value <= 1:  # type: ignore[operator]
        raise ValueError("expected a share from 0 to 1")
    return float(value)  # type: ignore[arg-type]


def _share_from_text(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not 0 <= value <= 1:
        raise ValueError(f"{text!r} is not a share from 0 to 1")
    return value


def names_from_text(text: str) -> tuple[str, ...]:
    """``"a, b,,c"`` -> ``("a", "b", "c")``: a comma-separated list of names."""
    return tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


def _path_from_file(value: object, folder: Path) -> Path:
    if not isinstance(value, (str, os.PathLike)) or not os.fspath(value):
        raise ValueError("expected a path")
    # Relative to the file, not to wherever the command happens to run.
    return folder / Path(value).expanduser()


def _path_from_text(text: str) -> Path | None:
    return Path(text).expanduser() if text else None


def _text_from_file(value: object, _: Path) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


def _seconds_from_file(value: object, _: Path) -> int:
    if type(value) is not int or value < 1:
        raise ValueError("expected a whole number of seconds, at least 1")
    return value


def _seconds_from_text(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number of seconds") from None
    if value < 1:
        raise ValueError(f"{text!r} is less than 1 second")
    return value


_DURATION_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: The longest duration read: a mute or a keep that long ends long after any
#: process reading it, and its end stays a date Python can write (year < 10000).
LONGEST_DURATION_DAYS: Final = 36500


def duration_from_text(text: str) -> int:
    """Seconds in a duration written ``30m``, ``12h``, ``7d``, ``45s`` or bare seconds:
    ASCII digits, then at most one of the units ``s``, ``m``, ``h``, ``d`` (in
    either case: configurations written ``7D`` keep reading as they always did).

    :raises ValueError: naming the text, for anything else, less than 1 second,
        or longer than :data:`LONGEST_DURATION_DAYS` days (100 years).
    """
    cleaned = text.strip()
    unit = _DURATION_UNITS.get(cleaned[-1:].lower()) if cleaned else None
    number = cleaned[:-1] if unit is not None else cleaned
    # str.isdigit() would let full-width and superscript digits through.
    if not (number.isascii() and number.isdigit()):
        raise ValueError(f"{text!r} is not a duration (such as 30m, 12h, 7d, or seconds)")
    value = int(number) * (unit or 1)
    if value < 1:
        raise ValueError(f"{text!r} is less than 1 second")
    if value > LONGEST_DURATION_DAYS * 86400:
        raise ValueError(
            f"{text!r} is longer than the longest duration, {LONGEST_DURATION_DAYS}d (100 years)"
        )
    return value


def _duration_from_file(value: object, where: Path) -> int:
    if isinstance(value, str):
        return duration_from_text(value)
    return _seconds_from_file(value, where)


def _choice(*choices: str) -> tuple[_FromFile, _FromText]:
    def from_text(text: str) -> str:
        if text not in choices:
            raise ValueError(f"{text!r} is not one of {', '.join(choices)}")
        return text

    def from_file(value: object, _: Path) -> str:
        if not isinstance(value, str):
            raise ValueError(f"expected one of {', '.join(choices)}")
        return from_text(value)

    return from_file, from_text


# Key and RuntimeSetting are named tuples, not frozen dataclasses: they are read
# by attribute only, never compared or copied, and every command reads the
# configuration, where defining a frozen dataclass costs ~5x a named tuple.
class Key(NamedTuple):
    """One key of the configuration: its default, its variable, how to read it.

    :param env: the environment variable that sets it.
    :param inverted: the variable says the opposite of the key
        (``HOSTHOOKS_DISABLE_PLUGIN_AUTOLOAD=1`` sets ``autoload`` to false).
    """

    name: str
    default: Any
    env: str
    from_file: _FromFile
    from_text: _FromText
    help: str
    inverted: bool = False


_queue_from_file, _queue_from_text = _choice("celery", "eager")

#: Every top-level key of the configuration file, in the order ``hosthooks config`` shows them.
KEYS: Final[dict[str, Key]] = {
    key.name: key
    for key in (
        Key(
            "autoload",
            True,
            "HOSTHOOKS_DISABLE_PLUGIN_AUTOLOAD",
            _bool_from_file,
            _bool_from_text,
            "load the plugins installed through entry points",
            inverted=True,
        ),
        Key(
            "disable_plugins",
            (),
            "HOSTHOOKS_DISABLE_PLUGINS",
            _names_from_file,
            names_from_text,
            "plugin names blocked before import",
        ),
        Key(
            "load_plugins",
            None,
            "HOSTHOOKS_LOAD_PLUGINS",
            _names_from_file,
            names_from_text,
            "if set, the only entry-point plugins loaded (empty: none)",
        ),
        Key(
            "plugins_dir",
            None,
            "HOSTHOOKS_PLUGINS_DIR",
            _path_from_file,
            _path_from_text,
            "a directory whose .py files are plugins too",
        ),
        Key(
            "strict_plugins",
            False,
            "HOSTHOOKS_STRICT_PLUGINS",
            _bool_from_file,
            _bool_from_text,
            "a plugin that fails to load is fatal",
        ),
        Key(
            "trace",
            False,
            "HOSTHOOKS_TRACE",
            _bool_from_file,
            _bool_from_text,
            "trace every hook call",
        ),
        Key(
            "trace_file",
            None,
            "HOSTHOOKS_TRACE_FILE",
            _path_from_file,
            _path_from_text,
            "append traces as JSON lines to this file",
        ),
        Key(
            "otel",
            False,
            "HOSTHOOKS_OTEL",
            _bool_from_file,
            _bool_from_text,
            "OpenTelemetry spans for hook calls (the extra hosthooks[otel])",
        ),
        Key(
            "otel_hooks",
            None,
            "HOSTHOOKS_OTEL_HOOKS",
            _hooks_from_file,
            names_from_text,
            "if set, the only hooks whose calls get spans",
        ),
        Key(
            "otel_deny",
            ("pre_init", "post_init"),
            "HOSTHOOKS_OTEL_DENY",
            _hooks_from_file,
            names_from_text,
            "hooks whose calls never get spans",
        ),
        Key(
            "otel_sample",
            1.0,
            "HOSTHOOKS_OTEL_SAMPLE",
            _share_from_file,
            _share_from_text,
            "the share of chosen calls that get spans, from 0 to 1",
        ),
        Key(
            "apps",
            (),
            "HOSTHOOKS_APPS",
            _modules_from_file,
            names_from_text,
            "the application's models modules: check holds sender= labels to their "
            "models; migrate and worker import them",
        ),
        Key(
            "broker_url",
            "redis://127.0.0.1:6379/0",
            "HOSTHOOKS_BROKER_URL",
            _text_from_file,
            str,
            "the task queue's broker, for deferred implementations",
        ),
        Key(
            "queue_backend",
            "celery",
            "HOSTHOOKS_QUEUE_BACKEND",
            _queue_from_file,
            _queue_from_text,
            "where deferred implementations run: celery workers, or eager (in process)",
        ),
        Key(
            "bulk_hooks",
            False,
            "HOSTHOOKS_BULK_HOOKS",
            _bool_from_file,
            _bool_from_text,
            "under Django: fire the bulk and queryset hooks (wraps QuerySet's methods)",
        ),
        Key(
            "queue_visibility_timeout",
            3600,
            "HOSTHOOKS_QUEUE_VISIBILITY_TIMEOUT",
            _seconds_from_file,
            _seconds_from_text,
            "seconds before Redis gives a lost worker's task to another worker",
        ),
        Key(
            "deliveries_keep",
            7 * 86400,
            "HOSTHOOKS_DELIVERIES_KEEP",
            _duration_from_file,
            duration_from_text,
            "how long done deferred calls stay in the outbox (30m, 12h, 7d), then purged",
        ),
        Key(
            "deliveries_held_grace",
            3600,
            "HOSTHOOKS_DELIVERIES_HELD_GRACE",
            _duration_from_file,
            duration_from_text,
            "how long a call whose plugin or model no worker has stays held, then dead",
        ),
        Key(
            "retry_backoff_max",
            3600,
            "HOSTHOOKS_RETRY_BACKOFF_MAX",
            _duration_from_file,
            duration_from_text,
            "the longest wait between two attempts of a deferred call",
        ),
    )
}


# -- the runtime's settings ---------------------------------------------------


class RuntimeSetting(NamedTuple):
    """One of the runtime's settings: upper-case name, default, whether it is a
    secret, and whether it is a path (or a URL): a relative path in the
    configuration file is relative to the file."""

    name: str
    default: Any
    help: str
    secret: bool = False
    path: bool = False


#: The runtime's settings, declared here so that the configuration can be read,
#: checked and shown without importing the runtime. ``HOSTHOOKS_<NAME>`` sets one.
RUNTIME_SETTINGS: Final[dict[str, RuntimeSetting]] = {
    setting.name: setting
    for setting in (
        RuntimeSetting(
            "DATABASE", "hosthooks.sqlite3", "a SQLite path or a database URL", path=True
        ),
        RuntimeSetting(
            "SECRET_KEY",
            None,
            "signs sessions; None: generated beside a SQLite database on first run",
            secret=True,
        ),
        RuntimeSetting("MAX_BODY_SIZE", 1024 * 1024, "the largest request body, in bytes"),
        RuntimeSetting("SESSION_COOKIE_NAME", "hosthooks_session", "the session cookie's name"),
        RuntimeSetting("SESSION_MAX_AGE", 14 * 24 * 3600, "how long a session lasts, in seconds"),
        RuntimeSetting("DEBUG", False, "show tracebacks in error pages"),
        RuntimeSetting(
            "TRUSTED_PROXY",
            None,
            "the address of a TLS-terminating proxy whose X-Forwarded-Proto and -For are believed",
        ),
        RuntimeSetting(
            "INSPECTOR_PUBLIC",
            False,
            "no longer opens anything: the console under /-/ is for staff only",
        ),
        RuntimeSetting(
            "BREAKER_FAILURES",
            0,
            "failures in a row of a plugin in one hook (robust calls, deferred runs) "
            "that mute it there for BREAKER_COOLDOWN; 0 turns the circuit breaker off",
        ),
        RuntimeSetting(
            "BREAKER_COOLDOWN", 60, "seconds a plugin the circuit breaker muted stays muted"
        ),
        RuntimeSetting(
            "PASSWORD_SCRYPT_N",
            2**17,
            "scrypt's cost (a power of 2) for new password hashes; an older hash "
            "is redone at its user's next good login",
        ),
        RuntimeSetting(
            "LOGIN_FAILURES_PER_ACCOUNT", 5, "failed logins of one account before it is throttled"
        ),
        RuntimeSetting(
            "LOGIN_FAILURES_PER_ADDRESS",
            20,
            "failed logins from one address before it is throttled",
        ),
        RuntimeSetting(
            "LOGIN_FAILURE_WINDOW", 15 * 60, "seconds a failed login counts, and the longest delay"
        ),
    )
}


def runtime_value(name: str, value: object, where: str) -> Any:
    """A runtime setting's value checked against the type of its default.

    Settings whose default is None take a string. Raises :class:`ConfigError`
    naming ``where`` (a file or variable) and the setting.
    """
    setting = RUNTIME_SETTINGS[name]
    like = setting.default
    expected: type = str if like is None else type(like)
    if setting.path and isinstance(value, os.PathLike):
        # Django settings build paths with pathlib (BASE_DIR / "app.sqlite3").
        value = os.fspath(value)
    if isinstance(value, str) and expected is not str:
        try:
            return _bool_from_text(value) if expected is bool else int(value)
        except ValueError:
            kind = "a boolean" if expected is bool else "a whole number"
            raise ConfigError(f"{where}: {value!r} is not {kind}") from None
    # Exact types: bool is an int in Python, and a boolean where a number belongs is a mistake.
    if type(value) is not expected:
        kind = {bool: "true or false", int: "a whole number", str: "a string"}[expected]
        raise ConfigError(f"{where}: expected {kind}, got {shown_value(value, setting.secret)}")
    return value


def shown_value(value: object, secret: bool) -> str:
    """``value`` as a message quotes it: a secret's by its type alone, so that a
    secret given with the wrong type is never printed or logged."""
    if secret:
        return f"a value of type {type(value).__name__} (a secret: not shown)"
    return repr(value)


def is_url(value: str) -> bool:
    return "://" in value


def runtime_path(value: str, folder: Path) -> str:
    """A path setting's value taken from a file in ``folder``: a relative path
    joined to it; a URL or SQLite's ``:memory:`` as it is."""
    if is_url(value) or value == ":memory:":
        return value
    return str(folder / Path(value).expanduser())
