"""Costs that stay flat and transactions that never commit half a unit: saves inside
atomic() open no savepoint, a failure marks the enclosing block for rollback,
relation changes read only the ids they are given, rows load without __init__."""

from __future__ import annotations

from typing import Any

import pytest

from hosthooks import hookimpl
from hosthooks.runtime import Database
from hosthooks.runtime import Model
from hosthooks.runtime import TransactionManagementError
from hosthooks.runtime import atomic
from hosthooks.runtime import fields
from hosthooks.runtime import migrate
from hosthooks.runtime import on_commit
from tests.bookshop.models import MODELS
from tests.bookshop.models import Author
from tests.bookshop.models import Book
from tests.bookshop.models import Tag
from tests.databases import dump
from tests.test_runtime_semantics import expanded
from tests.test_runtime_semantics import statements


class Remembering(Model):
    """A model whose own __init__ must run for loaded rows too."""

    name = fields.Text()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.remembered = f"made with {self.name}"


@pytest.fixture
def db(database_location, default_host):
    database = Database(database_location)
    migrate(database, models=[*MODELS, Remembering], verbosity=0)
    yield database
    database.close()


class RefuseNamed:
    """Refuses to save an author called ``refused``."""

    @hookimpl
    def pre_save(self, instance: Any) -> None:
        if getattr(instance, "name", None) == "refused":
            raise RuntimeError("refused by pre_save")


def test_a_save_inside_atomic_opens_no_savepoint(db):
    with statements(db) as sent, atomic():
        Author.objects.create(name="Ann")
        author = Author.objects.create(name="Bob")
        author.name = "Bert"
        author.save()
        author.delete()
    # The deletion reads what references the author; no statement is transaction control.
    assert [statement.split()[0] for statement in sent if not statement.startswith("SELECT")] == [
        "BEGIN",
        "INSERT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "COMMIT",
    ]


def test_a_save_outside_any_block_is_a_transaction_of_its_own(db):
    with statements(db) as sent:
        Author.objects.create(name="Ann")
    assert [statement.split()[0] for statement in sent] == ["BEGIN", "INSERT", "COMMIT"]


def test_a_failure_caught_inside_atomic_rolls_the_block_back(db, default_host):
    Author.objects.create(name="before")
    before = dump(db)
    default_host.register(RefuseNamed())
    ran: list[str] = []
    with pytest.raises(TransactionManagementError, match="rolled back"), atomic():
        on_commit(lambda: ran.append("committed"))
        Author.objects.create(name="half of the unit")
        with pytest.raises(RuntimeError, match="refused by pre_save"):
            Author.objects.create(name="refused")
        # The block is broken: nothing more runs in it.
        with pytest.raises(TransactionManagementError, match="no statement runs"):
            Author.objects.count()
    assert dump(db) == before
    assert ran == []
    # The next block starts clean.
    Author.objects.create(name="after")
    assert sorted(author.name for author in Author.objects.all()) == ["after", "before"]


def test_a_failure_in_a_savepoint_of_its_own_leaves_the_rest_to_commit(db, default_host):
    default_host.register(RefuseNamed())
    with atomic():
        Author.objects.create(name="kept")
        with pytest.raises(RuntimeError, match="refused by pre_save"), atomic():
            Author.objects.create(name="refused")
        Author.objects.create(name="also kept")
    assert sorted(author.name for author in Author.objects.all()) == ["also kept", "kept"]


def test_a_raising_relation_hook_inside_atomic_commits_nothing(db, default_host):
    author = Author.objects.create(name="Ann")
    book = Book.objects.create(title="T", author=author)
    tag = Tag.objects.create(label="x")
    before = dump(db)

    class RefuseAdd:
        @hookimpl
        def m2m_changed(self, action: str) -> None:
            if action == "post_add":
                raise RuntimeError("refused by m2m_changed")

    default_host.register(RefuseAdd())
    with pytest.raises(RuntimeError, match="refused by m2m_changed"), atomic():
        book.tags.add(tag)
    assert dump(db) == before


@pytest.mark.parametrize("listening", [False, True])
def test_add_reads_only_the_ids_it_is_given(db, default_host, listening):
    author = Author.objects.create(name="Ann")
    book = Book.objects.create(title="T", author=author)
    stored = Tag.objects.bulk_create([Tag(label=f"t{n}") for n in range(50)])
    book.tags.add(*stored)
    new = Tag.objects.create(label="new")
    if listening:
        pk_sets: list[Any] = []

        class Listening:
            @hookimpl
            def m2m_changed(self, action: str, pk_set: Any) -> None:
                pk_sets.append((action, pk_set))

        default_host.register(Listening())
    table = Book.tags.relation.through._meta.table
    with statements(db) as sent:
        book.tags.add(stored[0], new)
    reads = [statement for statement in sent if statement.startswith("SELECT")]
    writes = [statement for statement in sent if statement.startswith("INSERT")]
    if listening:
        assert reads == [
            f'SELECT "tag_id" FROM "{table}" WHERE "book_id" = {book.pk} '
            f'AND "tag_id" IN ({stored[0].pk}, {new.pk})'
        ]
        assert pk_sets == [("pre_add", {new.pk}), ("post_add", {new.pk})]
        assert len(writes) == 1
    else:
        # Nobody needs to know which were new: the database skips the existing pair.
        assert reads == []
        skipping = db.backend.insert_skipping_duplicates(table, ("book_id", "tag_id"))
        assert writes == [
            expanded(skipping, (book.pk, stored[0].pk)),
            expanded(skipping, (book.pk, new.pk)),
        ]
    assert book.tags.count() == 51


def test_loaded_rows_run_a_models_own_init(db):
    Remembering.objects.create(name="Ann")
    (loaded,) = Remembering.objects.all()
    assert loaded.remembered == "made with Ann"


def test_loaded_rows_are_complete_without_listeners(db):
    author = Author.objects.create(name="Ann")
    Book.objects.create(title="T", author=author, pages=3, in_print=False, extra={"a": [1]})
    (book,) = Book.objects.all()
    assert (book.title, book.author_id, book.pages, book.in_print, book.extra) == (
        "T",
        author.pk,
        3,
        False,
        {"a": [1]},
    )
    assert book.author == author
    assert book._state.db == "default"
    assert book._state.adding is False
    book.title = "U"
    book.save()
    assert Book.objects.get(pk=book.pk).title == "U"


def test_a_request_transaction_begun_by_a_save_holds_no_savepoint(db, default_host):
    with statements(db) as sent, db.atomic_from_first_write():
        Author.objects.count()
        Author.objects.create(name="Ann")
        Author.objects.create(name="Bob")
    assert [statement.split()[0] for statement in sent] == [
        "SELECT",
        "BEGIN",
        "INSERT",
        "INSERT",
        "COMMIT",
    ]


def test_a_failure_caught_in_a_request_transaction_commits_nothing(db, default_host):
    before = dump(db)
    default_host.register(RefuseNamed())
    with (
        pytest.raises(TransactionManagementError, match="rolled back"),
        db.atomic_from_first_write(),
    ):
        Author.objects.create(name="half of the unit")
        with pytest.raises(RuntimeError, match="refused by pre_save"):
            Author.objects.create(name="refused")
    assert dump(db) == before


def test_migrate_waits_for_a_write_lock_held_past_its_busy_timeout(tmp_path, default_host):
    # Another process holding SQLite's write lock (its own migration on a busy
    # machine) longer than this connection's busy timeout: the migration waits
    # for it and then finds what is missing, instead of failing the start.
    import sqlite3
    import threading

    path = tmp_path / "shared.sqlite3"
    other = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    released = threading.Timer(1.0, lambda: other.execute("COMMIT"))
    released.start()
    database = Database(str(path), busy_timeout=0.2)
    try:
        applied = migrate(database, models=MODELS, verbosity=0)
    finally:
        released.join()
        other.close()
        database.close()
    assert applied
    check = sqlite3.connect(path)
    try:
        tables = {row[0] for row in check.execute("SELECT name FROM sqlite_master")}
    finally:
        check.close()
    assert {model._meta.table for model in MODELS} <= tables
