"""How a deferred call's arguments travel: explicit JSON, never pickle.

What a worker gets for each kind of argument:

- ``None``, booleans, numbers, strings: themselves.
- lists and tuples: lists; sets and frozensets: frozensets (``pk_set``, ``update_fields``).
- dicts with string keys: dicts.
- ``datetime``, ``date``: themselves (ISO 8601 on the wire).
- a model class (the ``sender`` of a model hook, ``model`` of ``m2m_changed``):
  the class, looked up by its label (``"app.Model"``) in the worker, which must
  have imported the module defining it (``hosthooks worker --app MODULE``).
- a model instance: a :class:`ModelSnapshot` of the instance at call time:
  its label, primary key, database alias and field values. ``snapshot.load()``
  reads the row as it is now.
- any other class: the class, imported in the worker by ``module:qualname``.

Anything else cannot travel: the call raises :class:`NotSerialisable` naming
the argument, before anything is enqueued.
"""

from __future__ import annotations

import datetime
import importlib
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from hosthooks.runtime import models

_TAG = "__hosthooks__"


class NotSerialisable(TypeError):
    """An argument of a deferred call cannot travel to a worker."""


@dataclass(frozen=True)
class ModelSnapshot:
    """A model instance as it was when the hook fired.

    :param label: the model's label, ``"app.Model"``.
    :param pk: its primary key.
    :param using: the database alias it was saved to or loaded from.
    :param fields: field values by attribute name (a foreign key as ``author_id``).
    """

    label: str
    pk: Any
    using: str | None
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def model(self) -> type[models.Model]:
        """The model class; :class:`LookupError` when the worker has not imported it."""
        return _model_by_label(self.label)

    def load(self) -> models.Model:
        """The row as it is now, from the same database alias.

        :raises hosthooks.runtime.models.ObjectDoesNotExist: when it was deleted since.
        """
        manager = self.model.objects
        if self.using is not None:
            manager = manager.using(self.using)
        row: models.Model = manager.get(pk=self.pk)
        return row


def _model_by_label(label: str) -> type[models.Model]:
    try:
        return models.registry[label]
    except KeyError:
        raise LookupError(
            f"no model {label!r} in this process: import the module defining it "
            "(hosthooks worker --app MODULE)"
        ) from None


def encode(value: Any, where: str) -> Any:
    """``value`` as JSON-ready data; ``where`` names it in the error.

    :raises NotSerialisable: for a value of a kind listed nowhere above.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [encode(item, where) for item in value]
    if isinstance(value, (set, frozenset)):
        return {_TAG: "set", "items": [encode(item, where) for item in value]}
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise NotSerialisable(f"{where}: a dict with keys that are not strings cannot travel")
        return {_TAG: "dict", "items": {key: encode(item, where) for key, item in value.items()}}
    if isinstance(value, datetime.datetime):
        return {_TAG: "datetime", "value": value.isoformat()}
    if isinstance(value, datetime.date):
        return {_TAG: "date", "value": value.isoformat()}
    if isinstance(value, models.Model):
        meta = type(value)._meta
        return {
            _TAG: "instance",
            "label": meta.label,
            "pk": encode(value.pk, where),
            "using": value._state.db,
            "fields": {
                item.attname: encode(getattr(value, item.attname, None), f"{where}.{item.attname}")
                for item in meta.fields
            },
        }
    if isinstance(value, type):
        label = getattr(value, "hosthooks_label", None)
        if isinstance(label, str) and issubclass(value, models.Model):
            return {_TAG: "model", "label": label}
        return {_TAG: "class", "path": f"{value.__module__}:{value.__qualname__}"}
    raise NotSerialisable(f"{where}: a {type(value).__qualname__} cannot travel to a worker")


def decode(data: Any) -> Any:
    """What :func:`encode` made, back as the worker gets it (see the module's docstring).

    :raises LookupError: for a model or class the worker cannot find.
    """
    if isinstance(data, list):
        return [decode(item) for item in data]
    if not isinstance(data, dict):
        return data
    kind = data.get(_TAG)
    if kind == "set":
        return frozenset(decode(item) for item in data["items"])
    if kind == "dict":
        return {key: decode(item) for key, item in data["items"].items()}
    if kind == "datetime":
        return datetime.datetime.fromisoformat(data["value"])
    if kind == "date":
        return datetime.date.fromisoformat(data["value"])
    if kind == "instance":
        fields = {name: decode(item) for name, item in data["fields"].items()}
        return ModelSnapshot(data["label"], decode(data["pk"]), data["using"], fields)
    if kind == "model":
        return _model_by_label(data["label"])
    if kind == "class":
        module_name, _, qualname = data["path"].partition(":")
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
        return target
    raise ValueError(f"not a deferred call's argument: {data!r}")
