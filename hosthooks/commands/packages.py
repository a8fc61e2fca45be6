"""``hosthooks install`` and ``uninstall``: pip, then what changed among the plugins."""

from __future__ import annotations

import click


def _pip_then_changes(pip_arguments: list[str], verb: str) -> None:
    from hosthooks.loading import installer

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


@click.command()
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


@click.command()
@click.argument("packages", nargs=-1, required=True)
def uninstall(packages: tuple[str, ...]) -> None:
    """Uninstall packages with pip from hosthooks' environment, then list the plugins removed.

    Example: hosthooks uninstall hosthooks-audit
    """
    _pip_then_changes(["uninstall", "--yes", *packages], "uninstall")
