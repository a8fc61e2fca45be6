"""Generated code works whatever its inputs are called: a model's row code with
fields named after builtins (``type``), after the generator's own names
(``State``) or one case change or underscore away from them."""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pluggy
import pytest
from hypothesis import HealthCheck
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

import hosthooks
from hosthooks import Host
from hosthooks import hookimpl
from hosthooks import hookspec
from hosthooks.runtime import Database
from hosthooks.runtime import Model
from hosthooks.runtime import fields
from hosthooks.runtime import migrate
from hosthooks.runtime.models import registry
from tests.bookshop.models import Book
from tests.generated_names import distinct_stems
from tests.generated_names import identifiers_in
from tests.generated_names import risky_names

_models = itertools.count()


@pytest.fixture(autouse=True)
def _forget_models() -> Iterator[None]:
    """The models a test defines leave the registry (which ``migrate()`` reads) after it."""
    before = set(registry)
    yield
    for label in set(registry) - before:
        del registry[label]


def _row_code_names() -> set[str]:
    # The names row code uses, read from what it generates for a model with
    # every kind of field (a foreign key, a callable default, a conversion).
    Book(title="t", author_id=1)
    return identifiers_in(Book._meta.row_code.source)


def test_a_field_named_after_a_builtin_or_a_generated_name_makes_every_instance(default_host):
    class Kind(Model):
        type = fields.Text(default="plain")
        State = fields.Text(default="solid")

    # The first instance compiles the row code; the second one runs it.
    first, second = Kind(type="a"), Kind(type="b", State="liquid")
    assert (first.type, first.State, second.type, second.State) == ("a", "solid", "b", "liquid")


def test_each_name_the_row_code_uses_can_name_a_field(default_host):
    names = distinct_stems(name for name in _row_code_names() if _field_name_allowed(name))
    for number, name in enumerate(names):
        parent: Any = type(f"Target{number}", (Model,), {"__module__": __name__})
        declared = {
            name: fields.Text(default="default"),
            f"{name}_fk": fields.ForeignKey(parent, on_delete=fields.CASCADE, null=True),
        }
        model: Any = type(f"Own{number}", (Model,), {"__module__": __name__, **declared})
        made = [model(**{name: "given"}), model(**{name: "given"}), model()]
        assert [getattr(instance, name) for instance in made] == ["given", "given", "default"]


#: Names a field can never have, whatever the generator: the model's own attributes
#: (``_state`` and ``_meta`` included), and dunder names (Python's).
_TAKEN = {name.lower() for name in [*dir(Model), *Model.__annotations__]} | {"id", "pk"}


def _field_name_allowed(name: str) -> bool:
    taken = name.lower() in _TAKEN or f"{name}_id".lower() in _TAKEN
    return not taken and not (name.startswith("__") and name.endswith("__"))


FIELD_NAME = risky_names(_row_code_names(), _field_name_allowed)
FIELD = st.sampled_from(["text", "callable default", "nullable integer", "foreign key"])


class _PreInit:
    """Listening to pre_init sends every instance through Model's own ``__init__``."""

    @hookimpl
    def pre_init(self, sender: Any, args: Any, kwargs: Any) -> None:
        pass


def _declare(name: str, kind: str, parent: type[Model]) -> Any:
    if kind == "text":
        return fields.Text(default=f"default of {name}")
    if kind == "callable default":
        return fields.Integer(default=lambda: len(name))
    if kind == "nullable integer":
        return fields.Integer(null=True)
    return fields.ForeignKey(parent, on_delete=fields.CASCADE, null=True, related_name="+")


def _expected(name: str, kind: str, given: dict[str, Any]) -> Any:
    if name in given:
        return given[name]
    return {"text": f"default of {name}", "callable default": len(name)}.get(kind)


def _distinct_columns(declared: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``declared`` without the fields whose column (a foreign key's is ``<name>_id``)
    or name another one has already, ignoring case as SQL does."""
    taken: set[str] = set()
    kept = []
    for name, kind in declared:
        names = {name.lower(), f"{name}_id".lower()} if kind == "foreign key" else {name.lower()}
        if not names & taken:
            taken |= names
            kept.append((name, kind))
    return kept


@example(
    declared=[("type", "text"), ("State", "foreign key")], given_values=[True] * 5, listening=False
)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    declared=st.lists(
        st.tuples(FIELD_NAME, FIELD),
        min_size=1,
        max_size=5,
        # Columns are named by attribute, and SQL names ignore case.
        unique_by=lambda item: item[0].lower(),
    ).map(_distinct_columns),
    given_values=st.lists(st.booleans(), min_size=5, max_size=5),
    listening=st.booleans(),
)
def test_row_code_makes_writes_and_loads_instances_whatever_the_fields_are_called(
    declared, given_values, listening
):
    number = next(_models)
    module = {"__module__": __name__}
    parent: Any = type(f"Parent{number}", (Model,), {**module, "label": fields.Text()})
    attributes = {name: _declare(name, kind, parent) for name, kind in declared}
    model: Any = type(f"Named{number}", (Model,), {**module, **attributes})
    host = Host()
    if listening:
        host.register(_PreInit())
    hosthooks.set_default_host(host)
    try:
        with tempfile.TemporaryDirectory() as directory:
            database = Database(Path(directory) / "names.sqlite3")
            try:
                migrate(database, models=[parent, model], verbosity=0)
                owner = parent(label="owner")
                owner.save()
                given: dict[str, Any] = {}
                for (name, kind), give in zip(declared, given_values, strict=False):
                    if give:
                        given[name] = owner if kind == "foreign key" else f"given {name}"
                        if kind in {"callable default", "nullable integer"}:
                            given[name] = len(name) * 10
                # Twice: the first instance compiles the row code, the second runs it.
                instances = [model(**given), model(**given)]
                for instance in instances:
                    for name, kind in declared:
                        value = getattr(instance, name)
                        assert value == _expected(name, kind, given), name
                    instance.save()
                loaded = list(model.objects.order_by("id"))
                assert [row.pk for row in loaded] == [instance.pk for instance in instances]
                for row in loaded:
                    for name, kind in declared:
                        expected = _expected(name, kind, given)
                        if kind == "foreign key":
                            assert getattr(row, f"{name}_id") == (expected and expected.pk)
                        else:
                            assert getattr(row, name) == expected, name
                    for name, kind in declared:
                        if kind == "text":
                            setattr(row, name, f"changed {name}")
                    row.save()
                for row in model.objects.all():
                    for name, kind in declared:
                        if kind == "text":
                            assert getattr(row, name) == f"changed {name}"
            finally:
                database.close()
    finally:
        hosthooks.set_default_host(None)
        for label in (parent._meta.label, model._meta.label):
            del registry[label]


# -- call plans -------------------------------------------------------------------
#
# A hook's plans (sync, async, and per sender) are generated code too: their
# parameters are the spec's argument names and their function the hook's name.
# Drawn from the same risky names, hosthooks must call exactly what plain pluggy
# calls, with the same values, for a call through host.hook and host.ahook alike.


def _code_names(code: types.CodeType) -> set[str]:
    names = {*code.co_names, *code.co_varnames, *code.co_freevars, *code.co_cellvars, code.co_name}
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _code_names(constant)
    return names


def _plan_names() -> set[str]:
    """The names the plans use, read from the code a host runs for a hook with
    two implementations, one filtered by sender, called twice (a plan is built
    on the first call) in both ways."""
    host = Host()

    class One:
        @hookimpl
        def post_save(self, sender: Any, instance: Any) -> str:
            return "one"

    class Two:
        @hookimpl(sender=object)
        async def post_save(self, sender: Any, created: Any) -> str:
            return "two"

    host.register(One(), "one")
    host.register(Two(), "two")
    arguments: dict[str, Any] = {
        "sender": object,
        "instance": None,
        "created": True,
        "raw": False,
        "using": "default",
        "update_fields": None,
    }
    for _ in range(2):
        host.hook.post_save(**arguments)
        asyncio.run(host.ahook.post_save(**arguments))
    # host.hook.<name> is a bound method of the plan, host.ahook.<name> the async plan.
    plan: Any = host.hook.post_save
    async_plan: Any = host.ahook.post_save
    names = _code_names(plan.__func__.__code__) | _code_names(async_plan.__code__)
    host.close()
    return names


#: What a raising implementation calls: a name no drawn argument can hide.
RAISE = "raise_from_risky_plugin_"


#: Hook names a host has already, which a spec of the test must not redeclare.
_HOOKS = {caller.name for caller in Host().hook_callers()}
_PLAN_NAMES = _plan_names()
HOOK_NAME = risky_names(_PLAN_NAMES, lambda name: name not in _HOOKS and not name.startswith("__"))
ARGUMENT = risky_names(
    _PLAN_NAMES,
    lambda name: name not in {"self", "sender", RAISE},
)


def _specs(hook: str, arguments: list[str]) -> types.ModuleType:
    # A module, not a class: a class body would mangle an argument named "__x".
    module = types.ModuleType("risky_specs")
    exec(
        f"@hookspec\ndef {hook}({', '.join(['sender', *arguments])}):\n    pass\n",
        {"hookspec": hookspec},
        module.__dict__,
    )
    return module


def _raise(plugin: str) -> None:
    raise LookupError(f"{plugin} raised")


def _implementation(
    hook: str, plugin: str, taken: list[str], is_async: bool, sender: object | None, raises: bool
) -> object:
    """A plugin whose implementation returns (its name, each argument it takes), or raises."""
    namespace: dict[str, Any] = {RAISE: _raise}
    pairs = ", ".join(f"({name!r}, {name})" for name in taken)
    body = f"{RAISE}({plugin!r})" if raises else ""
    exec(
        f"{'async ' if is_async else ''}def {hook}({', '.join(taken)}):\n"
        f"    {body}\n"
        f"    return ({plugin!r}, ({pairs}{',' if len(taken) == 1 else ''}))\n",
        namespace,
    )
    marked = hookimpl(namespace[hook], sender=sender)
    return type(plugin, (), {hook: staticmethod(marked)})()


def _outcome(call: Any) -> Any:
    try:
        return ("result", call())
    except LookupError as error:
        return ("raised", str(error))


def test_a_spec_argument_named_keyerror_with_a_sender_filter():
    # Plans refer to the builtins they catch by names no spec argument takes.
    check_plans("risky", ["KeyError"], [([0, 1], False, True, False), ([1], True, False, False)])


def test_a_spec_argument_named_exception_when_an_implementation_raises():
    check_plans("risky", ["Exception"], [([0, 1], False, False, True), ([1], True, False, False)])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hook=HOOK_NAME,
    arguments=st.lists(ARGUMENT, max_size=4, unique=True),
    plugins=st.lists(
        st.tuples(
            st.lists(st.integers(0, 4), max_size=3),  # which arguments it takes, by position
            st.booleans(),  # async def
            st.booleans(),  # filtered on the sender the call sends
            st.booleans(),  # raises
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_plans_call_what_pluggy_calls_whatever_hooks_and_arguments_are_called(
    hook, arguments, plugins
):
    check_plans(hook, arguments, plugins)


def check_plans(
    hook: str, arguments: list[str], plugins: list[tuple[list[int], bool, bool, bool]]
) -> None:
    """hosthooks' sync and async calls of ``hook`` give what plain pluggy's does."""
    host = Host()
    host.plugin_manager.add_hookspecs(_specs(hook, arguments))
    reference = pluggy.PluginManager("hosthooks")
    reference.add_hookspecs(_specs(hook, arguments))
    every = ["sender", *arguments]
    for index, (positions, is_async, filtered, raises) in enumerate(plugins):
        taken = list(dict.fromkeys(every[position % len(every)] for position in positions))
        name = f"p{index}"
        sender = int if filtered else None
        host.register(_implementation(hook, name, taken, is_async, sender, raises), name)
        # pluggy has no sender=: its copy takes every call (all calls send int).
        reference.register(_implementation(hook, name, taken, False, None, raises), name)
    values = {name: f"<{name}>" for name in arguments}
    expected = _outcome(lambda: getattr(reference.hook, hook)(sender=int, **values))
    try:
        for _ in range(2):  # the first call builds the plans, the second runs them
            assert _outcome(lambda: getattr(host.hook, hook)(sender=int, **values)) == expected
            awaited = _outcome(lambda: asyncio.run(getattr(host.ahook, hook)(sender=int, **values)))
            assert awaited == expected
    finally:
        host.close()
