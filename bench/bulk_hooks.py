"""What the bulk and queryset hooks cost: the runtime's bulk writes with nobody
listening, with one implementation of each hook, and with one naming ``pks``;
beside Django's ORM doing the same writes (which fires nothing).

Cases (N rows; each contender on its own SQLite file in WAL mode with
``synchronous = NORMAL``, so commits cost no fsync and the Python overhead shows):

- ``bulk_create``: ``bulk_create()`` of N new rows;
- ``update``: ``update()`` of the N rows, one statement;
- ``delete``: ``delete()`` of the N rows, the fast path (one statement).

Contenders: ``django`` (its ORM), ``hosthooks`` (nobody implements the hooks),
``hooked`` (one plain implementation of each of the eight hooks, not naming
``pks``), ``hooked+pks`` (the same naming ``pks``: the statements return the keys).
Each case's three statements run in turn once per round (create, update,
delete), rounds interleaved; medians per row and ratios are printed.

Run: ``python -m bench.bulk_hooks [--rounds 5] [--rows 2000] [--json]``
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.timing import format_table
from bench.timing import parse_arguments
from hosthooks import Host
from hosthooks import hookimpl
from hosthooks import set_default_host
from hosthooks.runtime import Database
from hosthooks.runtime import Model
from hosthooks.runtime import fields
from hosthooks.runtime import get_database
from hosthooks.runtime import migrate

CASES = ("bulk_create", "update", "delete")
CONTENDERS = ("django", "hosthooks", "hooked", "hooked+pks")


class Item(Model):
    title = fields.Text()
    rank = fields.Integer(default=0)


class _Listener:
    """One implementation of each bulk and queryset hook, naming no keys."""

    @hookimpl
    def pre_bulk_create(self, objs: Any) -> None:
        pass

    @hookimpl
    def post_bulk_create(self, objs: Any) -> None:
        pass

    @hookimpl
    def pre_queryset_update(self, values: Any) -> None:
        pass

    @hookimpl
    def post_queryset_update(self, count: int) -> None:
        pass

    @hookimpl
    def pre_queryset_delete(self, queryset: Any) -> None:
        pass

    @hookimpl
    def post_queryset_delete(self, count: int) -> None:
        pass


class _KeysListener:
    @hookimpl
    def post_queryset_update(self, pks: Any) -> None:
        pass

    @hookimpl
    def post_queryset_delete(self, pks: Any) -> None:
        pass


#: One round of a contender: the three writes, each timed, in nanoseconds.
Round = Callable[[], dict[str, int]]


def _timed(steps: dict[str, Callable[[], object]]) -> dict[str, int]:
    spent = {}
    # The collector would run at a different point for each contender.
    gc.collect()
    gc.disable()
    try:
        for case, step in steps.items():
            started = time.perf_counter_ns()
            step()
            spent[case] = time.perf_counter_ns() - started
    finally:
        gc.enable()
    return spent


def hosthooks_round(location: Path, rows: int, listeners: list[object]) -> Round:
    """A round on the runtime, with ``listeners`` registered on a host of its own."""
    host = Host()
    for number, listener in enumerate(listeners):
        host.register(listener, f"listener-{number}")
    database = Database(str(location), alias=f"bench-{location.stem}")
    set_default_host(host)
    migrate(database, models=[Item], verbosity=0)
    database.execute("PRAGMA journal_mode = WAL")
    database.execute("PRAGMA synchronous = NORMAL")
    alias = database.alias

    def run() -> dict[str, int]:
        set_default_host(host)
        # The WAL checkpoint of the round before lands in no contender's timing.
        get_database(alias).execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        objects = Item.objects.using(alias)
        spent = _timed(
            {
                "bulk_create": lambda: objects.bulk_create(
                    [Item(title="a title", rank=n) for n in range(rows)]
                ),
                "update": lambda: objects.all().update(rank=1),
                "delete": lambda: objects.all().delete(),
            }
        )
        left = get_database(alias).execute(f'SELECT COUNT(*) FROM "{Item._meta.table}"')
        assert left.fetchone()[0] == 0
        return spent

    return run


def django_round(location: Path, rows: int) -> Round:
    import django
    from django.conf import settings

    settings.configure(
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(location)}},
        INSTALLED_APPS=[],
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()
    from django.db import connection
    from django.db import models

    class DjangoItem(models.Model):  # type: ignore[misc]
        title = models.TextField()
        rank = models.IntegerField(default=0)

        class Meta:
            app_label = "bench"

    with connection.schema_editor() as editor:
        editor.create_model(DjangoItem)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")

    def run() -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return _timed(
            {
                "bulk_create": lambda: DjangoItem.objects.bulk_create(
                    [DjangoItem(title="a title", rank=n) for n in range(rows)]
                ),
                "update": lambda: DjangoItem.objects.all().update(rank=1),
                "delete": lambda: DjangoItem.objects.all().delete(),
            }
        )

    return run


def measure(rounds: int, rows: int, directory: Path) -> dict[str, dict[str, float]]:
    """Median nanoseconds per row, by case then contender, over interleaved rounds."""
    contenders: dict[str, Round] = {
        "django": django_round(directory / "django.sqlite3", rows),
        "hosthooks": hosthooks_round(directory / "plain.sqlite3", rows, []),
        "hooked": hosthooks_round(directory / "hooked.sqlite3", rows, [_Listener()]),
        "hooked+pks": hosthooks_round(
            directory / "keys.sqlite3", rows, [_Listener(), _KeysListener()]
        ),
    }
    samples: dict[str, dict[str, list[float]]] = {
        case: {name: [] for name in contenders} for case in CASES
    }
    for round_number in range(rounds + 1):
        for name, run in contenders.items():
            spent = run()
            if round_number:  # the first round warms every contender up
                for case in CASES:
                    samples[case][name].append(spent[case] / rows)
    try:
        return {
            case: {name: statistics.median(values) for name, values in by_name.items()}
            for case, by_name in samples.items()
        }
    finally:
        set_default_host(None)


def main(argv: list[str] | None = None) -> None:
    def extend(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--rows", type=int, default=2000, help="rows per write")

    arguments = parse_arguments(__doc__ or "", argv, 5, extend)
    with tempfile.TemporaryDirectory() as scratch:
        medians = measure(arguments.rounds, arguments.rows, Path(scratch))
    report: dict[str, dict[str, Any]] = {
        case: {
            "ns_per_row": {name: round(value, 1) for name, value in by_name.items()},
            "hooked_vs_hosthooks": round(by_name["hooked"] / by_name["hosthooks"], 3),
            "pks_vs_hooked": round(by_name["hooked+pks"] / by_name["hooked"], 3),
            "hosthooks_vs_django": round(by_name["hosthooks"] / by_name["django"], 3),
            "hooked_vs_django": round(by_name["hooked"] / by_name["django"], 3),
        }
        for case, by_name in medians.items()
    }
    if arguments.json:
        print(json.dumps(report))
        return
    header = ["case", *(f"{name} ns/row" for name in CONTENDERS)]
    header += ["hooked/plain", "pks/hooked", "plain/django", "hooked/django"]
    rows = [
        [
            case,
            *(f"{entry['ns_per_row'][name]:.0f}" for name in CONTENDERS),
            f"{entry['hooked_vs_hosthooks']:.2f}",
            f"{entry['pks_vs_hooked']:.2f}",
            f"{entry['hosthooks_vs_django']:.2f}",
            f"{entry['hooked_vs_django']:.2f}",
        ]
        for case, entry in report.items()
    ]
    print(f"bulk and queryset hooks, {arguments.rows} rows, {arguments.rounds} rounds (medians)")
    print(format_table(header, rows))


if __name__ == "__main__":
    main()
