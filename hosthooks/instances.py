"""What a plugin reads of a model instance, whichever host sent it.

The model hooks send instances of the runtime's models, or, through
``hosthooks.django``, of Django's. A plugin that reads them through these
functions works on both, and never reaches into ``_meta`` or ``_state``:

- :func:`model_label`: ``"app.Model"``, of an instance or a model class;
- :func:`instance_pk`: the primary key (None before the first save);
- :func:`field_names` and :func:`field_values`: the model's concrete fields,
  in declaration order (the primary key first);
- :func:`is_adding`: whether the instance has no row yet (in ``pre_save``,
  True for an insert).

``hosthooks.sender_label`` names a hook's sender (a model class, or anything
else) the way ``sender=`` filters match it.

Each reads duck-typed attributes (``_meta``, ``_state``, ``pk``), which both
hosts' models have: importing this module imports neither the runtime nor Django.
"""

from __future__ import annotations

from typing import Any

from hosthooks.engine.dispatch import sender_label

__all__ = ["field_names", "field_values", "instance_pk", "is_adding", "model_label"]


def _meta_of(model_or_instance: object) -> Any:
    meta = getattr(model_or_instance, "_meta", None)
    if meta is None or not hasattr(meta, "fields"):
        raise TypeError(f"{model_or_instance!r} is not a model class or instance")
    return meta


def _fields(model_or_instance: object) -> list[Any]:
    meta = _meta_of(model_or_instance)
    # Django's fields include reverse and private ones; its concrete fields are
    # the columns, as the runtime's fields are.
    return list(getattr(meta, "concrete_fields", None) or meta.fields)


def model_label(model_or_instance: object) -> str:
    """``"app.Model"``: the label of a model class, or of an instance's model.

    :raises TypeError: for anything that is not a model class or instance.
    """
    _meta_of(model_or_instance)
    model = model_or_instance if isinstance(model_or_instance, type) else type(model_or_instance)
    label = sender_label(model)
    assert label is not None  # a class always has one
    return label


def instance_pk(instance: object) -> Any:
    """The instance's primary key: None until it is first saved.

    :raises TypeError: for anything that is not a model instance.
    """
    if isinstance(instance, type):
        raise TypeError(f"{instance!r} is a model class, not an instance")
    _meta_of(instance)
    return getattr(instance, "pk", None)


def field_names(model_or_instance: object) -> list[str]:
    """The names of the model's concrete fields in declaration order, the primary
    key first (a foreign key by its name: ``author``, not ``author_id``).

    :raises TypeError: for anything that is not a model class or instance.
    """
    return [field.name for field in _fields(model_or_instance)]


def field_values(instance: object) -> dict[str, Any]:
    """``{name: value}`` for each of :func:`field_names`, as stored: a foreign key
    gives the related row's primary key, and no related instance is loaded.
    (A field a Django query deferred is loaded by reading it, as Django does.)

    :raises TypeError: for anything that is not a model instance.
    """
    if isinstance(instance, type):
        raise TypeError(f"{instance!r} is a model class, not an instance")
    return {field.name: getattr(instance, field.attname) for field in _fields(instance)}


def is_adding(instance: object) -> bool:
    """Whether the instance has no row in the database yet: True from its making
    until its first save has written it, False for rows loaded or saved.

    :raises TypeError: for anything that is not a model instance.
    """
    state = getattr(instance, "_state", None)
    if isinstance(instance, type) or state is None:
        raise TypeError(f"{instance!r} is not a model instance")
    return bool(state.adding)
