"""OpenTelemetry spans for hook calls: one span per call, a child per implementation.

Built on the tracing hook points (:class:`~hosthooks.engine.tracing.Tracer`'s
``follows``, ``begin`` and ``emit``, and each implementation's trace as it
finishes), so it costs nothing while off: the host keeps its untraced call
plans, and while on so do the hooks that can get no span (denied, not chosen,
or a sample of 0) unless the trace file or a call listener follows them. A
chosen call gets a span named after its hook, made current while the
implementations run; each implementation a child span from the moment it
started to the moment it finished (an ``async def`` one: until it was awaited to
the end), current while it runs (a hook it calls, or a call it defers, is its
child), with its plugin, hook, sender and outcome, and the exception recorded
when it raised. Implementations timed as a whole (a call with wrappers) or told
of only at their end (robust calls) get their span when they finished, from
when they started.

Only the ``opentelemetry-api`` package is needed (the extra
``hosthooks[otel]``); where spans go is the application's SDK setup, as with
any instrumented library. Which calls get spans: :class:`SpanSettings`.
"""

from __future__ import annotations

import contextlib
import random
import sys
import time
from collections.abc import Collection
from collections.abc import Iterator
from typing import Any
from typing import Final
from typing import NamedTuple

from hosthooks.engine.tracing import LIVE
from hosthooks.engine.tracing import BroadcastTracer
from hosthooks.engine.tracing import HookTrace
from hosthooks.engine.tracing import ImplTrace
from hosthooks.engine.tracing import LiveCall
from hosthooks.engine.tracing import Tracer

#: Hooks left out unless named: they fire for every instance made or loaded.
DEFAULT_DENY: Final = frozenset({"pre_init", "post_init"})
#: The instrumentation scope the spans are made under.
SCOPE: Final = "hosthooks"


class SpanSettings(NamedTuple):
    """Which hook calls get spans.

    :param hooks: only these hooks; None: every hook not denied.
    :param deny: never these hooks (``pre_init`` and ``post_init`` by default).
    :param sample: the share of the chosen calls that get spans, from 0 to 1,
        drawn per call.
    """

    hooks: frozenset[str] | None = None
    deny: frozenset[str] = DEFAULT_DENY
    sample: float = 1.0

    def wants(self, hook: str) -> bool:
        """Whether a call of ``hook`` may get a span (before sampling)."""
        if self.hooks is not None:
            return hook in self.hooks
        return hook not in self.deny

    def spans(self, hook: str) -> bool:
        """Whether any call of ``hook`` can get a span: chosen, and a sample above 0.
        Known before the call, so a hook that cannot keeps its untraced plan."""
        return self.sample > 0.0 and self.wants(hook)


def span_settings(
    hooks: Collection[str] | None = None,
    deny: Collection[str] | None = None,
    sample: float = 1.0,
) -> SpanSettings:
    """:class:`SpanSettings` from plain values.

    :raises ValueError: when ``sample`` is not between 0 and 1.
    """
    if not 0.0 <= sample <= 1.0:
        raise ValueError(f"the sample is a share of calls, from 0 to 1, not {sample!r}")
    return SpanSettings(
        None if hooks is None else frozenset(hooks),
        DEFAULT_DENY if deny is None else frozenset(deny),
        sample,
    )


class _CallSpan(LiveCall):
    """A call's span, and the span of the implementation running, if any."""

    __slots__ = ("hook", "owner", "running", "sender", "span", "token")

    def __init__(
        self, owner: OpenTelemetryTracer, hook: str, sender: str, span: Any, token: Any
    ) -> None:
        self.owner = owner
        self.hook = hook
        self.sender = sender
        self.span = span
        self.token = token
        #: The running implementation's plugin, span and context token.
        self.running: tuple[str, Any, Any] | None = None

    def _attributes(self, plugin: str) -> dict[str, Any]:
        return {
            "hosthooks.hook": self.hook,
            "hosthooks.plugin": plugin,
            "hosthooks.sender": self.sender,
        }

    def impl_started(self, plugin: str) -> None:
        owner = self.owner
        # Current while it runs: what it calls or defers is its child.
        child = owner.tracer.start_span(
            f"{self.hook} {plugin}",
            context=owner.in_context(self.span),
            attributes=self._attributes(plugin),
        )
        self.running = (plugin, child, owner.attach(owner.in_context(child)))

    def impl_finished(self, impl: ImplTrace, error: BaseException | None) -> None:
        owner = self.owner
        ended = time.time_ns()
        running, self.running = self.running, None
        if running is not None and running[0] == impl.plugin:
            _, child, token = running
            owner.detach(token)
        else:
            # Timed as a whole, or by a call that reports each one at its end:
            # the span is made now, from when the implementation started.
            child = owner.tracer.start_span(
                f"{self.hook} {impl.plugin}",
                context=owner.in_context(self.span),
                start_time=ended - int(impl.duration_ms * 1_000_000),
                attributes=self._attributes(impl.plugin),
            )
        child.set_attribute("hosthooks.outcome", impl.outcome)
        child.set_attribute("code.function", impl.function)
        if impl.outcome == "raised":
            if error is not None:
                child.record_exception(error, timestamp=ended)
            child.set_status(owner.error_status(impl.error))
        child.end(end_time=ended)


class OpenTelemetryTracer(Tracer):
    """A :class:`Tracer` making OpenTelemetry spans, then handing each trace on to
    ``inner`` (the trace file or stream, when tracing is on too).

    :param settings: which calls get spans.
    :param inner: the tracer every trace goes on to; None: none.
    :param tracer_provider: the SDK's provider; None: the global one.
    :raises ImportError: naming the extra, when ``opentelemetry-api`` is missing.
    """

    def __init__(
        self, settings: SpanSettings, inner: Tracer | None = None, tracer_provider: Any = None
    ) -> None:
        try:
            from opentelemetry import trace
        except ImportError:
            raise ImportError(
                "OpenTelemetry spans need the opentelemetry-api package: "
                "pip install 'hosthooks[otel]'"
            ) from None
        from opentelemetry import context
        from opentelemetry.trace import Status
        from opentelemetry.trace import StatusCode

        self.settings: Final = settings
        self._inner = inner
        self.tracer: Final = trace.get_tracer(SCOPE, tracer_provider=tracer_provider)
        # Looked up once: each call uses them.
        self.in_context: Final = trace.set_span_in_context
        self.attach: Final = context.attach
        self.detach: Final = context.detach

        def error_status(description: str | None) -> Any:
            return Status(StatusCode.ERROR, description)

        self.error_status: Final = error_status

    def follows(self, hook: str) -> bool:
        return self.settings.spans(hook) or (self._inner is not None and self._inner.follows(hook))

    def keeps(self, record: HookTrace) -> bool:
        # Spans keep the calls sampled in; the inner tracer, those it keeps.
        return LIVE in record.__dict__ or (self._inner is not None and self._inner.keeps(record))

    def begin(self, record: HookTrace) -> None:
        if self._inner is not None:
            self._inner.begin(record)
        settings = self.settings
        if not settings.wants(record.hook):
            return
        if settings.sample < 1.0 and random.random() >= settings.sample:
            return
        span = self.tracer.start_span(
            record.hook,
            attributes={"hosthooks.hook": record.hook, "hosthooks.sender": record.sender},
        )
        token = self.attach(self.in_context(span))
        record.__dict__[LIVE] = _CallSpan(self, record.hook, record.sender, span, token)

    def emit(self, trace: HookTrace) -> None:
        live = trace.__dict__.pop(LIVE, None)
        if isinstance(live, _CallSpan):
            span = live.span
            span.set_attribute("hosthooks.implementations", len(trace.impls))
            failed = next((impl for impl in trace.impls if impl.outcome == "raised"), None)
            if failed is not None:
                span.set_status(self.error_status(f"{failed.plugin}: {failed.error}"))
            self.detach(live.token)
            span.end()
        if self._inner is not None:
            self._inner.emit(trace)


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the span current in this context (a traced hook
    call's, while its implementations run), or None when there is none. Costs a
    dictionary lookup while OpenTelemetry was never imported."""
    if "opentelemetry.trace" not in sys.modules:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


def spans_of(tracer: Tracer | None) -> OpenTelemetryTracer | None:
    """The :class:`OpenTelemetryTracer` among a host's tracers, if spans are on."""
    if isinstance(tracer, BroadcastTracer):
        tracer = tracer.tracer
    return tracer if isinstance(tracer, OpenTelemetryTracer) else None


@contextlib.contextmanager
def deferred_span(
    tracer: Tracer | None,
    hook: str,
    plugin: str,
    traceparent: str | None,
    attributes: dict[str, Any],
) -> Iterator[None]:
    """Around a deferred call's run on a worker: a span ``<hook> <plugin> (deferred)``
    linked to the span of the call that deferred it (``traceparent``, as the outbox
    kept it), when spans are on for ``hook``; the exception recorded when it raises.
    """
    spans = spans_of(tracer)
    if spans is None or not spans.settings.wants(hook):
        yield
        return
    from opentelemetry.trace import Link
    from opentelemetry.trace import SpanContext
    from opentelemetry.trace import SpanKind
    from opentelemetry.trace import TraceFlags

    links = []
    parts = (traceparent or "").split("-")
    if len(parts) == 4:
        try:
            parent = SpanContext(
                int(parts[1], 16),
                int(parts[2], 16),
                is_remote=True,
                trace_flags=TraceFlags(int(parts[3], 16)),
            )
        except ValueError:
            parent = None
        if parent is not None and parent.is_valid:
            links.append(Link(parent))
    with spans.tracer.start_as_current_span(
        f"{hook} {plugin} (deferred)",
        kind=SpanKind.CONSUMER,
        links=links,
        attributes={"hosthooks.hook": hook, "hosthooks.plugin": plugin, **attributes},
    ):
        yield
