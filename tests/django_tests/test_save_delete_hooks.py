"""Django's ``tests/save_delete_hooks/tests.py``, translated to the runtime: same
scenario, same expected values, written anew. Every test is expressible."""

from __future__ import annotations

from typing import Any

from hosthooks.runtime import Model
from hosthooks.runtime import fields


class Person(Model):
    first_name = fields.Text()
    last_name = fields.Text()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.data: list[str] = []

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def save(self, **kwargs: Any) -> None:
        self.data.append("Before save")
        super().save(**kwargs)
        self.data.append("After save")

    def delete(self, **kwargs: Any) -> tuple[int, dict[str, int]]:
        self.data.append("Before deletion")
        deleted = super().delete(**kwargs)
        self.data.append("After deletion")
        return deleted


MODELS = [Person]


def test_basic(db):
    p = Person(first_name="John", last_name="Smith")
    assert p.data == []
    p.save()
    assert p.data == ["Before save", "After save"]
    assert [str(person) for person in Person.objects.all()] == ["John Smith"]
    p.delete()
    assert p.data == ["Before save", "After save", "Before deletion", "After deletion"]
    assert list(Person.objects.all()) == []
