"""OpenTelemetry spans for hook calls, read back through the SDK's in-memory exporter."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from hosthooks import Host
from hosthooks import hookimpl


class Article:
    pass


POST_SAVE: dict[str, Any] = {
    "instance": 1,
    "created": True,
    "raw": False,
    "using": "default",
    "update_fields": None,
}


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def plugin(**implementations: Any) -> object:
    return type("Plugin", (), {name: staticmethod(f) for name, f in implementations.items()})()


def by_name(exporter: InMemorySpanExporter) -> dict[str, Any]:
    return {span.name: span for span in exporter.get_finished_spans()}


def test_a_call_is_a_span_and_each_implementation_a_child(provider, exporter):
    def audit(instance: Any) -> None:
        time.sleep(0.01)

    def refuse(sender: Any) -> None:
        raise ValueError("no thanks")

    host = Host()
    host.register(plugin(post_save=hookimpl(audit)), "audit")
    host.register(plugin(post_save=hookimpl(refuse, trylast=True)), "refuse")
    host.set_opentelemetry(True, tracer_provider=provider)
    with pytest.raises(ValueError, match="no thanks"):
        host.hook.post_save(sender=Article, **POST_SAVE)
    spans = by_name(exporter)
    assert sorted(spans) == ["post_save", "post_save audit", "post_save refuse"]
    call, audited, refused = spans["post_save"], spans["post_save audit"], spans["post_save refuse"]
    for child in (audited, refused):
        assert child.parent.span_id == call.context.span_id
        assert child.context.trace_id == call.context.trace_id
        assert call.start_time <= child.start_time <= child.end_time <= call.end_time
    assert dict(audited.attributes) == {
        "hosthooks.hook": "post_save",
        "hosthooks.plugin": "audit",
        "hosthooks.sender": "Article",
        "hosthooks.outcome": "ok",
        "code.function": "tests.test_otel.test_a_call_is_a_span_and_each_implementation_a_child.<locals>.audit",
    }
    assert audited.end_time - audited.start_time >= 10_000_000
    assert refused.attributes["hosthooks.outcome"] == "raised"
    assert refused.status.status_code is StatusCode.ERROR
    [event] = refused.events
    assert (event.name, event.attributes["exception.type"]) == ("exception", "ValueError")
    assert event.attributes["exception.message"] == "no thanks"
    assert call.status.status_code is StatusCode.ERROR
    assert call.attributes["hosthooks.implementations"] == 2


def test_an_async_implementation_is_timed_until_it_is_awaited_to_the_end(provider, exporter):
    async def slow(instance: Any) -> None:
        await asyncio.sleep(0.05)

    host = Host()
    host.register(plugin(post_save=hookimpl(slow)), "slow")
    host.set_opentelemetry(True, tracer_provider=provider)
    asyncio.run(host.ahook.post_save(sender=Article, **POST_SAVE))
    # The same implementation reached by a synchronous call.
    host.hook.post_save(sender=Article, **POST_SAVE)
    children = [span for span in exporter.get_finished_spans() if span.name == "post_save slow"]
    assert len(children) == 2
    for child in children:
        assert child.end_time - child.start_time >= 50_000_000
        assert child.attributes["hosthooks.outcome"] == "ok"


def test_a_hook_called_from_an_implementation_is_a_child_of_that_implementation(provider, exporter):
    host = Host()

    def outer(instance: Any) -> None:
        host.hook.setting_changed(sender=Article, setting="X", value=1, enter=True)

    host.register(plugin(post_save=hookimpl(outer), setting_changed=hookimpl(lambda: None)), "p")
    host.set_opentelemetry(True, tracer_provider=provider)
    host.hook.post_save(sender=Article, **POST_SAVE)
    spans = by_name(exporter)
    assert spans["setting_changed"].parent.span_id == spans["post_save p"].context.span_id
    assert spans["post_save p"].parent.span_id == spans["post_save"].context.span_id


def test_robust_calls_get_spans_too(provider, exporter):
    def broken() -> None:
        raise RuntimeError("down")

    host = Host()
    host.register(plugin(post_save=hookimpl(broken)), "broken")
    host.set_opentelemetry(True, tracer_provider=provider)
    [(name, outcome)] = host.fire_robust("post_save", sender=Article, **POST_SAVE)
    assert (name, type(outcome)) == ("broken", RuntimeError)
    spans = by_name(exporter)
    assert spans["post_save broken"].attributes["hosthooks.outcome"] == "raised"
    assert spans["post_save broken"].parent.span_id == spans["post_save"].context.span_id


def test_pre_init_and_post_init_are_left_out_unless_chosen(provider, exporter):
    host = Host()
    host.register(plugin(pre_init=hookimpl(lambda: None), post_save=hookimpl(lambda: None)), "p")
    host.set_opentelemetry(True, tracer_provider=provider)
    host.hook.pre_init(sender=Article, args=(), kwargs={})
    host.hook.post_save(sender=Article, **POST_SAVE)
    assert sorted(by_name(exporter)) == ["post_save", "post_save p"]
    exporter.clear()
    host.set_opentelemetry(True, hooks=["pre_init"], tracer_provider=provider)
    host.hook.pre_init(sender=Article, args=(), kwargs={})
    host.hook.post_save(sender=Article, **POST_SAVE)
    assert sorted(by_name(exporter)) == ["pre_init", "pre_init p"]
    exporter.clear()
    host.set_opentelemetry(True, deny=["post_save"], tracer_provider=provider)
    host.hook.pre_init(sender=Article, args=(), kwargs={})
    host.hook.post_save(sender=Article, **POST_SAVE)
    assert sorted(by_name(exporter)) == ["pre_init", "pre_init p"]


def test_sampling_takes_a_share_of_the_calls(provider, exporter):
    host = Host()
    host.register(plugin(post_save=hookimpl(lambda: None)), "p")
    host.set_opentelemetry(True, sample=0.0, tracer_provider=provider)
    for _ in range(50):
        host.hook.post_save(sender=Article, **POST_SAVE)
    assert exporter.get_finished_spans() == ()
    host.set_opentelemetry(True, sample=0.5, tracer_provider=provider)
    for _ in range(400):
        host.hook.post_save(sender=Article, **POST_SAVE)
    calls = [span for span in exporter.get_finished_spans() if span.name == "post_save"]
    assert 100 < len(calls) < 300
    with pytest.raises(ValueError, match="from 0 to 1"):
        host.set_opentelemetry(True, sample=1.5)


def test_off_the_host_keeps_its_untraced_plans(provider, exporter):
    host = Host()
    host.register(plugin(post_save=hookimpl(lambda: None)), "p")
    host.set_opentelemetry(True, tracer_provider=provider)
    assert host._callers.tracer is not None
    host.set_opentelemetry(False)
    assert host._callers.tracer is None
    assert host._callers.traced_hookexec is None
    host.hook.post_save(sender=Article, **POST_SAVE)
    assert exporter.get_finished_spans() == ()


def test_spans_and_the_trace_file_together(provider, exporter, tmp_path):
    host = Host()
    host.register(plugin(post_save=hookimpl(lambda: None)), "p")
    host.set_tracing(True, tmp_path / "trace.jsonl")
    host.set_opentelemetry(True, tracer_provider=provider)
    host.hook.post_save(sender=Article, **POST_SAVE)
    host.close()
    assert sorted(by_name(exporter)) == ["post_save", "post_save p"]
    [line] = (tmp_path / "trace.jsonl").read_text().splitlines()
    assert '"hook": "post_save"' in line
    assert "_live" not in line


def test_the_configuration_turns_spans_on_for_the_hooks_it_chooses(tmp_path):
    from hosthooks import HostConfig
    from hosthooks.configuration.keys import ConfigError
    from hosthooks.engine.otel import OpenTelemetryTracer
    from hosthooks.engine.otel import SpanSettings

    environ = {
        "HOSTHOOKS_CONFIG": str(tmp_path / "none.toml"),
        "HOSTHOOKS_OTEL": "1",
        "HOSTHOOKS_OTEL_HOOKS": "post_save, post_delete",
        "HOSTHOOKS_OTEL_SAMPLE": "0.25",
    }
    (tmp_path / "none.toml").write_text("")
    host = Host(HostConfig.from_environ(environ))
    tracer = host._callers.tracer
    assert isinstance(tracer, OpenTelemetryTracer)
    assert tracer.settings == SpanSettings(
        frozenset({"post_save", "post_delete"}), frozenset({"pre_init", "post_init"}), 0.25
    )
    (tmp_path / "spans.toml").write_text('otel = true\notel_deny = ["post_save"]\n')
    config = HostConfig.from_environ({"HOSTHOOKS_CONFIG": str(tmp_path / "spans.toml")})
    tracer = Host(config)._callers.tracer
    assert isinstance(tracer, OpenTelemetryTracer)
    assert tracer.settings == SpanSettings(None, frozenset({"post_save"}), 1.0)
    with pytest.raises(ConfigError, match="HOSTHOOKS_OTEL_SAMPLE"):
        HostConfig.from_environ({**environ, "HOSTHOOKS_OTEL_SAMPLE": "2"})


def test_a_deferred_run_is_a_span_linked_to_the_call_that_deferred_it(provider, exporter, tmp_path):
    from hosthooks import HostConfig
    from hosthooks import set_default_host
    from hosthooks.runtime import Database
    from hosthooks.runtime import migrate
    from tests.bookshop.models import MODELS
    from tests.bookshop.models import Author

    ran: list[Any] = []

    class Later:
        @hookimpl(defer=True)
        def post_save(self, instance):
            ran.append(instance.pk)

        @hookimpl(defer=True)
        def post_delete(self, instance):
            raise RuntimeError("worker down")

    host = Host(HostConfig(autoload=False, queue_backend="eager"))
    host.register(Later(), "later")
    host.set_opentelemetry(True, tracer_provider=provider)
    set_default_host(host)
    database = Database(tmp_path / "app.sqlite3")
    try:
        migrate(database, models=MODELS, verbosity=0)
        exporter.clear()
        author = Author(name="Ann")
        author.save()
        assert ran == [author.pk]
        spans = by_name(exporter)
        call, run = spans["post_save"], spans["post_save later (deferred)"]
        # The enqueuing span: the implementation's (its stand-in wrote the outbox
        # row), a child of the call.
        enqueuing = spans["post_save later"]
        assert enqueuing.parent.span_id == call.context.span_id
        [link] = run.links
        assert (link.context.trace_id, link.context.span_id) == (
            enqueuing.context.trace_id,
            enqueuing.context.span_id,
        )
        assert run.attributes["hosthooks.plugin"] == "later"
        assert run.attributes["hosthooks.attempt"] == 1

        exporter.clear()
        author.delete()
        failed = [s for s in exporter.get_finished_spans() if s.name.endswith("(deferred)")]
        assert failed
        assert all(span.status.status_code is StatusCode.ERROR for span in failed)
        assert failed[0].events[0].attributes["exception.message"] == "worker down"
    finally:
        set_default_host(None)
        database.close()


def _code_kind(host: Host, hook: str) -> tuple[str, bool]:
    """What ``host.hook.<hook>`` runs: its code's file (a plan's, or the pluggy
    path's) and whether that is a plan; the first call has built it."""
    from hosthooks.engine.plans import is_plan

    code = host._callers.live(hook).function.__code__
    return code.co_filename, is_plan(code)


@pytest.mark.parametrize(
    ("hook", "options"),
    [
        ("pre_init", {}),
        ("post_init", {}),
        ("pre_init", {"deny": ["pre_init"]}),
        ("pre_init", {"hooks": ["post_save"]}),
        ("pre_init", {"hooks": ["pre_init"], "sample": 0.0}),
    ],
)
def test_a_hook_that_gets_no_span_keeps_its_untraced_plan(provider, exporter, hook, options):
    arguments: dict[str, Any] = (
        {"args": (), "kwargs": {}} if hook == "pre_init" else {"instance": Article()}
    )
    calls: list[str] = []
    host = Host()
    host.register(plugin(**{hook: hookimpl(lambda sender: calls.append("untraced"))}), "p")
    getattr(host.hook, hook)(sender=Article, **arguments)
    untraced = _code_kind(host, hook)
    assert untraced[1]
    host.set_opentelemetry(True, tracer_provider=provider, **options)
    getattr(host.hook, hook)(sender=Article, **arguments)
    assert _code_kind(host, hook) == untraced
    asyncio.run(getattr(host.ahook, hook)(sender=Article, **arguments))
    assert host.fire_robust(hook, sender=Article, **arguments) == [("p", None)]
    assert calls == ["untraced"] * 4
    assert exporter.get_finished_spans() == ()


def test_a_denied_hook_nobody_implements_is_not_listening_while_spans_are_on(provider):
    host = Host()
    host.set_opentelemetry(True, tracer_provider=provider)
    assert host.listening["post_save"]
    assert not host.listening["pre_init"]
    assert not host.listening["post_init"]


def test_a_denied_hook_is_traced_while_the_trace_file_or_a_listener_follows_it(
    provider, exporter, tmp_path
):
    host = Host()
    host.register(plugin(pre_init=hookimpl(lambda: None)), "p")
    host.set_opentelemetry(True, tracer_provider=provider)
    seen: list[str] = []
    remove = host.add_call_listener(lambda trace: seen.append(trace.hook))
    host.hook.pre_init(sender=Article, args=(), kwargs={})
    assert seen == ["pre_init"]
    assert not _code_kind(host, "pre_init")[1]
    remove()
    host.hook.pre_init(sender=Article, args=(), kwargs={})
    assert seen == ["pre_init"]
    assert _code_kind(host, "pre_init")[1]
    host.set_tracing(True, tmp_path / "trace.jsonl")
    host.hook.pre_init(sender=Article, args=(), kwargs={})
    host.close()
    assert '"hook": "pre_init"' in (tmp_path / "trace.jsonl").read_text()
    assert exporter.get_finished_spans() == ()


def test_a_call_sampling_leaves_out_runs_untraced(provider, exporter, monkeypatch):
    import random

    from hosthooks.engine import tracing

    made: list[object] = []

    class CountedTrace(tracing.ImplTrace):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(tracing, "ImplTrace", CountedTrace)
    ran: list[str] = []
    host = Host()
    host.register(plugin(post_save=hookimpl(lambda instance: ran.append("ran"))), "p")
    host.set_opentelemetry(True, sample=0.5, tracer_provider=provider)

    def every_call() -> None:
        host.hook.post_save(sender=Article, **POST_SAVE)
        asyncio.run(host.ahook.post_save(sender=Article, **POST_SAVE))
        host.fire_robust("post_save", sender=Article, **POST_SAVE)

    monkeypatch.setattr(random, "random", lambda: 0.75)
    every_call()
    assert (ran, made, exporter.get_finished_spans()) == (["ran"] * 3, [], ())
    monkeypatch.setattr(random, "random", lambda: 0.25)
    every_call()
    assert len(made) == 3
    assert sorted(by_name(exporter)) == ["post_save", "post_save p"]
    assert len(exporter.get_finished_spans()) == 6
