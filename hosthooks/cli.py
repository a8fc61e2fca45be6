"""The ``hosthooks`` command: a thin face over the Host and the runtime.

Exit codes: 0 ok, 1 a check (or a command) failed, 2 usage error. Errors are one
line on stderr; ``--traceback`` shows the traceback too.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import traceback
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Final
from typing import NoReturn

import click

from hosthooks.commands import authoring

# Imported where used, not here: `hosthooks --version` and `--help` must start
# fast, and each command pays only for the parts it uses.
if TYPE_CHECKING:
    import socket

    import pluggy

    from hosthooks.config import Configuration
    from hosthooks.discovery import HostConfig
    from hosthooks.discovery import PluginRecord
    from hosthooks.host import Host
    from hosthooks.runtime.web import App

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


@dataclass(frozen=True)
class Embedding:
    """The host of an application the commands run inside (``manage.py hosthooks``
    runs them on its project's host) instead of one made from the options."""

    host: Host
    configuration: Configuration
    #: More keys of a hook's ``hooks --json`` object, by hook name (under Django:
    #: ``receivers``, each ``module``, ``function``, ``sender``, ``dispatch_uid``, ``weak``).
    hook_extras: Callable[[str], Mapping[str, Any]] | None = None


@dataclass
class Context:
    """What every command gets: the configuration the options before the command complete."""

    configuration: Configuration
    config: HostConfig
    show_traceback: bool
    _host: Host | None = None
    embedding: Embedding | None = None

    def __post_init__(self) -> None:
        # Every command shows plugin failures and problems itself, once: the
        # warnings the host logs for embedding applications would repeat them.
        from hosthooks.loading import plugins_logger

        self._logger_was_disabled = plugins_logger.disabled
        plugins_logger.disabled = True

    @property
    def host(self) -> Host:
        if self._host is None:
            from hosthooks.host import create_default_host

            # The runtime fires through get_host(): this host is the default one.
            self._host = create_default_host(self.config)
        return self._host

    def report_every_plugin(self) -> None:
        """Load the plugins (the host becomes the default one) and print what is wrong with them."""
        from hosthooks.report import listed_records

        self.report(listed_records(self.host))

    def report(
        self, records: Sequence[PluginRecord] | None, *, err: bool = True, lines: bool = True
    ) -> int:
        """Print what is wrong with these plugins (None: every plugin, and settings
        for plugins not installed), one line per problem; with ``--traceback``, a
        failed plugin's own traceback follows its error, on stderr.

        :param lines: False to print only the tracebacks (beside JSON output).
        :returns: the number of problems.
        """
        names = None if records is None else [record.name for record in records]
        failed = {record.name: record for record in self.host.failed_plugins()}
        problems = self.host.check(names)
        for problem in problems:
            if lines:
                click.echo(str(problem), err=err)
            record = failed.get(problem.plugin)
            if (
                self.show_traceback
                and record
                and record.traceback
                and problem.detail == record.error
            ):
                click.echo(record.traceback.rstrip("\n"), err=True)
        return len(problems)

    def close(self) -> None:
        from hosthooks.loading import plugins_logger

        plugins_logger.disabled = self._logger_was_disabled
        # An application's host outlives the command.
        if self._host is not None and self.embedding is None:
            self._host.close()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    None,
    "--version",
    package_name="hosthooks",
    prog_name="hosthooks",
    message="%(prog)s %(version)s",
)
@click.option("--traceback", "show_traceback", is_flag=True, help="Show the traceback of an error.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The configuration file [HOSTHOOKS_CONFIG; default: ./hosthooks.toml, "
    "else [tool.hosthooks] in ./pyproject.toml].",
)
@click.option(
    "--disable-plugin-autoload",
    is_flag=True,
    default=None,
    help="Load no entry-point plugin [HOSTHOOKS_DISABLE_PLUGIN_AUTOLOAD=1].",
)
@click.option(
    "--disable-plugins",
    metavar="A,B",
    help="Block these plugins by name, before import [HOSTHOOKS_DISABLE_PLUGINS].",
)
@click.option(
    "--load-plugins",
    metavar="A,B",
    help="Load only these entry-point plugins; empty loads none [HOSTHOOKS_LOAD_PLUGINS].",
)
@click.option(
    "--plugins-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Also load each .py file of this directory as a plugin [HOSTHOOKS_PLUGINS_DIR].",
)
@click.option(
    "--strict-plugins",
    is_flag=True,
    default=None,
    help="Fail at once when a plugin fails to load [HOSTHOOKS_STRICT_PLUGINS=1].",
)
@click.option(
    "--trace",
    is_flag=True,
    default=None,
    help="Trace every hook call to stderr [HOSTHOOKS_TRACE=1].",
)
@click.option(
    "--trace-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Append hook traces as JSON lines to this file [HOSTHOOKS_TRACE_FILE].",
)
@click.pass_context
def cli(
    ctx: click.Context,
    show_traceback: bool,
    config_file: Path | None,
    disable_plugin_autoload: bool | None,
    disable_plugins: str | None,
    load_plugins: str | None,
    plugins_dir: Path | None,
    strict_plugins: bool | None,
    trace: bool | None,
    trace_file: Path | None,
) -> None:
    """List, check and trace hosthooks plugins, and run the host runtime.

    Example: hosthooks --disable-plugins request-timer plugins --json

    Shell completion (bash; zsh and fish likewise):
    eval "$(_HOSTHOOKS_COMPLETE=bash_source hosthooks)"
    """
    from hosthooks.config import ConfigError
    from hosthooks.config import load_configuration
    from hosthooks.config import names_from_text

    # A flag given is an option's value; a flag not given leaves the key to
    # the environment, the file and the default.
    options: dict[str, Any] = {
        "autoload": False if disable_plugin_autoload else None,
        "disable_plugins": None if disable_plugins is None else names_from_text(disable_plugins),
        "load_plugins": None if load_plugins is None else names_from_text(load_plugins),
        "plugins_dir": plugins_dir,
        "strict_plugins": True if strict_plugins else None,
        "trace": True if trace or trace_file is not None else None,
        "trace_file": trace_file,
    }
    embedding = ctx.obj if isinstance(ctx.obj, Embedding) else None
    if embedding is not None:
        ctx.obj = Context(
            embedding.configuration,
            embedding.host.config,
            show_traceback,
            _host=embedding.host,
            embedding=embedding,
        )
        ctx.call_on_close(ctx.obj.close)
        return
    try:
        configuration = load_configuration(options, config_file=config_file)
    except ConfigError as error:
        raise click.UsageError(str(error)) from None
    from hosthooks.discovery import HostConfig

    ctx.obj = Context(configuration, HostConfig.from_configuration(configuration), show_traceback)
    ctx.call_on_close(ctx.obj.close)


# -- hooks --------------------------------------------------------------------


def _signature(caller: pluggy.HookCaller) -> str:
    spec = caller.spec
    assert spec is not None
    args = [*spec.argnames, *(f"{name}={spec.kwargdefaults[name]!r}" for name in spec.kwargnames)]
    return f"({', '.join(args)})"


def _impl_flags(impl: pluggy.HookImpl) -> str:
    flags = [
        flag for flag in ("tryfirst", "trylast", "wrapper", "hookwrapper") if getattr(impl, flag)
    ]
    from hosthooks.async_bridge import is_async_implementation
    from hosthooks.dispatch import sender_filter
    from hosthooks.markers import THREAD_OPTION

    if is_async_implementation(impl):
        flags.append("async")
    if impl.opts.get(THREAD_OPTION):
        flags.append("thread")
    sender = sender_filter(impl)
    if sender is not None:
        flags.append(f"sender={sender!r}")
    from hosthooks.ordering import why

    constraint = why(impl)
    if constraint:
        # The constraint that put it where it is in the order shown.
        flags.append(constraint)
    return f" [{', '.join(flags)}]" if flags else ""


def _unknown_hook(name: str, known: Sequence[str]) -> NoReturn:
    import difflib

    close = difflib.get_close_matches(name, known, n=1)
    hint = (
        f"; did you mean {close[0]!r}?" if close else f"; known hooks: {', '.join(sorted(known))}"
    )
    raise click.UsageError(f"no hook named {name!r}{hint}")


@cli.command()
@click.argument("name", required=False)
@click.option("--family", metavar="FAMILY", help="Only this family's hooks (models, auth, ...).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def hooks(obj: Context, name: str | None, family: str | None, as_json: bool) -> None:
    """Every hook with its implementations, in the order they will be called.

    Example: hosthooks hooks post_save
    """
    from hosthooks.report import hook_info
    from hosthooks.report import spec_callers
    from hosthooks.specs import FAMILIES
    from hosthooks.tracing import function_name

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
    _fit_column(header, rows, column=2, width=shutil.get_terminal_size((80, 24)).columns)
    _table(header, rows)
    for (_, caller), info in zip(callers, infos, strict=True):
        if info["impls"]:
            click.echo(f"\n{info['name']}:")
            for impl in host.implementations(caller.name):
                click.echo(
                    f"  {impl.plugin_name}: {function_name(impl.function)}{_impl_flags(impl)}"
                )


def _show_hook(host: Host, caller: pluggy.HookCaller, info: dict[str, Any]) -> None:
    from hosthooks.tracing import function_name

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
                f"  {position}. {impl.plugin_name}: "
                f"{function_name(impl.function)}{_impl_flags(impl)}"
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
    """Rows under a header, columns aligned; ``styles`` colours a column's cells by value.

    Cells are padded before they are coloured, so colour never shifts a column.
    """
    widths = [max(len(row[col]) for row in [header, *rows]) for col in range(len(header))]
    for index, row in enumerate([header, *rows]):
        cells = []
        for column, (cell, width) in enumerate(zip(row, widths, strict=True)):
            padded = cell.ljust(width)
            colour = (styles or {}).get(column, {}).get(cell) if index else None
            cells.append(click.style(padded, fg=colour) if colour else padded)
        click.echo("  ".join(cells).rstrip(), color=_colour_wanted())


# -- plugins ------------------------------------------------------------------


@cli.command()
@click.option("--all", "include_builtin", is_flag=True, help="Include built-in plugins.")
@click.option("--hook", metavar="NAME", help="Only plugins implementing this hook.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Also show where each plugin's code lives.")
@click.pass_obj
def plugins(
    obj: Context, include_builtin: bool, hook: str | None, as_json: bool, verbose: bool
) -> None:
    """Every plugin: where it comes from, whether it is active, and its hooks.

    Example: hosthooks plugins --all -v
    """
    from hosthooks.report import listed_records
    from hosthooks.report import plugin_infos

    host = obj.host
    if hook is not None:
        known = [caller.name for caller in host.hook_callers()]
        if hook not in known:
            _unknown_hook(hook, known)
    records = listed_records(host, include_builtin, hook)
    infos = plugin_infos(host, records)
    if as_json:
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
            info["status"],
            ", ".join(info["hooks"]) or "-",
            str(len(info["problems"])) if info["problems"] else "-",
            *([info["location"] or "-"] if verbose else []),
        )
        for info in infos
    ]
    header = ("NAME", "DIST", "VERSION", "SOURCE", "STATUS", "HOOKS", "PROBLEMS")
    _table((*header, "LOCATION") if verbose else header, rows, styles={4: _STATUS_COLOURS})
    obj.report(records)


# -- check --------------------------------------------------------------------


def _import_apps(apps: Sequence[str]) -> list[str]:
    """Import each models module named by ``--app``; the labels of every model then known.

    :raises click.UsageError: naming the module that cannot be imported.
    """
    import importlib

    # Like ``python -m``: apps in the current directory are importable.
    if apps and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    for module in apps:
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise click.UsageError(f"--app {module}: {error}") from None
    from hosthooks.runtime.models import registry

    return sorted(registry)


@cli.command()
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option(
    "--app",
    "apps",
    multiple=True,
    metavar="MODULE",
    help="Import this models module first; sender= labels are checked against its models.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the checked plugins as JSON.")
@click.pass_obj
def check(obj: Context, names: tuple[str, ...], apps: tuple[str, ...], as_json: bool) -> None:
    """Validate plugins (every one, or those named): import, hook names, argument
    names and, with --app, sender= labels. Exit status 1 when anything is wrong.

    Example: hosthooks check audit --app myapp.models
    """
    import difflib

    from hosthooks.report import listed_records
    from hosthooks.report import plugin_infos

    host = obj.host
    if apps and obj.embedding is not None:
        raise click.UsageError(
            "--app: sender= labels are checked against the application's own models"
        )
    if apps:
        host.set_known_models(_import_apps(apps))
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
        click.echo(json.dumps(plugin_infos(host, records), indent=2))
    failed = obj.report(records if names else None, err=False, lines=not as_json) > 0
    if not as_json and not failed:
        click.echo(f"{len(records)} plugin(s) checked, no problems.")
    if failed:
        raise SystemExit(EXIT_FAILED)


# -- runtime ------------------------------------------------------------------


@cli.command()
@click.option(
    "--db",
    "db_path",
    metavar="PATH|URL",
    required=True,
    help="The SQLite database file (created if missing), or a postgresql:// URL.",
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
    from hosthooks.runtime import Database
    from hosthooks.runtime import DatabaseError
    from hosthooks.runtime import migrate as run_migrate

    _import_apps(apps)
    try:
        database = Database(db_path)
        operations = run_migrate(database, verbosity=verbosity, stdout=sys.stdout)
    except DatabaseError as error:
        raise click.ClickException(str(error)) from None
    if verbosity:
        click.echo(f"{len(operations)} operation(s) applied to {database.backend.describe()}.")
    database.close()


@cli.command()
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
@click.option(
    "--db",
    "db_path",
    metavar="PATH|URL",
    default=None,
    help="The SQLite database file, or a postgresql:// URL [default: the DATABASE setting].",
)
@click.option(
    "--threads", type=click.IntRange(1, 64), default=4, show_default=True, help="Worker threads."
)
@click.option(
    "--trusted-proxy",
    metavar="ADDRESS",
    default=None,
    help="Believe X-Forwarded-Proto from this proxy address [the TRUSTED_PROXY setting].",
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

    from hosthooks.discovery import Status
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
        if asgi:
            from hosthooks.runtime.asgi import bind

            listener = bind(bind_host, port)
        else:
            # Waitress drops proxy headers from peers it does not trust, so the
            # trusted proxy is named to it as well as to the app.
            proxy: dict[str, Any] = {}
            if proxy_address is not None:
                proxy = {
                    "trusted_proxy": proxy_address,
                    "trusted_proxy_headers": {"x-forwarded-proto"},
                }
            # ident="": no Server header naming the server software to every client.
            server = waitress.create_server(
                application, host=bind_host, port=port, threads=threads, ident="", **proxy
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
    from hosthooks.config import redact_url

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
        serve_asgi(app, listener, app.trusted_proxy)
    except KeyboardInterrupt:
        pass
    finally:
        listener.close()
    click.echo("hosthooks: stopped", err=True)


@cli.command()
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
    help="Import this models module first [default: the demo app's].",
)
@click.option(
    "--db",
    "db_path",
    metavar="PATH|URL",
    default=None,
    help="The app's database, which ModelSnapshot.load() reads [default: the DATABASE setting].",
)
@click.pass_obj
def worker(
    obj: Context, queues: str, concurrency: int, apps: tuple[str, ...], db_path: str | None
) -> None:
    """Run deferred implementations (@hookimpl(defer=True)) from the task queue.

    Loads the same plugins and configuration as the app (the same options and
    HOSTHOOKS_* variables); the broker is broker_url. Stops on Ctrl-C or SIGTERM
    after the calls it is running.

    Example: hosthooks worker --queues hosthooks,webhooks --concurrency 8
    """
    from hosthooks.config import names_from_text

    names = names_from_text(queues)
    if not names:
        raise click.UsageError("--queues names no queue")
    obj.report_every_plugin()  # plugins load (and become the default host) first
    _import_apps(apps or ("hosthooks.runtime.demo",))
    from hosthooks.runtime.db import Database
    from hosthooks.runtime.db import DatabaseError
    from hosthooks.runtime.settings import Settings
    from hosthooks.runtime.settings import SettingsError

    try:
        settings = Settings(configuration=obj.configuration)
        # Registered, not opened: each worker thread connects on its first read.
        Database(db_path if db_path is not None else settings.DATABASE)
    except (DatabaseError, SettingsError) as error:
        raise click.ClickException(str(error)) from None
    try:
        from hosthooks.deferred.celery_app import run_worker
    except ImportError as error:
        raise click.ClickException(
            f"the worker needs Celery: pip install 'hosthooks[celery]' ({error})"
        ) from None
    config = obj.config
    click.echo(f"hosthooks: worker on {config.broker_url}, queues {', '.join(names)}", err=True)
    run_worker(config.broker_url, config.queue_visibility_timeout, names, concurrency)


# -- install / uninstall --------------------------------------------------------


def _pip_then_changes(pip_arguments: list[str], verb: str) -> None:
    from hosthooks import installer

    try:
        before = installer.list_plugins()
        installer.run_pip(pip_arguments)
        after = installer.list_plugins()
    except installer.PipFailed as error:
        raise click.ClickException(f"pip failed: {error}") from None
    except RuntimeError as error:
        raise click.ClickException(str(error)) from None
    found = installer.changes(before, after)
    for change in found:
        click.echo(str(change))
    if not found:
        click.echo(f"hosthooks: {verb}: no plugin appeared, disappeared or changed")


@cli.command()
@click.argument("packages", nargs=-1, required=True)
@click.option("-U", "--upgrade", is_flag=True, help="Upgrade the packages (pip install -U).")
@click.option("-e", "--editable", is_flag=True, help="Install each path in editable mode.")
def install(packages: tuple[str, ...], upgrade: bool, editable: bool) -> None:
    """Install plugins with pip into hosthooks' own environment, then list what changed.

    pip's output is shown on stderr as it runs; each plugin that appeared,
    disappeared or changed status is listed on stdout after it. Exit 1 with
    pip's last error line when pip fails.

    Example: hosthooks install hosthooks-audit ./my-plugin
    """
    arguments = ["install", *(["--upgrade"] if upgrade else [])]
    for package in packages:
        arguments.extend(["--editable", package] if editable else [package])
    _pip_then_changes(arguments, "install")


@cli.command()
@click.argument("packages", nargs=-1, required=True)
def uninstall(packages: tuple[str, ...]) -> None:
    """Uninstall packages with pip from hosthooks' environment, then list the plugins removed.

    Example: hosthooks uninstall hosthooks-audit
    """
    _pip_then_changes(["uninstall", "--yes", *packages], "uninstall")


# -- config -------------------------------------------------------------------


@cli.command("config")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def show_config(obj: Context, as_json: bool) -> None:
    """The effective configuration: every key, its value and where it came from.

    Each plugin's settings are shown too (as plugins.NAME.KEY), once its
    plugins are loaded. Secrets are shown redacted.

    Example: hosthooks --config prod.toml config --json
    """
    report = {**obj.configuration.report(), **obj.host.plugin_settings_report()}
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    if obj.configuration.file is not None:
        click.echo(f"configuration file: {obj.configuration.file}")
    else:
        click.echo("configuration file: none (defaults and environment only)")
    rows = [[key, json.dumps(entry["value"]), entry["source"]] for key, entry in report.items()]
    _table(["key", "value", "source"], rows)


# -- users --------------------------------------------------------------------


@cli.command()
@click.argument("name")
@click.option(
    "--db",
    "db_path",
    metavar="PATH|URL",
    default=None,
    help="The SQLite database file, or a postgresql:// URL [default: the DATABASE setting].",
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
    from hosthooks.runtime.auth import AuthError
    from hosthooks.runtime.auth import create_user
    from hosthooks.runtime.db import Database
    from hosthooks.runtime.db import DatabaseError
    from hosthooks.runtime.demo import MODELS
    from hosthooks.runtime.migrations import migrate as run_migrate
    from hosthooks.runtime.settings import Settings
    from hosthooks.runtime.settings import SettingsError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        settings = Settings(configuration=obj.configuration)
        database = Database(db_path if db_path is not None else settings.DATABASE)
        run_migrate(database, models=list(MODELS), verbosity=0)
        create_user(name, password, is_staff=staff)
    except (AuthError, DatabaseError, SettingsError) as error:
        raise click.ClickException(str(error)) from None
    database.close()
    kind = "staff user" if staff else "user"
    click.echo(f"hosthooks: created {kind} {name.strip()!r}")


cli.add_command(authoring.docs)
cli.add_command(authoring.new_plugin)


# -- entry point --------------------------------------------------------------


def main(
    argv: Sequence[str] | None = None,
    *,
    prog_name: str = "hosthooks",
    embedding: Embedding | None = None,
) -> NoReturn:
    """Run the CLI; every error is one line on stderr (with ``--traceback``, the traceback too).

    :param prog_name: what usage lines and errors call the command.
    :param embedding: the application host the commands run on, if any.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    show_traceback = "--traceback" in args
    try:
        cli.main(args=args, prog_name=prog_name, standalone_mode=False, obj=embedding)
    except click.exceptions.Exit as done:
        raise SystemExit(done.exit_code) from None
    except click.exceptions.NoArgsIsHelpError as bare:
        # No command at all: the help is the clearest answer.
        click.echo(bare.format_message(), err=True)
        raise SystemExit(EXIT_USAGE) from None
    except click.Abort:
        click.echo("hosthooks: aborted", err=True)
        raise SystemExit(EXIT_FAILED) from None
    except click.ClickException as error:
        if show_traceback:
            traceback.print_exc()
        click.echo(f"hosthooks: error: {error.format_message()}", err=True)
        raise SystemExit(error.exit_code) from None
    except SystemExit:
        raise
    except Exception as error:
        from hosthooks.discovery import PluginLoadError

        if isinstance(error, PluginLoadError):
            if show_traceback:
                traceback.print_exc()
            click.echo(f"hosthooks: error: {error}", err=True)
            raise SystemExit(EXIT_FAILED) from None
        if show_traceback:
            traceback.print_exc()
        # The notes name the plugin and hook an error came from: the one line
        # an operator needs to find the culprit.
        notes = "; ".join(getattr(error, "__notes__", ()))
        message = str(error).splitlines()[0] if str(error) else ""
        suffix = f" ({notes})" if notes else ""
        click.echo(f"hosthooks: error: {type(error).__name__}: {message}{suffix}", err=True)
        raise SystemExit(EXIT_FAILED) from None
    raise SystemExit(EXIT_OK)
