"""Authors, their books (deleted with them) and tags on books."""

from __future__ import annotations

from django.db import models


class Author(models.Model):  # type: ignore[misc]
    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return str(self.name)


class Book(models.Model):  # type: ignore[misc]
    title = models.CharField(max_length=200)
    pages = models.PositiveIntegerField(default=0)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")

    def __str__(self) -> str:
        return str(self.title)


class Tag(models.Model):  # type: ignore[misc]
    name = models.CharField(max_length=50, unique=True)
    books = models.ManyToManyField(Book, related_name="tags")

    def __str__(self) -> str:
        return str(self.name)
