"""Ordering by plugin name: ``@hookimpl(before=["other"], after=[...])``.

pluggy orders a hook's implementations in tiers (tryfirst, plain, trylast;
wrappers apart from the rest), and within a tier the plugin registered last
runs first. A constraint moves an implementation before or after the
implementations of the named plugins *within its tier and group*: tiers stay
tiers. A name no plugin has is simply satisfied. When constraints form a cycle,
the group keeps pluggy's order and the cycle is reported as a problem.

The order is computed when a hook's implementations change, by reordering the
list pluggy keeps, so ``get_hookimpls()``, call plans and pluggy's own paths
all see it, and a call costs what it did.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from collections.abc import Sequence
from typing import cast

import pluggy

from hosthooks.markers import AFTER_OPTION
from hosthooks.markers import BEFORE_OPTION


def constraints(impl: pluggy.HookImpl) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The plugin names ``impl`` must run before, and after."""
    before = cast("tuple[str, ...]", impl.opts.get(BEFORE_OPTION) or ())
    after = cast("tuple[str, ...]", impl.opts.get(AFTER_OPTION) or ())
    return before, after


def is_constrained(impl: pluggy.HookImpl) -> bool:
    before, after = constraints(impl)
    return bool(before or after)


def _group_of(impl: pluggy.HookImpl) -> tuple[bool, int]:
    """Which wrapper group and tier an implementation is in (pluggy's own grouping)."""
    tier = 0 if impl.tryfirst else 2 if impl.trylast else 1
    return bool(impl.wrapper or impl.hookwrapper), tier


def _ordered_group(group: list[pluggy.HookImpl]) -> tuple[list[pluggy.HookImpl], list[str]]:
    """One group, given in pluggy's call order, in constrained call order; and,
    when the constraints form a cycle, the plugins in it (the group then keeps its order)."""
    position = {id(impl): index for index, impl in enumerate(group)}
    successors: dict[int, set[int]] = {id(impl): set() for impl in group}
    for impl in group:
        before, after = constraints(impl)
        for other in group:
            if other is impl:
                continue
            if other.plugin_name in before:
                successors[id(impl)].add(id(other))
            if other.plugin_name in after:
                successors[id(other)].add(id(impl))
    waiting = dict.fromkeys(successors, 0)
    for targets in successors.values():
        for target in targets:
            waiting[target] += 1
    by_id = {id(impl): impl for impl in group}
    # Among the implementations free to go next, pluggy's order decides.
    ready = [(position[key], key) for key, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    ordered: list[pluggy.HookImpl] = []
    while ready:
        _, key = heapq.heappop(ready)
        ordered.append(by_id[key])
        for target in successors[key]:
            waiting[target] -= 1
            if waiting[target] == 0:
                heapq.heappush(ready, (position[target], target))
    if len(ordered) < len(group):
        stuck = sorted({by_id[key].plugin_name for key, count in waiting.items() if count > 0})
        return list(group), stuck
    return ordered, []


def constrained_call_order(
    call_order: Sequence[pluggy.HookImpl],
) -> tuple[list[pluggy.HookImpl], list[list[str]]]:
    """``call_order`` (pluggy's) with every group's constraints applied; and the
    cycles found, each as the sorted names of the plugins in it."""
    groups: dict[tuple[bool, int], list[pluggy.HookImpl]] = {}
    for impl in call_order:
        groups.setdefault(_group_of(impl), []).append(impl)
    ordered: list[pluggy.HookImpl] = []
    cycles: list[list[str]] = []
    # pluggy calls wrappers first, then the rest; tryfirst, plain, trylast in each.
    for key in sorted(groups, key=lambda group: (not group[0], group[1])):
        group, cycle = _ordered_group(groups[key])
        ordered.extend(group)
        if cycle:
            cycles.append(cycle)
    return ordered, cycles


def reorder(
    stored: list[pluggy.HookImpl], registration: Callable[[pluggy.HookImpl], int]
) -> list[list[str]]:
    """Put pluggy's stored list (the reverse of call order) in constrained order, in place.

    :param registration: when each implementation was added; pluggy's own order
        (see :func:`_pluggy_position`) is rebuilt from it, so that earlier
        reorderings never shift the base the constraints apply to.
    :returns: the cycles found.
    """
    default = sorted(stored, key=lambda impl: _pluggy_position(impl, registration))
    if not any(is_constrained(impl) for impl in stored):
        # The last constrained implementation just left: pluggy's order is back.
        stored[:] = default[::-1]
        return []
    ordered, cycles = constrained_call_order(default)
    stored[:] = ordered[::-1]
    return cycles


def _pluggy_position(
    impl: pluggy.HookImpl, registration: Callable[[pluggy.HookImpl], int]
) -> tuple[bool, int, int]:
    """Where pluggy calls ``impl``: wrappers first; tryfirst, plain, trylast; within
    tryfirst and plain the latest registered first, but within trylast the
    earliest (pluggy puts each new trylast implementation at the end of the calls)."""
    wrapper, tier = _group_of(impl)
    order = registration(impl)
    return not wrapper, tier, order if tier == 2 else -order


def cycles_of(stored: Sequence[pluggy.HookImpl]) -> list[list[str]]:
    """The ordering cycles among a hook's implementations, in call order as stored."""
    if not any(is_constrained(impl) for impl in stored):
        return []
    return constrained_call_order(list(stored)[::-1])[1]


def why(impl: pluggy.HookImpl) -> str:
    """The constraints of ``impl`` as ``hosthooks hooks NAME`` shows them ("" for none)."""
    before, after = constraints(impl)
    parts = [f"before={','.join(before)}"] if before else []
    parts += [f"after={','.join(after)}"] if after else []
    return " ".join(parts)
