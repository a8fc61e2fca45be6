"""Dispatch: call plans give pluggy's results, filter by sender, attribute errors, run robustly, trace."""

from __future__ import annotations

import asyncio
import keyword
import threading
import types
import warnings
from collections.abc import Generator
from typing import Any

import pluggy
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from hosthooks import Host
from hosthooks import hookimpl
from hosthooks import hookspec
from hosthooks.engine import generated
from hosthooks.engine import plans
from hosthooks.engine.dispatch import MISSING

POST_SAVE: dict[str, Any] = {
    "instance": 1,
    "created": True,
    "raw": False,
    "using": "default",
    "update_fields": None,
}


class ExtraSpecs:
    """Specs with the options none of the built-in hooks has, to compare with pluggy."""

    @hookspec(firstresult=True)
    def choose(self, sender: Any, value: Any, extra: Any = 5) -> Any:
        """Pick one."""

    @hookspec
    def collect(self, sender: Any, value: Any, extra: Any = 5) -> Any:
        """Collect all."""


class Article:
    hosthooks_label = "blog.Article"


class Comment:
    pass


def fire_post_save(host: Host, sender: Any) -> list[Any]:
    result: list[Any] = host.hook.post_save(sender=sender, **POST_SAVE)
    return result


# -- plans --------------------------------------------------------------------


def test_a_plan_is_generated_code_with_the_spec_signature(host):
    class Plugin:
        @hookimpl
        def post_save(self, instance, created):
            return (instance, created)

    plugin = Plugin()
    host.register(plugin)
    plan = host.hook.post_save
    # The first call after a change runs through pluggy and builds the plan.
    assert plan.__code__.co_filename == "<hosthooks pluggy path>"
    assert fire_post_save(host, Article) == [(1, True)]
    code = plan.__code__
    assert code.co_filename == "<hosthooks plan post_save>"
    # The spec's arguments are keyword-only, as in pluggy's calling convention.
    assert code.co_kwonlyargcount == 6
    assert code.co_varnames[code.co_argcount : code.co_argcount + 6] == (
        "sender",
        "instance",
        "created",
        "raw",
        "using",
        "update_fields",
    )
    # What it calls reaches it as defaults of positional-only parameters after self:
    # MISSING, the implementation, then what only errors need.
    assert code.co_posonlyargcount == code.co_argcount == 1 + len(plan.__defaults__) == 4
    assert plan.__defaults__[:2] == (MISSING, plugin.post_save)
    assert fire_post_save(host, Article) == [(1, True)]


def _constants(code: types.CodeType) -> list[object]:
    """Every constant of ``code`` and of the code objects among them."""
    found: list[object] = []
    for const in code.co_consts:
        found.append(const)
        if isinstance(const, types.CodeType):
            found.extend(_constants(const))
        elif isinstance(const, tuple):
            found.extend(const)
    return found


@pytest.mark.parametrize("count", [1, 2, 3, 5])
@pytest.mark.parametrize("filtered", [False, True])
def test_what_a_plan_calls_is_never_among_its_code_constants(host, count, filtered):
    # CPython 3.14 compiles an unpacking of one to three names to separate constant
    # loads: code that expected a tuple constant to fill with implementations called
    # a placeholder string there. Plans take what they call as defaults instead.
    seen = []

    def make(index: int) -> Any:
        def post_save(sender, instance):
            seen.append(index)

        return post_save

    for index in range(count):
        marked = hookimpl(make(index), sender=Article) if filtered else hookimpl(make(index))
        host.register(types.SimpleNamespace(post_save=marked))
    assert fire_post_save(host, Article) == []
    assert asyncio.run(host.ahook.post_save(sender=Article, **POST_SAVE)) == []
    assert seen == list(range(count))[::-1] * 2
    seen.clear()
    kind = "dispatch" if filtered else "plan"
    for function in (host.hook.post_save, host.ahook.post_save):
        code = function.__code__
        assert code.co_filename == f"<hosthooks {kind} post_save>"
        assert not [
            const
            for const in _constants(code)
            if callable(const) or isinstance(const, dict) or "\0" in str(const)
        ]
    assert fire_post_save(host, Article) == []
    assert asyncio.run(host.ahook.post_save(sender=Article, **POST_SAVE)) == []
    assert seen == list(range(count))[::-1] * 2


def test_a_template_refuses_code_that_does_not_take_its_values():
    spec = Host().hook.post_save.spec
    assert spec is not None
    template = plans.sender_plan_template(plans.Shape("post_save", spec, [], firstresult=False))
    with pytest.raises(RuntimeError, match="takes 0 values, not 1"):
        template.bind([print])
    with pytest.raises(RuntimeError, match=r"does not take its values \('c',\)"):
        generated.Template((lambda a, b=None, /: None).__code__, ["c"], {}, {})
    with pytest.raises(RuntimeError, match="does not take its values"):
        # Values that a caller could pass by keyword are not values.
        generated.Template((lambda a, b=None: None).__code__, ["b"], {}, {})


def test_a_plan_is_installed_only_over_a_path(host):
    host.register(types.SimpleNamespace(post_save=hookimpl(lambda sender: "saved")))
    assert fire_post_save(host, Article) == ["saved"]
    function = host.hook.post_save.__func__
    built = generated.Built(function.__code__, function.__defaults__, {})
    with pytest.raises(RuntimeError, match="'post_save' is not on a path"):
        generated.install(function, built)


def test_a_positional_argument_is_the_type_error_binding_raises(host):
    host.register(types.SimpleNamespace(post_save=hookimpl(lambda sender: "saved")))
    for attempt in range(2):
        # The first call runs the pluggy path, the second the plan.
        for arguments, total in [((Article,), "2 were"), ((Article, 1, 2, 3, 4, 5, 6), "8 were")]:
            with pytest.raises(
                TypeError,
                match=rf"^post_save.__call__\(\) takes 1 positional argument but {total} given$",
            ):
                host.hook.post_save(*arguments)
        assert fire_post_save(host, Article) == ["saved"], attempt


def test_a_hook_nobody_implements_runs_a_plan_taking_no_values(host):
    # It calls nothing: a positional argument is binding's own TypeError, and a
    # missing or extra argument still goes pluggy's way (a warning, extras ignored).
    for attempt in range(2):
        for arguments, total in [((Article,), "2 were"), ((Article, 1, 2, 3, 4, 5, 6), "8 were")]:
            with pytest.raises(
                TypeError,
                match=rf"^post_save.__call__\(\) takes 1 positional argument but {total} given$",
            ):
                host.hook.post_save(*arguments)
        assert fire_post_save(host, Article) == [], attempt
    plan = host.hook.post_save.__func__
    assert plan.__code__.co_filename == "<hosthooks plan post_save>"
    assert plan.__code__.co_argcount == 1
    assert plan.__defaults__ is None
    with pytest.warns(UserWarning, match="cannot be found in this hook call"):
        assert host.hook.post_save(sender=Article) == []
    assert host.hook.post_save(sender=Article, unknown=1, **POST_SAVE) == []


def test_spec_defaults_reach_implementations(host):
    seen = []

    class Plugin:
        @hookimpl
        def post_migrate(self, sender, plan, stdout):
            seen.append((plan, stdout))

    host.register(Plugin())
    host.hook.post_migrate(sender=1, app_config=1, verbosity=1, interactive=False, using="default")
    host.hook.post_migrate(
        sender=1, app_config=1, verbosity=1, interactive=False, using="default", plan=["op"]
    )
    assert seen == [(None, None), (["op"], None)]


def test_implementation_defaults_are_passed_like_pluggy(host):
    host.plugin_manager.add_hookspecs(ExtraSpecs)
    seen = []

    class Plugin:
        @hookimpl
        def collect(self, value, extra=100, unknown="kept"):
            seen.append((value, extra, unknown))

    host.register(Plugin())
    host.hook.collect(sender=None, value=1)
    host.hook.collect(sender=None, value=2, extra=3)
    assert seen == [(1, 5, "kept"), (2, 3, "kept")]


def test_call_order_is_lifo_with_tryfirst_and_trylast(host):
    calls = []

    def plugin(label, **options):
        class Plugin:
            @hookimpl(**options)
            def post_save(self):
                calls.append(label)

        return Plugin()

    for label, options in [
        ("last", {"trylast": True}),
        ("a", {}),
        ("first", {"tryfirst": True}),
        ("b", {}),
    ]:
        host.register(plugin(label, **options), label)
    fire_post_save(host, Article)
    assert calls == ["first", "b", "a", "last"]
    assert [impl.plugin_name for impl in host.implementations("post_save")] == calls


def test_plans_are_rebuilt_when_plugins_change(host):
    class One:
        @hookimpl
        def post_save(self):
            return 1

    class Two:
        @hookimpl
        def post_save(self):
            return 2

    assert fire_post_save(host, Article) == []
    host.register(One(), "one")
    assert fire_post_save(host, Article) == [1]
    host.register(Two(), "two")
    assert fire_post_save(host, Article) == [2, 1]
    host.block("one")
    assert fire_post_save(host, Article) == [2]
    host.unregister("two")
    assert fire_post_save(host, Article) == []


def test_a_plugin_registered_during_a_call_runs_from_the_next_call(host):
    calls = []

    class Late:
        @hookimpl
        def post_save(self):
            calls.append("late")

    class Registrar:
        @hookimpl
        def post_save(self):
            calls.append("registrar")
            if not host.plugin_manager.has_plugin("late"):
                host.register(Late(), "late")

    host.register(Registrar(), "registrar")
    fire_post_save(host, Article)
    assert calls == ["registrar"]
    fire_post_save(host, Article)
    assert calls == ["registrar", "late", "registrar"]


def test_historic_hook_replays_for_late_plugins(host):
    host.hook.class_prepared.call_historic(kwargs={"sender": Article})
    host.hook.class_prepared.call_historic(kwargs={"sender": Comment})
    seen = []

    class Late:
        @hookimpl
        def class_prepared(self, sender):
            seen.append(sender)

    host.register(Late())
    # Every model class defined in the process is replayed too: keep the ones fired here.
    assert [sender for sender in seen if sender in (Article, Comment)] == [Article, Comment]


def test_wrappers_fall_back_to_pluggy_and_keep_its_semantics(host):
    calls: list[Any] = []

    class Wrapper:
        @hookimpl(wrapper=True)
        def post_save(self) -> Generator[None, list[Any], list[Any]]:
            calls.append("before")
            result = yield
            calls.append("after")
            return [*result, "wrapped"]

    class Old:
        @hookimpl(hookwrapper=True)
        def post_save(self) -> Generator[None, Any, None]:
            outcome = yield
            calls.append(("old", outcome.get_result()))

    class Plain:
        @hookimpl
        def post_save(self):
            calls.append("plain")
            return "plain"

    host.register(Plain())
    host.register(Wrapper())
    host.register(Old())
    assert fire_post_save(host, Article) == ["plain", "wrapped"]
    assert calls == ["before", "plain", "after", ("old", ["plain", "wrapped"])]


def test_monitoring_sees_every_call_while_on(host):
    seen = []

    class Plugin:
        @hookimpl
        def post_save(self):
            return "x"

    host.register(Plugin())
    undo = host.plugin_manager.add_hookcall_monitoring(
        lambda name, impls, kwargs: seen.append(("before", name)),
        lambda outcome, name, impls, kwargs: seen.append(("after", outcome.get_result())),
    )
    assert fire_post_save(host, Article) == ["x"]
    undo()
    assert fire_post_save(host, Article) == ["x"]
    assert seen == [("before", "post_save"), ("after", ["x"])]
    assert host.hook.post_save.__code__.co_filename == "<hosthooks plan post_save>"


def test_unknown_hooks_are_reachable_through_pluggy(host):
    class Plugin:
        @hookimpl(optionalhook=True)
        def not_a_builtin(self, x):
            return x

    host.register(Plugin())
    assert host.hook.not_a_builtin(x=3) == [3]
    with pytest.raises(AttributeError, match="no hook named 'never_declared'"):
        host.hook.never_declared()


# -- equivalence with pluggy (property-based) ----------------------------------
#
# A random hook (argument names drawn partly from the names generated code uses),
# random plugins (plain, wrappers, old-style wrappers; ordered; filtered on one
# of two senders that are equal but not the same object; some registering a
# plugin from another thread while the hook runs), then a random sequence of
# calls (sometimes missing an argument or passing an extra one), registrations
# and unregistrations. After every step hosthooks and plain pluggy must agree on
# the result, the calls made, and the warnings. pluggy knows nothing of sender=:
# its reference manager holds only the plugins that accept the call's sender.

#: Names the plan generator uses (or once used) for its own locals and parameters.
GENERATED_NAMES = (
    "result",
    "results",
    "error",
    "extra",
    "kwargs",
    "impls",
    "impl0",
    "impl1",
    "fail",
    "collect",
    "hookexec",
    "note",
    "plans",
    "plan_for",
    "id",
    "cached",
    "sender_plan",
    "rebuild",
    "call",
    "hook_name",
    "firstresult",
    "defaults",
    "check",
    "plan",
    "_fail",
    "_impl0",
    "_plans",
    "_plan_for",
    "_default_value",
)
#: An argument no spec declares, passed by calls that pass an extra one.
UNSPECIFIED = "unspecified"

ARGUMENT_NAME = st.one_of(
    st.sampled_from(GENERATED_NAMES),
    st.from_regex(r"[a-z][a-z0-9_]{0,5}", fullmatch=True).filter(
        lambda name: not keyword.iskeyword(name) and name not in {"self", "sender", UNSPECIFIED}
    ),
)


class ValueSender:
    """Every ValueSender equals every other and hashes alike: only identity tells them apart."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ValueSender)

    def __hash__(self) -> int:
        return 1

    def __repr__(self) -> str:
        return f"ValueSender({self.label!r})"


SENDERS = {"first": ValueSender("first"), "second": ValueSender("second")}
SENDER_FILTERS: dict[str, Any] = {
    "any": None,
    "first": SENDERS["first"],
    "second": SENDERS["second"],
    "both": (SENDERS["second"], SENDERS["first"]),
}

IMPL = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["plain", "plain", "plain", "wrapper", "hookwrapper"]),
        "order": st.sampled_from([None, None, "tryfirst", "trylast"]),
        "behaviour": st.sampled_from(["none", "value", "value", "raise"]),
        # Which spec arguments it takes, by position in the spec (wrapping around).
        "takes": st.lists(st.integers(0, 9), max_size=3),
        # An optional keyword argument: one of the spec's, or one it lacks.
        "optional": st.sampled_from([None, "spec", UNSPECIFIED]),
        "sender": st.sampled_from(list(SENDER_FILTERS)),
        "registers": st.booleans(),
    }
)
CALL = st.fixed_dictionaries(
    {
        "sender": st.sampled_from(list(SENDERS)),
        "omit_required": st.booleans(),
        "omit_defaults": st.booleans(),
        "extra": st.booleans(),
    }
)
STEP = st.one_of(
    st.tuples(st.just("call"), CALL),
    st.tuples(st.just("register"), IMPL),
    st.tuples(st.just("unregister"), st.integers(0, 9)),
)


class HookUnderTest:
    """A random hook's spec, and the plugins registered on hosthooks so far."""

    def __init__(self, names: list[str], defaulted: int, firstresult: bool) -> None:
        self.args = ["sender", *names]
        split = len(self.args) - defaulted
        self.required, self.defaulted = self.args[:split], self.args[split:]
        self.firstresult = firstresult
        params = ", ".join([*self.required, *(f"{name}={name!r}" for name in self.defaulted)])
        namespace: dict[str, Any] = {"hookspec": hookspec}
        exec(
            "class RandomSpecs:\n"
            f"    @hookspec(firstresult={firstresult})\n"
            f"    def random_hook(self, {params}):\n"
            "        pass\n",
            namespace,
        )
        self.specs = namespace["RandomSpecs"]
        self.plugins: dict[str, dict[str, Any]] = {}
        self.late_plugins = 0

    def arguments(self, spec: dict[str, Any]) -> tuple[list[str], str | None]:
        taken = list(dict.fromkeys(self.args[index % len(self.args)] for index in spec["takes"]))
        optional = None
        if spec["optional"] == UNSPECIFIED:
            optional = UNSPECIFIED
        elif spec["optional"] == "spec":
            optional = next((name for name in self.args if name not in taken), None)
        return taken, optional


def random_plugin(
    hook: HookUnderTest, name: str, spec: dict[str, Any], log: list[Any], host: Host | None
) -> object:
    """A plugin per ``spec``, logging to ``log``. On hosthooks (``host`` given) it is
    filtered by sender and may register another plugin from a thread when called;
    pluggy's copy has no filter and only logs what the registration would be."""
    taken, optional = hook.arguments(spec)
    behaviour = spec["behaviour"]

    def body(*values: Any) -> Any:
        log.append((name, described(values)))
        if spec["registers"] and host is not None:
            register_late(hook, host, log)
        if behaviour == "raise":
            raise ValueError(f"{name} raised")
        return None if behaviour == "none" else (name, described(values))

    def wrapper_body(*values: Any) -> Generator[None, Any, Any]:
        log.append(("enter", name, described(values)))
        try:
            result = yield
        except ValueError as error:
            log.append(("saw", name, str(error)))
            raise
        log.append(("leave", name, result))
        if behaviour == "raise":
            raise ValueError(f"wrapper {name} raised")
        return result

    def old_wrapper_body(*values: Any) -> Generator[None, Any, None]:
        log.append(("enter-old", name, described(values)))
        outcome = yield
        log.append(("leave-old", name, outcome.exception is None))

    chosen = {"plain": body, "wrapper": wrapper_body, "hookwrapper": old_wrapper_body}
    params = [*taken, *([f"{optional}='implementation default'"] if optional else [])]
    values = [*taken, *([optional] if optional else [])]
    call = f"chosen[{spec['kind']!r}]({', '.join(values)})"
    # A wrapper must be a generator function itself for pluggy to accept it.
    returned = f"(yield from {call})" if spec["kind"] != "plain" else call
    namespace: dict[str, Any] = {"chosen": chosen}
    exec(f"def random_hook({', '.join(params)}):\n    return {returned}\n", namespace)
    marked = hookimpl(
        namespace["random_hook"],
        tryfirst=spec["order"] == "tryfirst",
        trylast=spec["order"] == "trylast",
        wrapper=spec["kind"] == "wrapper",
        hookwrapper=spec["kind"] == "hookwrapper",
        sender=SENDER_FILTERS[spec["sender"]] if host is not None else None,
    )
    return type(name, (), {"random_hook": staticmethod(marked)})()


LATE: dict[str, Any] = {
    "kind": "plain",
    "order": None,
    "behaviour": "value",
    "takes": [0],
    "optional": None,
    "sender": "any",
    "registers": False,
}


def described(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """``values`` with each sender by its label: equal senders must not look alike."""
    return tuple(value.label if isinstance(value, ValueSender) else value for value in values)


def register_late(hook: HookUnderTest, host: Host, log: list[Any]) -> None:
    """Register a plugin from another thread, in the middle of a hook call.

    It runs from the next call on, as pluggy copies the implementations a call
    runs (#438); registering must not wait for the call, or this would hang.
    """
    name = f"late{hook.late_plugins}"
    hook.late_plugins += 1
    hook.plugins[name] = LATE
    registrar = threading.Thread(
        target=lambda: host.register(random_plugin(hook, name, LATE, log, host), name)
    )
    registrar.start()
    registrar.join(10)
    assert not registrar.is_alive(), "registering from a thread during a call hung"


def accepts_sender(spec: dict[str, Any], sender: str) -> bool:
    wanted = SENDER_FILTERS[spec["sender"]]
    if wanted is None:
        return True
    members = wanted if isinstance(wanted, tuple) else (wanted,)
    return any(member is SENDERS[sender] for member in members)


def observed(call: Any) -> tuple[Any, list[tuple[str, str, str]]]:
    """What a hook call did: its outcome, and the warnings it issued (where they point)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            outcome: Any = ("result", call())
        except (ValueError, pluggy.HookCallError) as error:
            outcome = ("raised", type(error).__name__, str(error))
    return outcome, [
        (type(warning.message).__name__, str(warning.message), warning.filename)
        for warning in caught
    ]


def call_kwargs(hook: HookUnderTest, call: dict[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {name: f"<{name}>" for name in hook.args}
    kwargs["sender"] = SENDERS[call["sender"]]
    if call["omit_required"] and len(hook.required) > 1:
        del kwargs[hook.required[-1]]
    if call["omit_defaults"]:
        for name in hook.defaulted:
            del kwargs[name]
    if call["extra"]:
        kwargs[UNSPECIFIED] = "<passed though not specified>"
    return kwargs


def reference_call(
    hook: HookUnderTest, call: dict[str, Any], kwargs: dict[str, Any], log: list[Any]
) -> tuple[Any, list[tuple[str, str, str]]]:
    """The same call on plain pluggy, with the plugins that accept its sender."""
    reference = pluggy.PluginManager("hosthooks")
    reference.add_hookspecs(hook.specs)
    for name, spec in list(hook.plugins.items()):
        if accepts_sender(spec, call["sender"]):
            reference.register(random_plugin(hook, name, spec, log, None), name)
    return observed(lambda: reference.hook.random_hook(**kwargs))


@settings(max_examples=200, deadline=None)
@given(
    names=st.lists(ARGUMENT_NAME, min_size=1, max_size=4, unique=True),
    defaulted=st.integers(0, 2),
    firstresult=st.booleans(),
    impls=st.lists(IMPL, max_size=6),
    steps=st.lists(STEP, min_size=1, max_size=6),
)
def test_hosthooks_and_plain_pluggy_agree(names, defaulted, firstresult, impls, steps):
    hook = HookUnderTest(names, min(defaulted, len(names)), firstresult)
    host = Host()
    host.plugin_manager.add_hookspecs(hook.specs)
    host_log: list[Any] = []
    fire = host.hook.random_hook  # type: ignore[attr-defined] # held from the start: it must see every change
    registered = 0

    def register(spec: dict[str, Any]) -> None:
        nonlocal registered
        name = f"p{registered}"
        registered += 1
        hook.plugins[name] = spec
        host.register(random_plugin(hook, name, spec, host_log, host), name)

    for spec in impls:
        register(spec)
    final_call = {"sender": "first", "omit_required": False, "omit_defaults": False, "extra": False}
    for action, argument in [*steps, ("call", final_call)]:
        if action == "register":
            register(argument)
        elif action == "unregister":
            if hook.plugins:
                name = sorted(hook.plugins)[argument % len(hook.plugins)]
                del hook.plugins[name]
                host.unregister(name)
        else:
            kwargs = call_kwargs(hook, argument)
            plugins_before = dict(hook.plugins)
            host_log.clear()
            ours = observed(lambda kwargs=kwargs: fire(**kwargs))
            late = {name: spec for name, spec in hook.plugins.items() if name not in plugins_before}
            # pluggy sees the plugins the call started with; late ones join after it.
            hook.plugins = plugins_before
            reference_log: list[Any] = []
            theirs = reference_call(hook, argument, kwargs, reference_log)
            hook.plugins = {**plugins_before, **late}
            assert ours == theirs
            assert host_log == reference_log
