"""Bulk and queryset hooks: hosthooks' own, not Django signals.

Django sends no signal for ``bulk_create()``, ``bulk_update()``,
``QuerySet.update()`` or a queryset ``delete()`` whose rows are never loaded, so
a plugin that audits, invalidates caches or indexes is blind to the fastest
writes. These hooks cover them; the operations still fire none of Django's save
signals. The runtime fires them from :mod:`hosthooks.runtime.queries`, and the
Django bridge when the project sets ``HOSTHOOKS = {"bulk_hooks": True}``.

Each ``post_`` hook fires inside the operation's transaction, after its
statement, as ``post_save`` does: an implementation that raises rolls the
operation back; ``defer=True`` runs it on a worker after the commit.
"""

from __future__ import annotations

from typing import Any

from hosthooks.markers import hookspec


@hookspec
def pre_bulk_create(sender: type[Any], objs: list[Any], using: str) -> None:
    """Instances are about to be inserted by ``bulk_create()``.

    Fires once per ``bulk_create()`` call that inserts anything, inside its
    transaction and before any INSERT. An implementation that raises aborts the
    call: nothing is inserted.

    :param sender: the model class of the instances.
    :param objs: the instances to insert, in the order given; their primary
        keys are not set yet.
    :param using: the alias of the database written to.
    """


@hookspec
def post_bulk_create(sender: type[Any], objs: list[Any], using: str) -> None:
    """Instances have been inserted by ``bulk_create()``.

    Fires after the INSERTs, inside the same transaction.

    :param sender: the model class of the instances.
    :param objs: the instances inserted, each with its primary key set.
    :param using: the alias of the database written to.
    """


@hookspec
def pre_bulk_update(sender: type[Any], objs: list[Any], fields: frozenset[str], using: str) -> None:
    """Instances' fields are about to be written by ``bulk_update()``.

    Fires once per ``bulk_update()`` call that writes anything, inside its
    transaction and before any UPDATE. An implementation that raises aborts the
    call: nothing is written.

    :param sender: the model class of the instances.
    :param objs: the instances whose fields are written, in the order given.
    :param fields: the names of the fields written.
    :param using: the alias of the database written to.
    """


@hookspec
def post_bulk_update(
    sender: type[Any], objs: list[Any], fields: frozenset[str], using: str
) -> None:
    """Instances' fields have been written by ``bulk_update()``.

    Fires after the UPDATEs, inside the same transaction.

    :param sender: the model class of the instances.
    :param objs: the instances written.
    :param fields: the names of the fields written.
    :param using: the alias of the database written to.
    """


@hookspec
def pre_queryset_update(
    sender: type[Any], queryset: Any, values: dict[str, Any], using: str
) -> None:
    """Every row a queryset matches is about to be changed by ``QuerySet.update()``.

    Fires inside the update's transaction, before the UPDATE. An implementation
    that raises aborts the update. A queryset known to match nothing
    (``pk__in=[]``) sends no statement and fires nothing.

    :param sender: the model class of the rows.
    :param queryset: the queryset whose ``update()`` was called.
    :param values: the field names and values ``update()`` was given.
    :param using: the alias of the database written to.
    """


@hookspec
def post_queryset_update(
    sender: type[Any],
    queryset: Any,
    values: dict[str, Any],
    using: str,
    pks: list[Any] | None,
    count: int,
) -> None:
    """Rows have been changed by ``QuerySet.update()``.

    Fires after the UPDATE, inside the same transaction. The queryset is the one
    ``update()`` was called on: evaluating it again matches the rows as they are
    now, which may no longer be the rows changed; ``pks`` names those.

    :param sender: the model class of the rows.
    :param queryset: the queryset whose ``update()`` was called.
    :param values: the field names and values ``update()`` was given.
    :param using: the alias of the database written to.
    :param pks: the primary keys of the rows changed, read by the UPDATE itself
        (``RETURNING``), when an implementation of this hook names ``pks``; None
        when none does, so that nobody pays for them.
    :param count: how many rows were changed.
    """


@hookspec
def pre_queryset_delete(sender: type[Any], queryset: Any, using: str) -> None:
    """Every row a queryset matches is about to be deleted by ``QuerySet.delete()``.

    Fires inside the deletion's transaction, before anything is collected or
    deleted, whether the rows go by one statement unloaded (then no per-row
    ``pre_delete``/``post_delete`` fires) or are loaded and deleted with their
    per-row hooks and cascades. An implementation that raises aborts the
    deletion. A queryset known to match nothing fires nothing.

    :param sender: the model class of the rows.
    :param queryset: the queryset whose ``delete()`` was called.
    :param using: the alias of the database the rows are deleted from.
    """


@hookspec
def post_queryset_delete(sender: type[Any], using: str, pks: list[Any] | None, count: int) -> None:
    """Rows have been deleted by ``QuerySet.delete()``.

    Fires after the last DELETE of the operation (cascades included), inside the
    same transaction.

    :param sender: the model class of the rows.
    :param using: the alias of the database the rows were deleted from.
    :param pks: the primary keys of the queryset's own rows deleted (not the
        cascaded ones), when an implementation of this hook names ``pks``;
        None when none does.
    :param count: how many rows were deleted, cascaded rows included.
    """
