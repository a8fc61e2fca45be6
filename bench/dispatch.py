"""Firing a post_save-style hook (six keyword arguments) with 0, 1, 5 and 20 implementations.

Contenders, timed in one process with interleaved rounds:

- ``hosthooks``: ``host.hook.post_save(**kwargs)``;
- ``hosthooks-filtered``: the same with every implementation marked ``sender=Article``;
- ``pluggy``: a plain ``pluggy.PluginManager`` with the same spec and implementations;
- ``django``: ``Signal(use_caching=True).send(sender, **kwargs)`` with N receivers;
- ``direct``: a loop over the N functions, each called directly and positionally;
- ``unrolled``: the same N direct calls in straight-line code, the honest floor
  (call plans are straight-line code too, so they are compared with it).

Then the async rows (N = 1, 5, 20), each awaited in one coroutine on one loop,
every contender driven by the same generated loop:

- ``ahook``: ``await host.ahook.post_save(**kwargs)`` with N ``async def`` implementations;
- ``awaited``: the same N coroutine functions awaited directly and positionally,
  in straight-line code, the honest floor;
- ``awaited-kw``: one ``async def`` taking the six keyword arguments and awaiting
  the N coroutines in straight-line code: what any awaitable call with pluggy's
  keyword-only convention costs at least (one coroutine of its own, arguments bound by name);
- ``asend``: ``await Signal(use_caching=True).asend(sender, **kwargs)`` with N async receivers;
- ``ahook-sync`` and ``hook-sync``: N synchronous implementations, through
  ``host.ahook`` and through ``host.hook``.

Run: ``python -m bench.dispatch [--rounds 15] [--only sync|async] [--json]``
(needs ``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import types
from collections.abc import Callable
from typing import Any

import pluggy

from bench.timing import format_table
from bench.timing import interleaved_medians
from bench.timing import parse_arguments
from hosthooks import Host
from hosthooks import hookimpl
from hosthooks.specs import models

COUNTS = (0, 1, 5, 20)
CONTENDERS = ("hosthooks", "hosthooks-filtered", "pluggy", "django", "direct", "unrolled")
ASYNC_COUNTS = (1, 5, 20)
ASYNC_CONTENDERS = ("ahook", "awaited", "awaited-kw", "asend", "ahook-sync", "hook-sync")


class Article:
    pass


INSTANCE = Article()


def _impl_plugin(sender: object = None) -> object:
    # The implementation is the same kind of function the direct loop calls.
    return types.SimpleNamespace(post_save=hookimpl(_make_direct(), sender=sender))


def contenders(count: int) -> dict[str, Callable[[int], None]]:
    """Every way to make ``count`` receivers hear one post_save, as loop runners."""
    host = Host()
    # The same implementations, each filtered on the sender the loop fires with.
    filtered = Host()
    reference = pluggy.PluginManager("hosthooks")
    reference.add_hookspecs(models)
    for _ in range(count):
        host.register(_impl_plugin())
        filtered.register(_impl_plugin(sender=Article))
        reference.register(_impl_plugin())
    from django.dispatch import Signal

    signal = Signal(use_caching=True)
    receivers = [_make_receiver() for _ in range(count)]
    for receiver in receivers:
        signal.connect(receiver, sender=Article, weak=False)
    functions = [_make_direct() for _ in range(count)]
    instance = INSTANCE

    def keyword_loop(fire: Callable[..., Any]) -> Callable[[int], None]:
        # The same loop for the three keyword-argument contenders, so that
        # only the call itself differs between them.
        def run(loops: int) -> None:
            for _ in range(loops):
                fire(
                    sender=Article,
                    instance=instance,
                    created=True,
                    raw=False,
                    using="default",
                    update_fields=None,
                )

        return run

    def run_direct(loops: int) -> None:
        for _ in range(loops):
            for function in functions:
                function(Article, instance, True, False, "default", None)

    return {
        "hosthooks": keyword_loop(host.hook.post_save),
        "hosthooks-filtered": keyword_loop(filtered.hook.post_save),
        "pluggy": keyword_loop(reference.hook.post_save),
        "django": keyword_loop(signal.send),
        "direct": run_direct,
        "unrolled": _unrolled(functions, instance),
    }


def _unrolled(functions: list[Callable[..., None]], instance: Article) -> Callable[[int], None]:
    """A loop whose body calls each of ``functions`` on a line of its own, as a plan does.

    The functions are parameters with defaults, so each call loads a local, as
    a plan's calls do.
    """
    names = [f"function{index}" for index in range(len(functions))]
    parameters = "".join(f", {name}={name}" for name in names)
    body = "".join(
        f"        {name}(Article, instance, True, False, 'default', None)\n" for name in names
    )
    body = body or "        pass\n"
    source = (
        f"def run(loops, Article=Article, instance=instance{parameters}):\n"
        f"    for _ in range(loops):\n{body}"
    )
    namespace: dict[str, Any] = {"Article": Article, "instance": instance}
    namespace.update(zip(names, functions, strict=True))
    exec(source, namespace)
    run: Callable[[int], None] = namespace["run"]
    return run


def async_contenders(
    count: int, loop: asyncio.AbstractEventLoop
) -> dict[str, Callable[[int], None]]:
    """Every way to make ``count`` async (or sync) receivers hear one post_save, as loop runners."""
    from django.dispatch import Signal

    coroutines = [_make_coroutine() for _ in range(count)]
    host = Host()
    for function in coroutines:
        host.register(types.SimpleNamespace(post_save=hookimpl(function)))
    sync_host = Host()
    for _ in range(count):
        sync_host.register(_impl_plugin())
    signal = Signal(use_caching=True)
    receivers = [_make_async_receiver() for _ in range(count)]
    for receiver in receivers:
        signal.connect(receiver, sender=Article, weak=False)
    instance = INSTANCE

    def run_sync(loops: int) -> None:
        fire = sync_host.hook.post_save
        for _ in range(loops):
            fire(
                sender=Article,
                instance=instance,
                created=True,
                raw=False,
                using="default",
                update_fields=None,
            )

    keywords = "sender=Article, instance=instance, created=True, raw=False, using='default', "
    keywords += "update_fields=None"
    positional = "Article, instance, True, False, 'default', None"
    return {
        "ahook": _awaiting(loop, [f"fire({keywords})"], fire=host.ahook.post_save),
        "awaited": _awaiting(
            loop,
            [f"function{index}({positional})" for index in range(count)],
            **{f"function{index}": function for index, function in enumerate(coroutines)},
        ),
        "awaited-kw": _awaiting(loop, [f"fire({keywords})"], fire=_keyword_coroutine(coroutines)),
        "asend": _awaiting(loop, [f"fire({keywords})"], fire=signal.asend),
        "ahook-sync": _awaiting(loop, [f"fire({keywords})"], fire=sync_host.ahook.post_save),
        "hook-sync": run_sync,
    }


def _awaiting(
    loop: asyncio.AbstractEventLoop, awaited: list[str], **names: object
) -> Callable[[int], None]:
    """A loop runner: one coroutine on ``loop`` whose loop awaits each of ``awaited``
    (expressions over ``names``, ``Article`` and ``instance``) on a line of its own.

    Every async contender is driven by a loop made here, so that only what is
    awaited differs between them. The names are parameters with defaults, so
    each is a local, as in a plan.
    """
    parameters = "".join(f", {name}={name}" for name in names)
    body = "".join(f"        await {expression}\n" for expression in awaited)
    source = (
        f"async def run(loops, Article=Article, instance=instance{parameters}):\n"
        f"    for _ in range(loops):\n{body}"
    )
    namespace: dict[str, Any] = {"Article": Article, "instance": INSTANCE, **names}
    exec(source, namespace)
    run: Callable[[int], Any] = namespace["run"]
    return lambda loops: loop.run_until_complete(run(loops))


def _keyword_coroutine(functions: list[Callable[..., Any]]) -> Callable[..., Any]:
    """An ``async def`` with the hook's six keyword-only arguments awaiting each of
    ``functions`` positionally, in straight-line code, and returning the results
    that are not None, as a hook call does."""
    names = [f"function{index}" for index in range(len(functions))]
    arguments = "sender, instance, created, raw, using, update_fields"
    body = "".join(
        f"    result = await {name}({arguments})\n"
        "    if result is not None:\n"
        "        results.append(result)\n"
        for name in names
    )
    source = (
        f"async def fire(*, {arguments}):\n"
        f"    {', '.join([*names, ''])}= functions\n"
        f"    results = []\n{body}"
        f"    return results\n"
    )
    namespace: dict[str, Any] = {"functions": tuple(functions)}
    exec(source, namespace)
    fire: Callable[..., Any] = namespace["fire"]
    return fire


def _make_coroutine() -> Callable[..., Any]:
    async def coroutine(
        sender: Any,
        instance: Any,
        created: bool,
        raw: bool,
        using: str,
        update_fields: frozenset[str] | None,
    ) -> None:
        pass

    return coroutine


def _make_async_receiver() -> Callable[..., Any]:
    async def receiver(sender: Any, **kwargs: Any) -> None:
        pass

    return receiver


def measure_async(rounds: int) -> list[dict[str, Any]]:
    loop = asyncio.new_event_loop()
    try:
        results = []
        for count in ASYNC_COUNTS:
            medians = interleaved_medians(async_contenders(count, loop), rounds)
            results.append(
                {
                    "implementations": count,
                    "median_ns": medians,
                    "ahook_vs_awaited": medians["ahook"] / medians["awaited"],
                    "ahook_vs_awaited_kw": medians["ahook"] / medians["awaited-kw"],
                    "ahook_vs_asend": medians["ahook"] / medians["asend"],
                    "ahook_sync_vs_hook_sync": medians["ahook-sync"] / medians["hook-sync"],
                }
            )
        return results
    finally:
        loop.close()


def _make_receiver() -> Callable[..., None]:
    # Distinct function objects: Django keys receivers by identity.
    def receiver(sender: Any, **kwargs: Any) -> None:
        pass

    return receiver


def _make_direct() -> Callable[..., None]:
    def direct(
        sender: Any,
        instance: Any,
        created: bool,
        raw: bool,
        using: str,
        update_fields: frozenset[str] | None,
    ) -> None:
        pass

    return direct


def measure(rounds: int) -> list[dict[str, Any]]:
    results = []
    for count in COUNTS:
        medians = interleaved_medians(contenders(count), rounds)
        results.append(
            {
                "implementations": count,
                "median_ns": medians,
                "hosthooks_vs_django": medians["hosthooks"] / medians["django"],
                "hosthooks_vs_pluggy": medians["hosthooks"] / medians["pluggy"],
                "hosthooks_vs_direct": (
                    medians["hosthooks"] / medians["direct"] if count else None
                ),
                "hosthooks_vs_unrolled": (
                    medians["hosthooks"] / medians["unrolled"] if count else None
                ),
            }
        )
    return results


def _choose_rows(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--only",
        choices=("sync", "async"),
        help="measure only the synchronous or only the async rows (default: both)",
    )


def _sync_table(results: list[dict[str, Any]]) -> str:
    rows = []
    for result in results:
        medians = result["median_ns"]
        unrolled_ratio = result["hosthooks_vs_unrolled"]
        rows.append(
            [
                str(result["implementations"]),
                *(f"{medians[name]:.0f}" for name in CONTENDERS),
                "-" if unrolled_ratio is None else f"{unrolled_ratio:.2f}",
                f"{result['hosthooks_vs_django']:.2f}",
                f"{result['hosthooks_vs_pluggy']:.2f}",
            ]
        )
    header = [
        "impls",
        "hosthooks ns",
        "filtered ns",
        "pluggy ns",
        "django ns",
        "direct ns",
        "unrolled ns",
        "hh/unrolled",
        "hh/django",
        "hh/pluggy",
    ]
    return format_table(header, rows)


def _async_table(results: list[dict[str, Any]]) -> str:
    rows = [
        [
            str(result["implementations"]),
            *(f"{result['median_ns'][name]:.0f}" for name in ASYNC_CONTENDERS),
            f"{result['ahook_vs_awaited']:.2f}",
            f"{result['ahook_vs_awaited_kw']:.2f}",
            f"{result['ahook_vs_asend']:.2f}",
            f"{result['ahook_sync_vs_hook_sync']:.2f}",
        ]
        for result in results
    ]
    header = [
        "impls",
        *(f"{name} ns" for name in ASYNC_CONTENDERS),
        "ahook/awaited",
        "ahook/awaited-kw",
        "ahook/asend",
        "ahook-sync/hook-sync",
    ]
    return format_table(header, rows)


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(
        __doc__.splitlines()[0] if __doc__ else "", argv, default_rounds=15, extend=_choose_rows
    )
    report: dict[str, list[dict[str, Any]]] = {}
    if args.only != "async":
        report["sync"] = measure(args.rounds)
    if args.only != "sync":
        report["async"] = measure_async(args.rounds)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"post_save with six keyword arguments; medians of {args.rounds} interleaved rounds, "
        f"Python {sys.version.split()[0]}"
    )
    if "sync" in report:
        print(_sync_table(report["sync"]))
    if "async" in report:
        print()
        print("async: awaited in one coroutine on one event loop")
        print(_async_table(report["async"]))
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
