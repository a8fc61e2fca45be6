"""hosthooks' own bulk and queryset hooks inside Django (``HOSTHOOKS = {"bulk_hooks": True}``).

Django sends no signal for ``bulk_create()``, ``bulk_update()``,
``QuerySet.update()`` or a queryset ``delete()``. With the setting on, the app
wraps those four methods of ``django.db.models.QuerySet`` (every manager and
queryset of the project goes through them), so that they fire
:mod:`hosthooks.specs.bulk` on the attached host:

- each wrapper asks whether anyone listens before anything else, and while
  nobody does it calls Django's method and nothing more;
- otherwise, inside the transaction already open on the queryset's database
  (or a new ``transaction.atomic(savepoint=False)`` when none is), it fires the
  ``pre_`` hook, calls Django's own method unchanged, then fires the ``post_``
  hook;
- no receiver is connected to ``pre_delete``/``post_delete``, so Django's fast
  delete stays fast;
- ``pks`` of ``post_queryset_update``/``post_queryset_delete`` is read only when
  an implementation names it, and then by Django's own statements
  (:mod:`hosthooks.django.returning`: ``RETURNING`` on SQLite 3.35+ and
  PostgreSQL), so that code counting its queries sees Django's count; where the
  database cannot return them, the keys cost one ``SELECT`` of the same queryset
  just before the statement, in the same transaction (``SELECT ... FOR UPDATE``
  where the database supports it, so that no other transaction changes the set
  between the two);
- the queryset hooks do not fire for the ``update()`` calls Django's own
  ``bulk_update()`` makes: the bulk hooks stand for them.

:func:`install` is what the app's ``ready()`` calls; :func:`uninstall` puts
Django's methods back.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Callable
from typing import Any
from typing import Final

from django.db import transaction
from django.db.models import QuerySet

from hosthooks.django import returning
from hosthooks.host import Host
from hosthooks.markers import DEFERRED_ARGNAMES

#: Django's methods, while they are wrapped.
_originals: dict[str, Callable[..., Any]] = {}
#: Set inside a bulk operation, whose own update() calls fire no queryset hooks.
_inside_bulk: Final = contextvars.ContextVar("hosthooks_inside_bulk", default=False)


def _names_argument(host: Host, hook: str, argument: str) -> bool:
    for impl in host.implementations(hook):
        names = getattr(impl.function, DEFERRED_ARGNAMES, None)
        if argument in (names if names is not None else (*impl.argnames, *impl.kwargnames)):
            return True
    return False


def _one_transaction(using: str) -> contextlib.AbstractContextManager[Any]:
    """The operation's transaction: the block already open, or a new one. Never a
    savepoint, which would add statements; and an error Django raises before it
    writes must leave an open block usable, as it does without the hooks."""
    if transaction.get_connection(using).in_atomic_block:
        return contextlib.nullcontext()
    block: contextlib.AbstractContextManager[Any] = transaction.atomic(using=using, savepoint=False)
    return block


def _keys(queryset: QuerySet[Any]) -> list[Any]:
    from django.db import connections

    using = queryset.db
    if not connections[using].features.has_select_for_update:
        return list(queryset.order_by().values_list("pk", flat=True))
    # The rows locked are the model's own, chosen by a subquery: FOR UPDATE refuses
    # a grouped or outer-joined query, and the queryset may be either.
    rows = queryset.model._base_manager.using(using).filter(pk__in=queryset.order_by().values("pk"))
    return list(rows.select_for_update().values_list("pk", flat=True))


def install(current_host: Callable[[], Host | None]) -> None:
    """Wrap ``QuerySet.bulk_create``, ``bulk_update``, ``update`` and ``delete`` so that
    they fire the bulk and queryset hooks on ``current_host()`` (none while it is None).
    Installing twice wraps once.
    """
    if _originals:
        return
    for name in ("bulk_create", "bulk_update", "update", "delete"):
        _originals[name] = getattr(QuerySet, name)

    def listening(hook_names: tuple[str, str]) -> Host | None:
        host = current_host()
        if host is None or _inside_bulk.get():
            return None
        if any(host.listening.get(name) for name in hook_names):
            return host
        return None

    bulk_create = _originals["bulk_create"]

    @functools.wraps(bulk_create)
    def wrapped_bulk_create(self: QuerySet[Any], objs: Any, *args: Any, **kwargs: Any) -> Any:
        host = listening(("pre_bulk_create", "post_bulk_create"))
        if host is None:
            return bulk_create(self, objs, *args, **kwargs)
        objs = list(objs)
        if not objs:
            return bulk_create(self, objs, *args, **kwargs)
        self._for_write = True  # as Django's write methods do: the router's write alias
        using = self.db
        token = _inside_bulk.set(True)
        try:
            with _one_transaction(using):
                if host.listening.get("pre_bulk_create"):
                    host.hook.pre_bulk_create(sender=self.model, objs=objs, using=using)
                created = bulk_create(self, objs, *args, **kwargs)
                if host.listening.get("post_bulk_create"):
                    host.hook.post_bulk_create(sender=self.model, objs=list(created), using=using)
        finally:
            _inside_bulk.reset(token)
        return created

    bulk_update = _originals["bulk_update"]

    @functools.wraps(bulk_update)
    def wrapped_bulk_update(
        self: QuerySet[Any], objs: Any, fields: Any, *args: Any, **kwargs: Any
    ) -> Any:
        host = listening(("pre_bulk_update", "post_bulk_update"))
        if host is None:
            return bulk_update(self, objs, fields, *args, **kwargs)
        objs = list(objs)
        fields = list(fields)
        if not objs or not fields:
            # Django's answer: 0 for no objects, its ValueError for no fields.
            return bulk_update(self, objs, fields, *args, **kwargs)
        self._for_write = True
        using = self.db
        names = frozenset(fields)
        token = _inside_bulk.set(True)
        try:
            with _one_transaction(using):
                if host.listening.get("pre_bulk_update"):
                    host.hook.pre_bulk_update(
                        sender=self.model, objs=objs, fields=names, using=using
                    )
                written = bulk_update(self, objs, fields, *args, **kwargs)
                if host.listening.get("post_bulk_update"):
                    host.hook.post_bulk_update(
                        sender=self.model, objs=objs, fields=names, using=using
                    )
        finally:
            _inside_bulk.reset(token)
        return written

    update = _originals["update"]

    @functools.wraps(update)
    def wrapped_update(self: QuerySet[Any], **values: Any) -> Any:
        host = listening(("pre_queryset_update", "post_queryset_update"))
        if host is None or self.query.is_sliced:
            # Django refuses a sliced update: let it say so, before any hook fires.
            return update(self, **values)
        self._for_write = True
        using = self.db
        with _one_transaction(using):
            if host.listening.get("pre_queryset_update"):
                host.hook.pre_queryset_update(
                    sender=self.model, queryset=self, values=dict(values), using=using
                )
            heard = host.listening.get("post_queryset_update")
            wanted = heard and _names_argument(host, "post_queryset_update", "pks")
            returned = returning.update_keys(self, values) if wanted else None
            pks = _keys(self) if wanted and returned is None else None
            if returned is None:
                count = update(self, **values)
            else:
                with returned:
                    count = update(self, **values)
                pks = returned.keys
            if heard:
                host.hook.post_queryset_update(
                    sender=self.model,
                    queryset=self,
                    values=dict(values),
                    using=using,
                    pks=pks,
                    count=count,
                )
        return count

    delete = _originals["delete"]

    @functools.wraps(delete)
    def wrapped_delete(self: QuerySet[Any]) -> Any:
        host = listening(("pre_queryset_delete", "post_queryset_delete"))
        refused = self.query.is_sliced or self.query.distinct or self._fields is not None
        if host is None or refused:
            # Django refuses to delete a sliced, distinct or values() queryset: let it
            # say so, before any hook fires.
            return delete(self)
        self._for_write = True
        using = self.db
        model = self.model
        with _one_transaction(using):
            if host.listening.get("pre_queryset_delete"):
                host.hook.pre_queryset_delete(sender=model, queryset=self, using=using)
            heard = host.listening.get("post_queryset_delete")
            wanted = heard and _names_argument(host, "post_queryset_delete", "pks")
            returned = returning.delete_keys(self) if wanted else None
            pks = _keys(self) if wanted and returned is None else None
            if returned is None:
                deleted = delete(self)
            else:
                with returned:
                    deleted = delete(self)
                pks = returning.deleted_own_keys(returned)
            if heard:
                count = deleted[0]
                host.hook.post_queryset_delete(sender=model, using=using, pks=pks, count=count)
        return deleted

    # Django marks these as not usable from templates; the wrappers keep the marks.
    for name, wrapper in (
        ("bulk_create", wrapped_bulk_create),
        ("bulk_update", wrapped_bulk_update),
        ("update", wrapped_update),
        ("delete", wrapped_delete),
    ):
        setattr(QuerySet, name, wrapper)


def uninstall() -> None:
    """Put Django's own methods back."""
    for name, original in _originals.items():
        setattr(QuerySet, name, original)
    _originals.clear()
