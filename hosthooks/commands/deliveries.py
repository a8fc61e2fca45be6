"""The operators' commands for deferred calls: ``hosthooks relay`` and
``hosthooks deliveries [retry|purge]``, over the runtime's database (or, run by
``manage.py hosthooks deliveries``, over every Django database with the outbox
table)."""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from typing import TYPE_CHECKING
from typing import Any

import click

from hosthooks.commands.runtime import database_option
from hosthooks.commands.runtime import import_apps
from hosthooks.commands.runtime import open_outbox
from hosthooks.deferred.outbox import STATES

if TYPE_CHECKING:
    from hosthooks.commands.group import Context
    from hosthooks.deferred.outbox import Delivery
    from hosthooks.deferred.outbox import Outbox

_DB_HELP = "The SQLite database file, or a postgresql:// URL [default: the DATABASE setting]."
_DELIVERIES_DB_HELP = (
    "The SQLite database file, or a postgresql:// URL [default: the DATABASE setting]; "
    "under manage.py, a database alias [default: every one with the outbox table]."
)


def open_outboxes(obj: Context, db_path: str | None) -> list[Outbox]:
    """The outboxes a deliveries command reads and moves: the runtime database's
    (``--db``, else the DATABASE setting), or an embedding application's, every
    one of them or the one whose alias ``--db`` names.

    :raises click.ClickException: when there is no outbox to use.
    """
    embedded = None if obj.embedding is None else obj.embedding.outboxes
    if embedded is None:
        return [open_outbox(obj, db_path)]
    found = list(embedded())
    if db_path is not None:
        aliases = ", ".join(str(outbox.using) for outbox in found) or "none"
        found = [outbox for outbox in found if outbox.using == db_path]
        if not found:
            raise click.ClickException(
                f"--db {db_path}: no database of that alias has the outbox table "
                f"(those that have it: {aliases})"
            )
    if not found:
        raise click.ClickException(
            "the outbox table is in none of the project's databases: "
            "run manage.py migrate hosthooks"
        )
    return found


def _records(
    outboxes: list[Outbox],
    state: str | None = None,
    plugin: str | None = None,
    limit: int | None = None,
    event_ids: tuple[str, ...] | list[str] = (),
) -> list[Delivery]:
    """Delivery records of every outbox, newest first, at most ``limit``."""
    if len(outboxes) == 1:
        return outboxes[0].deliveries(state=state, plugin=plugin, limit=limit, event_ids=event_ids)
    records = [
        record
        for outbox in outboxes
        for record in outbox.deliveries(
            state=state, plugin=plugin, limit=limit, event_ids=event_ids
        )
    ]
    records.sort(key=lambda record: record.created_at, reverse=True)
    return records if limit is None else records[:limit]


def parse_duration(text: str) -> int:
    """``30m``, ``12h``, ``7d`` in seconds. :raises click.BadParameter: otherwise."""
    from hosthooks.configuration.keys import duration_from_text

    try:
        return duration_from_text(text)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@click.command()
@database_option(_DB_HELP)
@click.option(
    "--app", "apps", multiple=True, metavar="MODULE", help="Import this models module first."
)
@click.pass_obj
def relay(obj: Context, db_path: str | None, apps: tuple[str, ...]) -> None:
    """Relay deferred calls from the outbox to the broker until Ctrl-C or SIGTERM.

    hosthooks worker relays too, unless started with --no-relay: run this where
    workers cannot reach the database, or to relay from one place.

    Example: hosthooks relay --db postgresql://app@db:5432/app
    """
    import logging
    import signal

    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s"
        )
    obj.report_every_plugin()
    import_apps(apps)
    outbox = open_outbox(obj, db_path)
    try:
        from hosthooks.deferred.celery_app import make_celery_app
    except ImportError as error:
        raise click.ClickException(
            f"the relay needs Celery: pip install 'hosthooks[celery]' ({error})"
        ) from None
    from hosthooks.deferred.relay import Relay

    config = obj.config
    app = make_celery_app(config.broker_url, config.queue_visibility_timeout)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo(
        f"hosthooks: relaying {outbox.describe()} to {_redacted(config.broker_url)}", err=True
    )
    with contextlib.suppress(KeyboardInterrupt):
        Relay(app, [outbox], keep=config.deliveries_keep).run(stop)
    click.echo("hosthooks: relay stopped", err=True)


def _redacted(url: str) -> str:
    from hosthooks.configuration.files import redact_url

    return redact_url(url)


@click.group(invoke_without_command=True)
@click.option(
    "--state",
    type=click.Choice(STATES, case_sensitive=True),
    default=None,
    help="Only calls in this state.",
)
@click.option("--plugin", default=None, metavar="NAME", help="Only this plugin's calls.")
@click.option(
    "--limit", type=click.IntRange(1), default=100, show_default=True, help="At most this many."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@database_option(_DELIVERIES_DB_HELP)
@click.pass_context
def deliveries(
    ctx: click.Context,
    state: str | None,
    plugin: str | None,
    limit: int,
    as_json: bool,
    db_path: str | None,
) -> None:
    """The delivery records of deferred calls, newest first; or retry or purge them.

    Example: hosthooks deliveries --state dead --plugin webhook
    """
    ctx.meta["hosthooks_db"] = db_path
    if ctx.invoked_subcommand is not None:
        return
    outboxes = open_outboxes(ctx.obj, db_path)
    records = _records(outboxes, state=state, plugin=plugin, limit=limit)
    if as_json:
        click.echo(json.dumps([record.as_json() for record in records], indent=2))
        return
    counts = dict.fromkeys(STATES, 0)
    for outbox in outboxes:
        for name, count in outbox.counts().items():
            counts[name] += count
    click.echo(", ".join(f"{name} {count}" for name, count in counts.items()))
    for record in records:
        shown = record.as_json()
        when = f" next {shown['next_attempt_at']}" if shown["next_attempt_at"] else ""
        error = f"  {record.last_error}" if record.last_error else ""
        click.echo(
            f"{record.event_id}  {record.state:<7}  {record.attempts}/{record.retries + 1}  "
            f"{record.plugin}: {record.hook} [{record.queue}]  "
            f"created {shown['created_at']}{when}{error}"
        )


def _db(ctx: click.Context, db_path: str | None) -> str | None:
    if db_path is not None:
        return db_path
    parent = ctx.parent
    given: Any = None if parent is None else parent.meta.get("hosthooks_db")
    return given if isinstance(given, str) else None


@deliveries.command()
@click.argument("event_ids", nargs=-1, metavar="EVENT_ID...")
@click.option("--dead", is_flag=True, help="Every dead call (of --plugin, when given).")
@click.option("--plugin", default=None, metavar="NAME", help="With --dead: only this plugin's.")
@database_option(_DELIVERIES_DB_HELP)
@click.pass_context
def retry(
    ctx: click.Context,
    event_ids: tuple[str, ...],
    dead: bool,
    plugin: str | None,
    db_path: str | None,
) -> None:
    """Send dead, failed or held calls back to the queue now, with their retries anew.
    With queue_backend = "eager" no worker takes them: they run here, at once,
    as the console's Retry runs them (the configuration's apps imported, else
    the demo app's), and the states they end in are printed.

    Example: hosthooks deliveries retry --dead --plugin webhook
    """
    if bool(event_ids) == dead:
        raise click.UsageError("name EVENT_IDs or give --dead, not both and not neither")
    if plugin is not None and not dead:
        raise click.UsageError("--plugin applies only with --dead")
    obj: Context = ctx.obj
    outboxes = open_outboxes(obj, _db(ctx, db_path))
    eager = obj.config.queue_backend == "eager"
    if eager:
        _prepare_to_run(obj)
    retried: list[str] = []
    ended: dict[str, str] = {}
    for outbox in outboxes:
        again = outbox.retry(event_ids, dead=dead, plugin=plugin)
        retried.extend(again)
        if eager:
            from hosthooks.deferred.runner import run_retried

            ended.update(run_retried(obj.host, outbox, again) or {})
    if event_ids:
        missing = sorted(set(event_ids) - set(retried))
        if missing:
            known = {
                record.event_id: record.state for record in _records(outboxes, event_ids=missing)
            }
            for event_id in missing:
                state = known.get(event_id)
                reason = "no such call" if state is None else f"it is {state}"
                click.echo(f"hosthooks: not retried: {event_id}: {reason}", err=True)
            click.echo(_retried_line(retried, ended, eager))
            sys.exit(1)
    click.echo(_retried_line(retried, ended, eager))


def _retried_line(retried: list[str], ended: dict[str, str], eager: bool) -> str:
    if not eager or not retried:
        return f"retried {len(retried)} call(s)"
    from collections import Counter

    counts = Counter(ended.values())
    counted = ", ".join(f"{state} {counts[state]}" for state in sorted(counts))
    return f"retried {len(retried)} call(s), run here (the eager queue): {counted}"


def _prepare_to_run(obj: Context) -> None:
    """Make this process able to run deferred calls as ``serve`` does under the
    eager queue: the plugins loaded, the app's models imported (the configuration's
    apps, else the demo app's), and the mutes the database holds in force, so a
    muted plugin's call waits as it would there. An embedding application has
    done all that already.

    :raises click.ClickException: when the mutes cannot be read.
    """
    obj.report_every_plugin()
    if obj.embedding is not None:
        return
    configured = obj.configuration["apps"]
    if configured:
        import_apps(configured, "apps", obj.configuration.file)
    else:
        import_apps(("hosthooks.runtime.demo",))
    from hosthooks.operations import put_plugin_mutes
    from hosthooks.runtime.console.mutes import MuteStore
    from hosthooks.runtime.db import DatabaseError
    from hosthooks.runtime.db import get_database

    try:
        stored = MuteStore(get_database()).current(create=False)
    except DatabaseError as error:
        raise click.ClickException(str(error)) from None
    put_plugin_mutes(obj.host, [mute.as_mute() for mute in stored])


@deliveries.command()
@click.option(
    "--done-older-than",
    "older_than",
    required=True,
    metavar="DURATION",
    help="Delete done calls last updated longer ago than this (30m, 12h, 7d).",
)
@database_option(_DELIVERIES_DB_HELP)
@click.pass_context
def purge(ctx: click.Context, older_than: str, db_path: str | None) -> None:
    """Delete done calls older than a duration (the relay purges past deliveries_keep itself).

    Example: hosthooks deliveries purge --done-older-than 7d
    """
    seconds = parse_duration(older_than)
    outboxes = open_outboxes(ctx.obj, _db(ctx, db_path))
    purged = sum(outbox.purge_done(seconds) for outbox in outboxes)
    click.echo(f"purged {purged} done call(s)")
