"""Ordering by plugin name: before=/after= within pluggy's tiers, cycles reported
and left in pluggy's order, names not installed satisfied, calls unchanged in cost."""

from __future__ import annotations

import json
from typing import Any

import pluggy
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

import hosthooks
import hosthooks.specs.models
from hosthooks import Host
from hosthooks import hookimpl
from hosthooks.loading.records import ProblemKind

ARGS: dict[str, Any] = {
    "sender": object,
    "instance": None,
    "created": True,
    "raw": False,
    "using": "default",
    "update_fields": None,
}


def plugin(name: str, **options):
    """A plugin whose post_save returns its name, marked with ``options``."""

    class Named:
        @hookimpl(**options)
        def post_save(self, sender):
            return name

    return Named()


def register(host: Host, *plugins: tuple[str, dict[str, Any]]) -> None:
    for name, options in plugins:
        host.register(plugin(name, **options), name)


def test_without_constraints_the_order_is_pluggys():
    host = Host()
    register(host, ("a", {}), ("b", {}), ("c", {}))
    assert host.hook.post_save(**ARGS) == ["c", "b", "a"]


def test_before_and_after_move_an_implementation_relative_to_named_plugins():
    host = Host()
    # LIFO would give c, b, a; a asks to run before c, b after a.
    register(host, ("a", {"before": ["c"]}), ("b", {"after": ["a"]}), ("c", {}))
    assert host.hook.post_save(**ARGS) == ["a", "c", "b"]
    assert [impl.plugin_name for impl in host.hook.post_save.get_hookimpls()] == ["b", "c", "a"]
    # Registered in another order, the same constraints give an order that keeps them.
    other = Host()
    register(other, ("c", {}), ("b", {"after": ["a"]}), ("a", {"before": ["c"]}))
    order: list[Any] = other.hook.post_save(**ARGS)
    assert order.index("a") < order.index("c")
    assert order.index("a") < order.index("b")


def test_a_name_not_installed_is_satisfied():
    host = Host()
    register(host, ("a", {"before": ["not-installed"]}), ("b", {"after": ["nobody"]}))
    assert host.hook.post_save(**ARGS) == ["b", "a"]
    assert host.check() == []


def test_tiers_stay_tiers():
    host = Host()
    register(
        host,
        ("first", {"tryfirst": True}),
        ("last", {"trylast": True, "before": ["first", "plain"]}),
        ("plain", {"before": ["first"]}),
    )
    # A trylast implementation never runs before a plain one, whatever it asks.
    assert host.hook.post_save(**ARGS) == ["first", "plain", "last"]


def test_constraints_apply_among_wrappers_separately():
    calls = []

    def wrapper(name, **options):
        class Wrapper:
            @hookimpl(wrapper=True, **options)
            def post_save(self, sender):
                calls.append(name)
                return (yield)

        return Wrapper()

    host = Host()
    host.register(wrapper("outer", after=["inner"]), "outer")
    host.register(wrapper("inner"), "inner")
    register(host, ("plain", {"before": ["outer"]}))
    assert host.hook.post_save(**ARGS) == ["plain"]
    assert calls == ["inner", "outer"]


def test_a_cycle_keeps_pluggys_order_and_is_a_problem(caplog):
    host = Host()
    register(host, ("x", {"before": ["y"]}), ("y", {"before": ["x"]}), ("z", {}))
    assert host.hook.post_save(**ARGS) == ["z", "y", "x"]
    problems = host.check()
    assert [str(problem) for problem in problems] == [
        "x: post_save: ordering cycle among x, y; pluggy's order is kept",
        "y: post_save: ordering cycle among x, y; pluggy's order is kept",
    ]
    assert {problem.kind for problem in problems} == {ProblemKind.ORDERING_CYCLE}


def test_a_cycle_found_at_load_is_logged_and_fatal_when_strict(tmp_path, caplog):
    (tmp_path / "x.py").write_text(
        "from hosthooks import hookimpl\n\n@hookimpl(before=['y'])\ndef post_save(sender): pass\n"
    )
    (tmp_path / "y.py").write_text(
        "from hosthooks import hookimpl\n\n@hookimpl(before=['x'])\ndef post_save(sender): pass\n"
    )
    host = Host()
    with caplog.at_level("WARNING", logger="hosthooks.plugins"):
        host.load_directory(tmp_path)
    assert "y: post_save: ordering cycle among x, y; pluggy's order is kept" in caplog.text
    strict = Host(hosthooks.HostConfig(autoload=False, strict=True))
    with pytest.raises(hosthooks.PluginLoadError, match="ordering cycle among x, y"):
        strict.load_directory(tmp_path)


def test_unregistering_keeps_the_others_constrained():
    host = Host()
    register(host, ("a", {"before": ["c"]}), ("b", {}), ("c", {}))
    # pluggy's order is c, b, a; only a and c are constrained, b keeps its place first.
    assert host.hook.post_save(**ARGS) == ["b", "a", "c"]
    host.unregister("b")
    assert host.hook.post_save(**ARGS) == ["a", "c"]
    register(host, ("d", {}))
    assert host.hook.post_save(**ARGS) == ["d", "a", "c"]


def test_a_bare_string_is_refused():
    with pytest.raises(TypeError, match="before= takes a list of plugin names, not a string"):
        hookimpl(before="other")(lambda: None)


def test_hooks_shows_the_constraint_that_placed_each_implementation(tmp_path, capsys, monkeypatch):
    from hosthooks.cli import main

    (tmp_path / "early.py").write_text(
        "from hosthooks import hookimpl\n\n@hookimpl(before=['late'])\ndef post_save(sender): pass\n"
    )
    (tmp_path / "late.py").write_text(
        "from hosthooks import hookimpl\n\n@hookimpl\ndef post_save(sender): pass\n"
    )
    monkeypatch.setenv("HOSTHOOKS_DISABLE_PLUGIN_AUTOLOAD", "1")
    try:
        with pytest.raises(SystemExit):
            main(["--plugins-dir", str(tmp_path), "hooks", "post_save"])
        out = capsys.readouterr().out
        assert "1. early: hosthooks_plugins_dir.early.post_save [before=late]" in out
        assert "2. late: hosthooks_plugins_dir.late.post_save" in out
        with pytest.raises(SystemExit):
            main(["--plugins-dir", str(tmp_path), "hooks", "post_save", "--json"])
        (hook,) = json.loads(capsys.readouterr().out)
        assert [(impl["plugin"], impl["before"]) for impl in hook["impls"]] == [
            ("early", ["late"]),
            ("late", []),
        ]
    finally:
        hosthooks.set_default_host(None)


_KINDS = ["plain", "tryfirst", "trylast", "wrapper", "hookwrapper", "wrapper-tryfirst"]


@given(st.lists(st.sampled_from(_KINDS), max_size=40))
def test_implementations_are_stored_where_pluggy_stores_them(kinds):
    from hosthooks.engine.callers import _insert

    def impl(index: int, kind: str) -> pluggy.HookImpl:
        opts: dict[str, Any] = {
            "wrapper": kind.startswith("wrapper"),
            "hookwrapper": kind == "hookwrapper",
            "optionalhook": False,
            "tryfirst": kind.endswith("tryfirst"),
            "trylast": kind == "trylast",
            "specname": None,
        }
        return pluggy.HookImpl(None, f"p{index}", lambda: None, opts)  # type: ignore[arg-type]

    reference = pluggy.HookCaller("hook", lambda *args: None)
    stored: list[pluggy.HookImpl] = []
    for index, kind in enumerate(kinds):
        reference._add_hookimpl(impl(index, kind))
        _insert(stored, impl(index, kind))
    assert [i.plugin_name for i in stored] == [i.plugin_name for i in reference.get_hookimpls()]


def test_a_constraint_leaves_pluggys_trylast_order_alone():
    reference = pluggy.PluginManager("hosthooks")
    host = Host()
    reference.add_hookspecs(hosthooks.specs.models)
    for manager in (reference, host):
        manager.register(plugin("A", trylast=True), "A")
        manager.register(plugin("B", trylast=True), "B")
        manager.register(plugin("C", before=["not-installed"]), "C")
    assert reference.hook.post_save(**ARGS) == ["C", "A", "B"]
    assert host.hook.post_save(**ARGS) == ["C", "A", "B"]


_OPTIONS = {
    "plain": {},
    "tryfirst": {"tryfirst": True},
    "trylast": {"trylast": True},
    "wrapper": {"wrapper": True},
    "wrapper-tryfirst": {"wrapper": True, "tryfirst": True},
    "wrapper-trylast": {"wrapper": True, "trylast": True},
    "hookwrapper": {"hookwrapper": True},
}
#: Names constraints may point at: the plugins' own (p0...), and one never registered.
_TARGETS = st.lists(st.sampled_from([*(f"p{index}" for index in range(8)), "absent"]), max_size=2)
_REGISTRATION = st.fixed_dictionaries(
    {"kind": st.sampled_from(sorted(_OPTIONS)), "before": _TARGETS, "after": _TARGETS}
)
_STEP = st.one_of(
    st.tuples(st.just("register"), _REGISTRATION),
    st.tuples(st.just("unregister"), st.integers(0, 7)),
)


def _calling_plugin(name: str, calls: list[str], kind: str, **options: Any) -> object:
    class Plugin:
        if kind == "hookwrapper":

            @hookimpl(**options)
            def post_save(self, sender):
                calls.append(name)
                yield

        elif options.get("wrapper"):

            @hookimpl(**options)
            def post_save(self, sender):
                calls.append(name)
                return (yield)

        else:

            @hookimpl(**options)
            def post_save(self, sender):
                calls.append(name)

    return Plugin()


def _constrained(pluggy_order: list[str], rules: dict[str, dict[str, Any]]) -> list[str]:
    """The order the constraints give: pluggy's call order, where within each group
    of the same wrapping and tier the next is always the earliest in pluggy's order
    whose constraints allow it; a group whose constraints form a cycle keeps
    pluggy's order."""

    def group(name: str) -> tuple[bool, int]:
        options = _OPTIONS[rules[name]["kind"]]
        wrapping = bool(options.get("wrapper") or options.get("hookwrapper"))
        return not wrapping, 0 if options.get("tryfirst") else 2 if options.get("trylast") else 1

    result: list[str] = []
    for key in sorted({group(name) for name in pluggy_order}):
        members = [name for name in pluggy_order if group(name) == key]

        def must_follow(name: str, members: list[str] = members) -> set[str]:
            return {
                other
                for other in members
                if other != name
                and (name in rules[other]["before"] or other in rules[name]["after"])
            }

        placed: list[str] = []
        while len(placed) < len(members):
            free = [
                name for name in members if name not in placed and must_follow(name) <= set(placed)
            ]
            if not free:
                placed = members  # a cycle: pluggy's order
                break
            placed.append(free[0])
        result += placed
    return result


@settings(max_examples=300, deadline=None)
@given(st.lists(_STEP, min_size=1, max_size=16))
def test_constraints_reorder_only_what_they_must_within_pluggys_tiers(steps):
    host = Host()
    reference = pluggy.PluginManager("hosthooks")
    reference.add_hookspecs(hosthooks.specs.models)
    rules: dict[str, dict[str, Any]] = {}
    ours: list[str] = []
    theirs: list[str] = []
    registered = 0
    for action, argument in steps:
        if action == "register" and registered < 8:
            name = f"p{registered}"
            registered += 1
            rules[name] = argument
            options = _OPTIONS[argument["kind"]]
            constraints = {key: argument[key] for key in ("before", "after") if argument[key]}
            host.register(
                _calling_plugin(name, ours, argument["kind"], **options, **constraints), name
            )
            reference.register(_calling_plugin(name, theirs, argument["kind"], **options), name)
        elif action == "unregister" and rules:
            name = sorted(rules)[argument % len(rules)]
            del rules[name]
            host.unregister(name=name)
            reference.unregister(name=name)
        ours.clear()
        theirs.clear()
        host.hook.post_save(**ARGS)
        reference.hook.post_save(**ARGS)
        assert ours == _constrained(theirs, rules)
        stored = [impl.plugin_name for impl in host.hook.post_save.get_hookimpls()]
        assert stored[::-1] == ours
