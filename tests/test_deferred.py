"""Deferred implementations in process (the eager queue): after commit, never after
a rollback, arguments as a worker gets them, retries, refusals, current_event()."""

from __future__ import annotations

import datetime
import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

import hosthooks
from hosthooks import Host
from hosthooks import HostConfig
from hosthooks import hookimpl
from hosthooks.deferred import DeferredEvent
from hosthooks.deferred import ModelSnapshot
from hosthooks.deferred import NotSerialisable
from hosthooks.deferred import current_event
from hosthooks.deferred import serialise
from hosthooks.deferred.outbox import Outbox
from hosthooks.deferred.schema import TABLE
from hosthooks.runtime import Database
from hosthooks.runtime import atomic
from hosthooks.runtime import migrate
from hosthooks.runtime.db import runtime_layer
from tests.bookshop.models import MODELS
from tests.bookshop.models import Author
from tests.bookshop.models import Book
from tests.bookshop.models import Tag


class Deferred:
    """A plugin whose post_save and m2m_changed run deferred, recording what they get."""

    def __init__(self) -> None:
        self.runs: list[dict[str, Any]] = []

    @hookimpl(defer=True)
    def post_save(self, sender, instance, created, update_fields):
        self.runs.append(
            {
                "hook": "post_save",
                "sender": sender,
                "instance": instance,
                "created": created,
                "update_fields": update_fields,
                "event": current_event(),
            }
        )

    @hookimpl(defer=True, queue="relations", retries=0)
    def m2m_changed(self, instance, action, pk_set):
        self.runs.append({"hook": "m2m_changed", "action": action, "pk_set": pk_set})


@pytest.fixture
def eager_host() -> Iterator[Host]:
    host = Host(HostConfig(autoload=False, queue_backend="eager"))
    hosthooks.set_default_host(host)
    yield host
    hosthooks.set_default_host(None)


@pytest.fixture
def db(tmp_path, eager_host) -> Iterator[Database]:
    database = Database(tmp_path / "app.sqlite3")
    migrate(database, models=MODELS, verbosity=0)
    yield database
    database.close()


@pytest.fixture
def deferred(eager_host, db) -> Deferred:
    plugin = Deferred()
    eager_host.register(plugin, "deferred")
    return plugin


def test_runs_after_the_outermost_commit_with_a_snapshot_of_the_instance(deferred, db):
    with atomic():
        author = Author(name="Ann")
        author.save()
        with atomic():
            author.name = "Anne"
            author.save(update_fields=["name"])
        assert deferred.runs == []  # nothing before the commit
        author.name = "changed after the calls"
    first, second = deferred.runs
    assert first["sender"] is Author
    assert first["created"] is True
    assert first["instance"] == ModelSnapshot(
        "bookshop.Author",
        author.pk,
        "default",
        {
            "id": author.pk,
            "name": "Ann",
        },
    )
    assert second["instance"].fields["name"] == "Anne"  # the values at call time
    assert second["update_fields"] == frozenset({"name"})
    assert second["instance"].load().name == "Anne"  # the row; the change was never saved


def test_the_snapshot_loads_the_row_as_it_is_now(deferred, db):
    author = Author(name="Ann")
    author.save()
    Author.objects.filter(pk=author.pk).update(name="Updated")
    (run,) = deferred.runs
    assert run["instance"].load().name == "Updated"
    assert run["instance"].model is Author


def test_outside_a_transaction_it_runs_at_once_and_never_after_a_rollback(deferred, db):
    Author(name="Ann").save()
    assert len(deferred.runs) == 1
    with pytest.raises(RuntimeError, match="abort"), atomic():
        Author(name="Bob").save()
        raise RuntimeError("abort")
    assert len(deferred.runs) == 1
    with atomic():
        Author(name="Cy").save()
        with pytest.raises(RuntimeError, match="inner"), atomic():
            Author(name="Dee").save()
            raise RuntimeError("inner")
    assert [run["instance"].fields["name"] for run in deferred.runs] == ["Ann", "Cy"]


def test_m2m_changed_is_deferred_for_its_post_actions_only(deferred, db):
    author = Author(name="Ann")
    author.save()
    book = Book(title="T", author=author)
    book.save()
    tag = Tag(label="x")
    tag.save()
    book.tags.add(tag)
    relation_runs = [run for run in deferred.runs if run["hook"] == "m2m_changed"]
    assert relation_runs == [
        {"hook": "m2m_changed", "action": "post_add", "pk_set": frozenset({tag.pk})}
    ]


def test_current_event_names_the_call_and_is_none_outside_one(deferred, db):
    assert current_event() is None
    Author(name="Ann").save()
    event = deferred.runs[0]["event"]
    assert isinstance(event, DeferredEvent)
    assert (event.hook, event.plugin, event.queue, event.attempt, event.retries) == (
        "post_save",
        "deferred",
        "hosthooks",
        1,
        3,
    )
    assert len(event.event_id) == 32
    assert current_event() is None


def test_event_ids_of_later_calls_sort_later_in_the_outbox(deferred, db):
    # Ids ordered by time keep the outbox's unique index growing at its end
    # (random ids each touched a page of their own, written at every COMMIT).
    for number in range(5):
        Author(name=f"Ann {number}").save()
        time.sleep(0.002)
    written = [event_id for (event_id,) in db.execute(f"SELECT event_id FROM {TABLE} ORDER BY id")]
    assert len(written) == len(set(written)) == 5
    assert all(re.fullmatch("[0-9a-f]{32}", event_id) for event_id in written)
    assert sorted(written) == written
    assert [run["event"].event_id for run in deferred.runs] == written


def test_a_failing_run_is_retried_then_given_up_without_reaching_the_caller(eager_host, db, caplog):
    attempts: list[tuple[str, int]] = []

    class Flaky:
        @hookimpl(defer=True, retries=2)
        def post_save(self, instance):
            event = current_event()
            assert event is not None
            attempts.append((event.event_id, event.attempt))
            raise ValueError("webhook down")

    eager_host.register(Flaky(), "flaky")
    with caplog.at_level(logging.INFO, logger="hosthooks.deferred"):
        Author(name="Ann").save()  # the caller does not see the failure
    assert [attempt for _, attempt in attempts] == [1, 2, 3]
    assert len({event_id for event_id, _ in attempts}) == 1  # one event, three attempts
    assert "dead after 3 attempts: ValueError: webhook down" in caplog.text
    (record,) = Outbox(runtime_layer, None).deliveries()
    assert (record.state, record.attempts, record.last_error) == (
        "dead",
        3,
        "ValueError: webhook down",
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "@hookimpl(defer=True)\ndef pre_save(instance): pass\n",
            "plugin 'bad': hook 'pre_save': defer=True is not allowed on 'pre_save' (only on "
            "m2m_changed, post_bulk_create, post_bulk_update, post_delete, post_migrate, "
            "post_queryset_delete, post_queryset_update, post_save, setting_changed)",
        ),
        (
            "@hookimpl(defer=True, wrapper=True)\ndef post_save(instance):\n    return (yield)\n",
            "plugin 'bad': hook 'post_save': defer=True is not allowed on a wrapper",
        ),
        (
            "@hookimpl(defer=True, retries=-1)\ndef post_save(instance): pass\n",
            "plugin 'bad': hook 'post_save': retries= must be a whole number of at least 0, not -1",
        ),
    ],
)
def test_a_plugin_deferring_what_cannot_be_deferred_is_refused_whole(
    eager_host, tmp_path, source, message
):
    module = tmp_path / "bad.py"
    module.write_text(
        "from hosthooks import hookimpl\n\n@hookimpl\ndef post_delete(): pass\n\n" + source
    )
    (record,) = eager_host.load_directory(tmp_path)
    assert record.status is hosthooks.Status.FAILED
    assert record.error == f"PluginValidationError: {message}"
    assert eager_host.plugin_manager.get_plugin("bad") is None
    assert eager_host.implementations("post_delete") == []


def test_queue_and_retries_need_defer():
    with pytest.raises(TypeError, match="queue= and retries= apply only with defer=True"):
        hookimpl(queue="x")(lambda: None)


def test_an_argument_that_cannot_travel_fails_the_call_naming_it(eager_host, db):
    class Unsendable:
        @hookimpl(defer=True)
        def setting_changed(self, setting, value):
            raise AssertionError("never runs")

    eager_host.register(Unsendable(), "unsendable")
    with pytest.raises(
        NotSerialisable,
        match=r"^unsendable: setting_changed: argument 'value': a object cannot travel",
    ):
        eager_host.hook.setting_changed(sender=object, setting="X", value=object(), enter=True)


def test_values_travel_as_documented():
    when = datetime.datetime(2026, 11, 26, 12, 30, tzinfo=datetime.timezone.utc)
    value = {
        "n": [1, 2.5, "s", None, True],
        "when": when,
        "day": when.date(),
        "ids": {3, 1},
        "model": Author,
        "class": datetime.timedelta,
    }
    encoded = serialise.encode(value, "x")
    import json

    assert serialise.decode(json.loads(json.dumps(encoded))) == {
        "n": [1, 2.5, "s", None, True],
        "when": when,
        "day": when.date(),
        "ids": frozenset({1, 3}),
        "model": Author,
        "class": datetime.timedelta,
    }
    with pytest.raises(NotSerialisable, match=r"^x: a dict with keys that are not strings"):
        serialise.encode({1: "a"}, "x")
