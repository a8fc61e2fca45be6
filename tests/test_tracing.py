"""Tracing: one record per hook call, to stderr or as JSON lines; pluggy's own tracing too."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from hosthooks import Host
from hosthooks import HostConfig
from hosthooks import hookimpl

POST_SAVE: dict[str, Any] = {
    "instance": 1,
    "created": True,
    "raw": False,
    "using": "default",
    "update_fields": None,
}


class Article:
    hosthooks_label = "blog.Article"


def fire_post_save(host: Host, sender: Any) -> list[Any]:
    result: list[Any] = host.hook.post_save(sender=sender, **POST_SAVE)
    return result


def raising_plugin(message: str) -> object:
    class Raiser:
        @hookimpl
        def post_save(self):
            raise RuntimeError(message)

    return Raiser()


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
    assert lines[0].startswith("hosthooks trace: post_save sender=blog.Article ")
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
    assert records[0]["sender"] == "blog.Article"  # a model is shown by its label
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


def test_robust_historic_and_extra_calls_are_traced_too(host):
    # request_finished is fired robustly: the inspector showed none of its calls.
    class Plugin:
        @hookimpl
        def request_finished(self):
            return "finished"

        @hookimpl(wrapper=True)
        def got_request_exception(self):
            return (yield)

        @hookimpl
        def class_prepared(self, sender):
            pass

    host.register(Plugin(), "plugin")
    seen: list[Any] = []
    stop = host.add_call_listener(seen.append)
    host.fire_robust("request_finished", sender=Host)
    asyncio.run(host.afire_robust("request_finished", sender=Host))
    host.fire_robust("got_request_exception", sender=None, request=None)
    host.hook.class_prepared.call_historic(kwargs={"sender": Article})
    host.hook.post_save.call_extra([lambda created: "extra"], {"sender": Article, **POST_SAVE})
    stop()
    traced = [(trace.hook, [(impl.plugin, impl.outcome) for impl in trace.impls]) for trace in seen]
    assert traced == [
        ("request_finished", [("plugin", "result")]),
        ("request_finished", [("plugin", "result")]),
        ("got_request_exception", [("plugin", "wrapped")]),
        ("class_prepared", [("plugin", "ok")]),
        ("post_save", [("<temp>", "result")]),
    ]
    assert seen[0].sender == "Host"
    assert seen[0].impls[0].function.endswith("Plugin.request_finished")


def test_a_robust_call_traces_each_failure_and_goes_on(host, capsys):
    class Fine:
        @hookimpl
        async def request_finished(self):
            return None

    class Broken:
        @hookimpl
        def request_finished(self):
            raise RuntimeError("robust failure")

    host.register(Fine(), "fine")
    host.register(Broken(), "broken")
    host.set_tracing(True)
    host.fire_robust("request_finished", sender=Host)
    asyncio.run(host.afire_robust("request_finished", sender=Host))
    host.set_tracing(False)
    lines = [line for line in capsys.readouterr().err.splitlines() if "hosthooks trace" in line]
    assert len(lines) == 2
    for line in lines:
        assert line.startswith("hosthooks trace: request_finished sender=Host ")
        assert "broken:" in line
        assert "raised (RuntimeError: robust failure)" in line
        # The async implementation is named as written, not as its stand-in.
        assert "fine:tests.test_tracing.test_a_robust_call_traces" in line
        assert "ms ok" in line
