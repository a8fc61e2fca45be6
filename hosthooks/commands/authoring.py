"""The plugin author's commands: ``hosthooks docs`` (the hook reference) and
``hosthooks new-plugin`` (a plugin distribution to start from)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["markdown", "html"]),
    default="markdown",
    show_default=True,
    help="What to write.",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write to this file instead of standard output.",
)
def docs(output_format: str, output: Path | None) -> None:
    """The hook reference, from the hookspecs' docstrings.

    Example: hosthooks docs --format html --output hooks.html
    """
    from hosthooks.authoring import reference

    text = reference.render_html() if output_format == "html" else reference.render_markdown()
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"cannot write {output}: {error.strerror}") from None
    click.echo(f"wrote {output}", err=True)


@click.command("new-plugin")
@click.argument("name")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where to write it [default: ./NAME]; it must not exist.",
)
@click.option(
    "--hook",
    "hooks",
    multiple=True,
    metavar="HOOK",
    help="A hook to implement (repeatable) [default: post_save].",
)
@click.option(
    "--name",
    "plugin",
    metavar="PLUGIN",
    default=None,
    help="The name hosthooks lists the plugin under, which names its [plugins.PLUGIN] "
    "settings [default: NAME].",
)
def new_plugin(
    name: str, directory: Path | None, hooks: tuple[str, ...], plugin: str | None
) -> None:
    """Write a plugin distribution NAME to start from: pyproject.toml with its entry
    point, typed implementations, tests using hosthooks' pytest fixtures, a README.

    Example: hosthooks new-plugin hosthooks-auditlog --name auditlog --hook post_save
    """
    from hosthooks.authoring.scaffold import ScaffoldError
    from hosthooks.authoring.scaffold import check_hooks
    from hosthooks.authoring.scaffold import check_plugin_name
    from hosthooks.authoring.scaffold import package_name
    from hosthooks.authoring.scaffold import write_plugin

    chosen = list(hooks) or ["post_save"]
    try:
        package_name(name)
        check_plugin_name(name if plugin is None else plugin)
        check_hooks(chosen)
    except ScaffoldError as error:
        raise click.UsageError(str(error)) from None
    target = directory if directory is not None else Path(name)
    try:
        written = write_plugin(name, target, chosen, plugin)
    except ScaffoldError as error:
        raise click.ClickException(str(error)) from None
    for path in written:
        click.echo(str(path))
    click.echo(
        f"Next: pip install -e '{target}[test]' && pytest {target} && hosthooks plugins",
        err=True,
    )
