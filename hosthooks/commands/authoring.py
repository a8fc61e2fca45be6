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
    """The hook reference, from the hookspecs' docstrings."""
    from hosthooks import reference

    text = reference.render_html() if output_format == "html" else reference.render_markdown()
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"cannot write {output}: {error.strerror}") from None
    click.echo(f"wrote {output}", err=True)
