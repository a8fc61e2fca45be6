"""hosthooks' own hooks for the writes Django never signals, fired by the runtime's
model layer on SQLite and PostgreSQL: bulk_create, bulk_update, QuerySet.update()
and a queryset delete(), fast path included."""

from __future__ import annotations

from typing import Any

import pluggy
import pytest

from hosthooks import hookimpl
from hosthooks.runtime import Database
from hosthooks.runtime import migrate
from tests.bookshop.models import MODELS
from tests.bookshop.models import Author
from tests.bookshop.models import Book
from tests.bookshop.models import Edition
from tests.bookshop.models import Publisher
from tests.test_runtime_semantics import statements


@pytest.fixture
def db(database_location, default_host):
    database = Database(database_location)
    migrate(database, models=MODELS, verbosity=0)
    yield database
    database.close()


class Log:
    """Records each bulk hook's arguments as plain data, in call order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    @hookimpl
    def pre_bulk_create(self, sender, objs, using):
        self.calls.append(("pre_bulk_create", {"pks": [obj.pk for obj in objs], "using": using}))

    @hookimpl
    def post_bulk_create(self, sender, objs, using):
        self.calls.append(("post_bulk_create", {"sender": sender, "pks": [o.pk for o in objs]}))

    @hookimpl
    def pre_bulk_update(self, sender, objs, fields):
        self.calls.append(("pre_bulk_update", {"pks": [o.pk for o in objs], "fields": fields}))

    @hookimpl
    def post_bulk_update(self, sender, objs, fields, using):
        self.calls.append(("post_bulk_update", {"fields": fields, "using": using}))

    @hookimpl
    def pre_queryset_update(self, sender, queryset, values):
        self.calls.append(("pre_queryset_update", {"values": values, "rows": queryset.count()}))

    @hookimpl
    def post_queryset_update(self, sender, values, pks, count):
        self.calls.append(("post_queryset_update", {"pks": sorted(pks), "count": count}))

    @hookimpl
    def pre_queryset_delete(self, sender, queryset, using):
        self.calls.append(("pre_queryset_delete", {"sender": sender, "rows": queryset.count()}))

    @hookimpl
    def post_queryset_delete(self, sender, pks, count):
        self.calls.append(("post_queryset_delete", {"pks": sorted(pks), "count": count}))


@pytest.fixture
def log(default_host) -> Log:
    plugin = Log()
    default_host.register(plugin, "log")
    return plugin


def test_bulk_create_fires_before_the_inserts_and_after_them_with_the_ids(db, log):
    made = Author.objects.bulk_create([Author(name="Ann"), Author(name="Bob")])
    ids = [author.pk for author in made]
    assert log.calls == [
        ("pre_bulk_create", {"pks": [None, None], "using": "default"}),
        ("post_bulk_create", {"sender": Author, "pks": ids}),
    ]
    assert Author.objects.count() == 2
    # Nothing inserted, nothing fired.
    assert Author.objects.bulk_create([]) == []
    assert len(log.calls) == 2


def test_a_post_hook_that_raises_rolls_the_operation_back(db, default_host):
    class Refuse:
        @hookimpl
        def post_bulk_create(self):
            raise RuntimeError("no")

        @hookimpl
        def post_queryset_update(self):
            raise RuntimeError("no")

    default_host.register(Refuse(), "refuse")
    with pytest.raises(RuntimeError, match="no"):
        Author.objects.bulk_create([Author(name="Ann")])
    assert Author.objects.count() == 0
    Author(name="Ann").save()
    with pytest.raises(RuntimeError, match="no"):
        Author.objects.filter(name="Ann").update(name="Anne")
    assert [author.name for author in Author.objects.all()] == ["Ann"]


def test_bulk_update_writes_the_fields_named_and_fires_around_the_updates(db, log):
    ann, bob = Author.objects.bulk_create([Author(name="Ann"), Author(name="Bob")])
    log.calls.clear()
    ann.name, bob.name = "Anne", "Robert"
    assert Author.objects.bulk_update([ann, bob], ["name"]) == 2
    assert sorted(author.name for author in Author.objects.all()) == ["Anne", "Robert"]
    assert log.calls == [
        ("pre_bulk_update", {"pks": [ann.pk, bob.pk], "fields": frozenset({"name"})}),
        ("post_bulk_update", {"fields": frozenset({"name"}), "using": "default"}),
    ]


def test_bulk_update_refuses_what_django_refuses_and_writes_nothing(db, log):
    [ann] = Author.objects.bulk_create([Author(name="Ann")])
    ann.name = "Anne"
    with pytest.raises(ValueError, match="Field names must be given"):
        Author.objects.bulk_update([ann], [])
    with pytest.raises(ValueError, match="cannot be used with primary key fields"):
        Author.objects.bulk_update([ann], ["id"])
    with pytest.raises(ValueError, match="must have a primary key set"):
        Author.objects.bulk_update([ann, Author(name="new")], ["name"])
    assert Author.objects.get().name == "Ann"
    assert Author.objects.bulk_update([], ["name"]) == 0
    assert [name for name, _ in log.calls] == ["pre_bulk_create", "post_bulk_create"]


def test_a_pre_hook_that_raises_writes_nothing(db, default_host):
    class Refuse:
        @hookimpl
        def pre_bulk_update(self):
            raise RuntimeError("no")

    default_host.register(Refuse(), "refuse")
    [ann] = Author.objects.bulk_create([Author(name="Ann")])
    ann.name = "Anne"
    with pytest.raises(RuntimeError, match="no"):
        Author.objects.bulk_update([ann], ["name"])
    assert Author.objects.get().name == "Ann"


def test_queryset_update_fires_with_the_changed_rows_keys_read_by_the_update(db, log):
    ann, bob, cy = Author.objects.bulk_create([Author(name=n) for n in ("Ann", "Bob", "Cy")])
    log.calls.clear()
    assert Author.objects.exclude(name="Bob").update(name="Same") == 2
    assert log.calls == [
        ("pre_queryset_update", {"values": {"name": "Same"}, "rows": 2}),
        ("post_queryset_update", {"pks": sorted([ann.pk, cy.pk]), "count": 2}),
    ]
    log.calls.clear()
    assert Author.objects.filter(pk__in=[]).update(name="x") == 0
    assert log.calls == []


def test_keys_are_read_only_when_an_implementation_names_them(db, default_host):
    seen: list[Any] = []

    class Counts:
        @hookimpl
        def post_queryset_update(self, count):
            seen.append(("update", count))

        @hookimpl
        def post_queryset_delete(self, count):
            seen.append(("delete", count))

    default_host.register(Counts(), "counts")
    Author.objects.bulk_create([Author(name="Ann"), Author(name="Bob")])
    with statements(db) as sent:
        Author.objects.all().update(name="x")
    assert [sql for sql in sent if "RETURNING" in sql] == []
    assert seen == [("update", 2)]

    class Keys:
        @hookimpl
        def post_queryset_update(self, pks):
            seen.append(("keys", sorted(pks)))

    default_host.register(Keys(), "keys")
    with statements(db) as sent:
        Author.objects.filter(name="x").update(name="y")
    assert [sql.split(" SET")[0] for sql in sent if "RETURNING" in sql] == [
        'UPDATE "bookshop_author"'
    ]
    ids = sorted(author.pk for author in Author.objects.all())
    assert seen[1:] == [("keys", ids), ("update", 2)]


def test_a_fast_delete_stays_one_statement_with_the_hooks_around_it(db, log):
    book = Book.objects.create(title="T", author=Author.objects.create(name="Ann"))
    press = Publisher.objects.create(name="P")
    first, second = Edition.objects.bulk_create(
        [Edition(book=book, publisher=press), Edition(book=book, publisher=press)]
    )
    log.calls.clear()
    with statements(db) as sent:
        assert Edition.objects.all().delete() == (2, {"bookshop.Edition": 2})
    # No row loaded: one DELETE, which returns the keys since an implementation names them.
    assert [sql for sql in sent if not sql.startswith(("BEGIN", "COMMIT", "SELECT COUNT"))] == [
        'DELETE FROM "bookshop_edition" RETURNING "id"'
    ]
    assert log.calls == [
        ("pre_queryset_delete", {"sender": Edition, "rows": 2}),
        ("post_queryset_delete", {"pks": [first.pk, second.pk], "count": 2}),
    ]


def test_a_collected_delete_fires_around_the_per_row_hooks_and_cascades(db, log, default_host):
    per_row: list[Any] = []

    class Rows:
        @hookimpl
        def post_delete(self, sender, instance):
            per_row.append((sender, instance.pk))

    default_host.register(Rows(), "rows")
    ann, bob = Author.objects.bulk_create([Author(name="Ann"), Author(name="Bob")])
    Book.objects.create(title="T", author=ann)
    log.calls.clear()
    assert Author.objects.all().delete()[0] == 3
    assert [name for name, _ in log.calls] == ["pre_queryset_delete", "post_queryset_delete"]
    # pks: the queryset's own rows; count: the cascaded book too.
    assert log.calls[1][1] == {"pks": sorted([ann.pk, bob.pk]), "count": 3}
    assert sorted(sender.__name__ for sender, _ in per_row) == ["Author", "Author", "Book"]


def test_nobody_listening_costs_no_statement(db, default_host):
    book = Book.objects.create(title="T", author=Author.objects.create(name="Ann"))
    Edition.objects.bulk_create([Edition(book=book, publisher=Publisher.objects.create(name="P"))])
    with statements(db) as sent:
        Author.objects.all().update(name="x")
        Edition.objects.all().delete()
    assert [sql for sql in sent if sql.startswith(("UPDATE", "DELETE"))] == [
        'UPDATE "bookshop_author" SET "name" = \'x\'',
        'DELETE FROM "bookshop_edition"',
    ]


def test_the_post_hooks_may_be_deferred_and_the_pre_hooks_not(default_host):
    class Later:
        @hookimpl(defer=True)
        def post_queryset_delete(self, sender, pks):
            pass

        @hookimpl(defer=True)
        def post_bulk_create(self, objs):
            pass

    default_host.register(Later(), "later")

    class Early:
        @hookimpl(defer=True)
        def pre_bulk_update(self, objs):
            pass

    with pytest.raises(pluggy.PluginValidationError, match="not allowed on 'pre_bulk_update'"):
        default_host.register(Early(), "early")


def test_the_readmes_audit_and_cache_plugins_work_as_written(db, default_host, tmp_path):
    import importlib.util
    import re

    from tests.venvs import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Bulk and queryset hooks") : readme.index("## The demo app")]
    [source] = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    path = tmp_path / "audit_and_cache.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("audit_and_cache", path)
    assert spec is not None
    assert spec.loader is not None
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    default_host.register(plugin, "audit-and-cache")

    ann, bob = Author.objects.bulk_create([Author(name="Ann"), Author(name="Bob")])
    Author.objects.filter(name="Bob").update(name="Robert")
    audit: list[Any] = plugin.AUDIT
    assert audit == [("created", "Author", [ann.pk, bob.pk]), ("updated", "Author", [bob.pk])]
    plugin.CACHE.update({("Author", ann.pk): "Ann", ("Author", bob.pk): "Robert"})
    with pytest.raises(RuntimeError), db.atomic():
        Author.objects.filter(name="Ann").delete()
        raise RuntimeError("rolled back")
    assert set(plugin.CACHE) == {("Author", ann.pk), ("Author", bob.pk)}
    Author.objects.filter(name="Ann").delete()
    assert set(plugin.CACHE) == {("Author", bob.pk)}


def test_a_deferred_post_hook_runs_after_the_commit_with_snapshots(tmp_path):
    import hosthooks
    from hosthooks import Host
    from hosthooks import HostConfig
    from hosthooks.deferred import ModelSnapshot

    ran: list[Any] = []

    class Later:
        @hookimpl(defer=True)
        def post_bulk_create(self, sender, objs):
            ran.append(("created", sender, objs))

        @hookimpl(defer=True)
        def post_queryset_delete(self, sender, pks, count):
            ran.append(("deleted", sender, pks, count))

    host = Host(HostConfig(autoload=False, queue_backend="eager"))
    host.register(Later(), "later")
    hosthooks.set_default_host(host)
    database = Database(tmp_path / "app.sqlite3")
    try:
        migrate(database, models=MODELS, verbosity=0)
        with database.atomic():
            ann, bob = Author.objects.bulk_create([Author(name="Ann"), Author(name="Bob")])
            assert ran == []  # not before the commit
        [(what, sender, objs)] = ran
        assert (what, sender) == ("created", Author)
        assert all(isinstance(obj, ModelSnapshot) for obj in objs)
        assert [(obj.pk, obj.fields["name"]) for obj in objs] == [(ann.pk, "Ann"), (bob.pk, "Bob")]
        Author.objects.filter(name="Bob").delete()
        assert ran[1] == ("deleted", Author, [bob.pk], 1)
    finally:
        hosthooks.set_default_host(None)
        database.close()
