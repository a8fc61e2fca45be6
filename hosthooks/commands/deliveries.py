"""The operators' commands for deferred calls: ``hosthooks relay`` and
``hosthooks deliveries [retry|purge]``, over the runtime's database."""

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

_DB_HELP = "The SQLite database file, or a postgresql:// URL [default: the DATABASE setting]."


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
@database_option(_DB_HELP)
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
    outbox = open_outbox(ctx.obj, db_path)
    records = outbox.deliveries(state=state, plugin=plugin, limit=limit)
    if as_json:
        click.echo(json.dumps([record.as_json() for record in records], indent=2))
        return
    counts = outbox.counts()
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
@database_option(_DB_HELP)
@click.pass_context
def retry(
    ctx: click.Context,
    event_ids: tuple[str, ...],
    dead: bool,
    plugin: str | None,
    db_path: str | None,
) -> None:
    """Send dead, failed or held calls back to the queue now, with their retries anew.

    Example: hosthooks deliveries retry --dead --plugin webhook
    """
    if bool(event_ids) == dead:
        raise click.UsageError("name EVENT_IDs or give --dead, not both and not neither")
    if plugin is not None and not dead:
        raise click.UsageError("--plugin applies only with --dead")
    outbox = open_outbox(ctx.obj, _db(ctx, db_path))
    retried = outbox.retry(event_ids, dead=dead, plugin=plugin)
    if event_ids:
        missing = sorted(set(event_ids) - set(retried))
        if missing:
            known = {
                record.event_id: record.state for record in outbox.deliveries(event_ids=missing)
            }
            for event_id in missing:
                state = known.get(event_id)
                reason = "no such call" if state is None else f"it is {state}"
                click.echo(f"hosthooks: not retried: {event_id}: {reason}", err=True)
            click.echo(f"retried {len(retried)} call(s)")
            sys.exit(1)
    click.echo(f"retried {len(retried)} call(s)")


@deliveries.command()
@click.option(
    "--done-older-than",
    "older_than",
    required=True,
    metavar="DURATION",
    help="Delete done calls last updated longer ago than this (30m, 12h, 7d).",
)
@database_option(_DB_HELP)
@click.pass_context
def purge(ctx: click.Context, older_than: str, db_path: str | None) -> None:
    """Delete done calls older than a duration (the relay purges past deliveries_keep itself).

    Example: hosthooks deliveries purge --done-older-than 7d
    """
    seconds = parse_duration(older_than)
    outbox = open_outbox(ctx.obj, _db(ctx, db_path))
    click.echo(f"purged {outbox.purge_done(seconds)} done call(s)")
