"""The keys post_queryset_update and post_queryset_delete get inside the test project,
and the queries each operation costs without a plugin, with one naming ``pks``,
and with one naming ``pks`` while the database is taken for one that cannot
return rows from an UPDATE or DELETE:
``python -m tests.djangoproject.bulk_key_scenarios keys`` prints JSON.

``PROJECT_DB`` names the SQLite file (``PROJECT_POSTGRESQL_DB`` a PostgreSQL
database instead), ``PROJECT_HOSTHOOKS`` the ``HOSTHOOKS`` setting (JSON);
``DJANGO_SETTINGS_MODULE`` is set here.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Callable
from typing import Any
from unittest import mock

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.djangoproject.settings"

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db import models  # noqa: E402
from django.db import transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

import hosthooks  # noqa: E402
from tests.djangoproject.library.models import Author  # noqa: E402
from tests.djangoproject.library.models import Book  # noqa: E402


class Node(models.Model):  # type: ignore[misc]
    """A tree: deleting a node deletes its children, rows of the same table."""

    name = models.CharField(max_length=20)
    parent = models.ForeignKey("self", models.CASCADE, null=True, related_name="children")

    class Meta:
        app_label = "library"


class Place(models.Model):  # type: ignore[misc]
    name = models.CharField(max_length=20)

    class Meta:
        app_label = "library"


class Restaurant(Place):
    """A child model: its rows are in two tables, its key is its place's."""

    stars = models.IntegerField(default=0)

    class Meta:
        app_label = "library"


class Ticket(models.Model):  # type: ignore[misc]
    """Keys that are not integers, deleted on Django's fast path (nothing refers to it)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    author = models.ForeignKey(Author, models.CASCADE)
    seat = models.IntegerField()

    class Meta:
        app_label = "library"


class Keys:
    """Hears the keys and counts of queryset updates and deletions."""

    def __init__(self) -> None:
        self.heard: list[list[Any]] = []

    @hosthooks.hookimpl
    def post_queryset_update(self, sender: Any, pks: list[Any], count: int) -> None:
        self.heard.append([sender.__name__, sorted(map(str, pks)), count, _types(pks)])

    @hosthooks.hookimpl
    def post_queryset_delete(self, sender: Any, pks: list[Any], count: int) -> None:
        self.heard.append([sender.__name__, sorted(map(str, pks)), count, _types(pks)])


def _types(pks: list[Any]) -> list[str]:
    return sorted({type(key).__name__ for key in pks})


def _fill() -> dict[str, Any]:
    """Fresh rows; the keys of those the cases name, as strings."""
    ursula, terry = Author.objects.create(name="Ursula"), Author.objects.create(name="Terry")
    books = [Book.objects.create(title=t, author=ursula) for t in ("A", "B", "C")]
    Book.objects.create(title="D", author=terry)
    root = Node.objects.create(name="root")
    child = Node.objects.create(name="child", parent=root)
    Node.objects.create(name="grandchild", parent=child)
    other = Node.objects.create(name="other")
    restaurants = [Restaurant.objects.create(name=n, stars=s) for n, s in (("D", 1), ("B", 3))]
    Place.objects.create(name="Park")
    tickets = [
        Ticket.objects.create(author=author, seat=n)
        for n, author in enumerate((ursula, ursula, terry))
    ]
    return {
        name: [str(row.pk) for row in rows]
        for name, rows in {
            "terry": [terry],
            "books": books,
            "nodes": [root, other],
            "restaurants": restaurants,
            "tickets": tickets,
        }.items()
    }


#: Each case: an update or a deletion of rows _fill made.
CASES: dict[str, Callable[[], Any]] = {
    "update": lambda: Book.objects.filter(title="A").update(pages=10),
    "update joined": lambda: Book.objects.filter(author__name="Ursula").update(pages=20),
    "update expression": lambda: Book.objects.filter(pages__gte=0, title__lt="D").update(
        pages=models.F("pages") + 1
    ),
    "update none": lambda: Book.objects.filter(pk__in=[]).update(pages=1),
    "update child and parent fields": lambda: Restaurant.objects.filter(stars__gte=1).update(
        stars=5, name="Starred"
    ),
    "update parent fields only": lambda: Restaurant.objects.filter(stars__gte=1).update(
        name="Parent"
    ),
    "delete fast": lambda: Ticket.objects.filter(seat__lte=1).delete(),
    "delete fast joined": lambda: Ticket.objects.filter(author__name="Terry").delete(),
    "delete cascading": lambda: Author.objects.filter(name="Terry").delete(),
    "delete cascading into its own table": lambda: Node.objects.filter(
        name__in=["root", "other"]
    ).delete(),
    "delete child": lambda: Restaurant.objects.filter(stars__gte=2).delete(),
    "delete none": lambda: Book.objects.filter(title="none").delete(),
}


def _run(listening: bool) -> dict[str, Any]:
    """Each case on fresh rows: Django's result, the queries, what the plugin heard."""
    keys = Keys()
    host = hosthooks.get_host()
    if listening:
        host.register(keys, "keys")
    report: dict[str, Any] = {}
    try:
        for name, case in CASES.items():
            for model in (Ticket, Book, Author, Node, Restaurant, Place):
                model.objects.all().delete()
            made = _fill()
            keys.heard.clear()
            # Inside a transaction, as Django's tests run: the one the hooks would
            # open otherwise is not counted.
            with transaction.atomic(), CaptureQueriesContext(connection) as queries:
                result = case()
            report[name] = {
                "result": result[0] if isinstance(result, tuple) else result,
                "queries": len(queries.captured_queries),
                "heard": list(keys.heard),
                "made": made,
            }
    finally:
        if listening:
            host.unregister("keys")
    return report


def keys() -> dict[str, Any]:
    call_command("migrate", verbosity=0, run_syncdb=True)
    with connection.schema_editor() as editor:
        for model in (Node, Place, Restaurant, Ticket):
            editor.create_model(model)
    report = {
        "vendor": connection.vendor,
        "plain": _run(listening=False),
        "keys": _run(listening=True),
    }
    # As a database that cannot return rows from an UPDATE or DELETE would (its
    # inserts are not the point, so Django's feature flags stay as they are).
    with mock.patch("hosthooks.django.returning._can_return", return_value=False):
        report["selected"] = _run(listening=True)
    return report


SCENARIOS: dict[str, Callable[[], Any]] = {"keys": keys}


if __name__ == "__main__":
    print(json.dumps(SCENARIOS[sys.argv[1]]()))
