"""A plugin that reads model instances only through hosthooks' public model API,
and the steps it is run through on either host (the runtime's models of
``tests.comparison``, or the same models on Django)."""

from __future__ import annotations

from typing import Any

import hosthooks


class ModelReader:
    """Records what the model API says of every instance saved or deleted."""

    def __init__(self) -> None:
        self.read: list[list[Any]] = []

    def _record(self, hook: str, sender: Any, instance: Any) -> None:
        self.read.append(
            [
                hook,
                hosthooks.sender_label(sender),
                hosthooks.model_label(instance),
                hosthooks.instance_pk(instance),
                hosthooks.field_names(instance),
                hosthooks.field_values(instance),
                hosthooks.is_adding(instance),
            ]
        )

    @hosthooks.hookimpl
    def pre_save(self, sender: Any, instance: Any) -> None:
        self._record("pre_save", sender, instance)

    @hosthooks.hookimpl
    def post_save(self, sender: Any, instance: Any) -> None:
        self._record("post_save", sender, instance)

    @hosthooks.hookimpl
    def post_delete(self, sender: Any, instance: Any) -> None:
        self._record("post_delete", sender, instance)


def run(author_model: Any, book_model: Any) -> list[list[Any]]:
    """Save an author and a book, change the book, delete it: what the reader read."""
    reader = ModelReader()
    host = hosthooks.get_host()
    host.register(reader, "model-reader")
    try:
        ursula = author_model(name="Ursula")
        ursula.save()
        book = book_model(title="Earthsea", author=ursula)
        book.save()
        book.title = "A Wizard of Earthsea"
        book.save()
        book.delete()
    finally:
        host.unregister(name="model-reader")
    return reader.read
