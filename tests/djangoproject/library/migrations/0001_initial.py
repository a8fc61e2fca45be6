"""Authors, books (deleted with their author) and tags on books."""

from __future__ import annotations

from typing import Any
from typing import ClassVar

from django.db import migrations
from django.db import models


def _primary_key() -> Any:
    return models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")


class Migration(migrations.Migration):  # type: ignore[misc]
    initial = True

    dependencies: ClassVar[list[tuple[str, str]]] = []

    operations: ClassVar[list[Any]] = [
        migrations.CreateModel(
            name="Author",
            fields=[
                ("id", _primary_key()),
                ("name", models.CharField(max_length=100)),
            ],
        ),
        migrations.CreateModel(
            name="Book",
            fields=[
                ("id", _primary_key()),
                ("title", models.CharField(max_length=200)),
                ("pages", models.PositiveIntegerField(default=0)),
                (
                    "author",
                    models.ForeignKey(
                        on_delete=models.CASCADE, related_name="books", to="library.author"
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="Tag",
            fields=[
                ("id", _primary_key()),
                ("name", models.CharField(max_length=50, unique=True)),
                ("books", models.ManyToManyField(related_name="tags", to="library.book")),
            ],
        ),
    ]
