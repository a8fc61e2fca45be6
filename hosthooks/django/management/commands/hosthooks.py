"""``manage.py hosthooks hooks|plugins|check|docs|deliveries``: the ``hosthooks``
command's own commands, options and JSON, run on the project's host
(``deliveries`` on every database alias whose database has the outbox table);
``manage.py hosthooks worker|relay``: deferred calls run and relayed with the
project's settings, apps and databases (every alias whose database has the
outbox table).

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
PROJECT_COMMANDS = ("hooks", "plugins", "check", "docs", "deliveries")
#: The commands of deferred calls, run here with Django's databases.
DEFERRED_COMMANDS = ("worker", "relay")


def _hook_extras(hook: str) -> dict[str, Any]:
    return {"receivers": describe_receivers(hook)} if hook in SIGNAL_PATHS else {}


def _outboxes() -> list[Any]:
    from hosthooks.django.outbox import outboxes

    return list(outboxes().values())


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
        "command's hooks, plugins, check, docs and deliveries, with the same options "
        "and JSON; worker and relay run deferred calls with the project's databases."
    )
    # `check` reports on plugins itself, with its own exit status.
    requires_system_checks: ClassVar[list[str]] = []

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        available = [
            *(name for name in PROJECT_COMMANDS if name in cli.commands),
            *DEFERRED_COMMANDS,
        ]
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
        if options["command"] in DEFERRED_COMMANDS:
            self._deferred(options["command"], options["arguments"])
            return
        embedding = Embedding(host, project_configuration(), _hook_extras, _outboxes)
        # Django's own --traceback is the hosthooks command's, given before its command.
        shown = ["--traceback"] if options.get("traceback") else []
        argv = [*shown, options["command"], *options["arguments"]]
        try:
            with redirect_stdout(_Verbatim(self.stdout)), redirect_stderr(_Verbatim(self.stderr)):
                main(argv, prog_name="manage.py hosthooks", embedding=embedding)
        except SystemExit as done:
            if done.code:
                raise

    def _deferred(self, command: str, arguments: list[str]) -> None:
        import logging
        import threading

        from hosthooks.django.outbox import outboxes

        parser = argparse.ArgumentParser(prog=f"manage.py hosthooks {command}")
        if command == "worker":
            parser.add_argument("--queues", default="hosthooks")
            parser.add_argument("--concurrency", type=int, default=4)
            parser.add_argument("--no-relay", action="store_true")
        given = parser.parse_args(arguments)
        found = outboxes()
        if not found:
            raise CommandError(
                "the outbox table 'hosthooks_outbox' is in none of the project's databases: "
                "run manage.py migrate hosthooks"
            )
        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
        config = project_configuration()
        broker_url = config["broker_url"]
        try:
            from hosthooks.deferred.celery_app import make_celery_app
            from hosthooks.deferred.celery_app import run_worker
        except ImportError as error:
            raise CommandError(
                f"deferred calls need Celery: pip install 'hosthooks[celery]' ({error})"
            ) from None
        aliases = ", ".join(str(alias) for alias in found)
        if command == "relay":
            from hosthooks.deferred.relay import Relay

            app = make_celery_app(broker_url, config["queue_visibility_timeout"])
            self.stderr.write(f"hosthooks: relaying databases {aliases}")
            stop = threading.Event()
            try:
                Relay(app, list(found.values()), keep=config["deliveries_keep"]).run(stop)
            except KeyboardInterrupt:
                stop.set()
            return
        queues = [name.strip() for name in given.queues.split(",") if name.strip()]
        self.stderr.write(f"hosthooks: worker, queues {', '.join(queues)}, databases {aliases}")
        run_worker(
            broker_url,
            config["queue_visibility_timeout"],
            queues,
            given.concurrency,
            found,
            relay=not given.no_relay,
        )
