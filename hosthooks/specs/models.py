"""Model hooks: Django's ``django.db.models.signals``, fired by ``hosthooks.runtime.models``."""

from __future__ import annotations

from typing import Any

from hosthooks.markers import hookspec


@hookspec(historic=True)
def class_prepared(sender: type[Any]) -> None:
    """A model class has been defined and registered.

    Fires once per model class, when the class statement finishes. The hook is
    *historic*: a plugin registered after a class was prepared still receives
    every class prepared before it, in the order they were prepared.

    :param sender: the model class that was just prepared.
    """


@hookspec
def pre_init(sender: type[Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """A model instance is about to be initialised.

    Fires at the start of ``Model.__init__``, before any field is set, both for
    instances built in code and for rows loaded from the database.

    :param sender: the model class being instantiated.
    :param args: the positional arguments passed to ``__init__``.
    :param kwargs: the keyword arguments passed to ``__init__``.
    """


@hookspec
def post_init(sender: type[Any], instance: Any) -> None:
    """A model instance has been initialised.

    Fires at the end of ``Model.__init__``, once every field holds its value.

    :param sender: the model class of the instance.
    :param instance: the instance just initialised.
    """


@hookspec
def pre_save(
    sender: type[Any],
    instance: Any,
    raw: bool,
    using: str,
    update_fields: frozenset[str] | None,
) -> None:
    """A model instance is about to be written.

    Fires at the start of ``Model.save()``, inside the save's transaction and
    before any SQL is sent. An implementation that raises aborts the save:
    nothing is written. ``save(update_fields=[])`` fires nothing;
    ``QuerySet.update()``, ``bulk_create()`` and ``bulk_update()`` fire no
    ``pre_save``, only hosthooks' own bulk and queryset hooks.

    :param sender: the model class of the instance.
    :param instance: the instance being saved.
    :param raw: True only when the instance is saved exactly as presented, as
        fixture loading does; related rows may not exist yet.
    :param using: the alias of the database being written to.
    :param update_fields: the field names passed to ``save(update_fields=...)``
        as a frozenset, or None when every field is written.
    """


@hookspec
def post_save(
    sender: type[Any],
    instance: Any,
    created: bool,
    raw: bool,
    using: str,
    update_fields: frozenset[str] | None,
) -> None:
    """A model instance has been written.

    Fires after the INSERT or UPDATE, still inside the save's transaction: an
    implementation that raises rolls the whole save back. Work that must only
    happen once the data is committed belongs in ``on_commit()``.

    :param sender: the model class of the instance.
    :param instance: the instance just saved; its primary key is set.
    :param created: True when a new row was inserted.
    :param raw: True only when the instance was saved exactly as presented, as
        fixture loading does.
    :param using: the alias of the database written to.
    :param update_fields: the field names passed to ``save(update_fields=...)``
        as a frozenset, or None when every field was written.
    """


@hookspec
def pre_delete(sender: type[Any], instance: Any, using: str, origin: Any) -> None:
    """A model instance is about to be deleted.

    Fires for every instance the deletion collected, cascaded rows included,
    inside the deletion's transaction and before any DELETE is sent. An
    implementation that raises aborts the whole deletion.

    :param sender: the model class of the instance.
    :param instance: the instance about to be deleted.
    :param using: the alias of the database the row is deleted from.
    :param origin: the model instance or ``QuerySet`` whose ``delete()``
        started the deletion; the same for every cascaded row.
    """


@hookspec
def post_delete(sender: type[Any], instance: Any, using: str, origin: Any) -> None:
    """A model instance has been deleted.

    Fires after the DELETE of each collected instance, inside the same
    transaction; the instance still carries its primary key. An implementation
    that raises rolls the whole deletion back.

    :param sender: the model class of the instance.
    :param instance: the instance just deleted.
    :param using: the alias of the database the row was deleted from.
    :param origin: the model instance or ``QuerySet`` whose ``delete()``
        started the deletion.
    """


@hookspec
def m2m_changed(
    sender: type[Any],
    instance: Any,
    action: str,
    reverse: bool,
    model: type[Any],
    pk_set: set[Any] | None,
    using: str,
    raw: bool = False,
) -> None:
    """A many-to-many relation is changing.

    Fires before and after ``add()``, ``remove()`` and ``clear()`` on a related
    manager (``set()`` decomposes into those), inside the change's transaction:
    an implementation that raises rolls the change back.

    :param sender: the intermediate ("through") model of the relation.
    :param instance: the instance whose relation changes.
    :param action: one of ``pre_add``, ``post_add``, ``pre_remove``,
        ``post_remove``, ``pre_clear``, ``post_clear``.
    :param reverse: False when the change is made from the side declaring the
        ManyToMany field, True from the related side.
    :param model: the class of the objects added to, removed from or cleared
        from the relation.
    :param pk_set: for add, the primary keys not already related (so possibly
        empty); for remove, the primary keys submitted; for clear, None.
    :param using: the alias of the database written to.
    :param raw: True when the change comes from loading a fixture, as the
        relation is stored as given (Django sends it from 6.1 on; ``False``
        when the sender leaves it out, as Django 5.2 does).
    """
