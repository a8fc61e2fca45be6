"""The models of the runtime tests: the bookshop of the README."""

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
    pages = fields.Integer(default=0)
    price = fields.Float(null=True)
    in_print = fields.Boolean(default=True)
    published = fields.DateTime(null=True)
    extra = fields.JSON(default=dict)


class Publisher(Model):
    name = fields.Text()


class Edition(Model):
    book = fields.ForeignKey(Book, on_delete=fields.CASCADE)
    publisher = fields.ForeignKey(Publisher, on_delete=fields.PROTECT)
    reviewer = fields.ForeignKey(Author, on_delete=fields.SET_NULL, null=True)


MODELS = [Author, Tag, Book, Publisher, Edition, Book.tags.relation.through]
