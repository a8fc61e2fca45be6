"""One scenario, written against the API Django's ORM and hosthooks' runtime share,
and the normal form both sides' hook calls are compared in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

HOOKS = (
    "pre_init",
    "post_init",
    "pre_save",
    "post_save",
    "pre_delete",
    "post_delete",
    "m2m_changed",
)


def normalise(hook: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """What is compared of one call: names instead of objects, sorted sets, pks as they were."""
    entry: dict[str, Any] = {"hook": hook, "sender": arguments["sender"].__name__}
    instance = arguments.get("instance")
    if instance is not None:
        entry["instance"] = f"{type(instance).__name__}#{instance.pk}"
    for key in ("created", "raw", "using", "action", "reverse"):
        if key in arguments:
            entry[key] = arguments[key]
    if hook == "m2m_changed":
        # Django sends raw with m2m_changed from 6.1 on; left out (5.2) it is the
        # spec's documented default, False.
        entry["raw"] = arguments.get("raw", False)
    if "update_fields" in arguments:
        fields = arguments["update_fields"]
        entry["update_fields"] = None if fields is None else sorted(fields)
    if "model" in arguments:
        entry["model"] = arguments["model"].__name__
    if "pk_set" in arguments:
        pk_set = arguments["pk_set"]
        entry["pk_set"] = None if pk_set is None else sorted(pk_set)
    if "origin" in arguments:
        origin = arguments["origin"]
        entry["origin"] = type(origin).__name__
    if hook == "pre_init":
        entry["args"] = [_plain(value) for value in arguments["args"]]
        entry["kwargs"] = {key: _plain(value) for key, value in arguments["kwargs"].items()}
    return entry


def _plain(value: Any) -> Any:
    if hasattr(value, "pk") and hasattr(type(value), "objects"):
        return f"{type(value).__name__}#{value.pk}"
    return value


def run(Author: Any, Tag: Any, Book: Any, mark: Callable[[str], None]) -> None:
    """The steps; ``mark(name)`` separates them in the record."""
    mark("create and update")
    a = Author(name="Ann")
    a.save()
    a.name = "Anne"
    a.save(update_fields=["name"])
    a.save(update_fields=[])
    b = Book.objects.create(title="T1", author=a)
    b2 = Book.objects.create(title="T2", author=a)
    t = Tag.objects.create(label="x")
    mark("add twice")
    b.tags.add(t)
    b.tags.add(t)
    mark("remove from the reverse side, twice")
    t.books.remove(b)
    t.books.remove(b)
    mark("remove nothing, clear")
    b.tags.remove()
    b.tags.clear()
    mark("set")
    b.tags.set([t])
    t2 = Tag.objects.create(label="y")
    b.tags.set([t2, t])
    b.tags.set([t2])
    b.tags.set([t2])
    mark("load")
    loaded = Author.objects.get(pk=a.pk)
    assert loaded.name == "Anne"
    assert [book.title for book in Book.objects.filter(author=a).order_by("title")] == ["T1", "T2"]
    mark("update and bulk_create fire nothing")
    Book.objects.filter(author=a).update(title="U")
    Author.objects.bulk_create([Author(name="bulk")])
    mark("queryset delete")
    Book.objects.filter(pk=b2.pk).delete()
    mark("cascade")
    b.tags.add(t)
    a.delete()
    mark("reverse add, clear with rows, delete the related side")
    c = Author.objects.create(name="Cy")
    b3 = Book.objects.create(title="T3", author=c)
    t.books.add(b3)
    b3.tags.add(t2)
    b3.tags.clear()
    t.books.add(b3)
    t.delete()
    mark("get_or_create, refresh, count, exists")
    assert Tag.objects.get_or_create(label="y")[1] is False
    assert Tag.objects.get_or_create(label="z")[1] is True
    c.refresh_from_db()
    assert Author.objects.count() == 2
    assert Author.objects.filter(name="Cy").exists()
    mark("end")
