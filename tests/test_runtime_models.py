"""The model layer: Django's hook semantics on a real SQLite file, and nothing lost on errors."""

from __future__ import annotations

import datetime
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from hosthooks import Host
from hosthooks import hookimpl
from hosthooks import set_default_host
from hosthooks.engine import plans
from hosthooks.runtime import Database
from hosthooks.runtime import DatabaseError
from hosthooks.runtime import IntegrityError
from hosthooks.runtime import Model
from hosthooks.runtime import ProtectedError
from hosthooks.runtime import atomic
from hosthooks.runtime import fields
from hosthooks.runtime import migrate
from hosthooks.runtime import on_commit
from tests.bookshop.models import MODELS
from tests.bookshop.models import Author
from tests.bookshop.models import Book
from tests.bookshop.models import Edition
from tests.bookshop.models import Publisher
from tests.bookshop.models import Tag
from tests.conftest import Recorder
from tests.databases import dump

THROUGH = Book.tags.relation.through


@pytest.fixture
def db(database_location, default_host):
    database = Database(database_location)
    migrate(database, models=MODELS, verbosity=0)
    yield database
    database.close()


@pytest.fixture
def calls(default_host, db) -> Recorder:
    recorder = Recorder()
    default_host.register(recorder, "recorder")
    return recorder


def raising(hook: str, when: Any = None) -> object:
    class Raiser:
        pass

    def implementation(**kwargs: Any) -> None:
        if when is None or when(kwargs):
            raise RuntimeError(f"refused by {hook}")

    spec_args = {
        "pre_save": "sender, instance",
        "post_save": "sender, instance",
        "pre_delete": "sender, instance",
        "post_delete": "sender, instance",
        "m2m_changed": "sender, instance, action",
    }[hook]
    namespace: dict[str, Any] = {"implementation": implementation}
    names = [name.strip() for name in spec_args.split(",")]
    exec(
        f"def {hook}({spec_args}):\n    implementation({', '.join(f'{n}={n}' for n in names)})\n",
        namespace,
    )
    setattr(Raiser, hook, staticmethod(hookimpl(namespace[hook])))
    return Raiser()


def summary(calls: Recorder, hooks: tuple[str, ...]) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for name, args in calls.calls:
        if name not in hooks:
            continue
        sender = args["sender"].__name__
        if name == "m2m_changed":
            rows.append(
                (
                    name,
                    sender,
                    args["action"],
                    args["reverse"],
                    args["model"].__name__,
                    args["pk_set"],
                )
            )
        elif name in ("pre_save", "post_save"):
            rows.append((name, sender, args.get("created"), args["update_fields"]))
        else:
            rows.append((name, sender, type(args["origin"]).__name__))
    return rows


def test_the_readme_scenario_fires_what_django_sends(db, calls):
    hooks = ("pre_save", "post_save", "pre_delete", "post_delete", "m2m_changed")
    a = Author(name="Ann")
    a.save()
    a.name = "Anne"
    a.save(update_fields=["name"])
    a.save(update_fields=[])
    b = Book.objects.create(title="T1", author=a)
    t = Tag.objects.create(label="x")
    b.tags.add(t)
    b.tags.add(t)
    t.books.remove(b)
    b.tags.clear()
    b.tags.set([t])
    t2 = Tag.objects.create(label="y")
    b.tags.set([t2])
    b.tags.set([t2])
    assert Book.objects.filter(author=a).update(title="U") == 1
    assert Book.objects.bulk_create([Book(title="bulk", author=a)])[0].pk is not None
    deleted = Book.objects.filter(title="bulk").delete()
    assert deleted == (1, {"bookshop.Book": 1})
    a_pk = a.pk
    assert a.delete() == (3, {"bookshop.Book_tags": 1, "bookshop.Book": 1, "bookshop.Author": 1})
    assert a.pk is None

    # The sequence Django 5.2 sends for the same code (recorded from a Django project).
    assert summary(calls, hooks) == [
        ("pre_save", "Author", None, None),
        ("post_save", "Author", True, None),
        ("pre_save", "Author", None, frozenset({"name"})),
        ("post_save", "Author", False, frozenset({"name"})),
        ("pre_save", "Book", None, None),
        ("post_save", "Book", True, None),
        ("pre_save", "Tag", None, None),
        ("post_save", "Tag", True, None),
        ("m2m_changed", "Book_tags", "pre_add", False, "Tag", {1}),
        ("m2m_changed", "Book_tags", "post_add", False, "Tag", {1}),
        ("m2m_changed", "Book_tags", "pre_add", False, "Tag", set()),
        ("m2m_changed", "Book_tags", "post_add", False, "Tag", set()),
        ("m2m_changed", "Book_tags", "pre_remove", True, "Book", {1}),
        ("m2m_changed", "Book_tags", "post_remove", True, "Book", {1}),
        ("m2m_changed", "Book_tags", "pre_clear", False, "Tag", None),
        ("m2m_changed", "Book_tags", "post_clear", False, "Tag", None),
        ("m2m_changed", "Book_tags", "pre_add", False, "Tag", {1}),
        ("m2m_changed", "Book_tags", "post_add", False, "Tag", {1}),
        ("pre_save", "Tag", None, None),
        ("post_save", "Tag", True, None),
        ("m2m_changed", "Book_tags", "pre_remove", False, "Tag", {1}),
        ("m2m_changed", "Book_tags", "post_remove", False, "Tag", {1}),
        ("m2m_changed", "Book_tags", "pre_add", False, "Tag", {2}),
        ("m2m_changed", "Book_tags", "post_add", False, "Tag", {2}),
        ("pre_delete", "Book", "QuerySet"),
        ("post_delete", "Book", "QuerySet"),
        ("pre_delete", "Book", "Author"),
        ("pre_delete", "Author", "Author"),
        ("post_delete", "Book", "Author"),
        ("post_delete", "Author", "Author"),
    ]
    origins = [args["origin"] for args in calls.named("post_delete")]
    assert origins[1] is a
    assert origins[2] is a
    assert all(args["using"] == "default" for args in calls.named("pre_save"))
    assert a_pk is not None


def test_post_delete_sees_the_primary_key(db, default_host):
    seen = []

    class Plugin:
        @hookimpl
        def post_delete(self, instance):
            seen.append(instance.pk)

    author = Author.objects.create(name="Ann")
    pk = author.pk
    default_host.register(Plugin())
    author.delete()
    assert seen == [pk]


def test_init_hooks_fire_for_new_and_loaded_instances(db, calls):
    author = Author(name="Ann")
    author.save()
    calls.calls.clear()
    loaded = Author.objects.get(pk=author.pk)
    assert calls.hooks() == ["pre_init", "post_init"]
    assert calls.named("pre_init")[0]["args"] == (author.pk, "Ann")
    assert calls.named("pre_init")[0]["kwargs"] == {}
    assert calls.named("post_init")[0]["instance"] is loaded
    calls.calls.clear()
    Author(name="Bob")
    # The very dict __init__ consumes, as in Django: empty once it returned.
    assert calls.named("pre_init")[0]["kwargs"] == {}


def test_class_prepared_is_historic(default_host):
    class Late(Model):
        note = fields.Text()

    seen = []

    class Plugin:
        @hookimpl
        def class_prepared(self, sender):
            seen.append(sender)

    default_host.register(Plugin())
    assert Late in seen


@pytest.mark.parametrize(
    ("hook", "action"),
    [
        ("pre_save", "create"),
        ("post_save", "create"),
        ("pre_save", "update"),
        ("post_save", "update"),
        ("pre_delete", "delete"),
        ("post_delete", "delete"),
        ("pre_delete", "queryset-delete"),
        ("m2m_changed", "add"),
        ("m2m_changed", "remove"),
        ("m2m_changed", "clear"),
        ("m2m_changed", "set"),
    ],
)
def test_a_raising_hook_leaves_the_database_exactly_as_before(db, default_host, hook, action):
    author = Author.objects.create(name="Ann")
    book = Book.objects.create(title="T", author=author)
    tag, other = Tag.objects.create(label="x"), Tag.objects.create(label="y")
    book.tags.add(tag)
    before = dump(db)
    # The last implementation to run raises, after the others did their part.
    default_host.register(
        raising(
            hook,
            when=lambda kwargs: (
                kwargs.get("action", "post_x").startswith("post") or hook != "m2m_changed"
            ),
        ),
        "raiser",
    )

    def update() -> None:
        author.name = "Changed"
        author.save()

    operations = {
        "create": lambda: Author.objects.create(name="Bob"),
        "update": update,
        "delete": author.delete,
        "queryset-delete": Author.objects.all().delete,
        "add": lambda: book.tags.add(other),
        "remove": lambda: book.tags.remove(tag),
        "clear": book.tags.clear,
        "set": lambda: book.tags.set([other]),
    }
    with pytest.raises(RuntimeError, match=f"refused by {hook}"):
        operations[action]()
    assert dump(db) == before
    assert author.pk is not None


def test_update_and_bulk_create_fire_no_save_hooks_only_hosthooks_own(db, calls):
    author = Author.objects.create(name="Ann")
    calls.calls.clear()
    Author.objects.bulk_create([Author(name="B"), Author(name="C")])
    Author.objects.filter(name="B").update(name="Bee")
    author.save(update_fields=[])
    assert [name for name in calls.hooks() if name not in ("pre_init", "post_init")] == [
        "pre_bulk_create",
        "post_bulk_create",
        "pre_queryset_update",
        "post_queryset_update",
    ]
    assert sorted(a.name for a in Author.objects.all()) == ["Ann", "Bee", "C"]


def test_bulk_create_gives_each_instance_its_rows_id(db):
    made = Author.objects.bulk_create([Author(name=f"a{n}") for n in range(5)])
    assert [(a.pk, a.name) for a in made] == [(a.pk, a.name) for a in Author.objects.order_by("pk")]
    assert len({a.pk for a in made}) == 5
    assert Author.objects.bulk_create([]) == []


def test_protect_refuses_and_set_null_nulls(db, default_host):
    author = Author.objects.create(name="Ann")
    reviewer = Author.objects.create(name="Rev")
    book = Book.objects.create(title="T", author=author)
    publisher = Publisher.objects.create(name="P")
    edition = Edition.objects.create(book=book, publisher=publisher, reviewer=reviewer)
    before = dump(db)
    with pytest.raises(ProtectedError, match=r"protected foreign keys: 'Edition\.publisher'"):
        publisher.delete()
    assert dump(db) == before
    reviewer.delete()
    edition.refresh_from_db()
    assert edition.reviewer is None
    assert edition.book == book
    author.delete()  # cascades to the book, then its edition
    assert not Edition.objects.exists()
    publisher.delete()


def test_on_commit_runs_after_the_outermost_commit_only(db):
    ran: list[str] = []
    on_commit(lambda: ran.append("immediate"))
    with atomic():
        on_commit(lambda: ran.append("outer"))
        with atomic():
            on_commit(lambda: ran.append("inner"))
        assert ran == ["immediate"]
        with pytest.raises(ValueError, match="savepoint"), atomic():
            on_commit(lambda: ran.append("rolled back savepoint"))
            Author.objects.create(name="gone")
            raise ValueError("savepoint")
    assert ran == ["immediate", "outer", "inner"]
    with pytest.raises(ValueError, match="outer"), atomic():
        on_commit(lambda: ran.append("never"))
        raise ValueError("outer")
    assert ran == ["immediate", "outer", "inner"]
    assert not Author.objects.filter(name="gone").exists()


def test_on_commit_outside_a_transaction_opens_no_connection(tmp_path, default_host):
    opened: list[object] = []

    class Watches:
        @hookimpl
        def connection_created(self, connection):
            opened.append(connection)

    default_host.register(Watches(), "watches")
    database = Database(tmp_path / "untouched.sqlite3")
    try:
        ran: list[str] = []
        on_commit(lambda: ran.append("at once"))
        assert ran == ["at once"]
        # Asking whether a transaction is open needs no connection: none was
        # opened, announced, or left for the collector to finalize.
        assert (opened, database._all_connections) == ([], [])
    finally:
        database.close()


def test_a_plugin_can_defer_work_until_commit(db, default_host):
    committed: list[Any] = []

    class Deferring:
        @hookimpl
        def post_save(self, instance):
            on_commit(lambda: committed.append(Author.objects.get(pk=instance.pk).name))

    default_host.register(Deferring())
    with atomic():
        Author.objects.create(name="Ann")
        assert committed == []
    assert committed == ["Ann"]


HOSTILE = [
    "Robert'); DROP TABLE bookshop_author;--",
    'quote " and \\ back',
    "100%_done",
    "naïve ☃ 𝄞",
    "<script>alert(1)</script>",
    "",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_round_trip(db, text):
    author = Author.objects.create(name=text)
    assert Author.objects.get(pk=author.pk).name == text
    assert Author.objects.filter(name=text).count() == 1
    if text:
        assert Author.objects.filter(name__contains=text).count() == 1
    assert Author.objects.filter(name__contains="%").count() == (1 if "%" in text else 0)


def test_a_nul_character_round_trips_on_sqlite_and_is_refused_by_postgresql(db):
    text = "nul\x00byte"
    if db.vendor == "postgresql":
        # PostgreSQL's text type cannot hold U+0000: a clear error, nothing written.
        with pytest.raises(DatabaseError, match=r"cannot contain NUL"):
            Author.objects.create(name=text)
        assert Author.objects.count() == 0
        return
    author = Author.objects.create(name=text)
    assert Author.objects.get(pk=author.pk).name == text


def test_field_types_and_lookups(db):
    author = Author.objects.create(name="Ann")
    when = datetime.datetime(2024, 5, 1, 12, 30)
    Book.objects.create(
        title="A",
        author=author,
        pages=10,
        price=9.5,
        in_print=False,
        published=when,
        extra={"isbn": [1, 2]},
    )
    Book.objects.create(title="B", author=author, pages=30)
    loaded = Book.objects.get(title="A")
    assert (loaded.pages, loaded.price, loaded.in_print, loaded.published, loaded.extra) == (
        10,
        9.5,
        False,
        when,
        {"isbn": [1, 2]},
    )
    assert loaded.author == author
    assert [b.title for b in Book.objects.filter(pages__gt=5).order_by("-title")] == ["B", "A"]
    assert Book.objects.filter(pages__lt=20).count() == 1
    assert Book.objects.filter(title__in=["A", "Z"]).count() == 1
    assert Book.objects.exclude(title="A").first().title == "B"
    assert Book.objects.get_or_create(title="B", author=author)[1] is False
    assert Book.objects.get_or_create(title="C", author=author)[1] is True
    with pytest.raises(Book.DoesNotExist):
        Book.objects.get(title="nope")
    with pytest.raises(Book.MultipleObjectsReturned):
        Book.objects.get(author=author)
    with pytest.raises(LookupError, match="has no field 'colour'"):
        Book.objects.filter(colour="red")


def test_integers_beyond_64_bits_match_as_django_says_and_are_never_written(db):
    # Django on SQLite: an exact match with such an int is empty, a comparison
    # with it all or nothing; the driver cannot send it, so an OverflowError
    # escaped from every one of these before.
    author = Author.objects.create(name="Ann")
    book = Book.objects.create(title="A", author=author, pages=10)
    huge = 10**30
    assert list(Author.objects.filter(pk=huge)) == []
    assert Author.objects.filter(pk=2**63).count() == 0
    assert Author.objects.filter(pk=2**63 - 1).count() == 0  # the largest stored id: sent as is
    assert not Author.objects.filter(pk=-huge).exists()
    with pytest.raises(Author.DoesNotExist):
        Author.objects.get(pk=huge)
    assert Author.objects.filter(pk__lt=huge).count() == 1
    assert Author.objects.filter(pk__lte=-huge).count() == 0
    assert Author.objects.filter(pk__gt=huge).count() == 0
    assert Author.objects.filter(pk__gte=-huge).count() == 1
    assert [a.pk for a in Author.objects.exclude(pk=huge)] == [author.pk]
    assert [a.pk for a in Author.objects.filter(pk__in=[author.pk, huge])] == [author.pk]
    assert Author.objects.filter(pk__in=[huge]).count() == 0
    assert Book.objects.filter(author=huge).count() == 0
    assert Book.objects.filter(pages__lte=huge, author=author).get() == book
    assert Book.objects.filter(pages=huge).update(title="never") == 0
    before = dump(db)
    # A value no column holds is refused with the database's one-line error.
    with pytest.raises(DatabaseError, match="out of range"):
        Book.objects.create(title="B", author=author, pages=huge)
    with pytest.raises(DatabaseError, match="out of range"):
        Book.objects.filter(pk=book.pk).update(pages=huge)
    with pytest.raises(DatabaseError, match="out of range"), atomic():
        Author.objects.create(pk=huge, name="Bo")
    assert dump(db) == before


def test_constraint_violations_write_nothing(db):
    Tag.objects.create(label="x")
    before = dump(db)
    with pytest.raises(IntegrityError, match="UNIQUE"):
        Tag.objects.create(label="x")
    with pytest.raises(IntegrityError, match="NOT NULL"):
        Author.objects.create(name=None)
    with pytest.raises(ValueError, match="update_fields"):
        Author(name="new").save(update_fields=["name"])
    with pytest.raises(ValueError, match="has no field 'nope'"):
        Tag.objects.get(label="x").save(update_fields=["nope"])
    assert dump(db) == before


def test_a_locked_database_is_a_clear_error(tmp_path, default_host):
    database = Database(tmp_path / "locked.sqlite3", busy_timeout=0.1)
    migrate(database, models=MODELS, verbosity=0)
    other = sqlite3.connect(tmp_path / "locked.sqlite3", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with pytest.raises(
            DatabaseError, match=r"is locked by another connection \(waited 0.1 s\)"
        ):
            Author.objects.create(name="Ann")
        waited = time.monotonic() - started
    finally:
        other.execute("ROLLBACK")
        other.close()
    # The timeout given, not the default 5 s (a generous bound: busy CI machines).
    assert 0.1 <= waited < 2
    Author.objects.create(name="Ann")
    assert Author.objects.count() == 1
    database.close()


def test_a_read_only_database_is_a_clear_error(tmp_path, default_host):
    class ReadOnly:
        @hookimpl
        def connection_created(self, connection):
            connection.execute("PRAGMA query_only = ON")

    database = Database(tmp_path / "ro.sqlite3")
    migrate(database, models=MODELS, verbosity=0)
    database.close()
    default_host.register(ReadOnly())
    with pytest.raises(DatabaseError, match="is read-only"):
        Author.objects.create(name="Ann")
    database.close()


def test_a_connection_per_thread_each_announced(db, default_host):
    announced = []

    class Plugin:
        @hookimpl
        def connection_created(self, sender, connection):
            announced.append((sender, connection))

    default_host.register(Plugin())
    db.close()
    Author.objects.create(name="main thread")
    worker = threading.Thread(target=lambda: Author.objects.create(name="worker"))
    worker.start()
    worker.join(timeout=30)
    assert [sender for sender, _ in announced] == [Database, Database]
    assert announced[0][1] is not announced[1][1]
    assert Author.objects.count() == 2


def test_a_sqlite_file_is_opened_in_wal_mode(tmp_path, default_host):
    database = Database(tmp_path / "wal.sqlite3")
    assert database.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    database.close()


def test_migrate_fires_around_the_plan_and_adds_what_is_missing(database_location, default_host):
    recorder = Recorder()
    default_host.register(recorder, "recorder")
    database = Database(database_location)
    plan = migrate(database, models=MODELS, verbosity=0)
    # The models' tables, then the outbox of deferred calls with its indexes (two
    # on SQLite; PostgreSQL adds one of the calls just written).
    indexes = 3 if database.vendor == "postgresql" else 2
    assert [op.kind for op in plan] == ["create_table"] * (len(MODELS) + 1) + [
        "create_index"
    ] * indexes
    assert [op.model for op in plan][:3] == ["bookshop.Author", "bookshop.Tag", "bookshop.Book"]
    assert {op.model for op in plan[len(MODELS) :]} == {"hosthooks.outbox"}
    [pre], [post] = recorder.named("pre_migrate"), recorder.named("post_migrate")
    assert pre["sender"].__name__ == "tests.bookshop.models"
    assert pre["app_config"] is pre["sender"]
    assert pre["plan"] == plan
    assert post["using"] == "default"
    assert migrate(database, models=MODELS, verbosity=0) == []
    assert len(recorder.named("post_migrate")) == 2
    database.execute('ALTER TABLE "bookshop_book" DROP COLUMN "pages"')
    added = migrate(database, models=MODELS, verbosity=0)
    assert [(op.kind, op.model) for op in added] == [("add_column", "bookshop.Book")]
    database.close()


def test_a_hook_nobody_implements_is_never_called(db, monkeypatch):
    host = Host()
    set_default_host(host)
    touched: list[str] = []
    real = plans.build_call

    def spy(hook_caller: Any, *args: Any, **kwargs: Any) -> Any:
        # A hook's first call after a change builds its plan.
        touched.append(hook_caller.name)
        return real(hook_caller, *args, **kwargs)

    monkeypatch.setattr(plans, "build_call", spy)
    author = Author.objects.create(name="Ann")
    author.name = "Anne"
    author.save()
    list(Author.objects.all())
    author.delete()
    assert touched == []

    class Listener:
        @hookimpl
        def post_save(self):
            pass

    host.register(Listener())
    Author.objects.create(name="Bob")
    assert touched == ["post_save"]


def test_a_relation_holds_each_pair_once(db):
    author = Author.objects.create(name="Ann")
    book = Book.objects.create(title="T", author=author)
    tag = Tag.objects.create(label="x")
    book.tags.add(tag, tag.pk)
    assert [t.label for t in book.tags.all()] == ["x"]
    table = THROUGH._meta.table
    with pytest.raises(IntegrityError, match="UNIQUE"):
        db.execute(f'INSERT INTO "{table}" ("book_id", "tag_id") VALUES (?, ?)', [book.pk, tag.pk])


def test_the_readme_example_runs_as_written(tmp_path):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    example = next(
        block
        for block in re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
        if "from hosthooks.runtime import Database" in block
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOSTHOOKS_")}
    env["HOSTHOOKS_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    result = subprocess.run(
        [sys.executable, "-c", example + "\nprint(Author.objects.count(), Book.objects.count())"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "0 0\n"
    assert (tmp_path / "app.sqlite3").exists()
