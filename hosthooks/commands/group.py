"""The ``hosthooks`` group: its options, what every command gets (:class:`Context`),
and how errors end a command (one line on stderr; ``--traceback`` shows the
traceback too)."""

from __future__ import annotations

import importlib
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

from hosthooks import __version__
from hosthooks.commands import EXIT_FAILED
from hosthooks.commands import EXIT_OK
from hosthooks.commands import EXIT_USAGE

# Imported where used, not here: each command pays only for the parts it uses.
if TYPE_CHECKING:
    from hosthooks.configuration.files import Configuration
    from hosthooks.deferred.outbox import Outbox
    from hosthooks.host import Host
    from hosthooks.loading.records import HostConfig
    from hosthooks.loading.records import PluginRecord


@dataclass(frozen=True)
class Embedding:
    """The host of an application the commands run inside (``manage.py hosthooks``
    runs them on its project's host) instead of one made from the options."""

    host: Host
    configuration: Configuration
    #: More keys of a hook's ``hooks --json`` object, by hook name (under Django:
    #: ``receivers``, each ``module``, ``function``, ``sender``, ``dispatch_uid``, ``weak``).
    hook_extras: Callable[[str], Mapping[str, Any]] | None = None
    #: The outboxes ``deliveries`` reads and moves (under Django: of every alias
    #: whose database has the table) instead of the runtime database's.
    outboxes: Callable[[], Sequence[Outbox]] | None = None


class Context:
    """What every command gets: the configuration the options before the command complete."""

    # A plain class, not a dataclass: nothing compares or copies it, and every
    # command would pay for generating the methods.
    def __init__(
        self,
        configuration: Configuration,
        config: HostConfig,
        show_traceback: bool,
        _host: Host | None = None,
        embedding: Embedding | None = None,
    ) -> None:
        self.configuration = configuration
        self.config = config
        self.show_traceback = show_traceback
        self._host = _host
        self.embedding = embedding
        # Every command shows plugin failures and problems itself, once: the
        # warnings the host logs for embedding applications would repeat them.
        from hosthooks.loading.loader import plugins_logger

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

    def refuse_unusable_settings(self) -> None:
        """Stop a command that writes before it writes anything when a loaded
        plugin cannot use its settings: the plugin would fail on the writes'
        hooks, or once they are committed (its problems were printed already).

        :raises click.ClickException: naming the plugins.
        """
        from hosthooks.loading.records import Status

        active = {record.name for record in self.host.plugins() if record.status is Status.ACTIVE}
        unusable = sorted({problem.plugin for problem in self.host.settings_problems()} & active)
        if unusable:
            raise click.ClickException(
                f"nothing was written: the settings of {', '.join(unusable)} are unusable "
                "(see above; hosthooks config shows them)"
            )

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
        from hosthooks.loading.loader import plugins_logger

        plugins_logger.disabled = self._logger_was_disabled
        # An application's host outlives the command.
        if self._host is not None and self.embedding is None:
            self._host.close()


#: Each command's name -> the module of :mod:`hosthooks.commands` defining it,
#: and the command's name in that module.
COMMANDS: Final = {
    "hooks": ("listing", "hooks"),
    "plugins": ("listing", "plugins"),
    "check": ("listing", "check"),
    "config": ("listing", "show_config"),
    "migrate": ("runtime", "migrate"),
    "serve": ("runtime", "serve"),
    "worker": ("runtime", "worker"),
    "createuser": ("runtime", "createuser"),
    "mute": ("muting", "mute"),
    "unmute": ("muting", "unmute"),
    "relay": ("deliveries", "relay"),
    "deliveries": ("deliveries", "deliveries"),
    "install": ("packages", "install"),
    "uninstall": ("packages", "uninstall"),
    "docs": ("authoring", "docs"),
    "new-plugin": ("authoring", "new_plugin"),
}


class _CommandsOnDemand(click.Group):
    """A group that imports a command's module when the command is first asked
    for: running one command does not pay for defining the others. Help and
    completion ask for every command, so they list them all, as before."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def load(self, name: str) -> None:
        module, attribute = COMMANDS[name]
        command = getattr(importlib.import_module(f"hosthooks.commands.{module}"), attribute)
        self.add_command(command, name)

    def load_every_command(self) -> None:
        """Make :attr:`commands` hold every command, as a group defined at once does."""
        for name in COMMANDS:
            if name not in self.commands:
                self.load(name)


@click.group(cls=_CommandsOnDemand, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__, "--version", prog_name="hosthooks", message="%(prog)s %(version)s"
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
    from hosthooks.configuration.files import load_configuration
    from hosthooks.configuration.keys import ConfigError
    from hosthooks.configuration.keys import names_from_text

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
    from hosthooks.loading.records import HostConfig

    ctx.obj = Context(configuration, HostConfig.from_configuration(configuration), show_traceback)
    ctx.call_on_close(ctx.obj.close)


def run(args: Sequence[str], prog_name: str, embedding: Embedding | None) -> NoReturn:
    """Run the CLI (see :func:`hosthooks.cli.main`); every error is one line on stderr."""
    args = list(args)
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
        # A usage error is the command line's, not the program's: its traceback
        # would show only the parser.
        if show_traceback and not isinstance(error, click.UsageError):
            traceback.print_exc()
        click.echo(f"hosthooks: error: {error.format_message()}", err=True)
        raise SystemExit(error.exit_code) from None
    except SystemExit:
        raise
    except Exception as error:
        from hosthooks.loading.records import PluginLoadError

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
