"""The runtime's commands: ``hosthooks migrate``, ``serve``, ``worker`` and
``createuser``. Each imports the runtime when it runs, never before."""

from __future__ import annotations

import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import click

# Declared beside the exit codes (check takes --db too); named here as well,
# where the runtime's commands have always found it.
from hosthooks.commands import database_option as database_option
from hosthooks.commands import require_database

if TYPE_CHECKING:
    from hosthooks.commands.group import Context
    from hosthooks.deferred.outbox import Outbox
    from hosthooks.runtime.web import App


def import_apps(
    apps: Sequence[str], where: str = "--app", config_file: Path | None = None
) -> list[str]:
    """Import each models module named by ``--app`` (or, as ``where`` says, by the
    configuration's ``apps``); the labels of every model then known.

    :param config_file: the configuration file naming them: its folder is
        searched too, as the working directory is.
    :raises click.UsageError: naming the module that cannot be imported.
    """
    import importlib

    # Like ``python -m``: apps in the current directory (and beside the
    # configuration file naming them) are importable.
    folders = [Path.cwd()] if config_file is None else [Path.cwd(), config_file.parent]
    for folder in folders if apps else []:
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    for module in apps:
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise click.UsageError(f"{where} {module}: {error}") from None
    from hosthooks.runtime.models import registry

    return sorted(registry)


def open_outbox(obj: Context, db_path: str | None) -> Outbox:
    """The outbox of the runtime database ``--db`` names (else the DATABASE setting).

    :raises click.ClickException: when the database cannot be opened, is not
        there, or has no outbox table (naming the database and ``hosthooks migrate``).
    """
    require_database(db_path)
    from hosthooks.deferred.outbox import Outbox
    from hosthooks.deferred.outbox import OutboxMissing
    from hosthooks.runtime.db import Database
    from hosthooks.runtime.db import DatabaseError
    from hosthooks.runtime.db import runtime_layer
    from hosthooks.runtime.settings import Settings
    from hosthooks.runtime.settings import SettingsError

    try:
        settings = Settings(configuration=obj.configuration)
        database = Database(db_path if db_path is not None else settings.DATABASE)
        outbox = Outbox(runtime_layer, None)
        outbox.require()
    except (DatabaseError, SettingsError, OutboxMissing) as error:
        raise click.ClickException(str(error)) from None
    assert database.alias == "default"
    return outbox


@click.command()
@database_option(
    "The SQLite database file (created if missing), or a postgresql:// URL.", required=True
)
@click.option(
    "--app", "apps", multiple=True, metavar="MODULE", help="Import this models module first."
)
@click.option("--verbosity", type=click.IntRange(0, 3), default=1, show_default=True)
@click.pass_obj
def migrate(obj: Context, db_path: str, apps: tuple[str, ...], verbosity: int) -> None:
    """Create the tables and columns the models need; fires pre_migrate and post_migrate.

    Example: hosthooks migrate --db app.sqlite3 --app myapp.models
    (or --db postgresql://user@host:5432/name)
    """
    # Plugins load (and become the default host) before models exist.
    obj.report_every_plugin()
    obj.refuse_unusable_settings()
    from hosthooks.runtime import Database
    from hosthooks.runtime import DatabaseError
    from hosthooks.runtime import migrate as run_migrate

    configured = obj.configuration["apps"]
    import_apps(apps or configured, "--app" if apps else "apps", obj.configuration.file)
    try:
        database = Database(db_path)
    except DatabaseError as error:
        raise click.ClickException(str(error)) from None
    # Closed whatever happens, a plugin raising included (an unclosed SQLite
    # connection is a ResourceWarning from Python 3.13 on).
    try:
        operations = run_migrate(database, verbosity=verbosity, stdout=sys.stdout)
        if verbosity:
            described = database.backend.describe()
            click.echo(f"{len(operations)} operation(s) applied to {described}.")
    except DatabaseError as error:
        raise click.ClickException(str(error)) from None
    finally:
        database.close()


@click.command()
@click.option(
    "--host", "bind_host", default="127.0.0.1", show_default=True, help="Address to bind."
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@database_option(
    "The SQLite database file, or a postgresql:// URL [default: the DATABASE setting]."
)
@click.option(
    "--threads", type=click.IntRange(1, 64), default=4, show_default=True, help="Worker threads."
)
@click.option(
    "--trusted-proxy",
    metavar="ADDRESS",
    default=None,
    help="Believe X-Forwarded-Proto and -For from this proxy address [the TRUSTED_PROXY setting].",
)
@click.option(
    "--asgi",
    is_flag=True,
    help="Serve over ASGI with uvicorn: async request hooks awaited on its event loop, "
    "views in one thread off it (--threads does not apply).",
)
@click.pass_obj
def serve(
    obj: Context,
    bind_host: str,
    port: int,
    db_path: str | None,
    threads: int,
    trusted_proxy: str | None,
    asgi: bool,
) -> None:
    """Migrate the database, then serve the demo app (notes with tags) until Ctrl-C.

    Example: hosthooks serve --port 8000 --db notes.sqlite3
    """
    import logging

    host = obj.host  # plugins load (and become the default host) before the app exists
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s"
        )
    import waitress

    from hosthooks.loading.records import Status
    from hosthooks.runtime.db import DatabaseError
    from hosthooks.runtime.demo import make_app
    from hosthooks.runtime.settings import Settings
    from hosthooks.runtime.settings import SettingsError
    from hosthooks.runtime.settings import reset_settings

    # The runtime's settings are the configuration's, --config included.
    settings = Settings(configuration=obj.configuration)
    reset_settings(settings)
    proxy_address = trusted_proxy or settings.TRUSTED_PROXY or None
    # The port is bound before the database is opened: a server that cannot
    # listen leaves no database file behind. Requests reach the app only once
    # run() starts, by which time it exists.
    app_holder: list[App] = []

    def application(environ: dict[str, Any], start_response: Any) -> Any:
        return app_holder[0](environ, start_response)

    server: Any = None
    listener: socket.socket | None = None
    try:
        # Resolved first, alike for both servers: waitress reports a name it
        # cannot resolve as a bare "Invalid host/port specified".
        socket.getaddrinfo(bind_host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise click.BadParameter(
            f"cannot resolve {bind_host!r}: {error.strerror}", param_hint="'--host'"
        ) from None
    try:
        if asgi:
            from hosthooks.runtime.asgi import bind

            listener = bind(bind_host, port)
        else:
            # ident="": no Server header naming the server software to every
            # client. The app alone reads X-Forwarded-* (from the trusted proxy
            # only), by the rule it follows under ASGI too: waitress passes them on.
            server = waitress.create_server(
                application,
                host=bind_host,
                port=port,
                threads=threads,
                ident="",
                clear_untrusted_proxy_headers=False,
            )
    except OSError as error:
        raise click.ClickException(
            f"cannot listen on {bind_host}:{port}: {error.strerror}"
        ) from None
    database = db_path if db_path is not None else str(settings.DATABASE)
    try:
        app_holder.append(make_app(database, settings, trusted_proxy=proxy_address))
    except (DatabaseError, SettingsError, ValueError) as error:
        (listener or server).close()
        raise click.ClickException(str(error)) from None
    from hosthooks.runtime.models import registry

    # The demo's models exist now: sender= labels can be checked against them.
    host.set_known_models(registry)
    obj.report_every_plugin()
    active = [
        record.name + (f" ({record.dist} {record.version})" if record.dist else "")
        for record in host.plugins()
        if record.status is Status.ACTIVE
    ]
    from hosthooks.configuration.files import redact_url

    click.echo(f"hosthooks: database {redact_url(database)}", err=True)
    click.echo(f"hosthooks: plugins {', '.join(active) or 'none'}", err=True)
    if listener is not None:
        _serve_asgi(app_holder[0], listener, bind_host)
        return
    assert server is not None
    address = f"http://{bind_host}:{server.effective_port}/"
    click.echo(f"hosthooks: serving the demo app on {address} (Ctrl-C stops)", err=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    click.echo("hosthooks: stopped", err=True)


def _serve_asgi(app: App, listener: socket.socket, bind_host: str) -> None:
    from hosthooks.runtime.asgi import serve as serve_asgi

    address = f"http://{bind_host}:{listener.getsockname()[1]}/"
    click.echo(f"hosthooks: serving the demo app over ASGI on {address} (Ctrl-C stops)", err=True)
    try:
        serve_asgi(app, listener)
    except KeyboardInterrupt:
        pass
    finally:
        listener.close()
    click.echo("hosthooks: stopped", err=True)


@click.command()
@click.option(
    "--queues",
    default="hosthooks",
    show_default=True,
    metavar="A,B",
    help="The task queues to consume (@hookimpl(queue=...) names them).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Deferred calls run at once (threads).",
)
@click.option(
    "--app",
    "apps",
    multiple=True,
    metavar="MODULE",
    help="Import this models module first [default: the apps key, else the demo app's].",
)
@database_option(
    "The app's database: its outbox holds the calls, ModelSnapshot.load() reads it "
    "[default: the DATABASE setting]."
)
@click.option(
    "--relay/--no-relay",
    default=True,
    show_default=True,
    help="Also relay the database's due calls to the broker (hosthooks relay does it alone).",
)
@click.pass_obj
def worker(
    obj: Context,
    queues: str,
    concurrency: int,
    apps: tuple[str, ...],
    db_path: str | None,
    relay: bool,
) -> None:
    """Run deferred implementations (@hookimpl(defer=True)) from the task queue.

    Loads the same plugins and configuration as the app (the same options and
    HOSTHOOKS_* variables); the broker is broker_url. Relays the database's
    outbox to the broker too, unless --no-relay. Stops on Ctrl-C or SIGTERM
    after the calls it is running.

    Example: hosthooks worker --queues hosthooks,webhooks --concurrency 8
    """
    from hosthooks.configuration.keys import names_from_text

    names = names_from_text(queues)
    if not names:
        raise click.UsageError("--queues names no queue")
    obj.report_every_plugin()  # plugins load (and become the default host) first
    for line in unconsumed_queues(obj.host, names):
        click.echo(line, err=True)
    configured = obj.configuration["apps"]
    if apps or configured:
        import_apps(apps or configured, "--app" if apps else "apps", obj.configuration.file)
    else:
        import_apps(("hosthooks.runtime.demo",))
    outbox = open_outbox(obj, db_path)
    # The worker follows the app's mutes and circuit breaker as serve does: a
    # muted plugin's calls wait instead of running.
    from hosthooks.runtime.console import follow_mutes
    from hosthooks.runtime.db import DatabaseError
    from hosthooks.runtime.db import get_database
    from hosthooks.runtime.settings import Settings
    from hosthooks.runtime.settings import SettingsError

    try:
        follow_mutes(get_database(), Settings(configuration=obj.configuration))
    except (DatabaseError, SettingsError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    try:
        from hosthooks.deferred.celery_app import run_worker
    except ImportError as error:
        raise click.ClickException(
            f"the worker needs Celery: pip install 'hosthooks[celery]' ({error})"
        ) from None
    from hosthooks.configuration.files import redact_url

    config = obj.config
    relaying = f", relaying {outbox.describe()}" if relay else ""
    click.echo(
        f"hosthooks: worker on {redact_url(config.broker_url)}, queues {', '.join(names)}"
        f"{relaying}",
        err=True,
    )
    run_worker(
        config.broker_url,
        config.queue_visibility_timeout,
        names,
        concurrency,
        {None: outbox},
        relay=relay,
    )


def unconsumed_queues(host: Any, queues: Sequence[str]) -> list[str]:
    """One line per deferred implementation whose queue is not among ``queues``:
    this worker will never run its calls (another worker must consume that queue)."""
    from hosthooks.deferred.events import DEFAULT_QUEUE
    from hosthooks.markers import DEFER_OPTION
    from hosthooks.markers import QUEUE_OPTION

    lines = []
    for caller in host.hook_callers():
        for impl in caller.get_hookimpls():
            if not impl.opts.get(DEFER_OPTION):
                continue
            queue = str(impl.opts.get(QUEUE_OPTION) or DEFAULT_QUEUE)
            if queue not in queues:
                lines.append(
                    f"{impl.plugin_name}: hook {caller.name!r}: its deferred calls go to queue "
                    f"{queue!r}, which this worker does not consume (--queues "
                    f"{','.join(queues)}): another worker must"
                )
    return sorted(lines)


# -- users --------------------------------------------------------------------


@click.command()
@click.argument("name")
@database_option(
    "The SQLite database file, or a postgresql:// URL [default: the DATABASE setting]."
)
@click.option("--staff", is_flag=True, help="The user may see the /-/ pages.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
@click.pass_obj
def createuser(
    obj: Context, name: str, db_path: str | None, staff: bool, password_stdin: bool
) -> None:
    """Create a user of the demo app (migrating the database first); asks for the password.

    Example: hosthooks createuser operator --staff --db notes.sqlite3
    """
    # Plugins load (and become the default host) before models exist.
    obj.report_every_plugin()
    obj.refuse_unusable_settings()
    from hosthooks.runtime.auth import AuthError
    from hosthooks.runtime.auth import create_user
    from hosthooks.runtime.db import Database
    from hosthooks.runtime.db import DatabaseError
    from hosthooks.runtime.demo import MODELS
    from hosthooks.runtime.migrations import migrate as run_migrate
    from hosthooks.runtime.settings import Settings
    from hosthooks.runtime.settings import SettingsError
    from hosthooks.runtime.settings import reset_settings

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        settings = Settings(configuration=obj.configuration)
        # The configured settings are the ones hashing reads (PASSWORD_SCRYPT_N).
        reset_settings(settings)
        database = Database(db_path if db_path is not None else settings.DATABASE)
    except (DatabaseError, SettingsError) as error:
        raise click.ClickException(str(error)) from None
    try:
        run_migrate(database, models=list(MODELS), verbosity=0)
        create_user(name, password, is_staff=staff)
    except (AuthError, DatabaseError, SettingsError) as error:
        raise click.ClickException(str(error)) from None
    finally:
        database.close()
    kind = "staff user" if staff else "user"
    click.echo(f"hosthooks: created {kind} {name.strip()!r}")
