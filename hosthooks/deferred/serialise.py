"""How a deferred call's arguments travel: explicit JSON, never pickle.

What a worker gets for each kind of argument:

- ``None``, booleans, numbers, strings: themselves.
- lists and tuples: lists; sets and frozensets: frozensets (``pk_set``, ``update_fields``).
- dicts with string keys: dicts.
- ``datetime``, ``date``, ``time``, ``timedelta``, ``Decimal``, ``UUID``: themselves.
- a model class (the ``sender`` of a model hook, ``model`` of ``m2m_changed``),
  of the runtime or of Django: the class, looked up by its label
  (``"app.Model"``) in the worker, which must know it (the runtime's
  ``hosthooks worker --app MODULE``; Django's installed apps).
- a model instance: a :class:`ModelSnapshot` of the instance at call time:
  its label, primary key, database alias and field values. ``snapshot.load()``
  reads the row as it is now.
- any other class: the class, imported in the worker by ``module:qualname``.

Anything else cannot travel: the call raises :class:`NotSerialisable` naming
the argument, before anything is written. A model the worker does not know
raises :class:`NotLoadedHere` (the call is ``held``, not failed).

Nothing here imports the runtime or Django: models are recognised by what
both kinds have (``_meta.label``, ``_state.db``, ``pk``), and found by label
through the data layers (:mod:`hosthooks.transactions`).
"""

from __future__ import annotations

import datetime
import decimal
import importlib
import uuid
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from hosthooks.transactions import data_layers

_TAG = "__hosthooks__"


class NotSerialisable(TypeError):
    """An argument of a deferred call cannot travel to a worker."""


class NotLoadedHere(LookupError):
    """What a deferred call needs (its plugin's implementation, a model) is not
    loaded in this process: the call waits (``held``) for a worker that has it.

    Raised only by hosthooks itself: a ``KeyError`` or ``IndexError`` an
    implementation raises is its own failure, retried like any other.
    """


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
    def model(self) -> type[Any]:
        """The model class (the runtime's or Django's).

        :raises NotLoadedHere: when this process does not know the model.
        """
        return model_by_label(self.label)

    def load(self) -> Any:
        """The row as it is now, from the same database alias.

        :raises NotLoadedHere: when this process does not know the model.
        :raises Exception: the model's ``DoesNotExist`` (runtime:
            ``ObjectDoesNotExist``) when it was deleted since.
        """
        model = self.model
        manager = getattr(model, "_default_manager", None) or model.objects
        if self.using is not None:
            manager = manager.using(self.using)
        return manager.get(pk=self.pk)


def model_by_label(label: str) -> type[Any]:
    """The model class known by ``label`` to one of this process's data layers.

    :raises NotLoadedHere: when none knows it.
    """
    for layer in data_layers():
        found = layer.model(label)
        if found is not None:
            return found
    raise NotLoadedHere(
        f"no model {label!r} in this process: import the module defining it "
        "(hosthooks worker --app MODULE; under Django, an installed app)"
    )


def _model_meta(value: object) -> Any:
    """The ``_meta`` of a model class (runtime or Django), or None."""
    meta = getattr(value, "_meta", None)
    return meta if isinstance(getattr(meta, "label", None), str) else None


def _instance_fields(meta: Any) -> Any:
    # Django's concrete fields are the columns; the runtime's fields all are.
    return getattr(meta, "concrete_fields", None) or meta.fields


def encode(value: Any, where: str) -> Any:
    """``value`` as JSON-ready data; ``where`` names it in the error.

    :raises NotSerialisable: for a value of a kind listed nowhere above.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    # A class next: every model hook's sender is one.
    if isinstance(value, type):
        meta = _model_meta(value)
        if meta is not None:
            return {_TAG: "model", "label": meta.label}
        return {_TAG: "class", "path": f"{value.__module__}:{value.__qualname__}"}
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
    if isinstance(value, datetime.time):
        return {_TAG: "time", "value": value.isoformat()}
    if isinstance(value, datetime.timedelta):
        return {_TAG: "timedelta", "value": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, decimal.Decimal):
        return {_TAG: "decimal", "value": str(value)}
    if isinstance(value, uuid.UUID):
        return {_TAG: "uuid", "value": value.hex}
    meta = _model_meta(type(value))
    if meta is not None and hasattr(value, "_state"):
        return {
            _TAG: "instance",
            "label": meta.label,
            "pk": encode(value.pk, where),
            "using": value._state.db,
            "fields": {
                item.attname: encode(getattr(value, item.attname, None), f"{where}.{item.attname}")
                for item in _instance_fields(meta)
            },
        }
    raise NotSerialisable(f"{where}: a {type(value).__qualname__} cannot travel to a worker")


def decode(data: Any) -> Any:
    """What :func:`encode` made, back as the worker gets it (see the module's docstring).

    :raises NotLoadedHere: for a model or class the worker cannot find.
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
    if kind == "time":
        return datetime.time.fromisoformat(data["value"])
    if kind == "timedelta":
        days, seconds, microseconds = data["value"]
        return datetime.timedelta(days=days, seconds=seconds, microseconds=microseconds)
    if kind == "decimal":
        return decimal.Decimal(data["value"])
    if kind == "uuid":
        return uuid.UUID(data["value"])
    if kind == "instance":
        fields = {name: decode(item) for name, item in data["fields"].items()}
        return ModelSnapshot(data["label"], decode(data["pk"]), data["using"], fields)
    if kind == "model":
        return model_by_label(data["label"])
    if kind == "class":
        module_name, _, qualname = data["path"].partition(":")
        try:
            target: Any = importlib.import_module(module_name)
            for part in qualname.split("."):
                target = getattr(target, part)
        except (ImportError, AttributeError) as error:
            raise NotLoadedHere(f"class {data['path']} is not importable here: {error}") from None
        return target
    raise ValueError(f"not a deferred call's argument: {data!r}")
