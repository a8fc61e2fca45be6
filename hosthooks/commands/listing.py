"""The commands that show what the host holds: ``hosthooks hooks``, ``plugins``,
``check`` and ``config``, as tables or as the JSON the CLI contract names."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import Final
from typing import NoReturn

import click

from hosthooks.commands import EXIT_FAILED
from hosthooks.commands import database_option
from hosthooks.commands import require_database

if TYPE_CHECKING:
    import pluggy

    from hosthooks.commands.group import Context
    from hosthooks.host import Host


# -- hooks --------------------------------------------------------------------


def _signature(caller: pluggy.HookCaller) -> str:
    spec = caller.spec
    assert spec is not None
    args = [*spec.argnames, *(f"{name}={spec.kwargdefaults[name]!r}" for name in spec.kwargnames)]
    return f"({', '.join(args)})"


def _impl_flags(impl: pluggy.HookImpl) -> str:
    from hosthooks.report import impl_options

    options = impl_options(impl)
    return f" [{', '.join(options)}]" if options else ""


def _unknown_hook(name: str, known: Sequence[str]) -> NoReturn:
    import difflib

    close = difflib.get_close_matches(name, known, n=1)
    hint = (
        f"; did you mean {close[0]!r}?" if close else f"; known hooks: {', '.join(sorted(known))}"
    )
    raise click.UsageError(f"no hook named {name!r}{hint}")


@click.command()
@click.argument("name", required=False)
@click.option("--family", metavar="FAMILY", help="Only this family's hooks (models, auth, ...).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def hooks(obj: Context, name: str | None, family: str | None, as_json: bool) -> None:
    """Every hook with its implementations, in the order they will be called.

    Example: hosthooks hooks post_save
    """
    from hosthooks.report import hook_info
    from hosthooks.report import impl_function_name
    from hosthooks.report import spec_callers
    from hosthooks.specs import FAMILIES

    if family is not None and family not in FAMILIES:
        raise click.BadParameter(
            f"{family!r} is not one of {', '.join(FAMILIES)}", param_hint="'--family'"
        )
    host = obj.host
    obj.report_every_plugin()
    callers = spec_callers(host)
    if name is not None:
        known = [caller.name for _, caller in callers]
        if name not in known:
            _unknown_hook(name, known)
        callers = [(fam, caller) for fam, caller in callers if caller.name == name]
    if family is not None:
        callers = [(fam, caller) for fam, caller in callers if fam == family]
    infos = [hook_info(host, fam, caller) for fam, caller in callers]
    extras = obj.embedding.hook_extras if obj.embedding is not None else None
    if extras is not None:
        for info in infos:
            info.update(extras(info["name"]))
    if as_json:
        import json

        click.echo(json.dumps(infos, indent=2))
        return
    if name is not None:
        _show_hook(host, callers[0][1], infos[0])
        return
    rows = []
    for (_, caller), info in zip(callers, infos, strict=True):
        flags = ",".join(flag for flag in ("historic", "firstresult") if info[flag]) or "-"
        rows.append(
            [info["family"], info["name"], _signature(caller), flags, str(len(info["impls"]))]
        )
    header = ("FAMILY", "HOOK", "SIGNATURE", "FLAGS", "IMPLS")
    _fit_column(header, rows, column=2, width=_terminal_width())
    _table(header, rows)
    for (_, caller), info in zip(callers, infos, strict=True):
        if info["impls"]:
            click.echo(f"\n{info['name']}:")
            for impl in host.implementations(caller.name):
                click.echo(f"  {impl.plugin_name}: {impl_function_name(impl)}{_impl_flags(impl)}")


def _show_hook(host: Host, caller: pluggy.HookCaller, info: dict[str, Any]) -> None:
    from hosthooks.report import impl_function_name

    tags = [info["family"], *(flag for flag in ("historic", "firstresult") if info[flag])]
    click.echo(f"{info['name']}{_signature(caller)}  [{', '.join(tags)}]")
    click.echo("")
    for line in info["doc"].splitlines():
        click.echo(f"    {line}" if line else "")
    click.echo("")
    impls = host.implementations(caller.name)
    if not impls:
        click.echo("No implementations.")
    else:
        click.echo("Implementations, in call order:")
        for position, impl in enumerate(impls, start=1):
            click.echo(
                f"  {position}. {impl.plugin_name}: {impl_function_name(impl)}{_impl_flags(impl)}"
            )
    if "receivers" in info:
        click.echo("")
        _show_receivers(info["receivers"])


def _show_receivers(receivers: Sequence[Mapping[str, Any]]) -> None:
    if not receivers:
        click.echo("No Django receivers.")
        return
    click.echo("Django receivers, in the order Django calls them:")
    for position, receiver in enumerate(receivers, start=1):
        flags = [] if receiver["sender"] is None else [f"sender={receiver['sender']}"]
        if receiver["dispatch_uid"] is not None:
            flags.append(f"dispatch_uid={receiver['dispatch_uid']!r}")
        flags.append("weak" if receiver["weak"] else "strong")
        click.echo(
            f"  {position}. {receiver['module']}.{receiver['function']} [{', '.join(flags)}]"
        )


def _fit_column(header: Sequence[str], rows: list[list[str]], *, column: int, width: int) -> None:
    """Shorten ``column``'s cells (ending them with "...") so that each line of the
    table fits in ``width`` characters; the full text is a command away."""
    others = sum(
        max(len(row[index]) for row in [header, *rows]) + 2
        for index in range(len(header))
        if index != column
    )
    room = max(len(header[column]), width - others)
    for row in rows:
        if len(row[column]) > room:
            row[column] = row[column][: room - 3] + "..."


def _terminal_width() -> int:
    """``COLUMNS`` when set, else the terminal's width, else 80 (what
    ``shutil.get_terminal_size`` answers, without the ~4 ms its imports cost)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


#: The colour of each plugin status in tables shown on a terminal.
_STATUS_COLOURS: Final = {"active": "green", "blocked": "yellow", "failed": "red"}


def _colour_wanted() -> bool | None:
    """None lets click colour a terminal and not a pipe; ``NO_COLOR`` (any value) turns it off."""
    return False if "NO_COLOR" in os.environ else None


def _table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    styles: Mapping[int, Mapping[str, str]] | None = None,
) -> None:
    """Rows under a header, columns aligned; ``styles`` colours a column's cells by
    their first word (a status, whatever follows it).

    Cells are padded before they are coloured, so colour never shifts a column.
    """
    widths = [max(len(row[col]) for row in [header, *rows]) for col in range(len(header))]
    for index, row in enumerate([header, *rows]):
        cells = []
        for column, (cell, width) in enumerate(zip(row, widths, strict=True)):
            padded = cell.ljust(width)
            colour = (styles or {}).get(column, {}).get(cell.split(" ", 1)[0]) if index else None
            cells.append(click.style(padded, fg=colour) if colour else padded)
        click.echo("  ".join(cells).rstrip(), color=_colour_wanted())


# -- plugins ------------------------------------------------------------------


@click.command()
@click.option("--all", "include_builtin", is_flag=True, help="Include built-in plugins.")
@click.option("--hook", metavar="NAME", help="Only plugins implementing this hook.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Also show where each plugin's code lives.")
@database_option(
    "The app's SQLite database file, or a postgresql:// URL, whose mutes the JSON shows "
    "[default: the DATABASE setting, if that file exists]."
)
@click.pass_obj
def plugins(
    obj: Context,
    include_builtin: bool,
    hook: str | None,
    as_json: bool,
    verbose: bool,
    db_path: str | None,
) -> None:
    """Every plugin: where it comes from, whether it is active, and its hooks.

    Example: hosthooks plugins --all -v
    """
    from hosthooks.report import listed_records
    from hosthooks.report import plugin_infos

    host = obj.host
    # Mutes live in the app's database, not in this process: read them as
    # every process of the app does, or the JSON would say no plugin is muted.
    _follow_database_mutes(obj, db_path)
    if hook is not None:
        known = [caller.name for caller in host.hook_callers()]
        if hook not in known:
            _unknown_hook(hook, known)
    records = listed_records(host, include_builtin, hook)
    infos = plugin_infos(host, records)
    if as_json:
        import json

        click.echo(json.dumps(infos, indent=2))
        obj.report(records, lines=False)
        return
    if not infos:
        click.echo("No plugins.")
        return
    rows = [
        (
            info["name"],
            info["dist"] or "-",
            info["version"] or "-",
            info["source"],
            _status_cell(info),
            ", ".join(info["hooks"]) or "-",
            str(len(info["problems"])) if info["problems"] else "-",
            *([info["location"] or "-"] if verbose else []),
        )
        for info in infos
    ]
    header = ("NAME", "DIST", "VERSION", "SOURCE", "STATUS", "HOOKS", "PROBLEMS")
    _table((*header, "LOCATION") if verbose else header, rows, styles={4: _STATUS_COLOURS})
    obj.report(records)


def _status_cell(info: Mapping[str, Any]) -> str:
    """The status, and the mute beside it as the console shows it: muting leaves
    the status as it was (the JSON says it in ``muted`` and ``muted_until``)."""
    if not info["muted"]:
        return str(info["status"])
    ends = "" if info["muted_until"] is None else f" until {info['muted_until']}"
    return f"{info['status']} (muted{ends})"


def _follow_database_mutes(obj: Context, db_path: str | None) -> None:
    """Put the mutes the app's database holds in force on this process's host, as
    every process of the app does. The database is ``db_path``, else the
    DATABASE setting, whose file, when missing, is no database yet.

    Under an embedding application (Django) there are none to read.

    The DATABASE setting's database unreadable (a server away, a database not
    made yet) is a line on stderr, and the plugins are listed without mutes.

    :raises click.ClickException: when ``db_path`` cannot be read or names a
        SQLite file that does not exist.
    :raises click.UsageError: when ``db_path`` is given under Django.
    """
    from hosthooks.operations import put_plugin_mutes
    from hosthooks.runtime.console.mutes import mutes_at
    from hosthooks.runtime.db import DatabaseError
    from hosthooks.runtime.settings import Settings
    from hosthooks.runtime.settings import SettingsError

    if obj.embedding is not None:
        # Mutes live in the runtime's database; an embedding application (Django)
        # keeps none, and the runtime's DATABASE setting names another app's file.
        if db_path is not None:
            raise click.UsageError(
                "--db names a database of the hosthooks runtime;"
                " under Django plugins have no mutes to read"
            )
        return
    require_database(db_path)
    try:
        location = db_path or str(Settings(configuration=obj.configuration).DATABASE)
        stored = mutes_at(location)
    except (DatabaseError, SettingsError) as error:
        if db_path is not None:
            raise click.ClickException(str(error)) from None
        # The database was not asked for: the listing is what was, so it still
        # comes, and the line says its mutes are unknown rather than none.
        click.echo(f"hosthooks: mutes not read: {error}", err=True)
        return
    if stored is None:
        return
    put_plugin_mutes(obj.host, [mute.as_mute() for mute in stored])


# -- check --------------------------------------------------------------------


@click.command()
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option(
    "--app",
    "apps",
    multiple=True,
    metavar="MODULE",
    help="Import this models module first; sender= labels are checked against its models "
    "[default: the configuration's apps].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the checked plugins as JSON.")
@database_option(
    "Check this runtime database too (a SQLite path or a postgresql:// URL): "
    "usernames that differ only in case."
)
@click.pass_obj
def check(
    obj: Context,
    names: tuple[str, ...],
    apps: tuple[str, ...],
    as_json: bool,
    db_path: str | None,
) -> None:
    """Validate plugins (every one, or those named): import, hook names, argument
    names and, with --app or the configuration's apps, sender= labels; with
    --db, the runtime's database. Exit status 1 when anything is wrong.

    Example: hosthooks check audit --app myapp.models
    """
    import difflib

    from hosthooks.loading.records import Status
    from hosthooks.report import listed_records
    from hosthooks.report import plugin_infos

    # Before any plugin is checked: opening a missing file would make it.
    require_database(db_path)
    host = obj.host
    if apps and obj.embedding is not None:
        raise click.UsageError(
            "--app: sender= labels are checked against the application's own models"
        )
    # The application's models: --app, else those of the configuration's apps.
    configured = () if obj.embedding is not None else obj.configuration["apps"]
    if apps or configured:
        from hosthooks.commands.runtime import import_apps

        where = "--app" if apps else "apps"
        labels = import_apps(apps or configured, where, obj.configuration.file)
        host.set_known_models(labels)
    records = listed_records(host, include_builtin=bool(names))
    if names:
        known = [record.name for record in records]
        for name in names:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise click.UsageError(f"no plugin named {name!r}{hint}")
        records = [record for record in records if record.name in names]
    if as_json:
        import json

        click.echo(json.dumps(plugin_infos(host, records), indent=2))
    failed = obj.report(records if names else None, err=False, lines=not as_json) > 0
    if db_path is not None:
        database_problems = _database_problems(db_path, _defers(host))
        for line in database_problems:
            # Beside JSON, which lists plugins only, the lines go to stderr.
            click.echo(line, err=as_json)
        failed = failed or bool(database_problems)
    if not as_json and not failed:
        # A blocked plugin is never imported: there is nothing of it to check.
        checked = sum(record.status is not Status.BLOCKED for record in records)
        click.echo(f"{checked} plugin(s) checked, no problems.")
    if failed:
        raise SystemExit(EXIT_FAILED)


def _defers(host: Any) -> bool:
    """Whether a loaded plugin has a ``defer=True`` implementation."""
    from hosthooks.markers import DEFER_OPTION

    return any(
        impl.opts.get(DEFER_OPTION)
        for caller in host.hook_callers()
        for impl in caller.get_hookimpls()
    )


def _database_problems(location: str, needs_outbox: bool) -> list[str]:
    """One line per problem of the runtime's database at ``location``: users
    whose names differ only in case (left so by migrate, which found them);
    with ``needs_outbox``, a missing outbox table of deferred calls.

    :raises click.ClickException: when the database cannot be opened.
    """
    from hosthooks.deferred.schema import TABLE
    from hosthooks.runtime.auth import case_duplicates
    from hosthooks.runtime.db import Database
    from hosthooks.runtime.db import DatabaseError

    try:
        database = Database(location, alias="hosthooks-check")
        try:
            clashes = case_duplicates(database)
            missing_outbox = needs_outbox and not database.table_columns(TABLE)
        finally:
            database.close()
    except DatabaseError as error:
        raise click.ClickException(str(error)) from None
    problems = [
        "database: usernames that differ only in case (sign-up and login take them "
        f"for one): {', '.join(repr(name) for name in names)}"
        for names in clashes
    ]
    if missing_outbox:
        problems.append(
            f"database: the outbox table {TABLE!r} is missing, and plugins defer calls "
            "to it (defer=True): run hosthooks migrate"
        )
    return problems


# -- config -------------------------------------------------------------------


@click.command("config")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def show_config(obj: Context, as_json: bool) -> None:
    """The effective configuration: every key, its value and where it came from.

    Each plugin's settings are shown too (as plugins.NAME.KEY), once its
    plugins are loaded; a setting the plugin cannot use has the problem beside
    it, and the exit status is then 1. Secrets are shown redacted.

    Example: hosthooks --config prod.toml config --json
    """
    import json

    report = {**obj.configuration.report(), **obj.host.plugin_settings_report()}
    unusable = any(entry.get("problem") for entry in report.values())
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        if obj.configuration.file is not None:
            click.echo(f"configuration file: {obj.configuration.file}")
        else:
            click.echo("configuration file: none (defaults and environment only)")
        rows = [
            [key, json.dumps(entry["value"]), entry["source"], entry.get("problem") or ""]
            for key, entry in report.items()
        ]
        _table(["key", "value", "source", "problem" if unusable else ""], rows)
    # As check does: a configuration a plugin cannot use is a failed check.
    if unusable:
        raise SystemExit(EXIT_FAILED)
