"""``Model.save()`` of a new row on a file database, beside a raw sqlite3 INSERT and Django's ORM.

Contenders, in one process with interleaved rounds:

- ``raw``: ``sqlite3`` INSERT of the same row, autocommit, WAL file;
- ``hosthooks``: ``Note(title=..., body=...).save()`` with no plugins;
- ``hosthooks+5``: the same with 5 implementations each of pre_save and post_save;
- ``django``: Django's ORM ``save()`` of the same model on its own SQLite file.

Run: ``python -m bench.save [--rounds 9] [--synchronous full|normal] [--json]``
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.timing import format_table
from bench.timing import interleaved_medians
from bench.timing import parse_arguments
from hosthooks import Host
from hosthooks import hookimpl
from hosthooks import set_default_host
from hosthooks.runtime import Database
from hosthooks.runtime import Model
from hosthooks.runtime import fields
from hosthooks.runtime import migrate


class Note(Model):
    title = fields.Text()
    body = fields.Text()


class _Listener:
    @hookimpl
    def pre_save(self, sender: Any, instance: Any) -> None:
        pass

    @hookimpl
    def post_save(self, sender: Any, instance: Any, created: bool) -> None:
        pass


def _django_saver(directory: Path, synchronous: str) -> Callable[[int], None]:
    import django
    from django.conf import settings

    settings.configure(
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(directory / "dj.sqlite3"),
            }
        },
        INSTALLED_APPS=[],
    )
    django.setup()
    from django.db import connection
    from django.db import models

    class DjangoNote(models.Model):  # type: ignore[misc]
        title = models.TextField()
        body = models.TextField()

        class Meta:
            app_label = "bench"

    with connection.schema_editor() as editor:
        editor.create_model(DjangoNote)
    connection.cursor().execute("PRAGMA journal_mode = WAL")
    connection.cursor().execute(f"PRAGMA synchronous = {synchronous}")

    def run(loops: int) -> None:
        for _ in range(loops):
            DjangoNote(title="a title", body="a body").save()

    return run


def contenders(directory: Path, synchronous: str) -> dict[str, Callable[[int], None]]:
    bare, busy = Host(), Host()
    for _ in range(5):
        busy.register(_Listener())
    set_default_host(bare)
    database = Database(directory / "hh.sqlite3")
    migrate(database, models=[Note], verbosity=0)
    raw = sqlite3.connect(directory / "raw.sqlite3", isolation_level=None)
    raw.execute("PRAGMA journal_mode = WAL")
    raw.execute(f"PRAGMA synchronous = {synchronous}")
    # The benchmark runs in one thread: this thread's connection is the one saves use.
    database.execute(f"PRAGMA synchronous = {synchronous}")
    raw.execute("CREATE TABLE note (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT, body TEXT)")

    def run_raw(loops: int) -> None:
        for _ in range(loops):
            raw.execute("INSERT INTO note (title, body) VALUES (?, ?)", ("a title", "a body"))

    def saver(host: Host) -> Callable[[int], None]:
        def run(loops: int) -> None:
            set_default_host(host)
            for _ in range(loops):
                Note(title="a title", body="a body").save()

        return run

    return {
        "raw": run_raw,
        "hosthooks": saver(bare),
        "hosthooks+5": saver(busy),
        "django": _django_saver(directory, synchronous),
    }


def main(argv: list[str] | None = None) -> int:
    def synchronous_option(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--synchronous",
            choices=["full", "normal"],
            default="full",
            help="SQLite's synchronous setting for every contender (default: full, "
            "SQLite's default, an fsync per commit; normal: WAL's usual setting)",
        )

    args = parse_arguments(
        "Model.save() of a new row, beside raw sqlite3",
        argv,
        default_rounds=9,
        extend=synchronous_option,
    )
    with tempfile.TemporaryDirectory() as directory:
        medians = interleaved_medians(contenders(Path(directory), args.synchronous), args.rounds)
    set_default_host(None)
    median_us = {name: value / 1000 for name, value in medians.items()}
    result = {
        "median_us": median_us,
        "hosthooks_vs_raw": medians["hosthooks"] / medians["raw"],
        "hosthooks5_vs_raw": medians["hosthooks+5"] / medians["raw"],
        "django_vs_hosthooks": medians["django"] / medians["hosthooks"],
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    version = sys.version.split()[0]
    print(
        f"save() of a new row, synchronous={args.synchronous}; medians of {args.rounds} "
        f"interleaved rounds, Python {version}"
    )
    rows = [[name, f"{value:.1f}"] for name, value in median_us.items()]
    print(format_table(["contender", "us per save"], rows))
    print(
        f"hosthooks/raw {result['hosthooks_vs_raw']:.2f}  "
        f"hosthooks+5/raw {result['hosthooks5_vs_raw']:.2f}"
        f"  django/hosthooks {result['django_vs_hosthooks']:.2f}"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
