"""Async hooks: ``await host.ahook.<name>``, ``afire_robust``, and async implementations
reached by synchronous calls."""

from __future__ import annotations

import asyncio
import dis
import gc
import inspect
import json
import logging
import threading
import types
import weakref
from collections.abc import AsyncGenerator
from collections.abc import Generator
from typing import Any

import pluggy
import pytest
from asgiref.sync import sync_to_async

from hosthooks import AsyncImplementationError
from hosthooks import Host
from hosthooks import hookimpl
from hosthooks import hookspec
from hosthooks.engine.generated import ASYNC_PATH_FILENAME
from hosthooks.engine.generated import VALUES_PREFIX
from hosthooks.report import hooks_json

POST_SAVE: dict[str, Any] = {
    "instance": 1,
    "created": True,
    "raw": False,
    "using": "default",
    "update_fields": None,
}


class Article:
    pass


class Comment:
    pass


class Choose:
    @hookspec(firstresult=True)
    def choose(self, sender: Any, value: Any) -> Any:
        """Pick one."""


def plugin(**hooks: Any) -> types.SimpleNamespace:
    return types.SimpleNamespace(**hooks)


def asave(host: Host, sender: Any = Article) -> Any:
    return host.ahook.post_save(sender=sender, **POST_SAVE)


def ordered_host(calls: list[str]) -> Host:
    """A host with sync and async post_save implementations in every ordering position."""
    host = Host()

    def sync(name: str, **options: Any) -> Any:
        def post_save(sender: Any) -> str:
            calls.append(name)
            return name

        return hookimpl(**options)(post_save)

    def coroutine(name: str, **options: Any) -> Any:
        async def post_save(sender: Any) -> str:
            await asyncio.sleep(0)
            calls.append(name)
            return name

        return hookimpl(**options)(post_save)

    host.register(plugin(post_save=sync("sync-first")), "sync-first")
    host.register(plugin(post_save=coroutine("async-last", trylast=True)), "async-last")
    host.register(plugin(post_save=coroutine("async-plain")), "async-plain")
    host.register(plugin(post_save=coroutine("async-first", tryfirst=True)), "async-first")
    host.register(plugin(post_save=sync("sync-plain")), "sync-plain")
    return host


# -- order and results ----------------------------------------------------------


def test_async_calls_run_every_implementation_in_the_sync_order_one_after_another():
    calls: list[str] = []
    host = ordered_host(calls)
    expected = ["async-first", "sync-plain", "async-plain", "sync-first", "async-last"]
    assert [impl["plugin"] for impl in hooks_json(host)[4]["impls"]] == expected
    assert asyncio.run(asave(host)) == expected
    assert calls == expected
    calls.clear()
    # A sync call with no loop running runs the async ones to completion, in place.
    assert host.hook.post_save(sender=Article, **POST_SAVE) == expected
    assert calls == expected


def test_an_async_call_runs_a_generated_plan_awaiting_only_the_async_implementations():
    host = ordered_host([])
    asyncio.run(asave(host))
    entry: Any = host.ahook.post_save
    # One coroutine, no frame in front of it: it takes no positional parameter (a
    # positional argument is binding's TypeError) and reads its values from its
    # function's namespace, so it has no defaults either.
    assert inspect.iscoroutinefunction(entry)
    assert entry.__code__.co_filename == "<hosthooks plan post_save>"
    assert entry.__code__.co_argcount == 0
    assert entry.__defaults__ is None
    awaits = [op for op in dis.get_instructions(entry) if op.opname == "GET_AWAITABLE"]
    # Three implementations, and the general way for a missing or extra argument.
    assert len(awaits) == 3 + 2


def test_a_held_async_caller_sees_plugins_registered_and_unregistered_later():
    host = Host()
    fire = host.ahook.post_save
    assert asyncio.run(fire(sender=Article, **POST_SAVE)) == []

    async def post_save() -> str:
        return "late"

    host.register(plugin(post_save=hookimpl(post_save)), "late")
    assert asyncio.run(fire(sender=Article, **POST_SAVE)) == ["late"]
    host.unregister("late")
    assert asyncio.run(fire(sender=Article, **POST_SAVE)) == []


def test_firstresult_stops_at_the_first_result_and_never_starts_the_rest():
    host = Host(specs=[Choose])
    started: list[str] = []

    async def slow(value: Any) -> Any:
        started.append("slow")
        return None

    async def answer(value: Any) -> Any:
        started.append("answer")
        return value * 2

    async def never(value: Any) -> Any:
        started.append("never")
        return "too late"

    host.register(plugin(choose=hookimpl(never, trylast=True)), "never")
    host.register(plugin(choose=hookimpl(answer)), "answer")
    host.register(plugin(choose=hookimpl(slow, tryfirst=True)), "slow")
    assert asyncio.run(host.ahook.choose(sender=None, value=21)) == 42  # type: ignore[attr-defined]
    assert started == ["slow", "answer"]


def test_sender_filters_apply_to_async_implementations():
    host = Host()

    async def articles(sender: Any) -> str:
        return "article"

    async def comments(sender: Any) -> str:
        return "comment"

    host.register(plugin(post_save=hookimpl(articles, sender=Article)), "articles")
    host.register(plugin(post_save=hookimpl(comments, sender=(Comment,))), "comments")
    assert asyncio.run(asave(host, Article)) == ["article"]
    assert asyncio.run(asave(host, Comment)) == ["comment"]
    assert asyncio.run(asave(host, object)) == []
    assert host.ahook.post_save.__code__.co_filename == "<hosthooks dispatch post_save>"


@pytest.mark.parametrize("filtered", [False, True])
def test_a_positional_argument_is_a_type_error_on_every_kind_of_async_call(filtered):
    host = Host()

    async def post_save(sender: Any) -> str:
        return "saved"

    host.register(plugin(post_save=hookimpl(post_save, sender=Article if filtered else None)))
    positional = r"post_save.__call__\(\) takes 0 positional arguments but 1 was given"
    # First through the async path (the plan is built on the first call), then the plan.
    with pytest.raises(TypeError, match=positional):
        host.ahook.post_save(Article)  # type: ignore[call-arg,unused-coroutine]
    assert asyncio.run(asave(host)) == ["saved"]
    with pytest.raises(TypeError, match=positional):
        host.ahook.post_save(Article)  # type: ignore[call-arg,unused-coroutine]


@pytest.mark.parametrize("filtered", [False, True])
def test_an_extra_argument_named_as_the_plans_values_is_passed_on_as_any_extra_one(filtered):
    # An async plan reads its values from its function's namespace: a caller's
    # argument of that name is an extra one (passed on, as pluggy does), never what it calls.
    host = Host()

    async def post_save(sender: Any, instance: Any) -> Any:
        return instance

    host.register(plugin(post_save=hookimpl(post_save, sender=Article if filtered else None)))
    assert asyncio.run(asave(host)) == [POST_SAVE["instance"]]
    entry: Any = host.ahook.post_save
    kind = "dispatch" if filtered else "plan"
    assert entry.__code__.co_filename == f"<hosthooks {kind} post_save>"
    [name] = [name for name in entry.__globals__ if name.startswith(VALUES_PREFIX)]
    assert name in entry.__code__.co_names
    values = entry.__globals__[name]
    for given in (None, (), values[:-1], [*values], (print, *values[1:])):
        called = entry(sender=Article, **POST_SAVE, **{name: given})
        assert asyncio.run(called) == [POST_SAVE["instance"]]


@pytest.mark.parametrize("filtered", [False, True])
def test_a_call_awaited_after_its_plan_was_replaced_runs_the_implementations_of_then(filtered):
    # As the async path does, a plan runs the implementations there are when its
    # coroutine starts: a coroutine made before a plan of another shape replaced
    # its own finds its values gone (no old implementation is kept alive) and is
    # made again through the hook's function as it is now.
    host = Host()

    async def post_save(sender: Any, instance: Any) -> Any:
        return instance

    host.register(plugin(post_save=hookimpl(post_save, sender=Article if filtered else None)))
    assert asyncio.run(asave(host)) == [POST_SAVE["instance"]]
    entry: Any = host.ahook.post_save
    [before] = [name for name in entry.__globals__ if name.startswith(VALUES_PREFIX)]
    made = entry(sender=Article, **POST_SAVE)
    left_out = entry(sender=Article)

    async def later(sender: Any) -> str:
        return "later"

    host.register(plugin(post_save=hookimpl(later)), "later")
    assert asyncio.run(asave(host)) == ["later", POST_SAVE["instance"]]
    assert before not in entry.__globals__
    assert asyncio.run(made) == ["later", POST_SAVE["instance"]]
    # An argument the caller left out is still left out (pluggy's warning and error).
    with (
        pytest.warns(UserWarning, match="cannot be found in this hook call"),
        pytest.raises(pluggy.HookCallError, match="'instance'"),
    ):
        asyncio.run(left_out)


@pytest.mark.parametrize("filtered", [False, True])
def test_a_call_awaited_after_its_hook_went_back_to_the_path_runs_no_unregistered_implementation(
    filtered,
):
    # Unregistering puts the hook back on the async path until it is next called:
    # a coroutine made before must not find the old plan's values then, nor may
    # they keep the unregistered implementation alive.
    host = Host()
    ran: list[str] = []

    async def post_save(sender: Any) -> str:
        ran.append("gone")
        return "gone"

    host.register(
        plugin(post_save=hookimpl(post_save, sender=Article if filtered else None)), "gone"
    )
    assert asyncio.run(asave(host)) == ["gone"]
    ran.clear()
    entry: Any = host.ahook.post_save
    made = entry(sender=Article, **POST_SAVE)
    host.unregister(name="gone")
    assert entry.__code__.co_filename == ASYNC_PATH_FILENAME
    assert not [name for name in entry.__globals__ if name.startswith(VALUES_PREFIX)]
    gone = weakref.ref(post_save)
    del post_save
    gc.collect()
    assert gone() is None
    assert asyncio.run(made) == []
    assert ran == []


def test_a_call_awaited_after_its_implementation_was_muted_does_not_run_it():
    host = Host()

    async def post_save(sender: Any) -> str:
        return "loud"

    host.register(plugin(post_save=hookimpl(post_save)), "loud")
    assert asyncio.run(asave(host)) == ["loud"]
    made = asave(host)
    with host.muted(["loud"]):
        assert asyncio.run(made) == []


def test_a_missing_argument_is_warned_about_and_an_extra_one_passed_on():
    host = Host()
    seen: list[Any] = []

    async def post_save(sender: Any, instance: Any) -> None:
        seen.append(instance)

    host.register(plugin(post_save=hookimpl(post_save)), "p")

    async def caller() -> int:
        await host.ahook.post_save(sender=Article, instance=7)  # type: ignore[call-arg]
        return caller.__code__.co_firstlineno + 1

    with pytest.warns(UserWarning, match="'created'") as warned:
        line = asyncio.run(caller())
    # As pluggy's: the warning points at the line that awaited the hook.
    assert [(warning.filename, warning.lineno) for warning in warned] == [(__file__, line)]
    asyncio.run(host.ahook.post_save(sender=Article, **POST_SAVE, surplus=1))  # type: ignore[call-arg]
    assert seen == [7, 1]


def test_a_historic_hook_cannot_be_awaited_directly():
    host = Host()
    with pytest.raises(AssertionError, match="historic"):
        asyncio.run(host.ahook.class_prepared(sender=Article))  # type: ignore[attr-defined]


# -- errors ------------------------------------------------------------------------


def test_an_async_implementation_that_raises_stops_the_call_and_is_named():
    host = Host()
    calls: list[str] = []

    async def broken(sender: Any) -> None:
        calls.append("broken")
        raise ValueError("no")

    def after(sender: Any) -> None:
        calls.append("after")

    host.register(plugin(post_save=hookimpl(after, trylast=True)), "after")
    host.register(plugin(post_save=hookimpl(broken)), "broken")
    with pytest.raises(ValueError, match="no") as raised:
        asyncio.run(asave(host))
    assert getattr(raised.value, "__notes__", None) == [
        "raised by plugin 'broken' in hook 'post_save'"
    ]
    assert calls == ["broken"]


@pytest.mark.parametrize("filtered", [False, True])
def test_a_call_with_an_extra_argument_names_the_plugin_once(filtered):
    host = Host()

    async def broken(sender: Any) -> None:
        raise ValueError("no")

    host.register(plugin(post_save=hookimpl(broken, sender=Article if filtered else None)))
    for _ in range(2):  # the first call builds the plan, the second runs it
        with pytest.raises(ValueError, match="no") as raised:
            asyncio.run(host.ahook.post_save(sender=Article, flavour="extra", **POST_SAVE))  # type: ignore[call-arg]
        assert len(getattr(raised.value, "__notes__", [])) == 1


def test_the_async_path_names_the_plugin_too():
    host = Host()

    async def broken(sender: Any) -> None:
        raise ValueError("no")

    @hookimpl(wrapper=True)
    def passing(sender: Any) -> Generator[None, Any, Any]:
        return (yield)

    host.register(plugin(post_save=passing), "wrapper")
    host.register(plugin(post_save=hookimpl(broken)), "broken")
    with pytest.raises(ValueError, match="no") as raised:
        asyncio.run(asave(host))
    assert host.ahook.post_save.__code__.co_filename == ASYNC_PATH_FILENAME
    assert getattr(raised.value, "__notes__", None) == [
        "raised by plugin 'broken' in hook 'post_save'"
    ]


# -- wrappers -------------------------------------------------------------------------


def test_an_async_generator_wrapper_sees_the_results_and_may_replace_them():
    host = Host()
    seen: list[Any] = []

    @hookimpl(wrapper=True)
    async def replacing(sender: Any) -> AsyncGenerator[Any, Any]:
        await asyncio.sleep(0)
        results = yield
        seen.append(results)
        yield [*results, "added"]

    @hookimpl(wrapper=True)
    async def watching(sender: Any) -> AsyncGenerator[Any, Any]:
        results = yield
        seen.append(list(results))

    async def plain(sender: Any) -> str:
        return "plain"

    host.register(plugin(post_save=hookimpl(plain)), "plain")
    host.register(plugin(post_save=watching), "watching")
    host.register(plugin(post_save=replacing), "replacing")
    assert asyncio.run(asave(host)) == ["plain", "added"]
    # The last registered wrapper is outermost: it sees what the inner one left.
    assert seen == [["plain"], ["plain"]]


def test_an_async_generator_wrapper_sees_the_exception_and_may_swallow_it():
    host = Host()
    caught: list[BaseException] = []

    @hookimpl(wrapper=True)
    async def swallowing(sender: Any) -> AsyncGenerator[Any, Any]:
        try:
            yield
        except ValueError as error:
            caught.append(error)

    async def broken(sender: Any) -> None:
        raise ValueError("inner")

    host.register(plugin(post_save=hookimpl(broken)), "broken")
    host.register(plugin(post_save=swallowing), "swallowing")
    assert asyncio.run(asave(host)) is None
    assert [str(error) for error in caught] == ["inner"]


def test_sync_wrappers_old_and_new_style_wrap_async_implementations():
    host = Host()
    seen: list[Any] = []

    @hookimpl(hookwrapper=True)
    def old_style(sender: Any) -> Generator[None, Any, None]:
        outcome = yield
        seen.append(outcome.get_result())
        outcome.force_result(["forced"])

    @hookimpl(wrapper=True)
    def new_style(sender: Any) -> Generator[None, Any, Any]:
        results = yield
        return [*results, "new"]

    async def plain(sender: Any) -> str:
        return "plain"

    host.register(plugin(post_save=hookimpl(plain)), "plain")
    host.register(plugin(post_save=new_style), "new")
    host.register(plugin(post_save=old_style), "old")
    assert asyncio.run(asave(host)) == ["forced"]
    assert seen == [["plain", "new"]]
    assert host.hook.post_save(sender=Article, **POST_SAVE) == ["forced"]


def test_a_sync_call_reaching_an_async_generator_wrapper_says_so():
    host = Host()

    @hookimpl(wrapper=True)
    async def wrapping(sender: Any) -> AsyncGenerator[Any, Any]:
        yield

    host.register(plugin(post_save=wrapping), "async-wrapper")
    with pytest.raises(AsyncImplementationError, match="'async-wrapper' wraps hook 'post_save'"):
        host.hook.post_save(sender=Article, **POST_SAVE)


# -- sync calls reaching async implementations -------------------------------------------


def test_a_sync_call_inside_a_running_loop_raises_naming_hook_and_plugin():
    host = Host()
    started: list[str] = []

    async def post_save(sender: Any) -> None:
        started.append("ran")

    host.register(plugin(post_save=hookimpl(post_save)), "notifier")

    async def main() -> None:
        host.hook.post_save(sender=Article, **POST_SAVE)

    with pytest.raises(AsyncImplementationError) as raised:
        asyncio.run(main())
    message = str(raised.value)
    assert "hook 'post_save'" in message
    assert "plugin 'notifier'" in message
    assert "await host.ahook.post_save" in message
    # No coroutine was made, so none is left un-awaited (warnings are errors here).
    gc.collect()
    assert started == []


def test_a_sync_call_from_a_sync_to_async_thread_runs_on_the_outer_loop():
    host = Host()
    loops: list[asyncio.AbstractEventLoop] = []

    async def post_save(sender: Any) -> str:
        loops.append(asyncio.get_running_loop())
        return "done"

    host.register(plugin(post_save=hookimpl(post_save)), "p")

    def view() -> Any:
        # A view served over ASGI: synchronous code in asgiref's sync thread.
        return host.hook.post_save(sender=Article, **POST_SAVE)

    async def main() -> tuple[Any, asyncio.AbstractEventLoop]:
        return await sync_to_async(view)(), asyncio.get_running_loop()

    result, loop = asyncio.run(main())
    assert result == ["done"]
    assert loops == [loop]


def test_a_historic_hook_replays_to_a_late_async_implementation():
    host = Host()
    seen: list[type] = []

    class Late:
        pass

    host.plugin_manager.hook.class_prepared.call_historic(kwargs={"sender": Late})

    async def class_prepared(sender: type) -> None:
        seen.append(sender)

    host.register(plugin(class_prepared=hookimpl(class_prepared)), "late")
    assert Late in seen


def test_sync_fire_robust_runs_async_implementations_and_reports_their_errors(caplog):
    host = Host()

    async def broken(sender: Any) -> None:
        raise ValueError("async boom")

    async def fine(sender: Any) -> str:
        return "fine"

    host.register(plugin(post_save=hookimpl(fine)), "fine")
    host.register(plugin(post_save=hookimpl(broken)), "broken")
    outcomes = host.fire_robust("post_save", sender=Article, **POST_SAVE)
    assert [name for name, _ in outcomes] == ["broken", "fine"]
    assert isinstance(outcomes[0][1], ValueError)
    assert outcomes[1][1] == "fine"


# -- afire_robust --------------------------------------------------------------------------


def test_afire_robust_runs_everything_in_order_and_logs_each_failure(caplog):
    host = Host()

    async def broken(sender: Any) -> None:
        raise ValueError("async boom")

    def sync_broken(sender: Any) -> None:
        raise KeyError("sync boom")

    async def fine(sender: Any) -> str:
        return "fine"

    @hookimpl(wrapper=True)
    async def wrapping(sender: Any) -> AsyncGenerator[Any, Any]:
        results = yield
        raise RuntimeError(f"wrapper saw {results}")

    host.register(plugin(post_save=hookimpl(fine)), "fine")
    host.register(plugin(post_save=hookimpl(sync_broken)), "sync-broken")
    host.register(plugin(post_save=hookimpl(broken, tryfirst=True)), "broken")
    host.register(plugin(post_save=wrapping), "wrapper")
    with caplog.at_level(logging.ERROR, logger="hosthooks"):
        outcomes = asyncio.run(host.afire_robust("post_save", sender=Article, **POST_SAVE))
    assert [(name, type(value).__name__) for name, value in outcomes] == [
        ("broken", "ValueError"),
        ("sync-broken", "KeyError"),
        ("fine", "str"),
        ("wrapper", "RuntimeError"),
    ]
    assert str(outcomes[3][1]) == "wrapper saw ['fine']"
    logged = [record.getMessage() for record in caplog.records]
    assert "plugin 'broken' raised in hook 'post_save': ValueError: async boom" in logged
    assert "plugin 'wrapper' raised in hook 'post_save': RuntimeError: wrapper saw ['fine']" in (
        logged
    )


def test_afire_robust_filters_senders_and_refuses_unknown_hooks():
    host = Host()

    async def articles(sender: Any) -> str:
        return "article"

    host.register(plugin(post_save=hookimpl(articles, sender=Article)), "articles")
    assert asyncio.run(host.afire_robust("post_save", sender=Comment, **POST_SAVE)) == []
    with pytest.raises(AttributeError, match="no hook named 'post_svae'"):
        asyncio.run(host.afire_robust("post_svae"))


# -- threads ----------------------------------------------------------------------------------


def test_a_thread_implementation_blocks_a_worker_thread_not_the_loop():
    host = Host()
    released = threading.Event()
    threads: list[int] = []

    def blocking(sender: Any) -> str:
        threads.append(threading.get_ident())
        # Released by a task on the loop: inline, this would wait out the timeout.
        return "released" if released.wait(timeout=10) else "timed out"

    host.register(plugin(post_save=hookimpl(blocking, thread=True)), "blocking")

    async def main() -> Any:
        async def release() -> None:
            await asyncio.sleep(0.05)
            released.set()

        releaser = asyncio.create_task(release())
        results = await asave(host)
        await releaser
        return results

    assert asyncio.run(asyncio.wait_for(main(), timeout=20)) == ["released"]
    assert threads != [threading.get_ident()]
    # A synchronous call runs it inline, as always.
    released.clear()
    threads.clear()
    released.set()
    assert host.hook.post_save(sender=Article, **POST_SAVE) == ["released"]
    assert threads == [threading.get_ident()]


def test_a_thread_implementation_whose_condition_is_false_costs_no_thread():
    host = Host()
    enabled = [False]
    asked: list[int] = []
    ran: list[int] = []

    def condition() -> bool:
        asked.append(threading.get_ident())
        return enabled[0]

    def blocking(sender: Any) -> str:
        ran.append(threading.get_ident())
        return "ran"

    host.register(plugin(post_save=hookimpl(blocking, thread=True, when=condition)), "blocking")
    assert asyncio.run(asave(host)) == []
    # Asked on the loop's thread: no worker thread was handed the call.
    assert asked == [threading.get_ident()]
    assert ran == []
    enabled[0] = True
    assert asyncio.run(asave(host)) == ["ran"]
    assert ran != [threading.get_ident()]
    assert host.hook.post_save(sender=Article, **POST_SAVE) == ["ran"]


def test_thread_is_refused_where_it_means_nothing():
    async def coroutine(sender: Any) -> None:
        return None

    with pytest.raises(TypeError, match="synchronous plain implementations"):
        hookimpl(coroutine, thread=True)

    def wrapping(sender: Any) -> Generator[None, Any, Any]:
        return (yield)

    with pytest.raises(TypeError, match="synchronous plain implementations"):
        hookimpl(wrapping, wrapper=True, thread=True)


# -- conditions (when=) -----------------------------------------------------------------------


def test_an_implementation_is_skipped_while_its_condition_is_false_asked_on_every_call(
    monkeypatch,
):
    host = Host()
    enabled = [False]
    calls: list[str] = []

    def condition() -> bool:
        return enabled[0]

    async def coroutine(sender: Any) -> str:
        calls.append("async")
        return "async"

    def plain(sender: Any) -> str:
        calls.append("sync")
        return "sync"

    host.register(plugin(post_save=hookimpl(coroutine, when=condition)), "async")
    host.register(plugin(post_save=hookimpl(plain, when=condition)), "sync")

    def no_loop(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an event loop was made for a skipped implementation")

    with monkeypatch.context() as patched:
        patched.setattr("asgiref.sync.async_to_sync", no_loop)
        assert host.hook.post_save(sender=Article, **POST_SAVE) == []
        assert asyncio.run(asave(host)) == []
        robust = host.afire_robust("post_save", sender=Article, **POST_SAVE)
        assert asyncio.run(robust) == [("sync", None), ("async", None)]
    assert calls == []
    enabled[0] = True
    assert host.hook.post_save(sender=Article, **POST_SAVE) == ["sync", "async"]
    assert asyncio.run(asave(host)) == ["sync", "async"]
    assert calls == ["sync", "async", "sync", "async"]
    # Still async to everything that shows implementations.
    [post_save] = [hook for hook in hooks_json(host) if hook["name"] == "post_save"]
    assert [(impl["plugin"], impl["async"]) for impl in post_save["impls"]] == [
        ("sync", False),
        ("async", True),
    ]


def test_an_error_from_a_conditional_implementation_names_its_plugin():
    host = Host()

    async def broken(sender: Any) -> None:
        raise ValueError("no")

    host.register(plugin(post_save=hookimpl(broken, when=lambda: True)), "broken")
    note = ["raised by plugin 'broken' in hook 'post_save'"]
    with pytest.raises(ValueError, match="no") as raised:
        asyncio.run(asave(host))
    assert getattr(raised.value, "__notes__", None) == note
    with pytest.raises(ValueError, match="no") as raised:
        host.hook.post_save(sender=Article, **POST_SAVE)
    assert getattr(raised.value, "__notes__", None) == note


@pytest.mark.parametrize("asynchronous", [False, True])
def test_the_error_note_names_the_raising_instance_of_a_conditional_plugin_class(asynchronous):
    host = Host()

    class Flaky:
        def __init__(self, fails: bool) -> None:
            self.fails = fails

        @hookimpl(when=lambda: True)
        def post_save(self) -> None:
            if self.fails:
                raise RuntimeError("flaky")

    @hookimpl(wrapper=True)
    def passing(sender: Any) -> Generator[None, Any, Any]:
        return (yield)

    host.register(Flaky(fails=True), "failing")
    host.register(Flaky(fails=False), "working")
    # A wrapper: pluggy's path, which finds the plugin that raised in the traceback.
    host.register(plugin(post_save=passing), "wrapper")
    with pytest.raises(RuntimeError, match="flaky") as caught:
        if asynchronous:
            asyncio.run(asave(host))
        else:
            host.hook.post_save(sender=Article, **POST_SAVE)
    assert getattr(caught.value, "__notes__", None) == [
        "raised by plugin 'failing' in hook 'post_save'"
    ]


def test_when_is_refused_where_it_means_nothing():
    def wrapping(sender: Any) -> Generator[None, Any, Any]:
        return (yield)

    def plain(sender: Any) -> None:
        return None

    for refused in (
        lambda: hookimpl(wrapping, wrapper=True, when=lambda: True),
        lambda: hookimpl(wrapping, hookwrapper=True, when=lambda: True),
        lambda: hookimpl(plain, defer=True, when=lambda: True),
        lambda: hookimpl(plain, when="url"),  # type: ignore[call-overload]
    ):
        with pytest.raises(TypeError, match="when= takes a callable"):
            refused()


# -- tracing and the CLI's view ---------------------------------------------------------------


def test_async_calls_are_traced_with_each_implementation():
    host = Host()
    traces: list[Any] = []
    stop = host.add_call_listener(traces.append)

    async def slow(sender: Any) -> str:
        await asyncio.sleep(0.01)
        return "slow"

    def quick(sender: Any) -> None:
        return None

    host.register(plugin(post_save=hookimpl(quick)), "quick")
    host.register(plugin(post_save=hookimpl(slow)), "slow")
    assert asyncio.run(asave(host)) == ["slow"]
    stop()
    [trace] = traces
    assert trace.hook == "post_save"
    assert trace.sender == "Article"
    assert [(impl.plugin, impl.outcome) for impl in trace.impls] == [
        ("slow", "result"),
        ("quick", "ok"),
    ]
    assert trace.impls[0].function.endswith("slow")
    assert trace.impls[0].duration_ms >= 5


def test_hooks_json_marks_async_implementations():
    host = Host()

    async def coroutine(sender: Any) -> None:
        return None

    @hookimpl(wrapper=True)
    async def generator(sender: Any) -> AsyncGenerator[Any, Any]:
        yield

    def plain(sender: Any) -> None:
        return None

    host.register(plugin(post_save=hookimpl(coroutine)), "coroutine")
    host.register(plugin(post_save=generator), "generator")
    host.register(plugin(post_save=hookimpl(plain)), "plain")
    [post_save] = [hook for hook in hooks_json(host) if hook["name"] == "post_save"]
    assert {impl["plugin"]: impl["async"] for impl in post_save["impls"]} == {
        "coroutine": True,
        "generator": True,
        "plain": False,
    }
    assert post_save["impls"][-1]["function"].endswith("coroutine")


def test_muted_async_implementations_do_nothing_in_async_calls():
    host = Host()

    async def post_save(sender: Any) -> str:
        return "loud"

    host.register(plugin(post_save=hookimpl(post_save)), "loud")
    with host.muted(["loud"]):
        assert asyncio.run(asave(host)) == []
    assert asyncio.run(asave(host)) == ["loud"]


def test_pluggy_validation_still_refuses_a_wrong_argument_of_an_async_implementation():
    host = Host()

    async def post_save(instnace: Any) -> None:
        return None

    with pytest.raises(pluggy.PluginValidationError):
        host.register(plugin(post_save=hookimpl(post_save)), "typo")


def test_the_cli_shows_async_and_thread_implementations(tmp_path, monkeypatch, capsys):
    import textwrap

    import hosthooks
    from hosthooks.cli import main

    directory = tmp_path / "plugins"
    directory.mkdir()
    (directory / "notifier.py").write_text(
        textwrap.dedent(
            """
            from hosthooks import hookimpl

            def configured():
                return True

            @hookimpl(when=configured)
            async def post_save(sender):
                return None

            @hookimpl(thread=True)
            def post_delete(sender):
                return None
            """
        )
    )
    monkeypatch.setenv("HOSTHOOKS_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("HOSTHOOKS_PLUGINS_DIR", str(directory))
    try:
        with pytest.raises(SystemExit):
            main(["hooks", "post_save"])
        out = capsys.readouterr().out
        assert (
            "1. notifier: hosthooks_plugins_dir.notifier.post_save [async, when=configured]" in out
        )
        with pytest.raises(SystemExit):
            main(["hooks", "post_delete"])
        assert (
            "1. notifier: hosthooks_plugins_dir.notifier.post_delete [thread]"
            in capsys.readouterr().out
        )
        with pytest.raises(SystemExit):
            main(["hooks", "--json"])
        hooks = json.loads(capsys.readouterr().out)
    finally:
        hosthooks.set_default_host(None)
    [post_save] = [hook for hook in hooks if hook["name"] == "post_save"]
    assert [(impl["function"], impl["async"]) for impl in post_save["impls"]] == [
        ("hosthooks_plugins_dir.notifier.post_save", True)
    ]


def test_async_calls_follow_before_and_after_constraints_as_sync_calls_do():
    host = Host()
    calls: list[str] = []

    def make(name: str, **options: Any) -> Any:
        async def post_save(sender: Any) -> str:
            calls.append(name)
            return name

        return hookimpl(**options)(post_save)

    # Registered so that pluggy's order alone (last registered first) would be
    # notifier, audit, first.
    host.register(plugin(post_save=make("first", before=["audit", "notifier"])), "first")
    host.register(plugin(post_save=make("audit", after=["notifier"])), "audit")
    host.register(plugin(post_save=make("notifier")), "notifier")
    expected = host.hook.post_save(sender=Article, **POST_SAVE)
    assert expected == ["first", "notifier", "audit"]
    assert asyncio.run(asave(host)) == expected
    assert calls == expected * 2


def test_a_registration_racing_an_async_plan_build_is_never_lost(monkeypatch):
    from hosthooks.engine import async_calls

    host = Host()

    async def early(sender: Any) -> str:
        return "early"

    host.register(plugin(post_save=hookimpl(early)), "early")
    building = threading.Event()
    release = threading.Event()
    original = async_calls.build_plan

    def slow_build(*args: Any, **kwargs: Any) -> Any:
        # The implementations are read by now: a register from here on must
        # not be lost when this build is installed.
        if threading.current_thread().name == "caller":
            building.set()
            release.wait(5)
        return original(*args, **kwargs)

    monkeypatch.setattr(async_calls, "build_plan", slow_build)

    async def late(sender: Any) -> str:
        return "late"

    caller = threading.Thread(target=lambda: asyncio.run(asave(host)), name="caller")
    caller.start()
    assert building.wait(5)
    registrar = threading.Thread(
        target=lambda: host.register(plugin(post_save=hookimpl(late)), "late")
    )
    registrar.start()
    # Give the register every chance to overtake the build it races.
    registrar.join(0.3)
    release.set()
    caller.join(5)
    registrar.join(5)
    assert asyncio.run(asave(host)) == ["late", "early"]
