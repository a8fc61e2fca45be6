"""The ``hosthooks`` command: a thin face over the Host and the runtime.

Exit codes: 0 ok, 1 a check (or a command) failed, 2 usage error. Errors are one
line on stderr; ``--traceback`` shows the traceback too.

The commands live in :mod:`hosthooks.commands`. This module, the console
script's entry point, imports them (and click) only when a command runs, so
that ``hosthooks --version`` costs little more than starting Python.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import NoReturn

if TYPE_CHECKING:
    from hosthooks.commands.group import Embedding as Embedding
    from hosthooks.commands.group import cli as cli

__all__ = ["Embedding", "cli", "main"]


def main(
    argv: Sequence[str] | None = None,
    *,
    prog_name: str = "hosthooks",
    embedding: Embedding | None = None,
) -> NoReturn:
    """Run the CLI; every error is one line on stderr (with ``--traceback``, the traceback too).

    :param argv: the arguments; ``sys.argv[1:]`` when None.
    :param prog_name: what usage lines and errors call the command.
    :param embedding: the application host the commands run on, if any.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:
        # What click's version option prints, without importing click.
        from hosthooks import __version__

        print(f"{prog_name} {__version__}")
        raise SystemExit(0)
    from hosthooks.commands.group import run

    run(args, prog_name, embedding)


def __getattr__(name: str) -> Any:
    # The group and Embedding are imported on first use, as the commands are.
    if name in ("Embedding", "cli"):
        from hosthooks.commands import group

        if name == "cli":
            # The group as it was defined: every command in ``cli.commands``.
            # Running one (main) imports only that command's module.
            group.cli.load_every_command()
        return getattr(group, name)
    raise AttributeError(f"module 'hosthooks.cli' has no attribute {name!r}")
