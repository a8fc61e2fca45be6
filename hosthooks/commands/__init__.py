"""The ``hosthooks`` command's parts: the group and its options
(:mod:`~hosthooks.commands.group`), then the commands grouped by who uses them.
Each command imports what it uses when it runs.

Exit codes: 0 ok, 1 a check (or a command) failed, 2 usage error.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any
from typing import TypeVar

import click

_F = TypeVar("_F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def database_option(help_text: str, *, required: bool = False) -> Callable[[_F], _F]:
    """``--db PATH|URL``, as every runtime command names its database."""
    if required:
        # No default at all: click takes an explicit default=None as a value given.
        return click.option("--db", "db_path", metavar="PATH|URL", required=True, help=help_text)
    return click.option("--db", "db_path", metavar="PATH|URL", default=None, help=help_text)


def require_database(db_path: str | None) -> None:
    """Refuse a ``--db`` SQLite path where there is no file, before anything opens
    it (opening makes one): only migrate, serve and createuser make a database.

    :raises click.ClickException: ``no database at PATH``.
    """
    if db_path is None:
        return  # and the runtime stays unimported
    from hosthooks.runtime.backends import is_url

    if not is_url(db_path) and not Path(db_path).is_file():
        raise click.ClickException(f"no database at {db_path}")
