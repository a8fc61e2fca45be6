"""The configuration: one object knows every value and where it came from.

A value comes from, highest first: a command-line option, an environment
variable, the configuration file, the default. A list from a higher source
replaces a lower one whole (``--disable-plugins a`` is the list ``[a]``, not
the file's list plus ``a``).

The configuration file is the first of:

1. the file named by ``--config`` or ``HOSTHOOKS_CONFIG`` (``HOSTHOOKS_SETTINGS_FILE``
   is an older name for it);
2. ``hosthooks.toml`` in the working directory;
3. the ``[tool.hosthooks]`` table of ``pyproject.toml`` in the working directory.

No parent folder is searched: what configures an app is what sits beside it.
The runtime's settings live in the file's ``[runtime]`` table under their
upper-case names, and each plugin's settings in a ``[plugins.<name>]`` table.

Reading the configuration imports neither the runtime nor any plugin.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from typing import Final

from hosthooks.configuration.keys import CONFIG_ENV
from hosthooks.configuration.keys import CONFIG_FILE_NAME
from hosthooks.configuration.keys import KEYS
from hosthooks.configuration.keys import LEGACY_CONFIG_ENV
from hosthooks.configuration.keys import PLUGINS_TABLE
from hosthooks.configuration.keys import PYPROJECT_TABLE
from hosthooks.configuration.keys import RUNTIME_SETTINGS
from hosthooks.configuration.keys import RUNTIME_TABLE
from hosthooks.configuration.keys import ConfigError
from hosthooks.configuration.keys import Origin
from hosthooks.configuration.keys import Sourced
from hosthooks.configuration.keys import runtime_path
from hosthooks.configuration.keys import runtime_value

# -- the configuration --------------------------------------------------------


class Configuration:
    """The effective configuration: every key's value and where it came from.

    Build one with :func:`load_configuration`. ``config["trace"]`` is a value;
    :meth:`sourced` says where it came from.

    :param values: every key of :data:`KEYS`, sourced.
    :param runtime: the runtime settings the environment or the file sets, by upper-case name.
    :param plugins: each ``[plugins.<name>]`` table of the file, as written.
    :param file: the configuration file read, if any.
    """

    def __init__(
        self,
        values: Mapping[str, Sourced],
        runtime: Mapping[str, Sourced],
        plugins: Mapping[str, Mapping[str, Any]],
        file: Path | None,
    ) -> None:
        self._values: Final = dict(values)
        self.runtime: Final = dict(runtime)
        self.plugins: Final = {name: dict(table) for name, table in plugins.items()}
        self.file: Final = file

    def __getitem__(self, key: str) -> Any:
        return self._values[key].value

    def sourced(self, key: str) -> Sourced:
        return self._values[key]

    def items(self) -> list[tuple[str, Sourced]]:
        return list(self._values.items())

    def report(self) -> dict[str, dict[str, Any]]:
        """``{key: {"value", "source", "file"}}`` for every key and runtime setting,
        secrets redacted: what ``hosthooks config --json`` prints."""
        shown: dict[str, dict[str, Any]] = {}
        for key, sourced in self._values.items():
            value = sourced.value
            if key == "broker_url":
                value = redact_url(value)
            shown[key] = _report_entry(value, sourced)
        for name, setting in RUNTIME_SETTINGS.items():
            sourced = self.runtime.get(name, Sourced(setting.default, Origin.DEFAULT))
            value = sourced.value
            if setting.secret and value is not None:
                value = REDACTED
            elif setting.path and isinstance(value, str):
                value = redact_url(value)
            shown[f"{RUNTIME_TABLE}.{name}"] = _report_entry(value, sourced)
        return shown


#: What a secret is shown as.
REDACTED: Final = "********"


def redact_url(url: str) -> str:
    """``url`` with its password, if any, shown as :data:`REDACTED`."""
    from urllib.parse import urlsplit
    from urllib.parse import urlunsplit

    parts = urlsplit(url)
    if parts.password is None and "password" not in parts.query:
        return url
    if parts.password is not None:
        # The netloc as written, but for the password: "user:secret@host:port".
        user, _, place = parts.netloc.rpartition("@")
        parts = parts._replace(netloc=f"{user.partition(':')[0]}:{REDACTED}@{place}")
    if "password" in parts.query:
        # libpq takes the password as a query parameter too (?password=...).
        from urllib.parse import parse_qsl

        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query = "&".join(
            f"{key}={REDACTED if key == 'password' else value}" for key, value in pairs
        )
        parts = parts._replace(query=query)
    return urlunsplit(parts)


def _report_entry(value: Any, sourced: Sourced) -> dict[str, Any]:
    if isinstance(value, Path):
        value = str(value)
    elif isinstance(value, tuple):
        value = list(value)
    return {
        "value": value,
        "source": sourced.source.value,
        "file": None if sourced.file is None else str(sourced.file),
    }


def find_config_file(
    environ: Mapping[str, str], cwd: Path, explicit: Path | None = None
) -> tuple[Path, tuple[str, ...]] | None:
    """The configuration file to read and the table in it that holds the keys
    (``()`` for the whole file), or None when there is none.

    :raises ConfigError: when a named file does not exist.
    """
    named = explicit
    if named is None:
        text = environ.get(CONFIG_ENV) or environ.get(LEGACY_CONFIG_ENV)
        named = Path(text).expanduser() if text else None
    if named is not None:
        if not named.is_file():
            raise ConfigError(f"configuration file {str(named)!r} does not exist")
        return named, ()
    own = cwd / CONFIG_FILE_NAME
    if own.is_file():
        return own, ()
    pyproject = cwd / "pyproject.toml"
    if pyproject.is_file() and _may_have_our_table(pyproject):
        data = _read_toml(pyproject)
        table: object = data
        for part in PYPROJECT_TABLE:
            table = table.get(part) if isinstance(table, dict) else None
        if isinstance(table, dict):
            return pyproject, PYPROJECT_TABLE
    return None


def _may_have_our_table(pyproject: Path) -> bool:
    """False when ``pyproject`` certainly has no ``[tool.hosthooks]`` table, so
    that most projects' files are not parsed: importing and running the TOML
    parser costs ~10 ms, a tenth of what listing the plugins costs.

    TOML spells the table's path on one line (``[tool.hosthooks]``,
    ``tool.hosthooks.trace = true``, ``tool = {hosthooks = {...}}``), or splits
    it between a ``[tool]`` header and a ``hosthooks`` key; a key written with
    escapes (``"\\u0074ool"``) cannot be read without parsing. A file that
    cannot be read is left to the parser to report.
    """
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return True
    if "\\u" in text or "\\U" in text:
        return True
    for line in text.splitlines():
        if "hosthooks" in line and "tool" in line:
            return True
        header = line.strip()
        if header.startswith("[") and "tool" in header:
            inside = header.partition("#")[0].strip().strip("[]")
            if inside.strip().strip("\"'") == "tool":
                return True
    return False


def _read_toml(path: Path) -> dict[str, Any]:
    # Imported here: a command run where no configuration file exists does not pay for it.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
        return data
    except OSError as error:
        raise ConfigError(f"configuration file {str(path)!r}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"configuration file {str(path)!r} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"configuration file {str(path)!r} is not valid TOML: {error}") from None


def _file_table(path: Path, table_path: tuple[str, ...]) -> dict[str, Any]:
    data: dict[str, Any] = _read_toml(path)
    for part in table_path:
        data = data[part]
    return data


def _where(path: Path, table_path: tuple[str, ...], key: str) -> str:
    prefix = ".".join((*table_path, key))
    return f"{path}: {prefix}"


def load_configuration(
    options: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    config_file: Path | None = None,
    settings: Mapping[str, Any] | None = None,
) -> Configuration:
    """Read the configuration: options over the environment over the file over defaults.

    :param options: values given on the command line, by key; a None value is not given.
    :param environ: the environment; ``os.environ`` when None.
    :param cwd: where ``hosthooks.toml`` and ``pyproject.toml`` are looked for;
        the working directory when None.
    :param config_file: the file ``--config`` names, if given.
    :param settings: the ``HOSTHOOKS`` dict of Django's settings, which takes the
        file's place: when given (even empty), no file is looked for or read.
        It holds the file's keys; relative paths are taken from ``cwd``.
    :raises ConfigError: for an unreadable file, an unknown key, or a value of
        the wrong type, in the file, the settings or the environment.
    """
    env = os.environ if environ is None else environ
    given = {key: value for key, value in (options or {}).items() if value is not None}
    unknown_options = set(given) - set(KEYS)
    if unknown_options:
        raise ConfigError(f"unknown configuration keys: {', '.join(sorted(unknown_options))}")
    folder = Path.cwd() if cwd is None else cwd
    from_file: dict[str, Any] = {}
    runtime: dict[str, Sourced] = {}
    plugins: dict[str, dict[str, Any]] = {}
    path: Path | None = None
    below_environment = Origin.FILE
    if settings is not None:
        below_environment = Origin.SETTINGS
        from_file, runtime, plugins = _read_table(
            settings, lambda key: f"settings.HOSTHOOKS[{key!r}]", folder, below_environment, None
        )
    else:
        found = find_config_file(env, folder, config_file)
        if found is not None:
            path, table_path = found
            # Absolute: what is relative to it stays right wherever it is shown or used.
            path = Path(os.path.abspath(folder / path))
            from_file, runtime, plugins = _read_file(path, table_path)
    values: dict[str, Sourced] = {}
    for name, key in KEYS.items():
        if name in given:
            values[name] = Sourced(given[name], Origin.OPTION)
            continue
        text = env.get(key.env)
        if text is not None:
            try:
                value = key.from_text(text)
            except ValueError as error:
                raise ConfigError(f"{key.env}: {error}") from None
            if key.inverted:
                value = not value
            values[name] = Sourced(value, Origin.ENVIRONMENT)
        elif name in from_file:
            values[name] = Sourced(from_file[name], below_environment, path)
        else:
            values[name] = Sourced(key.default, Origin.DEFAULT)
    for name in RUNTIME_SETTINGS:
        variable = f"HOSTHOOKS_{name}"
        text = env.get(variable)
        if text is not None:
            runtime[name] = Sourced(runtime_value(name, text, variable), Origin.ENVIRONMENT)
    # A trace file means tracing, wherever each came from.
    if values["trace_file"].value is not None and not values["trace"].value:
        values["trace"] = Sourced(True, values["trace_file"].source, values["trace_file"].file)
    return Configuration(values, runtime, plugins, path)


def _read_file(
    path: Path, table_path: tuple[str, ...]
) -> tuple[dict[str, Any], dict[str, Sourced], dict[str, dict[str, Any]]]:
    return _read_table(
        _file_table(path, table_path),
        lambda key: _where(path, table_path, key),
        path.parent,
        Origin.FILE,
        path,
    )


def _read_table(
    table: Mapping[str, Any],
    where_is: Callable[[str], str],
    folder: Path,
    origin: Origin,
    path: Path | None,
) -> tuple[dict[str, Any], dict[str, Sourced], dict[str, dict[str, Any]]]:
    """The keys, runtime settings and plugin tables of a configuration file's table
    (or of Django's ``HOSTHOOKS`` setting), checked.

    :param where_is: names a key's place in messages.
    :param folder: what relative paths are relative to.
    """
    values: dict[str, Any] = {}
    runtime: dict[str, Sourced] = {}
    plugins: dict[str, dict[str, Any]] = {}
    for key, raw in table.items():
        where = where_is(key)
        if not isinstance(key, str):
            raise ConfigError(f"{where}: keys are strings")
        if key in KEYS:
            try:
                values[key] = KEYS[key].from_file(raw, folder)
            except ValueError as error:
                raise ConfigError(f"{where}: {error}") from None
        elif key == RUNTIME_TABLE:
            if not isinstance(raw, dict):
                raise ConfigError(f"{where}: expected a table of runtime settings")
            for name, value in raw.items():
                upper = _runtime_name(name, f"{where}.{name}")
                checked = runtime_value(upper, value, f"{where}.{name}")
                runtime[upper] = Sourced(_relative_to(upper, checked, folder), origin, path)
        elif key == PLUGINS_TABLE:
            if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
                raise ConfigError(f"{where}: expected a [plugins.<name>] table per plugin")
            plugins = {name: dict(settings) for name, settings in raw.items()}
        elif key.upper() in RUNTIME_SETTINGS:
            # The runtime's settings file held its settings at the top level;
            # such a file keeps working as a configuration file.
            name = key.upper()
            checked = runtime_value(name, raw, where)
            runtime[name] = Sourced(_relative_to(name, checked, folder), origin, path)
        else:
            raise ConfigError(f"{where}: unknown key{_did_you_mean(key)}")
    return values, runtime, plugins


def _relative_to(name: str, value: Any, folder: Path) -> Any:
    # A path in a file means the same wherever the command runs: relative to the file.
    if RUNTIME_SETTINGS[name].path and isinstance(value, str):
        return runtime_path(value, folder)
    return value


def _runtime_name(name: str, where: str) -> str:
    upper = name.upper()
    if upper not in RUNTIME_SETTINGS:
        known = ", ".join(RUNTIME_SETTINGS)
        raise ConfigError(f"{where}: unknown runtime setting (known: {known})")
    return upper


def _did_you_mean(key: str) -> str:
    import difflib

    known = [*KEYS, RUNTIME_TABLE, PLUGINS_TABLE]
    close = difflib.get_close_matches(key, known, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (known: {', '.join(known)})"
