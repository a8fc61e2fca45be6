"""``hosthooks mute NAME [--until 2h]`` and ``hosthooks unmute NAME``: silence a
loaded plugin of the app (and bring it back) without a restart, as the
console's buttons do. The mute is kept in the app's database: every process of
the app follows it within 5 seconds, and a restart keeps it."""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING

import click

from hosthooks.commands import require_database
from hosthooks.commands.runtime import database_option

if TYPE_CHECKING:
    from hosthooks.commands.group import Context
    from hosthooks.runtime.console.mutes import MuteStore

_DB_HELP = "The app's SQLite database file, or a postgresql:// URL [default: the DATABASE setting]."


def _store(obj: Context, db_path: str | None) -> MuteStore:
    require_database(db_path)
    from hosthooks.runtime.console.mutes import MuteStore
    from hosthooks.runtime.db import Database
    from hosthooks.runtime.db import DatabaseError
    from hosthooks.runtime.settings import Settings
    from hosthooks.runtime.settings import SettingsError

    try:
        settings = Settings(configuration=obj.configuration)
        return MuteStore(Database(db_path if db_path is not None else settings.DATABASE))
    except (DatabaseError, SettingsError) as error:
        raise click.ClickException(str(error)) from None


def _who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container, say)
        user = "unknown"
    return f"{user} (command line)"


@click.command()
@click.argument("name")
@click.option("--until", "duration", metavar="DURATION", help="End the mute after 30m, 2h, 1d...")
@database_option(_DB_HELP)
@click.pass_obj
def mute(obj: Context, name: str, duration: str | None, db_path: str | None) -> None:
    """Silence the loaded plugin NAME in every process of the app, until unmuted
    (or for DURATION). Its implementations keep their places and do nothing;
    disable_plugins, unlike this, keeps a plugin from loading at all.

    Example: hosthooks mute webhooks --until 2h --db notes.sqlite3
    """
    import time

    from hosthooks.configuration.keys import duration_from_text
    from hosthooks.loading.records import Status
    from hosthooks.runtime.db import DatabaseError

    until = None
    if duration is not None:
        try:
            until = time.time() + duration_from_text(duration)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--until") from None
    obj.report_every_plugin()
    host = obj.host
    record = next((r for r in host.plugins() if r.name == name), None)
    if record is None:
        known = ", ".join(sorted(r.name for r in host.plugins())) or "none"
        raise click.UsageError(f"no plugin is named {name!r} (loaded: {known})")
    if record.status is not Status.ACTIVE:
        status = record.status.value
        raise click.UsageError(f"{name} is {status}: only a loaded plugin can be muted")
    store = _store(obj, db_path)
    try:
        stored = store.mute(name, _who(), until)
    except DatabaseError as error:
        raise click.ClickException(str(error)) from None
    finally:
        store.database.close()
    from hosthooks.report import iso_time

    ends = "until unmuted" if stored.until is None else f"until {iso_time(stored.until)}"
    click.echo(f"{name} muted {ends}; every process of the app follows within 5 seconds.")


@click.command()
@click.argument("name")
@database_option(_DB_HELP)
@click.pass_obj
def unmute(obj: Context, name: str, db_path: str | None) -> None:
    """Let the plugin NAME run again in every process of the app.

    Example: hosthooks unmute webhooks --db notes.sqlite3
    """
    from hosthooks.runtime.db import DatabaseError

    store = _store(obj, db_path)
    try:
        removed = store.unmute(name, _who())
    except DatabaseError as error:
        raise click.ClickException(str(error)) from None
    finally:
        store.database.close()
    if not removed:
        raise click.ClickException(f"{name} is not muted")
    click.echo(f"{name} unmuted; every process of the app follows within 5 seconds.")
