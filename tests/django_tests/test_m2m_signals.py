"""Django's ``tests/m2m_signals/tests.py``, translated to the runtime: same scenarios,
same expected values, written anew.

Not expressible with the runtime's API, and what is missing:

- ``test_m2m_relations_signals_when_inheritance``: model inheritance (``SportsCar(Car)``).
- ``test_m2m_relations_with_self_add_friends``, ``test_m2m_relations_with_self_add_fan``,
  ``test_m2m_relations_with_self_add_idols``: a relation of a model to itself
  (``ManyToManyField("self")``, symmetrical or not).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from hosthooks import Host
from hosthooks import hookimpl
from hosthooks.runtime import Model
from hosthooks.runtime import fields


class Part(Model):
    name = fields.Text()


class Car(Model):
    name = fields.Text()
    default_parts = fields.ManyToMany(Part)
    optional_parts = fields.ManyToMany(Part, related_name="cars_optional")


DEFAULT_PARTS = Car.default_parts.relation.through
OPTIONAL_PARTS = Car.optional_parts.relation.through
MODELS = [Part, Car, DEFAULT_PARTS, OPTIONAL_PARTS]


@dataclass
class Garage:
    vw: Car
    bmw: Car
    toyota: Car
    wheelset: Part
    doors: Part
    engine: Part
    airbag: Part
    sunroof: Part


@pytest.fixture
def garage(db) -> Garage:
    cars = [Car.objects.create(name=name) for name in ("VW", "BMW", "Toyota")]
    names = ("Wheelset", "Doors", "Engine", "Airbag", "Sunroof")
    parts = [Part.objects.create(name=name) for name in names]
    return Garage(*cars, *parts)


def message(instance: Any, action: str, reverse: bool, model: Any, objects: Any = None) -> Any:
    entry = {"instance": instance, "action": action, "reverse": reverse, "model": model}
    if objects is not None:
        entry["objects"] = objects
    return entry


class MessageReceiver:
    """What Django's test receiver keeps of each call: the related objects by name,
    as its models' ``Meta.ordering`` sorts them."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def receive(self, instance: Any, action: str, reverse: bool, model: Any, pk_set: Any) -> None:
        entry = message(instance, action, reverse, model)
        if pk_set:
            entry["objects"] = list(model.objects.filter(pk__in=pk_set).order_by("name"))
        self.messages.append(entry)

    def listen(self, host: Host, through: Any) -> None:
        receive = self.receive

        class Listener:
            @hookimpl(sender=through)
            def m2m_changed(
                self, instance: Any, action: str, reverse: bool, model: Any, pk_set: Any
            ) -> None:
                receive(instance, action, reverse, model, pk_set)

        host.register(Listener())


@pytest.fixture
def receiver() -> MessageReceiver:
    return MessageReceiver()


def initialize_signal_car(
    host: Host, receiver: MessageReceiver, garage: Garage, add_default_parts_first: bool = False
) -> None:
    receiver.listen(host, OPTIONAL_PARTS)
    if add_default_parts_first:
        # Added before anyone listens to the default parts.
        garage.vw.default_parts.add(garage.sunroof)
    receiver.listen(host, DEFAULT_PARTS)


def test_pk_set_on_repeated_add_remove(default_host, garage):
    pk_sets_sent = []

    class Handler:
        @hookimpl(sender=DEFAULT_PARTS)
        def m2m_changed(self, action: str, pk_set: Any) -> None:
            if action in ("pre_add", "pre_remove"):
                pk_sets_sent.append(pk_set)

    default_host.register(Handler())
    garage.vw.default_parts.add(garage.wheelset)
    garage.vw.default_parts.add(garage.wheelset)
    garage.vw.default_parts.remove(garage.wheelset)
    garage.vw.default_parts.remove(garage.wheelset)
    wheelset = garage.wheelset.pk
    assert pk_sets_sent == [{wheelset}, set(), {wheelset}, {wheelset}]


def test_m2m_relations_add_remove_clear(default_host, garage, receiver):
    g = garage
    initialize_signal_car(default_host, receiver, g, add_default_parts_first=True)
    g.vw.default_parts.add(g.wheelset, g.doors, g.engine)
    expected = [
        message(g.vw, "pre_add", False, Part, [g.doors, g.engine, g.wheelset]),
        message(g.vw, "post_add", False, Part, [g.doors, g.engine, g.wheelset]),
    ]
    assert receiver.messages == expected
    # Give the BMW and the Toyota some doors as well.
    g.doors.car_set.add(g.bmw, g.toyota)
    expected += [
        message(g.doors, "pre_add", True, Car, [g.bmw, g.toyota]),
        message(g.doors, "post_add", True, Car, [g.bmw, g.toyota]),
    ]
    assert receiver.messages == expected


def test_m2m_relations_signals_remove_relation(default_host, garage, receiver):
    g = garage
    initialize_signal_car(default_host, receiver, g)
    # The airbag is not related, and still sent.
    g.vw.default_parts.remove(g.engine, g.airbag)
    assert receiver.messages == [
        message(g.vw, "pre_remove", False, Part, [g.airbag, g.engine]),
        message(g.vw, "post_remove", False, Part, [g.airbag, g.engine]),
    ]


def test_m2m_relations_signals_give_the_self_vw_some_optional_parts(default_host, garage, receiver):
    g = garage
    initialize_signal_car(default_host, receiver, g)
    g.vw.optional_parts.add(g.airbag, g.sunroof)
    expected = [
        message(g.vw, "pre_add", False, Part, [g.airbag, g.sunroof]),
        message(g.vw, "post_add", False, Part, [g.airbag, g.sunroof]),
    ]
    assert receiver.messages == expected
    # The VW has an airbag already: only the other two cars are sent.
    g.airbag.cars_optional.add(g.vw, g.bmw, g.toyota)
    expected += [
        message(g.airbag, "pre_add", True, Car, [g.bmw, g.toyota]),
        message(g.airbag, "post_add", True, Car, [g.bmw, g.toyota]),
    ]
    assert receiver.messages == expected


def test_m2m_relations_signals_reverse_relation_with_custom_related_name(
    default_host, garage, receiver
):
    g = garage
    initialize_signal_car(default_host, receiver, g)
    g.airbag.cars_optional.remove(g.vw)
    assert receiver.messages == [
        message(g.airbag, "pre_remove", True, Car, [g.vw]),
        message(g.airbag, "post_remove", True, Car, [g.vw]),
    ]


def test_m2m_relations_signals_clear_all_parts_of_the_self_vw(default_host, garage, receiver):
    g = garage
    initialize_signal_car(default_host, receiver, g)
    g.vw.default_parts.clear()
    assert receiver.messages == [
        message(g.vw, "pre_clear", False, Part),
        message(g.vw, "post_clear", False, Part),
    ]


def test_m2m_relations_signals_all_the_doors_off_of_cars(default_host, garage, receiver):
    g = garage
    initialize_signal_car(default_host, receiver, g)
    g.doors.car_set.clear()
    assert receiver.messages == [
        message(g.doors, "pre_clear", True, Car),
        message(g.doors, "post_clear", True, Car),
    ]


def test_m2m_relations_signals_reverse_relation(default_host, garage, receiver):
    g = garage
    initialize_signal_car(default_host, receiver, g)
    g.airbag.cars_optional.clear()
    assert receiver.messages == [
        message(g.airbag, "pre_clear", True, Car),
        message(g.airbag, "post_clear", True, Car),
    ]


def test_m2m_relations_signals_alternative_ways(default_host, garage, receiver):
    g = garage
    initialize_signal_car(default_host, receiver, g)
    g.vw.default_parts.create(name="Windows")
    windows = Part.objects.get(name="Windows")
    expected = [
        message(g.vw, "pre_add", False, Part, [windows]),
        message(g.vw, "post_add", False, Part, [windows]),
    ]
    assert receiver.messages == expected
    # set() removes what is not wanted, then adds what is missing.
    g.vw.default_parts.set([g.wheelset, g.doors, g.engine])
    expected += [
        message(g.vw, "pre_remove", False, Part, [windows]),
        message(g.vw, "post_remove", False, Part, [windows]),
        message(g.vw, "pre_add", False, Part, [g.doors, g.engine, g.wheelset]),
        message(g.vw, "post_add", False, Part, [g.doors, g.engine, g.wheelset]),
    ]
    assert receiver.messages == expected


def test_m2m_relations_signals_clearing_removing(default_host, garage, receiver):
    g = garage
    initialize_signal_car(default_host, receiver, g, add_default_parts_first=True)
    g.vw.default_parts.set([g.wheelset, g.doors, g.engine], clear=True)
    expected = [
        message(g.vw, "pre_clear", False, Part),
        message(g.vw, "post_clear", False, Part),
        message(g.vw, "pre_add", False, Part, [g.doors, g.engine, g.wheelset]),
        message(g.vw, "post_add", False, Part, [g.doors, g.engine, g.wheelset]),
    ]
    assert receiver.messages == expected
    # Removing only what is necessary.
    g.vw.default_parts.set([g.wheelset, g.doors], clear=False)
    expected += [
        message(g.vw, "pre_remove", False, Part, [g.engine]),
        message(g.vw, "post_remove", False, Part, [g.engine]),
    ]
    assert receiver.messages == expected
