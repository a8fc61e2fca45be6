"""The model layer where the work grows: saves inside one transaction, bulk inserts,
many-to-many adds, loading many rows; beside raw sqlite3 and Django's ORM.

Cases (N rows, M pairs; each contender on its own SQLite file in WAL mode with
``synchronous = NORMAL``, so commits cost no fsync and the Python overhead shows):

- ``save-in-atomic``: N ``save()`` of new rows inside one ``atomic()``; raw: N INSERTs
  between BEGIN and COMMIT;
- ``bulk``: ``bulk_create()`` of N rows; raw: one ``executemany`` in a transaction;
- ``m2m-add-single``: M ``add()`` calls, one new pair each, each its own transaction;
  raw: one INSERT each;
- ``m2m-add-many``: one ``add()`` of M objects; raw: one ``executemany``;
- ``load-0``: loading N rows as instances, nobody listening; raw: ``fetchall()``;
- ``load-3``: the same with 3 implementations each of ``pre_init`` and ``post_init``
  (3 receivers each in Django); raw: ``fetchall()``.

Each case is timed once per contender per round, rounds interleaved; the table and
the JSON give medians per operation (per row, per pair, per call) and ratios.

Run: ``python -m bench.model_layer [--rounds 5] [--rows 10000] [--pairs 1000] [--json]``
"""

from __future__ import annotations

import argparse
import gc
import json
import sqlite3
import statistics
import sys
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
from hosthooks.runtime import atomic
from hosthooks.runtime import fields
from hosthooks.runtime import get_database
from hosthooks.runtime import migrate

CONTENDERS = ("raw", "hosthooks", "django")
#: Case -> (the ratio its goal bounds, the bound), from the model-layer goals.
GOALS: dict[str, tuple[str, float]] = {
    "save-in-atomic": ("hosthooks_vs_raw", 2.5),
    "m2m-add-single": ("hosthooks_vs_django", 0.6),
    "m2m-add-many": ("hosthooks_vs_django", 0.5),
    "load-0": ("hosthooks_vs_django", 0.7),
    "load-3": ("hosthooks_vs_django", 0.6),
}
LISTENERS = 3


class Entry(Model):
    title = fields.Text()
    body = fields.Text()
    rank = fields.Integer(default=0)


class Record(Model):
    """The rows loaded: a table of its own, so writes by other cases do not grow it."""

    title = fields.Text()
    body = fields.Text()
    rank = fields.Integer(default=0)


class Label(Model):
    name = fields.Text()


class Shelf(Model):
    name = fields.Text()
    labels = fields.ManyToMany(Label, related_name="shelves")


class _InitListener:
    @hookimpl
    def pre_init(self, sender: Any, args: Any, kwargs: Any) -> None:
        pass

    @hookimpl
    def post_init(self, sender: Any, instance: Any) -> None:
        pass


#: A case for one contender: ``prepare()`` (untimed) returns ``run``, which does
#: the timed work and returns how many operations it did.
Case = Callable[[], Callable[[], int]]


def _configure_sqlite(connection: sqlite3.Connection) -> None:
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")


def raw_cases(directory: Path, rows: int, pairs: int) -> dict[str, Case]:
    connection = sqlite3.connect(directory / "raw.sqlite3", isolation_level=None)
    _configure_sqlite(connection)
    connection.execute(
        "CREATE TABLE entry (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, "
        "body TEXT NOT NULL, rank INTEGER NOT NULL)"
    )
    connection.execute(
        "CREATE TABLE record (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, "
        "body TEXT NOT NULL, rank INTEGER NOT NULL)"
    )
    connection.execute("CREATE TABLE shelf (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT)")
    connection.execute("CREATE TABLE label (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT)")
    connection.execute(
        "CREATE TABLE shelf_labels (id INTEGER PRIMARY KEY AUTOINCREMENT, shelf_id INTEGER, "
        "label_id INTEGER, UNIQUE (shelf_id, label_id))"
    )
    connection.executemany(
        "INSERT INTO label (name) VALUES (?)", [(f"l{n}",) for n in range(pairs)]
    )
    label_ids = [row[0] for row in connection.execute("SELECT id FROM label")]
    insert = "INSERT INTO entry (title, body, rank) VALUES (?, ?, ?)"
    connection.execute("BEGIN")
    connection.executemany(
        "INSERT INTO record (title, body, rank) VALUES (?, ?, ?)",
        [("a title", "a body", n) for n in range(rows)],
    )
    connection.execute("COMMIT")

    def new_shelf() -> int:
        cursor = connection.execute("INSERT INTO shelf (name) VALUES ('s')")
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def save_in_atomic() -> Callable[[], int]:
        def run() -> int:
            connection.execute("BEGIN")
            for n in range(rows):
                connection.execute(insert, ("a title", "a body", n))
            connection.execute("COMMIT")
            return rows

        return run

    def bulk() -> Callable[[], int]:
        def run() -> int:
            connection.execute("BEGIN")
            connection.executemany(insert, [("a title", "a body", n) for n in range(rows)])
            connection.execute("COMMIT")
            return rows

        return run

    def add_single() -> Callable[[], int]:
        shelf = new_shelf()

        def run() -> int:
            for label in label_ids:
                connection.execute(
                    "INSERT INTO shelf_labels (shelf_id, label_id) VALUES (?, ?)", (shelf, label)
                )
            return pairs

        return run

    def add_many() -> Callable[[], int]:
        shelf = new_shelf()

        def run() -> int:
            connection.execute("BEGIN")
            connection.executemany(
                "INSERT INTO shelf_labels (shelf_id, label_id) VALUES (?, ?)",
                [(shelf, label) for label in label_ids],
            )
            connection.execute("COMMIT")
            return 1

        return run

    def load() -> Callable[[], int]:
        def run() -> int:
            connection.execute("SELECT id, title, body, rank FROM record").fetchall()
            return rows

        return run

    return {
        "save-in-atomic": save_in_atomic,
        "bulk": bulk,
        "m2m-add-single": add_single,
        "m2m-add-many": add_many,
        "load-0": load,
        "load-3": load,
    }


def hosthooks_cases(location: str, rows: int, pairs: int) -> dict[str, Case]:
    """The cases on the runtime's database at ``location`` (a SQLite path or a URL)."""
    bare, listening = Host(), Host()
    for _ in range(LISTENERS):
        listening.register(_InitListener())
    set_default_host(bare)
    database = Database(location, alias="bench")
    models = [Entry, Record, Label, Shelf, Shelf.labels.relation.through]
    migrate(database, models=models, verbosity=0)
    if database.vendor == "sqlite":
        _configure_sqlite(database.connection)
    labels = Label.objects.using("bench").bulk_create([Label(name=f"l{n}") for n in range(pairs)])
    Record.objects.using("bench").bulk_create(
        [Record(title="a title", body="a body", rank=n) for n in range(rows)]
    )

    def on(host: Host, run: Callable[[], int]) -> Callable[[], int]:
        set_default_host(host)
        return run

    def save_in_atomic() -> Callable[[], int]:
        def run() -> int:
            with atomic("bench"):
                for n in range(rows):
                    Entry(title="a title", body="a body", rank=n).save(using="bench")
            return rows

        return on(bare, run)

    def bulk() -> Callable[[], int]:
        def run() -> int:
            Entry.objects.using("bench").bulk_create(
                [Entry(title="a title", body="a body", rank=n) for n in range(rows)]
            )
            return rows

        return on(bare, run)

    def add_single() -> Callable[[], int]:
        set_default_host(bare)
        shelf = Shelf.objects.using("bench").create(name="s")

        def run() -> int:
            for label in labels:
                shelf.labels.add(label)
            return pairs

        return run

    def add_many() -> Callable[[], int]:
        set_default_host(bare)
        shelf = Shelf.objects.using("bench").create(name="s")

        def run() -> int:
            shelf.labels.add(*labels)
            return 1

        return run

    def load(host: Host) -> Case:
        def prepare() -> Callable[[], int]:
            def run() -> int:
                loaded = list(Record.objects.using("bench").all())
                assert len(loaded) == rows
                return rows

            return on(host, run)

        return prepare

    return {
        "save-in-atomic": save_in_atomic,
        "bulk": bulk,
        "m2m-add-single": add_single,
        "m2m-add-many": add_many,
        "load-0": load(bare),
        "load-3": load(listening),
    }


def django_cases(database: dict[str, Any], rows: int, pairs: int) -> dict[str, Case]:
    """The cases on Django's ORM, ``database`` its DATABASES["default"]."""
    import django
    from django.conf import settings

    settings.configure(
        DATABASES={"default": database},
        INSTALLED_APPS=[],
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()
    from django.db import connection
    from django.db import models
    from django.db import transaction
    from django.db.models import signals

    class DjangoEntry(models.Model):  # type: ignore[misc]
        title = models.TextField()
        body = models.TextField()
        rank = models.IntegerField(default=0)

        class Meta:
            app_label = "bench"

    class DjangoRecord(models.Model):  # type: ignore[misc]
        title = models.TextField()
        body = models.TextField()
        rank = models.IntegerField(default=0)

        class Meta:
            app_label = "bench"

    class DjangoLabel(models.Model):  # type: ignore[misc]
        name = models.TextField()

        class Meta:
            app_label = "bench"

    class DjangoShelf(models.Model):  # type: ignore[misc]
        name = models.TextField()
        labels = models.ManyToManyField(DjangoLabel, related_name="shelves")

        class Meta:
            app_label = "bench"

    with connection.schema_editor() as editor:
        for model in (DjangoEntry, DjangoRecord, DjangoLabel, DjangoShelf):
            editor.create_model(model)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
    labels = DjangoLabel.objects.bulk_create([DjangoLabel(name=f"l{n}") for n in range(pairs)])
    DjangoRecord.objects.bulk_create(
        [DjangoRecord(title="a title", body="a body", rank=n) for n in range(rows)]
    )
    receivers = [lambda sender, **kwargs: None for _ in range(LISTENERS)]

    def listen(on: bool) -> None:
        for receiver in receivers:
            for signal in (signals.pre_init, signals.post_init):
                if on:
                    signal.connect(receiver, weak=False)
                else:
                    signal.disconnect(receiver)

    def save_in_atomic() -> Callable[[], int]:
        listen(False)

        def run() -> int:
            with transaction.atomic():
                for n in range(rows):
                    DjangoEntry(title="a title", body="a body", rank=n).save()
            return rows

        return run

    def bulk() -> Callable[[], int]:
        listen(False)

        def run() -> int:
            DjangoEntry.objects.bulk_create(
                [DjangoEntry(title="a title", body="a body", rank=n) for n in range(rows)]
            )
            return rows

        return run

    def add_single() -> Callable[[], int]:
        listen(False)
        shelf = DjangoShelf.objects.create(name="s")

        def run() -> int:
            for label in labels:
                shelf.labels.add(label)
            return pairs

        return run

    def add_many() -> Callable[[], int]:
        listen(False)
        shelf = DjangoShelf.objects.create(name="s")

        def run() -> int:
            shelf.labels.add(*labels)
            return 1

        return run

    def load(listening: bool) -> Case:
        def prepare() -> Callable[[], int]:
            listen(listening)

            def run() -> int:
                loaded = list(DjangoRecord.objects.all())
                assert len(loaded) == rows
                return rows

            return run

        return prepare

    return {
        "save-in-atomic": save_in_atomic,
        "bulk": bulk,
        "m2m-add-single": add_single,
        "m2m-add-many": add_many,
        "load-0": load(False),
        "load-3": load(True),
    }


def measure(contenders: dict[str, dict[str, Case]], rounds: int) -> dict[str, dict[str, float]]:
    """Median microseconds per operation, by case then contender, over interleaved rounds."""
    cases = list(next(iter(contenders.values())))
    samples: dict[str, dict[str, list[float]]] = {
        case: {name: [] for name in contenders} for case in cases
    }
    for _ in range(rounds):
        for case in cases:
            for name, by_case in contenders.items():
                run = by_case[case]()
                # Each timing starts from the same heap: garbage another contender
                # left would otherwise be collected on this one's time.
                gc.collect()
                started = time.perf_counter_ns()
                operations = run()
                elapsed = time.perf_counter_ns() - started
                samples[case][name].append(elapsed / operations / 1000)
    return {
        case: {name: statistics.median(values) for name, values in by_name.items()}
        for case, by_name in samples.items()
    }


def report(
    medians: dict[str, dict[str, float]], goals: dict[str, tuple[str, float]]
) -> dict[str, Any]:
    cases: dict[str, Any] = {}
    for case, median_us in medians.items():
        entry: dict[str, Any] = {
            "median_us": median_us,
            "hosthooks_vs_raw": median_us["hosthooks"] / median_us["raw"],
            "hosthooks_vs_django": median_us["hosthooks"] / median_us["django"],
            "goal": None,
            "met": None,
        }
        if case in goals:
            ratio, bound = goals[case]
            entry["goal"] = f"{ratio} <= {bound}"
            entry["met"] = entry[ratio] <= bound
        cases[case] = entry
    return cases


def main(argv: list[str] | None = None) -> int:
    def sizes(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--rows", type=int, default=10_000, help="N (default 10000)")
        parser.add_argument("--pairs", type=int, default=1000, help="M (default 1000)")

    args = parse_arguments(
        "The model layer beside raw sqlite3 and Django", argv, default_rounds=5, extend=sizes
    )
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        contenders = {
            "raw": raw_cases(directory, args.rows, args.pairs),
            "hosthooks": hosthooks_cases(str(directory / "hh.sqlite3"), args.rows, args.pairs),
            "django": django_cases(
                {"ENGINE": "django.db.backends.sqlite3", "NAME": str(directory / "dj.db")},
                args.rows,
                args.pairs,
            ),
        }
        medians = measure(contenders, args.rounds)
        set_default_host(None)
        get_database("bench").close()
    result = {
        "rows": args.rows,
        "pairs": args.pairs,
        "rounds": args.rounds,
        "cases": report(medians, GOALS),
    }
    show(result, "model layer", as_json=args.json)
    return 0


def show(result: dict[str, Any], title: str, *, as_json: bool) -> None:
    """Print ``result`` as a table then one line of JSON, or (``as_json``) as JSON only."""
    if as_json:
        print(json.dumps(result, indent=2))
        return
    version = sys.version.split()[0]
    print(
        f"{title}, N={result['rows']} rows, M={result['pairs']} pairs; medians of "
        f"{result['rounds']} interleaved rounds, Python {version}; us per row (saves, bulk, "
        "loads), per pair (single adds), per call (one add of M)"
    )
    rows = []
    for case, entry in result["cases"].items():
        median_us = entry["median_us"]
        met = "" if entry["met"] is None else ("met" if entry["met"] else "MISSED")
        rows.append(
            [
                case,
                *(f"{median_us[name]:.2f}" for name in CONTENDERS),
                f"{entry['hosthooks_vs_raw']:.2f}",
                f"{entry['hosthooks_vs_django']:.2f}",
                entry["goal"] or "",
                met,
            ]
        )
    header = ["case", *CONTENDERS, "hh/raw", "hh/django", "goal", ""]
    print(format_table(header, rows))
    print(json.dumps(result))


if __name__ == "__main__":
    raise SystemExit(main())
