"""Where the runtime must behave as Django does: import order and class_prepared,
connection_created, update_fields, pre_init's kwargs, deleting nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from hosthooks import Host
from hosthooks import hookimpl
from hosthooks.runtime import Database
from hosthooks.runtime import migrate
from tests.bookshop.models import MODELS
from tests.bookshop.models import Author
from tests.bookshop.models import Book
from tests.bookshop.models import Tag
from tests.conftest import Recorder

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def db(database_location, default_host):
    database = Database(database_location)
    migrate(database, models=MODELS, verbosity=0)
    yield database
    database.close()


def expanded(sql: str, params: Sequence[Any]) -> str:
    """``sql`` with its parameters written in, as SQLite's trace shows statements."""
    values = iter(params)

    def literal(_: re.Match[str]) -> str:
        value = next(values)
        if value is None:
            return "NULL"
        if isinstance(value, str):
            return "'" + value.replace("'", "''") + "'"
        return str(int(value) if isinstance(value, bool) else value)

    return re.sub(r"\?", literal, sql)


@contextmanager
def statements(database: Database) -> Iterator[list[str]]:
    """Every SQL statement this thread's connection runs inside the block, BEGIN and COMMIT too."""
    sent: list[str] = []
    database.statement_observer = lambda sql, params: sent.append(expanded(sql, params))
    try:
        yield sent
    finally:
        database.statement_observer = None


def run_python(code: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter, as a program whose first import is the one it shows."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOSTHOOKS_")}
    env.update(environment)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=120,
    )


IMPORT_FIRST = """
    import sys
    import {module}
    import hosthooks.host
    # Importing the runtime and defining its models discovered nothing.
    assert hosthooks.host._default_host is None, "a host was created by an import"
    loaded = sorted(name for name in sys.modules if name.startswith("hosthooks_"))
    assert loaded == [], loaded

    from hosthooks import Host, get_host, hookimpl
    from hosthooks.runtime.auth import User

    host = get_host()
    statuses = {{record.name: record.status.value for record in host.plugins()}}
    assert statuses["hosthooks.last-login"] == "active", statuses
    assert statuses["audit"] == "active", statuses

    class Seen:
        def __init__(self):
            self.classes = []

        @hookimpl
        def class_prepared(self, sender):
            self.classes.append(sender)

    late = Seen()
    host.register(late)
    assert User in late.classes
    fresh, seen = Host(), Seen()
    fresh.register(seen)
    assert User in seen.classes
    print("ok")
"""


@pytest.mark.parametrize(
    "module", ["hosthooks.runtime.auth", "hosthooks.runtime.demo", "hosthooks.runtime"]
)
def test_importing_the_runtime_first_loads_no_plugin_and_breaks_none(module):
    # Strict: a plugin failing to load (the built-in one in a circular import) raises.
    result = run_python(IMPORT_FIRST.format(module=module), HOSTHOOKS_STRICT_PLUGINS="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok\n"


def test_the_built_in_plugin_records_last_login_whatever_is_imported_first(tmp_path):
    code = f"""
        from hosthooks.runtime import auth
        from hosthooks.runtime import Database, migrate

        class Session(dict):
            key = "a session key"

            def cycle_key(self):
                pass

            def flush(self):
                self.clear()

        class Request:
            session = Session()

        migrate(Database({str(tmp_path / "auth.sqlite3")!r}), models=auth.MODELS, verbosity=0)
        user = auth.create_user("ann", "a long password")
        auth.login(Request(), user)
        assert auth.User.objects.get(pk=user.pk).last_login is not None
        print("ok")
    """
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok\n"


def test_a_host_created_after_a_model_is_defined_sees_it_prepared(default_host):
    from hosthooks.runtime import Model
    from hosthooks.runtime import fields

    class Defined(Model):
        note = fields.Text()

    recorder = Recorder()
    fresh = Host()
    fresh.register(recorder)
    prepared = [arguments["sender"] for arguments in recorder.named("class_prepared")]
    assert Defined in prepared
    assert Author in prepared
    # Once each, in the order they were defined.
    assert prepared.count(Defined) == 1
    assert prepared.index(Author) < prepared.index(Defined)


def test_connection_created_may_use_the_database(database_location, default_host):
    counted: list[int] = []

    class Counting:
        @hookimpl
        def connection_created(self, connection: Any) -> None:
            counted.append(Author.objects.count())

    database = Database(database_location)
    migrate(database, models=MODELS, verbosity=0)
    database.close()
    default_host.register(Counting())
    Author.objects.create(name="Ann")
    assert counted == [0]
    assert len(database._all_connections) == 1
    database.close()


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        (["author_id"], frozenset({"author_id"})),
        (["author"], frozenset({"author"})),
        (("title", "author_id"), frozenset({"title", "author_id"})),
    ],
)
def test_update_fields_are_sent_as_given(db, default_host, given, sent):
    author, other = Author.objects.create(name="Ann"), Author.objects.create(name="Bob")
    book = Book.objects.create(title="T", author=author)
    recorder = Recorder()
    default_host.register(recorder)
    book.author = other
    book.title = "U"
    book.save(update_fields=given)
    assert [call["update_fields"] for call in recorder.named("pre_save")] == [sent]
    assert [call["update_fields"] for call in recorder.named("post_save")] == [sent]
    stored = Book.objects.get(pk=book.pk)
    assert stored.author_id == other.pk
    assert stored.title == ("U" if "title" in sent else "T")


def test_pre_init_receivers_get_the_kwargs_init_consumes(db, default_host):
    kept: list[dict[str, Any]] = []

    class Keeping:
        @hookimpl
        def pre_init(self, kwargs: dict[str, Any]) -> None:
            kept.append(kwargs)

    default_host.register(Keeping())
    author = Author(name="Ann")
    assert author.name == "Ann"
    assert kept == [{}]


def test_deleting_an_empty_queryset_runs_no_sql(db, default_host):
    Author.objects.create(name="Ann")
    with statements(db) as sent:
        assert Author.objects.filter(pk__in=[]).delete() == (0, {})
        assert list(Author.objects.filter(name="Ann", pk__in=[])) == []
        assert Author.objects.filter(pk__in=[]).count() == 0
    assert sent == []
    assert Author.objects.exclude(pk__in=[]).count() == 1


def test_an_instance_without_a_primary_key_equals_itself_only(db):
    unsaved, other = Author(name="Ann"), Author(name="Ann")
    assert unsaved == unsaved
    assert unsaved != other
    saved = Author.objects.create(name="Ann")
    assert saved == Author.objects.get(pk=saved.pk)


def test_add_inserts_the_pk_set_as_pre_add_left_it(db, default_host):
    author = Author.objects.create(name="Ann")
    book = Book.objects.create(title="T", author=author)
    kept, dropped = Tag.objects.create(label="kept"), Tag.objects.create(label="dropped")
    post_add: list[set[Any]] = []

    class Narrowing:
        @hookimpl
        def m2m_changed(self, action: str, pk_set: Any) -> None:
            if action == "pre_add":
                pk_set.discard(dropped.pk)
            elif action == "post_add":
                post_add.append(set(pk_set))

    default_host.register(Narrowing())
    book.tags.add(kept, dropped)
    assert [tag.label for tag in book.tags.all()] == ["kept"]
    assert post_add == [{kept.pk}]
