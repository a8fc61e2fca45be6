"""A plugin's own settings: declared once as a dataclass, typed, with defaults and secrets.

A plugin declares its settings as a dataclass and names it in the module (or
object) it registers, as ``hosthooks_settings``::

    @dataclass
    class AuditSettings:
        path: str = ""
        token: str = setting("", secret=True)

    hosthooks_settings = AuditSettings

and reads them with ``hosthooks.plugin_settings("audit")``. Users set them in
the configuration file's ``[plugins.<name>]`` table or with
``HOSTHOOKS_PLUGIN_<NAME>__<KEY>`` (the name upper-cased, every character that is
not a letter or digit as ``_``, two underscores before the key), which wins over
the file. A value may be ``{ env = "VAR" }`` or ``{ file = "path" }``, so that
secrets stay out of the file. Settings marked secret are redacted wherever
settings are shown.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from typing import Final
from typing import TypeVar

from hosthooks.configuration.files import REDACTED
from hosthooks.configuration.keys import ConfigError
from hosthooks.configuration.keys import shown_value

#: The attribute of a plugin that names its settings dataclass.
SETTINGS_ATTRIBUTE: Final = "hosthooks_settings"

_SECRET: Final = "hosthooks_secret"
_ALIASES: Final = "hosthooks_aliases"

_T = TypeVar("_T")


def setting(
    default: Any = dataclasses.MISSING, *, secret: bool = False, aliases: tuple[str, ...] = ()
) -> Any:
    """A field of a settings dataclass with more to say than its default.

    :param default: the default; leave it out for a setting the user must give.
    :param secret: redact the value wherever settings are shown.
    :param aliases: older environment variables that also set it (below the
        ``HOSTHOOKS_PLUGIN_<NAME>__<KEY>`` variable, above the file).
    """
    metadata = {_SECRET: secret, _ALIASES: aliases}
    return dataclasses.field(default=default, metadata=metadata)


class PluginSettingsError(ConfigError):
    """A plugin's settings are unusable; :attr:`problems` has one line per problem,
    each naming the plugin and the key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@functools.lru_cache(maxsize=256)
def env_prefix(plugin_name: str) -> str:
    """``"login-guard"`` -> ``"HOSTHOOKS_PLUGIN_LOGIN_GUARD__"``."""
    return f"HOSTHOOKS_PLUGIN_{re.sub(r'[^A-Za-z0-9]', '_', plugin_name).upper()}__"


def is_secret(field: dataclasses.Field[Any]) -> bool:
    return bool(field.metadata.get(_SECRET, False))


#: Each settings dataclass's fields by name and their resolved type hints. Settings
#: are read anew on every call; resolving the hints (which compiles each string
#: annotation) was two thirds of a read.
_schemas: dict[type[Any], tuple[dict[str, dataclasses.Field[Any]], dict[str, Any]]] = {}


def _schema(
    settings_class: type[Any],
) -> tuple[dict[str, dataclasses.Field[Any]], dict[str, Any]]:
    schema = _schemas.get(settings_class)
    if schema is None:
        fields = {field.name: field for field in dataclasses.fields(settings_class)}
        schema = _schemas[settings_class] = (fields, typing.get_type_hints(settings_class))
    return schema


def load_plugin_settings(
    plugin_name: str,
    settings_class: type[_T],
    table: Mapping[str, Any],
    environ: Mapping[str, str],
    base: Path | None = None,
) -> _T:
    """The plugin's settings: defaults, then the file's table, then the environment.

    :param table: the plugin's ``[plugins.<name>]`` table.
    :param base: the folder ``{ file = "..." }`` paths are relative to (the
        configuration file's); the working directory when None.
    :raises PluginSettingsError: listing every problem: an unknown key, a
        missing required value, a value of the wrong type, an unreadable secret.
    """
    values, problems = _read(plugin_name, settings_class, table, environ, base)
    if problems:
        raise PluginSettingsError([f"{plugin_name}: {key}: {problem}" for key, problem in problems])
    return settings_class(**values)


def _read(
    plugin_name: str,
    settings_class: type[Any],
    table: Mapping[str, Any],
    environ: Mapping[str, str],
    base: Path | None,
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The values set (defaults left out) and every problem, as (key, what is wrong)."""
    if not dataclasses.is_dataclass(settings_class):
        raise TypeError(f"{plugin_name}: {settings_class!r} is not a dataclass")
    fields, hints = _schema(settings_class)
    problems: list[tuple[str, str]] = []
    values: dict[str, Any] = {}
    for key in table:
        if key not in fields:
            import difflib  # only a misspelling pays for it

            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append((key, f"unknown setting{hint}"))
    prefix = env_prefix(plugin_name)
    for name, field in fields.items():
        found, raw, is_text = _raw_value(name, field, table, environ, prefix)
        required = field.default is field.default_factory is dataclasses.MISSING
        if not found:
            if required:
                where = f"[plugins.{plugin_name}] or {prefix}{name.upper()}"
                problems.append((name, f"required (set it in {where})"))
            continue
        try:
            # A path in the file is relative to the file; one in the environment,
            # or in a secret's file, to the working directory.
            folder = None if is_text else base
            if isinstance(raw, dict):
                raw, is_text = _dereference(raw, environ, base), True
            values[name] = _convert(raw, hints[name], is_text, is_secret(field), folder)
        except ValueError as error:
            problems.append((name, str(error)))
    return values, problems


def settings_rows(
    plugin_name: str,
    settings_class: type[Any],
    table: Mapping[str, Any],
    environ: Mapping[str, str],
    base: Path | None = None,
) -> dict[str, tuple[Any, str, str | None]]:
    """Every setting as ``hosthooks config`` shows it: ``{key: (value, source,
    problem)}``, secrets redacted. A setting with a problem shows the value as
    given (None when missing) beside it; a key the plugin does not declare is
    a row too, with its problem.
    """
    values, problems = _read(plugin_name, settings_class, table, environ, base)
    wrong = dict(problems)
    fields, _ = _schema(settings_class)
    sources = setting_sources(plugin_name, settings_class, table, environ)
    prefix = env_prefix(plugin_name)
    rows: dict[str, tuple[Any, str, str | None]] = {}
    for name, field in fields.items():
        if name in values:
            value = values[name]
        elif name in wrong:
            value = _raw_value(name, field, table, environ, prefix)[1]
        elif field.default_factory is not dataclasses.MISSING:
            value = field.default_factory()
        else:
            value = field.default
        rows[name] = (_shown(value, is_secret(field)), sources[name], wrong.get(name))
    for key in table:
        if key not in fields:
            rows[key] = (_shown(table[key], False), "file", wrong[key])
    return rows


def setting_variables(plugin_name: str, settings_class: type[Any], key: str) -> list[str]:
    """The environment variables that set setting ``key``: its own, then its aliases.

    :raises KeyError: when ``settings_class`` has no field ``key``.
    """
    fields, _ = _schema(settings_class)
    field = fields[key]
    return [f"{env_prefix(plugin_name)}{key.upper()}", *field.metadata.get(_ALIASES, ())]


def setting_given(
    plugin_name: str,
    settings_class: type[Any],
    key: str,
    table: Mapping[str, Any],
    environ: Mapping[str, str],
) -> bool:
    """Whether setting ``key`` is set at all, in the environment or the file, without
    reading or checking its value (a few dictionary lookups).

    :raises KeyError: when ``settings_class`` has no field ``key``.
    """
    fields, _ = _schema(settings_class)
    found, _, _ = _raw_value(key, fields[key], table, environ, env_prefix(plugin_name))
    return found


def setting_sources(
    plugin_name: str,
    settings_class: type[Any],
    table: Mapping[str, Any],
    environ: Mapping[str, str],
) -> dict[str, str]:
    """Where each setting's value comes from: ``"environment"``, ``"file"`` or ``"default"``
    (the words of :class:`hosthooks.configuration.keys.Origin`)."""
    prefix = env_prefix(plugin_name)
    sources = {}
    for field in dataclasses.fields(settings_class):
        found, _, is_text = _raw_value(field.name, field, table, environ, prefix)
        sources[field.name] = ("environment" if is_text else "file") if found else "default"
    return sources


def _raw_value(
    name: str,
    field: dataclasses.Field[Any],
    table: Mapping[str, Any],
    environ: Mapping[str, str],
    prefix: str,
) -> tuple[bool, Any, bool]:
    """(whether the setting is set, its raw value, whether that is text to parse):
    the environment first, then the file, whose values are typed already."""
    for variable in (f"{prefix}{name.upper()}", *field.metadata.get(_ALIASES, ())):
        if variable in environ:
            return True, environ[variable], True
    if name in table:
        return True, table[name], False
    return False, None, False


def _dereference(raw: dict[str, Any], environ: Mapping[str, str], base: Path | None) -> str:
    """The text ``{ env = "VAR" }`` or ``{ file = "path" }`` points at."""
    if set(raw) == {"env"} and isinstance(raw["env"], str):
        if raw["env"] not in environ:
            raise ValueError(f"the environment variable {raw['env']} is not set")
        return environ[raw["env"]]
    if set(raw) == {"file"} and isinstance(_text_of_path(raw["file"]), str):
        path = Path(raw["file"]).expanduser()
        if base is not None and not path.is_absolute():
            path = base / path
        try:
            # A trailing newline is an editor's, not part of the secret.
            return path.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as error:
            raise ValueError(f"cannot read {str(path)!r}: {error.strerror}") from None
    raise ValueError('expected a value, { env = "VAR" } or { file = "path" }')


def _text_of_path(value: Any) -> Any:
    """A path-like value as its string (a str path, not bytes); anything else as it is."""
    if isinstance(value, os.PathLike):
        text = os.fspath(value)
        return text if isinstance(text, str) else value
    return value


def _convert(
    value: Any, hint: Any, is_text: bool, secret: bool = False, folder: Path | None = None
) -> Any:
    """``value`` as the type ``hint`` says. Text from the environment or a secret's
    file is parsed; a value from the configuration file must have the type already.

    :param secret: the message of a value of the wrong type leaves the value out.
    :param folder: what a relative path is relative to (the file's folder); as
        given when None.
    :raises ValueError: saying what was expected.
    """
    got = shown_value(value, secret)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        members = [member for member in typing.get_args(hint) if member is not type(None)]
        if value is None or (is_text and value == ""):
            return None
        hint = members[0]
        origin = typing.get_origin(hint)
    if origin in (list, tuple):
        if is_text:
            value = [part.strip() for part in value.split(",") if part.strip()]
        elif isinstance(value, list | tuple):
            # Paths among them (Django settings build them with pathlib) are strings too.
            value = [_text_of_path(item) for item in value]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValueError(f"expected a list of strings, got {got}")
        return list(value) if origin is list else tuple(value)
    if hint is bool:
        if is_text:
            lowered = value.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
        if type(value) is bool:
            return value
        raise ValueError(f"expected true or false, got {got}")
    if hint in (int, float):
        if is_text:
            try:
                return hint(value)
            except ValueError:
                pass
        elif type(value) is hint or (hint is float and type(value) is int):
            return hint(value)
        kind = "a whole number" if hint is int else "a number"
        raise ValueError(f"expected {kind}, got {got}")
    if hint is Path:
        # os.PathLike too: Django settings build paths with pathlib (BASE_DIR / "x").
        if isinstance(value, str | os.PathLike) and isinstance(os.fspath(value), str):
            path = Path(value).expanduser()
            return folder / path if folder is not None and not path.is_absolute() else path
        raise ValueError(f"expected a path, got {got}")
    if hint is str:
        if isinstance(value, str):
            return value
        if isinstance(_text_of_path(value), str):
            return _text_of_path(value)
        raise ValueError(f"expected a string, got {got}")
    return value


def shown_settings(settings: object) -> dict[str, Any]:
    """A settings instance as JSON-ready data, secrets redacted."""
    assert dataclasses.is_dataclass(settings)
    return {
        field.name: _shown(getattr(settings, field.name), is_secret(field))
        for field in dataclasses.fields(settings)
    }


def _shown(value: Any, secret: bool) -> Any:
    if secret and value not in (None, ""):
        return REDACTED
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        # { env = "VAR" } or { file = "path" } as written: names, not values.
        return {str(key): _shown(item, False) for key, item in value.items()}
    if value is None or isinstance(value, str | int | float | bool | list):
        return value
    return repr(value)


def declared_settings(plugin: object) -> type[Any] | None:
    """The settings dataclass a plugin declares, or None."""
    declared = getattr(plugin, SETTINGS_ATTRIBUTE, None)
    if isinstance(declared, type) and dataclasses.is_dataclass(declared):
        return declared
    return None
