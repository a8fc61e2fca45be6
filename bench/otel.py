"""What OpenTelemetry spans cost per hook call and per implementation.

Contenders, ``host.hook.post_save(...)`` with N plain implementations (N = 1 and 5),
timed in one process with interleaved rounds:

- ``untraced``: spans off, the host's untraced call plan;
- ``noop``: spans on, through OpenTelemetry's no-op tracer provider (the API
  alone, as a library sees it while the application set up no SDK);
- ``sdk``: spans on, through the SDK with the in-memory exporter behind a simple
  span processor (each span exported as it ends).

The table gives each median per call, and per implementation above the untraced
call: ``(contender - untraced) / N``.

Then a denied hook: ``host.hook.pre_init(...)`` (on the deny-list by default) with
one implementation, spans off (``off``) and on through the SDK (``on``): a hook
that gets no span keeps its untraced plan, so the two should cost the same.

Run: ``python -m bench.otel [--rounds 7] [--json]``
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bench.timing import format_table
from bench.timing import interleaved_medians
from bench.timing import parse_arguments
from hosthooks import Host
from hosthooks import hookimpl

IMPLEMENTATIONS = (1, 5)
CONTENDERS = ("untraced", "noop", "sdk")


class _Sender:
    pass


def _host(implementations: int) -> Host:
    host = Host()
    for number in range(implementations):

        class Plugin:
            @hookimpl
            def post_save(self, instance: Any) -> None:
                pass

        host.register(Plugin(), f"plugin-{number}")
    return host


def _denied_host() -> Host:
    class Plugin:
        @hookimpl
        def pre_init(self, args: Any) -> None:
            pass

    host = Host()
    host.register(Plugin(), "plugin")
    return host


def _denied_caller(host: Host) -> Callable[[int], None]:
    call = host.hook.pre_init
    arguments: tuple[object, ...] = ()
    keywords: dict[str, Any] = {}

    def run(loops: int) -> None:
        for _ in range(loops):
            call(sender=_Sender, args=arguments, kwargs=keywords)

    return run


def _caller(host: Host) -> Callable[[int], None]:
    call = host.hook.post_save

    def run(loops: int) -> None:
        for _ in range(loops):
            call(
                sender=_Sender,
                instance=1,
                created=True,
                raw=False,
                using="default",
                update_fields=None,
            )

    return run


def measure(rounds: int) -> dict[str, dict[str, float]]:
    """Median nanoseconds per call, by number of implementations (or ``denied``)
    then contender."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import NoOpTracerProvider

    exporter = InMemorySpanExporter()
    sdk = TracerProvider()
    sdk.add_span_processor(SimpleSpanProcessor(exporter))
    contenders: dict[str, Callable[[int], None]] = {}
    for count in IMPLEMENTATIONS:
        untraced, noop, traced = _host(count), _host(count), _host(count)
        noop.set_opentelemetry(True, tracer_provider=NoOpTracerProvider())
        traced.set_opentelemetry(True, tracer_provider=sdk)
        contenders[f"{count}:untraced"] = _caller(untraced)
        contenders[f"{count}:noop"] = _caller(noop)
        sdk_call = _caller(traced)

        def run_sdk(loops: int, call: Callable[[int], None] = sdk_call) -> None:
            call(loops)
            exporter.clear()  # the exporter's memory stays small between timings

        contenders[f"{count}:sdk"] = run_sdk
    medians = interleaved_medians(contenders, rounds)
    report = {
        str(count): {name: medians[f"{count}:{name}"] for name in CONTENDERS}
        for count in IMPLEMENTATIONS
    }
    # Timed apart, alternating with each other only: the same untraced plan on
    # either side, so what differs is the machine's noise, not the SDK's timings
    # around them.
    denied_off, denied_on = _denied_host(), _denied_host()
    denied_on.set_opentelemetry(True, tracer_provider=sdk)
    exporter.clear()
    report["denied"] = interleaved_medians(
        {"off": _denied_caller(denied_off), "on": _denied_caller(denied_on)}, rounds
    )
    if exporter.get_finished_spans():
        raise AssertionError("a denied hook's call made spans")
    return report


def main(argv: list[str] | None = None) -> None:
    arguments = parse_arguments(__doc__ or "", argv, 7)
    medians = measure(arguments.rounds)
    denied = medians.pop("denied")
    report: dict[str, dict[str, Any]] = {
        count: {
            "ns_per_call": {name: round(value, 1) for name, value in by_name.items()},
            "ns_per_implementation_above_untraced": {
                name: round((by_name[name] - by_name["untraced"]) / int(count), 1)
                for name in ("noop", "sdk")
            },
            "noop_vs_untraced": round(by_name["noop"] / by_name["untraced"], 2),
            "sdk_vs_untraced": round(by_name["sdk"] / by_name["untraced"], 2),
        }
        for count, by_name in medians.items()
    }
    report["denied"] = {
        "ns_per_call": {name: round(value, 1) for name, value in denied.items()},
        "on_vs_off": round(denied["on"] / denied["off"], 2),
    }
    if arguments.json:
        print(json.dumps(report))
        return
    header = [
        "impls",
        *(f"{name} ns/call" for name in CONTENDERS),
        "noop +ns/impl",
        "sdk +ns/impl",
        "noop/untraced",
        "sdk/untraced",
    ]
    rows = [
        [
            count,
            *(f"{entry['ns_per_call'][name]:.0f}" for name in CONTENDERS),
            f"{entry['ns_per_implementation_above_untraced']['noop']:.0f}",
            f"{entry['ns_per_implementation_above_untraced']['sdk']:.0f}",
            f"{entry['noop_vs_untraced']:.1f}",
            f"{entry['sdk_vs_untraced']:.1f}",
        ]
        for count, entry in report.items()
        if count != "denied"
    ]
    print(f"OpenTelemetry spans per post_save call, {arguments.rounds} rounds (medians)")
    print(format_table(header, rows))
    print()
    print("A denied hook (pre_init, 1 implementation), spans off and on")
    print(
        format_table(
            ["off ns/call", "on ns/call", "on/off"],
            [
                [
                    f"{denied['off']:.0f}",
                    f"{denied['on']:.0f}",
                    f"{report['denied']['on_vs_off']:.2f}",
                ]
            ],
        )
    )


if __name__ == "__main__":
    main()
