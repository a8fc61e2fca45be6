"""Dispatch: call plans give pluggy's results, filter by sender, attribute errors, run robustly, trace."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Generator
from typing import Any

import pluggy
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from hosthooks import ANY_SENDER
from hosthooks import Host
from hosthooks import HostConfig
from hosthooks import hookimpl
from hosthooks import hookspec
from hosthooks.dispatch import MAX_CACHED_SENDERS

POST_SAVE = {
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

    host.register(Plugin())
    plan = host.hook.post_save
    # The first call after a change runs through pluggy and builds the plan.
    assert plan.__code__.co_filename == "<hosthooks pluggy path>"
    assert fire_post_save(host, Article) == [(1, True)]
    assert plan.__code__.co_filename == "<hosthooks plan post_save>"
    assert plan.__code__.co_varnames[:7] == (
        "self",
        "sender",
        "instance",
        "created",
        "raw",
        "using",
        "update_fields",
    )
    assert plan.__code__.co_kwonlyargcount == 6
    assert fire_post_save(host, Article) == [(1, True)]


def sender_plans(host: Host, name: str) -> dict[int, tuple[Any, Any]]:
    """The per-sender plans a dispatcher caches (a constant of its code)."""
    code = getattr(host.hook, name).__code__
    assert code.co_filename == f"<hosthooks dispatch {name}>"
    [plans] = [
        slot
        for const in code.co_consts
        if isinstance(const, tuple)
        for slot in const
        if isinstance(slot, dict)
    ]
    return plans


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

IMPL = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["plain", "plain", "plain", "wrapper", "hookwrapper"]),
        "order": st.sampled_from([None, None, "tryfirst", "trylast"]),
        "behaviour": st.sampled_from(["none", "value", "value", "raise"]),
        "args": st.sampled_from([(), ("value",), ("sender", "value"), ("value", "extra")]),
        "sender": st.sampled_from(["any", "any", "fired", "other", "either"]),
    }
)


class Fired:
    """The sender the property test fires with."""


class Other:
    """A sender the property test never fires with."""


SENDER_FILTERS: dict[str, Any] = {"fired": Fired, "other": Other, "either": (Other, Fired)}


def make_plugin(index: int, spec: dict[str, Any], log: list[Any], *, reference: bool) -> object:
    """A plugin per spec. The ``reference`` one (for plain pluggy) has no sender
    filter: where hosthooks would skip it, it does nothing, as if not called."""
    args = spec["args"]
    behaviour = spec["behaviour"]
    wanted = SENDER_FILTERS.get(spec["sender"])
    skipped = reference and spec["sender"] == "other"

    def body(*values: Any) -> Any:
        log.append((index, values))
        if behaviour == "raise":
            raise ValueError(f"impl {index}")
        return None if behaviour == "none" else (index, values)

    def wrapper_body(*values: Any) -> Generator[None, Any, Any]:
        log.append(("enter", index, values))
        try:
            result = yield
        except ValueError as error:
            log.append(("saw", index, str(error)))
            raise
        log.append(("leave", index))
        if behaviour == "raise":
            raise ValueError(f"wrapper {index}")
        return result

    def old_wrapper_body(*values: Any) -> Generator[None, Any, None]:
        log.append(("enter-old", index, values))
        outcome = yield
        log.append(("leave-old", index, outcome.exception is None))

    def passthrough(*values: Any) -> Any:
        return None

    def passthrough_wrapper(*values: Any) -> Generator[None, Any, Any]:
        return (yield)

    def passthrough_old_wrapper(*values: Any) -> Generator[None, Any, None]:
        yield

    bodies = (
        {
            "plain": passthrough,
            "wrapper": passthrough_wrapper,
            "hookwrapper": passthrough_old_wrapper,
        }
        if skipped
        else {"plain": body, "wrapper": wrapper_body, "hookwrapper": old_wrapper_body}
    )
    chosen = bodies[spec["kind"]]
    params = ", ".join(args)
    # A wrapper must be a generator function itself for pluggy to accept it.
    call = f"(yield from chosen({params}))" if spec["kind"] != "plain" else f"chosen({params})"
    plugin = type(f"Plugin{index}", (), {})()
    for hook_name in ("collect", "choose"):
        # A function object per hook: the marker stores its options on the function.
        namespace: dict[str, Any] = {"chosen": chosen}
        exec(f"def {hook_name}({params}):\n    return {call}\n", namespace)
        marked = hookimpl(
            namespace[hook_name],
            tryfirst=spec["order"] == "tryfirst",
            trylast=spec["order"] == "trylast",
            wrapper=spec["kind"] == "wrapper",
            hookwrapper=spec["kind"] == "hookwrapper",
            sender=None if reference else wanted,
        )
        setattr(plugin, hook_name, marked)
    return plugin


def outcome_of(call: Any) -> tuple[str, Any]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ("result", call())
    except ValueError as error:
        return ("raised", str(error))


@settings(max_examples=300, deadline=None)
@given(
    impls=st.lists(IMPL, max_size=7), firstresult=st.booleans(), extra=st.sampled_from([None, 9])
)
def test_hosthooks_and_plain_pluggy_agree(impls, firstresult, extra):
    host = Host()
    host.plugin_manager.add_hookspecs(ExtraSpecs)
    reference = pluggy.PluginManager("hosthooks")
    reference.add_hookspecs(ExtraSpecs)
    host_log: list[Any] = []
    reference_log: list[Any] = []
    for index, spec in enumerate(impls):
        host.register(make_plugin(index, spec, host_log, reference=False), f"p{index}")
        reference.register(make_plugin(index, spec, reference_log, reference=True), f"p{index}")
    name = "choose" if firstresult else "collect"
    kwargs: dict[str, Any] = {"sender": Fired, "value": "v"}
    if extra is not None:
        kwargs["extra"] = extra
    ours = outcome_of(lambda: getattr(host.hook, name)(**kwargs))
    theirs = outcome_of(lambda: getattr(reference.hook, name)(**kwargs))
    assert ours == theirs
    assert host_log == reference_log


# -- sender filtering ----------------------------------------------------------


def test_sender_filter_by_class_tuple_and_label(host):
    calls = []

    class Plugin:
        @hookimpl(sender=Article)
        def post_save(self, sender):
            calls.append(("class", sender))

        @hookimpl(sender=(Article, Comment), specname="post_save")
        def either(self, sender):
            calls.append(("tuple", sender))

        @hookimpl(sender="blog.Article", specname="post_save")
        def by_label(self, sender):
            calls.append(("label", sender))

        @hookimpl(sender=f"{Comment.__module__}.Comment", specname="post_save")
        def by_qualname(self, sender):
            calls.append(("qualname", sender))

    host.register(Plugin())
    fire_post_save(host, Article)
    fire_post_save(host, Comment)
    fire_post_save(host, object)
    assert sorted(calls, key=repr) == sorted(
        [
            ("class", Article),
            ("tuple", Article),
            ("label", Article),
            ("tuple", Comment),
            ("qualname", Comment),
        ],
        key=repr,
    )


def test_sender_filter_matches_identity_not_subclasses(host):
    class Special(Article):
        pass

    calls = []

    class Plugin:
        @hookimpl(sender=Article)
        def post_save(self, sender):
            calls.append(sender)

    host.register(Plugin())
    fire_post_save(host, Special)
    assert calls == []


def test_string_senders_match_by_equality(host):
    calls = []

    class Plugin:
        @hookimpl(sender="hosthooks.runtime.auth")
        def user_login_failed(self, credentials):
            calls.append(credentials)

    host.register(Plugin())
    host.hook.user_login_failed(sender="hosthooks.runtime.auth", credentials={"a": 1}, request=None)
    host.hook.user_login_failed(sender="elsewhere", credentials={"b": 2}, request=None)
    assert calls == [{"a": 1}]


def test_per_sender_plans_are_cached_and_unhashable_senders_work(host):
    calls = []

    class Plugin:
        @hookimpl(sender=Article)
        def post_save(self, sender):
            calls.append("filtered")

        @hookimpl(specname="post_save")
        def everyone(self, sender):
            calls.append("everyone")

    host.register(Plugin())
    fire_post_save(host, Article)
    fire_post_save(host, Article)
    unhashable: list[Any] = []
    fire_post_save(host, unhashable)
    fire_post_save(host, unhashable)
    # pluggy registers a class's implementations in name order; calls run LIFO.
    assert calls == ["filtered", "everyone"] * 2 + ["everyone"] * 2
    # The first call ran through pluggy; the rest cached a plan per sender.
    assert {key: sender for key, (sender, _) in sender_plans(host, "post_save").items()} == {
        id(Article): Article,
        id(unhashable): unhashable,
    }


def test_the_per_sender_cache_is_bounded(host):
    class Plugin:
        @hookimpl(sender=Article)
        def post_save(self):
            return "article"

    host.register(Plugin())
    senders = [type(f"Model{n}", (), {}) for n in range(MAX_CACHED_SENDERS + 10)]
    for sender in senders:
        assert fire_post_save(host, sender) == []
    assert 0 < len(sender_plans(host, "post_save")) <= MAX_CACHED_SENDERS
    assert fire_post_save(host, Article) == ["article"]


def test_has_listeners_respects_sender_filters(host):
    class Plugin:
        @hookimpl(sender=Article)
        def post_save(self):
            pass

    assert not host.has_listeners("post_save")
    host.register(Plugin())
    assert host.has_listeners("post_save")
    assert host.has_listeners("post_save", Article)
    assert not host.has_listeners("post_save", Comment)
    assert not host.has_listeners("pre_save", ANY_SENDER)
    assert not host.has_listeners("no_such_hook")


def test_sender_filters_apply_to_wrappers_and_historic_replay(host):
    calls: list[Any] = []

    class Plugin:
        @hookimpl(sender=Article, wrapper=True)
        def post_save(self) -> Generator[None, Any, Any]:
            calls.append("wrapper")
            return (yield)

        @hookimpl(sender=Comment)
        def class_prepared(self, sender):
            calls.append(("prepared", sender))

    host.hook.class_prepared.call_historic(kwargs={"sender": Article})
    host.hook.class_prepared.call_historic(kwargs={"sender": Comment})
    host.register(Plugin())
    fire_post_save(host, Comment)
    fire_post_save(host, Article)
    assert calls == [("prepared", Comment), "wrapper"]


# -- errors --------------------------------------------------------------------


def raising_plugin(message: str) -> object:
    class Raiser:
        @hookimpl
        def post_save(self):
            raise RuntimeError(message)

    return Raiser()


def test_the_first_error_propagates_with_a_note_naming_plugin_and_hook(host):
    calls = []

    class After:
        @hookimpl(trylast=True)
        def post_save(self):
            calls.append("never")

    host.register(After(), "after")
    host.register(raising_plugin("boom"), "raiser")
    with pytest.raises(RuntimeError, match="boom") as caught:
        fire_post_save(host, Article)
    assert getattr(caught.value, "__notes__", None) == [
        "raised by plugin 'raiser' in hook 'post_save'"
    ]
    assert calls == []


@pytest.mark.parametrize("path", ["sender-plan", "pluggy"])
def test_errors_are_attributed_on_every_path(host, path):
    if path == "sender-plan":

        class Filtered:
            @hookimpl(sender=Comment)
            def post_save(self):
                pass

        host.register(Filtered(), "filtered")
    else:

        class Wrapper:
            @hookimpl(wrapper=True)
            def post_save(self) -> Generator[None, Any, Any]:
                return (yield)

        host.register(Wrapper(), "wrapper")
    host.register(raising_plugin("deep"), "raiser")
    with pytest.raises(RuntimeError, match="deep") as caught:
        fire_post_save(host, Article)
    assert getattr(caught.value, "__notes__", None) == [
        "raised by plugin 'raiser' in hook 'post_save'"
    ]


def test_fire_robust_runs_everyone_and_logs_failures(host, caplog):
    seen: list[Any] = []

    class Good:
        @hookimpl
        def post_save(self, created):
            return created

    class Wrapper:
        @hookimpl(wrapper=True)
        def post_save(self) -> Generator[None, Any, Any]:
            results = yield
            seen.append(("wrapper saw", results))
            raise ValueError("teardown failed")

    class OldWrapper:
        @hookimpl(hookwrapper=True)
        def post_save(self) -> Generator[None, Any, None]:
            outcome = yield
            seen.append(("old wrapper saw", outcome.get_result()))

    class NoYield:
        @hookimpl(wrapper=True, specname="post_save")
        def never_yields(self) -> Generator[None, Any, Any]:
            if False:
                yield
            return None

    host.register(Good(), "good")
    host.register(raising_plugin("kaput"), "bad")
    host.register(Wrapper(), "wrapper")
    host.register(OldWrapper(), "old")
    host.register(NoYield(), "no-yield")
    with caplog.at_level(logging.ERROR, logger="hosthooks"):
        outcomes = host.fire_robust("post_save", sender=Article, **POST_SAVE)
    assert [(name, type(value).__name__) for name, value in outcomes] == [
        ("no-yield", "RuntimeError"),
        ("bad", "RuntimeError"),
        ("good", "bool"),
        ("wrapper", "ValueError"),
    ]
    # Registered last, called first: "old" wraps "wrapper", whose teardown runs first.
    assert seen == [("wrapper saw", [True]), ("old wrapper saw", [True])]
    assert [record.getMessage() for record in caplog.records] == [
        "plugin 'no-yield' raised in hook 'post_save': RuntimeError: the wrapper did not yield",
        "plugin 'bad' raised in hook 'post_save': RuntimeError: kaput",
        "plugin 'wrapper' raised in hook 'post_save': ValueError: teardown failed",
    ]
    with pytest.raises(AttributeError):
        host.fire_robust("no_such_hook")


def test_fire_robust_respects_sender_filters(host):
    class Plugin:
        @hookimpl(sender=Article)
        def post_save(self):
            return "article"

    host.register(Plugin(), "p")
    assert host.fire_robust("post_save", sender=Comment, **POST_SAVE) == []
    assert host.fire_robust("post_save", sender=Article, **POST_SAVE) == [("p", "article")]


# -- tracing -------------------------------------------------------------------


def test_tracing_to_stderr_one_line_per_call(host, capsys):
    class Plugin:
        @hookimpl
        def post_save(self, created):
            return "saved"

    host.register(Plugin(), "tracer-test")
    host.register(raising_plugin("traced failure"), "raiser")
    host.set_tracing(True)
    with pytest.raises(RuntimeError):
        fire_post_save(host, Article)
    host.unregister("raiser")
    assert fire_post_save(host, Article) == ["saved"]
    host.set_tracing(False)
    fire_post_save(host, Article)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("hosthooks trace: post_save sender=Article ")
    assert "raiser:" in lines[0]
    assert "raised (RuntimeError: traced failure)" in lines[0]
    assert "tracer-test:" in lines[1]
    assert "ms result" in lines[1]


def test_tracing_to_a_file_as_json_lines(tmp_path):
    trace_file = tmp_path / "trace.jsonl"
    host = Host(HostConfig(autoload=False, trace=True, trace_file=trace_file))

    class Plugin:
        @hookimpl
        def pre_save(self):
            pass

    host.register(Plugin(), "p")
    host.hook.pre_save(sender=Article, instance=1, raw=False, using="default", update_fields=None)
    host.hook.post_save(sender=Article, **POST_SAVE)
    host.set_tracing(False)
    records = [json.loads(line) for line in trace_file.read_text().splitlines()]
    assert [record["hook"] for record in records] == ["pre_save", "post_save"]
    assert records[0]["sender"] == "Article"
    assert records[0]["impls"][0]["plugin"] == "p"
    assert records[0]["impls"][0]["outcome"] == "ok"
    assert records[1]["impls"] == []


def test_tracing_off_leaves_no_tracing_code_in_plans(host):
    host.set_tracing(True)
    assert host.hook.post_save.__code__.co_filename != "<hosthooks plan post_save>"
    host.set_tracing(False)
    fire_post_save(host, Article)
    assert host.hook.post_save.__code__.co_filename == "<hosthooks plan post_save>"


def test_pluggys_own_tracing_sees_calls_while_enabled(host):
    class Plugin:
        @hookimpl
        def post_save(self):
            return "traced"

    host.register(Plugin(), "p")
    messages: list[str] = []
    host.plugin_manager.trace.root.setwriter(messages.append)
    undo = host.plugin_manager.enable_tracing()
    fire_post_save(host, Article)
    undo()
    fire_post_save(host, Article)
    assert [m for m in messages if "post_save" in m and "finish" not in m] != []
    assert sum("post_save" in m and "finish" not in m for m in messages) == 1
