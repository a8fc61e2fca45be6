"""The scenario's models for hosthooks' runtime."""

from __future__ import annotations

from hosthooks.runtime import Model
from hosthooks.runtime import fields


class Author(Model):
    name = fields.Text()


class Tag(Model):
    label = fields.Text(unique=True)


class Book(Model):
    title = fields.Text()
    author = fields.ForeignKey(Author, on_delete=fields.CASCADE)
    tags = fields.ManyToMany(Tag, related_name="books")


MODELS = [Author, Tag, Book, Book.tags.relation.through]
