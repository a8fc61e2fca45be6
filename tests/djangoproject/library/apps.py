"""The library app: two plain Django receivers of post_save, besides the plugins."""

from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_save


class LibraryConfig(AppConfig):  # type: ignore[misc]
    name = "tests.djangoproject.library"

    def ready(self) -> None:
        from tests.djangoproject.library import receivers
        from tests.djangoproject.library.models import Book

        post_save.connect(receivers.count_book_saves, sender=Book, dispatch_uid="library.books")
        post_save.connect(receivers.note_saved)
