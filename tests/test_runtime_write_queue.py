"""Writers of one process take turns on a SQLite file first come, first served:
none starves while others take the lock again and again, the time in line counts
against the busy timeout, and every way a transaction ends gives its turn up."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable

import pytest

from hosthooks.runtime import Database
from hosthooks.runtime import DatabaseError
from hosthooks.runtime import IntegrityError
from hosthooks.runtime import TransactionManagementError
from hosthooks.runtime import atomic
from hosthooks.runtime import migrate
from hosthooks.runtime import on_commit
from hosthooks.runtime.backends.write_queue import write_queue_for
from tests.bookshop.models import MODELS
from tests.bookshop.models import Author
from tests.bookshop.models import Book

#: Short, so that a turn never given up fails a test in half a second.
BUSY_TIMEOUT = 0.5


@pytest.fixture
def db(tmp_path, default_host):
    database = Database(tmp_path / "queue.sqlite3", busy_timeout=BUSY_TIMEOUT)
    migrate(database, models=MODELS, verbosity=0)
    yield database
    database.close()


def in_another_thread(work: Callable[[], object]) -> None:
    """Run ``work`` to its end in a thread of its own; what it raised is raised here."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def another_writer_gets_its_turn() -> None:
    in_another_thread(lambda: Author.objects.create(name="next"))


def holding_the_turn(released: threading.Event) -> tuple[threading.Thread, threading.Event]:
    """A thread inside a transaction until ``released`` is set; the event set once it is."""
    holding = threading.Event()

    def hold() -> None:
        with atomic():
            Author.objects.create(name="holder")
            holding.set()
            released.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(30)
    return thread, holding


def test_a_writer_is_served_between_writers_that_take_the_lock_again_at_once(
    tmp_path, default_host
):
    # Each of three writers holds the lock a moment and asks again as soon as
    # it commits. Polling SQLite's lock, a fourth sees it free only in the
    # instants between, and starves past its busy timeout; in line, it waits
    # for at most the three ahead of it.
    database = Database(tmp_path / "fair.sqlite3", busy_timeout=2.0)
    migrate(database, models=MODELS, verbosity=0)
    stop = threading.Event()
    failures: list[BaseException] = []

    def greedy() -> None:
        try:
            while not stop.is_set():
                with atomic():
                    Author.objects.create(name="greedy")
                    time.sleep(0.01)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=greedy) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(5):
            with atomic():
                Author.objects.create(name="patient")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert failures == []
    assert Author.objects.filter(name="patient").count() == 5
    database.close()


def test_a_wait_in_line_past_the_busy_timeout_is_the_clear_error(db):
    released = threading.Event()
    thread, _ = holding_the_turn(released)
    try:
        with pytest.raises(
            DatabaseError, match=r"is locked by another connection \(waited 0.5 s\)"
        ):
            Author.objects.create(name="late")
    finally:
        released.set()
        thread.join()
    # The writer that gave up left the line: the next one is served at once.
    Author.objects.create(name="late")
    assert Author.objects.count() == 2


def test_the_time_in_line_counts_against_the_busy_timeout(db):
    queue = write_queue_for(db.path)
    released = threading.Event()
    thread, _ = holding_the_turn(released)

    def release_once_in_line() -> None:
        deadline = time.monotonic() + 30
        while not queue.waiting and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(0.01)
        released.set()

    releasing = threading.Thread(target=release_once_in_line)
    releasing.start()
    with atomic():
        Author.objects.create(name="waited")
        # What another process's lock may still cost: what is left of the timeout.
        left = db.execute("PRAGMA busy_timeout").fetchone()[0]
    thread.join()
    releasing.join()
    assert 0 <= left < BUSY_TIMEOUT * 1000
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_TIMEOUT * 1000


def test_a_commit_gives_the_turn_up(db):
    with atomic():
        Author.objects.create(name="Ann")
    another_writer_gets_its_turn()
    assert Author.objects.count() == 2


def test_a_block_that_raises_gives_the_turn_up(db):
    with pytest.raises(RuntimeError, match="undone"), atomic():
        Author.objects.create(name="Ann")
        raise RuntimeError("undone")
    another_writer_gets_its_turn()
    assert [author.name for author in Author.objects.all()] == ["next"]


def test_a_failed_commit_gives_the_turn_up(db):
    # A deferred foreign key is checked by COMMIT, which fails.
    with pytest.raises(IntegrityError, match="FOREIGN KEY"), atomic():
        db.execute("PRAGMA defer_foreign_keys = ON")
        Book.objects.create(title="orphan", author_id=999)
    another_writer_gets_its_turn()
    assert Book.objects.count() == 0


def test_a_failed_begin_gives_the_turn_up(db, tmp_path):
    # Another process (here, a connection of its own) holds SQLite's lock.
    other = sqlite3.connect(tmp_path / "queue.sqlite3", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseError, match="is locked by another connection"):
            Author.objects.create(name="Ann")
    finally:
        other.execute("ROLLBACK")
        other.close()
    another_writer_gets_its_turn()


def test_a_connection_closed_inside_a_block_gives_the_turn_up(db):
    with pytest.raises(DatabaseError, match="closed database"), atomic():
        Author.objects.create(name="Ann")
        db.close()
    another_writer_gets_its_turn()
    Author.objects.create(name="Bob")
    assert sorted(author.name for author in Author.objects.all()) == ["Bob", "next"]


def test_savepoints_take_no_turn_of_their_own_and_the_outer_block_gives_it_up(db):
    with atomic():
        Author.objects.create(name="Ann")
        with pytest.raises(RuntimeError), atomic():
            Author.objects.create(name="undone")
            raise RuntimeError
        with atomic():
            Author.objects.create(name="Bob")
    another_writer_gets_its_turn()
    assert sorted(author.name for author in Author.objects.all()) == ["Ann", "Bob", "next"]


def test_a_block_begun_by_its_first_write_takes_the_turn_only_then(db):
    with db.atomic_from_first_write():
        # Reads and slow work before the first write keep nobody waiting.
        Author.objects.count()
        another_writer_gets_its_turn()
        Author.objects.create(name="Ann")
    another_writer_gets_its_turn()
    with pytest.raises(RuntimeError), db.atomic_from_first_write():
        Author.objects.create(name="undone")
        raise RuntimeError
    another_writer_gets_its_turn()
    assert sorted(author.name for author in Author.objects.all()) == [
        "Ann",
        "next",
        "next",
        "next",
    ]


def test_a_block_begun_by_its_first_write_that_caught_a_failure_gives_the_turn_up(db):
    with pytest.raises(TransactionManagementError), db.atomic_from_first_write():
        Author.objects.create(name="undone")
        with pytest.raises(DatabaseError), atomic(savepoint=False):
            db.execute("INSERT INTO nowhere VALUES (1)")
    another_writer_gets_its_turn()
    assert [author.name for author in Author.objects.all()] == ["next"]


def test_an_on_commit_callback_that_writes_gets_a_turn_of_its_own(db):
    with atomic():
        Author.objects.create(name="Ann")
        on_commit(lambda: Author.objects.create(name="after"))
    assert sorted(author.name for author in Author.objects.all()) == ["Ann", "after"]


def test_every_name_of_one_file_shares_its_line(tmp_path, monkeypatch):
    (tmp_path / "data.sqlite3").touch()
    (tmp_path / "link.sqlite3").symlink_to(tmp_path / "data.sqlite3")
    monkeypatch.chdir(tmp_path)
    queue = write_queue_for(str(tmp_path / "data.sqlite3"))
    assert write_queue_for("data.sqlite3") is queue
    assert write_queue_for(str(tmp_path / "link.sqlite3")) is queue
    assert write_queue_for(str(tmp_path / "other.sqlite3")) is not queue


def test_a_database_in_memory_has_no_line(default_host):
    database = Database(":memory:")
    assert database.backend.take_write_turn(database.connection) is None
    database.close()
