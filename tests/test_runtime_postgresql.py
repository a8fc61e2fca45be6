"""PostgreSQL's own failures, each a clear one-line error: an unreachable server, a
missing database, a lost connection, a serialization failure; and the commands
that take a database URL."""

from __future__ import annotations

import subprocess
import uuid

import psycopg
import pytest

from hosthooks import hookimpl
from hosthooks.runtime import Database
from hosthooks.runtime import DatabaseError
from hosthooks.runtime import IntegrityError
from hosthooks.runtime import SerializationError
from hosthooks.runtime import TransactionManagementError
from hosthooks.runtime import atomic
from hosthooks.runtime import migrate
from hosthooks.runtime import on_commit
from tests.bookshop.models import MODELS
from tests.bookshop.models import Author
from tests.bookshop.models import Book
from tests.bookshop.models import Tag
from tests.databases import SERVER_URL
from tests.databases import admin_connection
from tests.databases import empty_schema
from tests.services import free_port
from tests.serving import HOSTHOOKS
from tests.serving import clean_environ


@pytest.fixture
def pg(postgresql_url, default_host):
    empty_schema(postgresql_url)
    database = Database(postgresql_url)
    migrate(database, models=MODELS, verbosity=0)
    yield database
    database.close()


def test_an_unreachable_server_is_a_clear_error(default_host):
    port = free_port()
    database = Database(f"postgresql://postgres@127.0.0.1:{port}/nowhere")
    with pytest.raises(DatabaseError) as raised:
        database.execute("SELECT 1")
    message = str(raised.value)
    assert message.startswith(
        f"cannot reach the PostgreSQL server 127.0.0.1:{port} for database 'default': "
    )
    assert "\n" not in message


def test_a_missing_database_is_a_clear_error(postgresql_url, default_host):
    name = f"hosthooks_missing_{uuid.uuid4().hex[:8]}"
    database = Database(f"{SERVER_URL}/{name}")
    with pytest.raises(DatabaseError) as raised:
        database.execute("SELECT 1")
    assert str(raised.value) == (
        f"database {name!r} does not exist on the PostgreSQL server 127.0.0.1:5432: "
        f"create it (createdb {name}) or correct the URL"
    )


def test_a_lost_connection_is_a_clear_error_and_the_next_use_reconnects(pg, default_host):
    announced = []

    class Announced:
        @hookimpl
        def connection_created(self, connection):
            announced.append(connection)

    default_host.register(Announced())
    Author.objects.create(name="Ann")
    terminate_connection(pg)
    with pytest.raises(DatabaseError) as raised:
        Author.objects.count()
    message = str(raised.value)
    assert message.startswith("lost the connection to the PostgreSQL server 127.0.0.1:5432 ")
    assert "\n" not in message
    assert Author.objects.count() == 1
    assert len(announced) == 1


def terminate_connection(database: Database) -> None:
    """End ``database``'s connection (this thread's) from the server's side."""
    (backend_pid,) = database.execute("SELECT pg_backend_pid()").fetchone()
    with admin_connection() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend_pid])


def test_a_connection_lost_inside_a_block_commits_nothing_and_runs_no_callback(pg):
    ran = []
    with pytest.raises(DatabaseError, match=r"^lost the connection"), atomic():
        on_commit(lambda: ran.append("committed"))
        Author.objects.create(name="Ann")
        terminate_connection(pg)
        # Caught: the block ends normally, and its COMMIT goes to the lost
        # connection, never to a new one (where it would succeed, committing nothing).
        with pytest.raises(DatabaseError, match=r"^lost the connection"):
            pg.execute("SELECT 1")
    assert ran == []
    assert Author.objects.count() == 0


def test_a_connection_lost_inside_a_savepoint_lets_the_error_through(pg):
    with pytest.raises(DatabaseError, match=r"^lost the connection"), atomic(), atomic():
        Author.objects.create(name="Ann")
        terminate_connection(pg)
        Author.objects.create(name="Bob")
    assert Author.objects.count() == 0


def test_a_serialization_failure_is_its_own_error_and_writes_nothing(pg, default_host):
    class Serializable:
        @hookimpl
        def connection_created(self, connection):
            connection.execute("SET default_transaction_isolation TO 'serializable'")

    author = Author.objects.create(name="Ann")
    pg.close()
    default_host.register(Serializable())
    other = Database(pg.path, alias="other")
    with pytest.raises(SerializationError, match="run it again"), atomic():
        mine = Author.objects.get(pk=author.pk)
        # Another transaction changes the row after this one read it.
        other.execute('UPDATE "bookshop_author" SET "name" = ? WHERE "id" = ?', ["Bo", author.pk])
        mine.name = "Cy"
        mine.save()
    other.close()
    assert Author.objects.get(pk=author.pk).name == "Bo"


def test_a_failed_statement_inside_a_block_rolls_the_block_back(pg):
    # PostgreSQL refuses every statement after a failed one until the rollback,
    # and would turn the block's COMMIT into a silent ROLLBACK: the block says so.
    with (
        pytest.raises(TransactionManagementError, match="ended normally after a write"),
        atomic(),
    ):
        Author.objects.create(name="Ann")
        with pytest.raises(DatabaseError):
            pg.execute('INSERT INTO "bookshop_author" ("nope") VALUES (?)', [1])
        with pytest.raises(TransactionManagementError):
            Author.objects.create(name="Bob")
    assert Author.objects.count() == 0


def run_cli(*arguments: str, stdin: str = "", **settings: str) -> subprocess.CompletedProcess[str]:
    env = clean_environ()
    env.update({f"HOSTHOOKS_{name}": value for name, value in settings.items()})
    return subprocess.run(
        [str(HOSTHOOKS), *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=120,
    )


def test_migrate_createuser_and_serve_take_a_database_url(postgresql_url, default_host):
    empty_schema(postgresql_url)
    name = postgresql_url.rsplit("/", 1)[1]
    result = run_cli("migrate", "--db", postgresql_url, "--app", "tests.bookshop.models")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].endswith(
        f" operation(s) applied to database {name} on the PostgreSQL server 127.0.0.1:5432."
    )
    assert "Create table for bookshop.Author" in result.stdout
    result = run_cli(
        "createuser", "ann", "--db", postgresql_url, "--password-stdin", stdin="a password\n"
    )
    assert (result.returncode, result.stdout) == (0, "hosthooks: created user 'ann'\n")
    database = Database(postgresql_url)
    assert database.execute('SELECT "username" FROM "auth_user"').fetchall() == [("ann",)]
    database.close()
    # No file beside a server's database can keep a generated key.
    result = run_cli("serve", "--port", "0", "--db", postgresql_url)
    assert result.returncode == 1
    assert result.stderr == (
        "hosthooks: error: set SECRET_KEY (HOSTHOOKS_SECRET_KEY) to the same key in every "
        "process of the app: a database on a server has no file beside it to keep one in\n"
    )


def test_without_psycopg_a_url_names_the_extra_to_install(monkeypatch, default_host):
    from hosthooks.runtime.backends import postgresql

    monkeypatch.setattr(postgresql, "psycopg", None)
    with pytest.raises(DatabaseError) as raised:
        Database("postgresql://postgres@127.0.0.1:5432/app")
    assert str(raised.value) == (
        "database 'default' is on PostgreSQL, which needs psycopg: "
        "pip install 'hosthooks[postgres]'"
    )


@pytest.mark.parametrize(
    ("written", "sent"),
    [
        (
            'SELECT "a" FROM "t" WHERE "b" = ? AND "c" IN (?, ?)',
            'SELECT "a" FROM "t" WHERE "b" = %s AND "c" IN (%s, %s)',
        ),
        (
            "SELECT '?', \"what?\" WHERE x LIKE ? ESCAPE '\\'",
            "SELECT '?', \"what?\" WHERE x LIKE %s ESCAPE '\\'",
        ),
        ("SELECT 5 % 2, '100%' WHERE y = ?", "SELECT 5 %% 2, '100%%' WHERE y = %s"),
    ],
)
def test_markers_become_psycopgs_and_quoted_text_keeps_its_own(written, sent):
    from hosthooks.runtime.backends.postgresql import to_psycopg

    assert to_psycopg(written) == sent


def test_bulk_create_inserts_batches_of_rows_and_gives_each_instance_its_id(pg, monkeypatch):
    author = Author.objects.create(name="Ann")
    # Seven columns a row: 24 parameters make batches of three rows, so ten
    # rows take four INSERT statements, the last of one row.
    monkeypatch.setattr(pg.backend, "max_parameters", 24)
    sent: list[tuple[str, int]] = []
    execute = psycopg.Cursor.execute

    def counted(cursor, query, params=None, **options):
        sent.append((str(query), len(params or ())))
        return execute(cursor, query, params, **options)

    monkeypatch.setattr(psycopg.Cursor, "execute", counted)
    made = Book.objects.bulk_create(
        [Book(title=f"t{n}", author=author, pages=n) for n in range(10)]
    )
    monkeypatch.undo()
    inserts = [count for sql, count in sent if sql.startswith('INSERT INTO "bookshop_book"')]
    assert inserts == [21, 21, 21, 7]
    assert [(book.title, book.pages) for book in made] == [(f"t{n}", n) for n in range(10)]
    stored = {book.pk: (book.title, book.pages) for book in Book.objects.all()}
    assert {book.pk: (book.title, book.pages) for book in made} == stored


def test_bulk_create_that_fails_in_a_later_batch_writes_no_row(pg, monkeypatch):
    monkeypatch.setattr(pg.backend, "max_parameters", 2)  # a row a statement
    Tag.objects.create(label="taken")
    with pytest.raises(IntegrityError):
        Tag.objects.bulk_create([Tag(label="first"), Tag(label="second"), Tag(label="taken")])
    assert sorted(tag.label for tag in Tag.objects.all()) == ["taken"]
