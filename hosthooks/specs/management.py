"""Migration hooks: ``pre_migrate`` and ``post_migrate``, fired by ``runtime.migrations``."""

from __future__ import annotations

from typing import Any
from typing import TextIO

from hosthooks.markers import hookspec


@hookspec
def pre_migrate(
    sender: Any,
    app_config: Any,
    verbosity: int,
    interactive: bool,
    using: str,
    apps: Any = None,
    plan: list[Any] | None = None,
    stdout: TextIO | None = None,
) -> None:
    """A migration run is about to apply its plan to one app.

    Fires once per app before ``migrate`` changes the schema, even when there
    is nothing to apply.

    :param sender: the app being migrated: the module holding its models.
    :param app_config: the same app, as Django passes its AppConfig.
    :param verbosity: how much the command prints (0 to 3).
    :param interactive: whether the user may be prompted.
    :param using: the alias of the database being migrated.
    :param apps: the model registry as it is before the migration, or None.
    :param plan: the operations about to be applied, in order, or None.
    :param stdout: the stream the command writes to, or None for standard output.
    """


@hookspec
def post_migrate(
    sender: Any,
    app_config: Any,
    verbosity: int,
    interactive: bool,
    using: str,
    apps: Any = None,
    plan: list[Any] | None = None,
    stdout: TextIO | None = None,
) -> None:
    """A migration run has applied its plan to one app.

    Fires once per app after ``migrate`` finished, even when there was nothing
    to apply; a good place to create default rows.

    :param sender: the app that was migrated: the module holding its models.
    :param app_config: the same app, as Django passes its AppConfig.
    :param verbosity: how much the command prints (0 to 3).
    :param interactive: whether the user may be prompted; ``None`` when the sender
        leaves it out (Django's own tests send ``post_migrate`` with only
        ``app_config`` and ``verbosity``).
    :param using: the alias of the database that was migrated; ``None`` when the
        sender leaves it out.
    :param apps: the model registry as it is after the migration, or None.
    :param plan: the operations that were applied, in order, or None.
    :param stdout: the stream the command writes to, or None for standard output.
    """
