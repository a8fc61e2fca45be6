"""``manage.py hosthooks hooks|plugins|check|docs``: the ``hosthooks`` command's own
commands, options and JSON, run on the project's host.

``hooks`` also lists, under ``receivers``, the Django receivers connected to
each signal; ``check`` checks ``sender=`` labels against the project's models.
"""

from __future__ import annotations

import argparse
import io
from contextlib import redirect_stderr
from contextlib import redirect_stdout
from typing import Any
from typing import ClassVar

from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from hosthooks.cli import Embedding
from hosthooks.cli import cli
from hosthooks.cli import main
from hosthooks.django.apps import project_configuration
from hosthooks.django.bridge import bridge
from hosthooks.django.receivers import describe_receivers
from hosthooks.django.signals import SIGNAL_PATHS

#: The ``hosthooks`` commands that apply to a project; the others run the runtime.
PROJECT_COMMANDS = ("hooks", "plugins", "check", "docs")


def _hook_extras(hook: str) -> dict[str, Any]:
    return {"receivers": describe_receivers(hook)} if hook in SIGNAL_PATHS else {}


class _Verbatim(io.TextIOBase):
    """Writes to one of a command's output wrappers as is: they end every write
    with a newline of their own, and click writes its lines whole."""

    def __init__(self, wrapper: Any) -> None:
        self._wrapper = wrapper

    def write(self, text: str) -> int:
        self._wrapper.write(text, ending="")
        return len(text)

    def flush(self) -> None:
        self._wrapper.flush()

    def isatty(self) -> bool:
        return bool(self._wrapper.isatty())


class Command(BaseCommand):  # type: ignore[misc]
    help = (
        "List and check the hosthooks plugins of this project: the hosthooks "
        "command's hooks, plugins, check and docs, with the same options and JSON."
    )
    # `check` reports on plugins itself, with its own exit status.
    requires_system_checks: ClassVar[list[str]] = []

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        available = [name for name in PROJECT_COMMANDS if name in cli.commands]
        parser.add_argument("command", choices=available, help="the hosthooks command")
        parser.add_argument(
            "arguments",
            nargs=argparse.REMAINDER,
            help="its arguments and options, as the hosthooks command takes them",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host = bridge.host
        if host is None:
            raise CommandError("the hosthooks.django app is not ready: is it in INSTALLED_APPS?")
        embedding = Embedding(host, project_configuration(), _hook_extras)
        # Django's own --traceback is the hosthooks command's, given before its command.
        shown = ["--traceback"] if options.get("traceback") else []
        argv = [*shown, options["command"], *options["arguments"]]
        try:
            with redirect_stdout(_Verbatim(self.stdout)), redirect_stderr(_Verbatim(self.stderr)):
                main(argv, prog_name="manage.py hosthooks", embedding=embedding)
        except SystemExit as done:
            if done.code:
                raise
