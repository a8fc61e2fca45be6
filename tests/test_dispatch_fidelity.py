"""``host.hook.<name>`` behaves as pluggy's ``HookCaller`` whatever is installed.

One test per way it once did not: generated names shadowing spec arguments, held
references going stale, calling conventions changing with a wrapper, a register
lost to a plan being built, senders matched by equality, a missing HookCaller
API, warnings pointing into hosthooks, and an error note naming the wrong
instance of a plugin class.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Generator
from typing import Any

import pluggy
import pytest

from hosthooks import Host
from hosthooks import hookimpl
from hosthooks import hookspec

POST_SAVE: dict[str, Any] = {
    "instance": 1,
    "created": True,
    "raw": False,
    "using": "default",
    "update_fields": None,
}


class Article:
    hosthooks_label = "blog.Article"


class Comment:
    pass


def passthrough_wrapper() -> object:
    class Wrapper:
        @hookimpl(wrapper=True)
        def post_save(self) -> Generator[None, Any, Any]:
            return (yield)

    return Wrapper()


# -- 1. generated names never shadow spec arguments ---------------------------


def test_a_sender_filter_does_not_replace_the_migration_plan(host):
    seen = []

    class Filtered:
        @hookimpl(sender=Comment)
        def post_migrate(self):
            pass

    class Reader:
        @hookimpl
        def post_migrate(self, plan):
            seen.append(plan)

    host.register(Filtered())
    host.register(Reader())
    host.hook.post_migrate(
        sender=Article, app_config=None, verbosity=1, interactive=False, using="db", plan=["op"]
    )
    assert seen == [["op"]]


#: Every name the plan generator has used for its own locals and parameters.
GENERATOR_NAMES = (
    "result",
    "results",
    "_fail",
    "_impl0",
    "_impl1",
    "_default_late",
    "_plans",
    "_plan_for",
    "plan",
    "error",
    "extra",
    "kwargs",
    "missing",
    "impls",
    "sender_plan",
    "cached",
)


class CollidingSpecs:
    """A spec whose every argument is named like something generated code uses."""

    @hookspec
    def colliding(
        self,
        sender: Any,
        result: Any,
        results: Any,
        _fail: Any,
        _impl0: Any,
        _impl1: Any,
        _plans: Any,
        _plan_for: Any,
        plan: Any,
        error: Any,
        extra: Any,
        kwargs: Any,
        missing: Any,
        impls: Any,
        sender_plan: Any,
        cached: Any,
        _default_late: Any = "late default",
    ) -> Any:
        """A hook whose arguments collide with generated names."""


def colliding_plugin(filtered: bool) -> object:
    arguments = ", ".join(GENERATOR_NAMES)

    namespace: dict[str, Any] = {}
    exec(f"def colliding({arguments}):\n    return ({arguments},)\n", namespace)
    function = hookimpl(namespace["colliding"], sender=Article if filtered else None)
    return type("Colliding", (), {"colliding": staticmethod(function)})()


@pytest.mark.parametrize("filtered", [False, True], ids=["plain", "sender-filtered"])
def test_spec_arguments_named_like_generated_code_arrive_intact(host, filtered):
    host.plugin_manager.add_hookspecs(CollidingSpecs)
    host.register(colliding_plugin(filtered))
    host.register(colliding_plugin(filtered=False), "second")
    kwargs = {name: f"value of {name}" for name in GENERATOR_NAMES if name != "_default_late"}
    expected = tuple(kwargs.get(name, "late default") for name in GENERATOR_NAMES)
    assert host.hook.colliding(sender=Article, **kwargs) == [expected, expected]


# -- 2. a held reference always behaves like a fresh lookup --------------------


def test_a_held_reference_sees_later_plugins_and_tracing(host, capsys):
    fire = host.hook.post_save

    class Late:
        @hookimpl
        def post_save(self):
            return "late"

    host.register(Late(), "late")
    assert fire(sender=Article, **POST_SAVE) == ["late"]
    host.set_tracing(True)
    assert fire(sender=Article, **POST_SAVE) == ["late"]
    host.set_tracing(False)
    assert capsys.readouterr().err.startswith("hosthooks trace: post_save sender=blog.Article ")
    monitored: list[str] = []
    undo = host.plugin_manager.add_hookcall_monitoring(
        lambda name, impls, kwargs: monitored.append(name), lambda *_: None
    )
    assert fire(sender=Article, **POST_SAVE) == ["late"]
    undo()
    assert fire(sender=Article, **POST_SAVE) == ["late"]
    assert monitored == ["post_save"]
    host.unregister("late")
    assert fire(sender=Article, **POST_SAVE) == []


# -- 3. calling conventions are pluggy's, with or without a wrapper ------------


@pytest.mark.parametrize("wrapped", [False, True], ids=["plain", "wrapped"])
def test_calling_conventions_do_not_depend_on_installed_plugins(host, wrapped):
    seen = []

    class Plain:
        @hookimpl
        def post_save(self, created, flavour="implementation default"):
            seen.append((created, flavour))

    host.register(Plain())
    if wrapped:
        host.register(passthrough_wrapper())
    without_using = {key: value for key, value in POST_SAVE.items() if key != "using"}
    # The first call after a change builds the plan: it warns from the same place.
    with pytest.warns(UserWarning, match=r"Argument\(s\) 'using' which are declared") as caught:
        host.hook.post_save(sender=Article, **without_using)
    assert [warning.filename for warning in caught] == [__file__]
    seen.clear()
    with pytest.raises(
        TypeError, match=r"__call__\(\) takes 1 positional argument but 2 were given"
    ):
        host.hook.post_save(Article)
    host.hook.post_save(sender=Article, flavour="given", **POST_SAVE)
    assert seen == [(True, "given")]
    without_raw = {key: value for key, value in POST_SAVE.items() if key != "raw"}
    with pytest.warns(UserWarning, match=r"Argument\(s\) 'raw' which are declared") as caught:
        host.hook.post_save(sender=Article, **without_raw)
    assert [warning.filename for warning in caught] == [__file__]
    assert seen == [(True, "given"), (True, "implementation default")]
    without_created = {key: value for key, value in POST_SAVE.items() if key != "created"}
    with (
        pytest.warns(UserWarning, match="'created'"),
        pytest.raises(pluggy.HookCallError, match="must provide argument 'created'"),
    ):
        host.hook.post_save(sender=Article, **without_created)


# -- 4. a register racing a plan build is never lost ---------------------------


def test_a_plugin_registered_while_a_plan_is_built_runs(host, monkeypatch):
    from hosthooks.engine import plans

    building = threading.Event()
    release = threading.Event()
    original = plans.build_plan

    def slow_build(*args: Any, **kwargs: Any) -> Any:
        # The implementations are read by now: a register from here on must
        # not be lost when this build is installed.
        if threading.current_thread().name == "caller":
            building.set()
            release.wait(5)
        return original(*args, **kwargs)

    monkeypatch.setattr(plans, "build_plan", slow_build)

    class Late:
        @hookimpl
        def post_save(self):
            return "late"

    caller = threading.Thread(
        target=lambda: host.hook.post_save(sender=Article, **POST_SAVE), name="caller"
    )
    caller.start()
    assert building.wait(5)
    registrar = threading.Thread(target=lambda: host.register(Late(), "late"))
    registrar.start()
    # Give the register every chance to overtake the build it races.
    registrar.join(0.3)
    release.set()
    caller.join(5)
    registrar.join(5)
    assert host.hook.post_save(sender=Article, **POST_SAVE) == ["late"]


# -- 5. senders are matched by identity, cached or not -------------------------


class ValueKey:
    """A sender equal to any other ValueKey of the same value."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ValueKey) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)


def test_equal_senders_are_different_senders(host):
    wanted, lookalike = ValueKey(1), ValueKey(1)

    class Plugin:
        @hookimpl(sender=wanted)
        def post_save(self):
            return "wanted"

    host.register(Plugin())
    assert host.hook.post_save(sender=lookalike, **POST_SAVE) == []
    assert host.hook.post_save(sender=wanted, **POST_SAVE) == ["wanted"]
    assert host.hook.post_save(sender=lookalike, **POST_SAVE) == []
    assert host.has_listeners("post_save", wanted)
    assert not host.has_listeners("post_save", lookalike)


# -- 6. the HookCaller API ------------------------------------------------------


def test_host_hook_offers_the_hook_caller_api(host):
    class Plugin:
        @hookimpl
        def post_save(self, created):
            return created

    host.register(Plugin(), "plugin")
    caller = host.hook.post_save
    pluggy_caller = host.plugin_manager.hook.post_save
    assert isinstance(pluggy_caller, pluggy.HookCaller)
    assert caller.__self__ is pluggy_caller
    assert caller.name == "post_save"
    assert caller.spec is pluggy_caller.spec
    assert caller.spec.argnames == (
        "sender",
        "instance",
        "created",
        "raw",
        "using",
        "update_fields",
    )
    assert caller.has_spec()
    assert not caller.is_historic()
    assert [impl.plugin_name for impl in caller.get_hookimpls()] == ["plugin"]
    assert caller.call_extra([lambda created: "extra"], {"sender": Article, **POST_SAVE}) == [
        "extra",
        True,
    ]
    assert pluggy_caller(sender=Article, **POST_SAVE) == [True]
    assert host.hook.class_prepared.is_historic()
    seen: list[Any] = []
    host.hook.class_prepared.call_historic(seen.append, kwargs={"sender": Article})

    class Late:
        @hookimpl
        def class_prepared(self, sender):
            return sender

    host.register(Late())
    assert seen == [Article]


# -- 7. warnings point where pluggy points them --------------------------------


def test_pluggy_warnings_point_at_the_calling_line(host):
    class OldWrapper:
        @hookimpl(hookwrapper=True)
        def post_save(self) -> Generator[None, Any, None]:
            yield
            raise ZeroDivisionError

    host.register(OldWrapper(), "old-wrapper")
    with (
        pytest.warns(pluggy.PluggyTeardownRaisedWarning, match="old-wrapper") as caught,
        pytest.raises(ZeroDivisionError),
    ):
        host.hook.post_save(sender=Article, **POST_SAVE)
    assert [warning.filename for warning in caught] == [__file__]
    host.unregister("old-wrapper")
    host.register(passthrough_wrapper(), "wrapper")
    with pytest.warns(UserWarning, match="'using'") as caught:
        host.hook.post_save(sender=Article, instance=1, created=True, raw=False, update_fields=None)
    assert [warning.filename for warning in caught] == [__file__]


# -- 8. the error note names the instance that raised --------------------------


def test_the_error_note_names_the_raising_instance_of_a_plugin_class(host):
    class Flaky:
        def __init__(self, fails: bool) -> None:
            self.fails = fails

        @hookimpl
        def post_save(self):
            if self.fails:
                raise RuntimeError("flaky")

    host.register(Flaky(fails=True), "failing")
    host.register(Flaky(fails=False), "working")
    host.register(passthrough_wrapper(), "wrapper")
    with pytest.raises(RuntimeError, match="flaky") as caught:
        host.hook.post_save(sender=Article, **POST_SAVE)
    assert getattr(caught.value, "__notes__", None) == [
        "raised by plugin 'failing' in hook 'post_save'"
    ]


# -- registration touches only the hooks it changes ----------------------------


def test_registering_leaves_other_hooks_plans_alone(host, monkeypatch):
    from hosthooks.engine import plans

    built: list[str] = []
    original = plans.build_plan

    def counting_build(hook_caller: Any, *args: Any, **kwargs: Any) -> Any:
        built.append(hook_caller.name)
        return original(hook_caller, *args, **kwargs)

    monkeypatch.setattr(plans, "build_plan", counting_build)

    class Saver:
        @hookimpl
        def post_save(self):
            return "saved"

    host.register(Saver())
    for _ in range(2):
        assert host.hook.post_save(sender=Article, **POST_SAVE) == ["saved"]
    assert built == ["post_save"]

    class Other:
        @hookimpl
        def pre_delete(self):
            pass

    host.register(Other())
    assert host.hook.post_save(sender=Article, **POST_SAVE) == ["saved"]
    assert built == ["post_save"]


def test_no_warning_for_a_complete_call(host):
    host.register(passthrough_wrapper())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert host.hook.post_save(sender=Article, **POST_SAVE) == []


def test_a_custom_project_and_specs():
    example_spec = pluggy.HookspecMarker("example")

    class Specs:
        @example_spec
        def ping(self, value: Any) -> Any:
            """Ping."""

    example_marker = pluggy.HookimplMarker("example")

    class Plugin:
        @example_marker
        def ping(self, value):
            return value * 2

    host = Host(project_name="example", specs=[Specs])
    assert host.plugin_manager.project_name == "example"
    host.register(Plugin())
    # Typed for the built-in hooks only: another project's are unknown to the checker.
    assert host.hook.ping(value=2) == [4]  # type: ignore[attr-defined]
    assert not hasattr(host.hook, "post_save")


def test_calls_racing_registrations_run_whole_plans_and_lose_none(host):
    # Plugin n returns n; registered in order, they run newest first. A call
    # racing the registrations must run exactly the first k of them for some
    # k, never fewer than an earlier call did; after the last, all of them.
    def numbered(number: int) -> object:
        return type(
            f"Numbered{number}", (), {"post_save": staticmethod(hookimpl(lambda: number))}
        )()

    fire = host.hook.post_save
    done = threading.Event()

    def register_all() -> None:
        for number in range(40):
            host.register(numbered(number), f"n{number}")
        done.set()

    registrar = threading.Thread(target=register_all)
    registrar.start()
    seen = 0
    while not done.is_set():
        result = fire(sender=Article, **POST_SAVE)
        assert result == list(range(len(result)))[::-1]
        assert len(result) >= seen
        seen = len(result)
    registrar.join(10)
    assert fire(sender=Article, **POST_SAVE) == list(range(40))[::-1]


def test_undoing_monitoring_twice_leaves_later_monitoring_on():
    # pluggy's undo restores what it replaced, so calling it twice is harmless
    # there; a count of monitors kept beside it went to zero with one still on.
    class Plugin:
        @hookimpl
        def post_save(self, instance):
            return instance

    host = Host()
    host.register(Plugin(), "plugin")
    undo = host.plugin_manager.add_hookcall_monitoring(lambda *_: None, lambda *_: None)
    undo()
    undo()
    seen: list[str] = []
    later = host.plugin_manager.add_hookcall_monitoring(
        lambda name, impls, kwargs: seen.append(name), lambda *_: None
    )
    fire = host.hook.post_save
    assert fire(sender=object, **POST_SAVE) == [POST_SAVE["instance"]]
    assert seen == ["post_save"]
    assert host.plugin_manager.monitored is True
    later()
    assert host.plugin_manager.monitored is False
    fire(sender=object, **POST_SAVE)
    assert seen == ["post_save"]
