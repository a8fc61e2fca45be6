"""The scenario's models for Django (imported only in a Django process)."""

from __future__ import annotations

from django.db import models  # type: ignore[import-not-found,unused-ignore]


class Author(models.Model):  # type: ignore[misc]
    name = models.TextField()

    class Meta:
        app_label = "django_app"


class Tag(models.Model):  # type: ignore[misc]
    label = models.TextField(unique=True)

    class Meta:
        app_label = "django_app"


class Book(models.Model):  # type: ignore[misc]
    title = models.TextField()
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    tags = models.ManyToManyField(Tag, related_name="books")

    class Meta:
        app_label = "django_app"
