"""Django's databases as a data layer (:mod:`hosthooks.transactions`): under
``hosthooks.django``, ``hosthooks.on_commit`` and the outbox of deferred calls
follow the transaction open on Django's connection for the alias in use.

The outbox table is the model :class:`hosthooks.django.models.DeferredCall`
(created by ``manage.py migrate hosthooks``); its rows are written and moved
by :mod:`hosthooks.deferred.outbox`'s SQL on Django's own connection, so a
call deferred inside ``transaction.atomic()`` commits or rolls back with it.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any
from typing import Final

from django.db import DEFAULT_DB_ALIAS
from django.db import connections
from django.db import transaction


def _alias(using: str | None) -> str:
    return using or DEFAULT_DB_ALIAS


class DjangoLayer:
    """Django's connections, one per alias and thread, as hosthooks sees them."""

    name = "django"

    def has_database(self, using: str | None) -> bool:
        return _alias(using) in connections.settings

    def in_transaction(self, using: str | None) -> bool:
        alias = _alias(using)
        if alias not in connections.settings:
            return False
        return bool(connections[alias].in_atomic_block)

    def on_commit(self, callback: Callable[[], None], using: str | None) -> None:
        transaction.on_commit(callback, using=_alias(using))

    def vendor(self, using: str | None) -> str:
        vendor: str = connections[_alias(using)].vendor
        return vendor

    def execute(self, using: str | None, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        connection = connections[_alias(using)]
        connection.ensure_connection()
        # As Django's own cursors do: nothing runs in a transaction marked for rollback.
        connection.validate_no_broken_transaction()
        # The driver's cursor on Django's connection (so in its transaction), not
        # Django's wrapper: a deferred call's INSERT is the caller's whole cost, and
        # the wrapper rewrites every statement's markers. The outbox's SQL marks
        # parameters with ? (sqlite3's own); psycopg takes %s (and the outbox's
        # statements hold no literal %). The driver's errors become Django's.
        if connection.vendor != "sqlite":
            sql = sql.replace("?", "%s")
        with connection.wrap_database_errors:
            cursor = connection.connection.cursor()
            try:
                cursor.execute(sql, tuple(params))
                return [] if cursor.description is None else list(cursor.fetchall())
            finally:
                cursor.close()

    def atomic(self, using: str | None) -> AbstractContextManager[object]:
        block: AbstractContextManager[object] = transaction.atomic(using=_alias(using))
        return block

    def describe(self, using: str | None) -> str:
        settings = connections.settings[_alias(using)]
        host = settings.get("HOST") or ""
        return f"{settings.get('ENGINE', '?')} {host + '/' if host else ''}{settings.get('NAME')}"

    def model(self, label: str) -> type[Any] | None:
        from django.apps import apps

        try:
            model: type[Any] = apps.get_model(label)
        except (LookupError, ValueError):
            return None
        return model


#: The bridge adds it when it attaches, and removes it when it detaches.
django_layer: Final = DjangoLayer()


def outboxes() -> dict[str | None, Any]:
    """The outbox of every database alias whose database has the table, by alias."""
    from hosthooks.deferred.outbox import Outbox

    found: dict[str | None, Any] = {}
    for alias in connections.settings:
        outbox = Outbox(django_layer, alias)
        if outbox.exists():
            found[alias] = outbox
    return found
