"""Dispatch: implementations filtered by sender; errors attributed to plugins; robust calls."""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Any

import pytest

from hosthooks import ANY_SENDER
from hosthooks import Host
from hosthooks import hookimpl
from hosthooks.engine.dispatch import MAX_CACHED_SENDERS

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


def fire_post_save(host: Host, sender: Any) -> list[Any]:
    result: list[Any] = host.hook.post_save(sender=sender, **POST_SAVE)
    return result


def sender_plans(host: Host, name: str) -> dict[int, tuple[Any, Any]]:
    """The per-sender plans a dispatcher caches (one of its values)."""
    function = getattr(host.hook, name)
    assert function.__code__.co_filename == f"<hosthooks dispatch {name}>"
    [plans] = [value for value in function.__defaults__ if isinstance(value, dict)]
    return plans


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
