"""What the control receiver and the recording plugin heard, and how the two
streams compare: paired in order per thread, each pair identical, differing only
by a documented default (an argument Django did not send, which the plugin
heard as its spec documents), or differing; the events of one without a
counterpart in the other are missing (only the control heard them) or extra.

Values are described so that two listeners of one send describe them alike:
plain values as they are, classes by name, anything else by type and identity
(identities compare within one run only).
"""

from __future__ import annotations

import difflib
import inspect
import re
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

#: An event: hook, thread, and its arguments as (name, description) pairs, sorted.
Event = tuple[str, int, tuple[tuple[str, Any], ...]]

#: Every event heard in this process, by listener (``control``, ``plugin``).
events: dict[str, list[Event]] = {"control": [], "plugin": []}
#: The keys a bulk hook heard that disagree with the count Django returned.
disagreements: list[list[Any]] = []

_PLAIN = (type(None), bool, int, float, str)


def describe(value: Any) -> Any:
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, type):
        return f"class {value.__module__}.{value.__qualname__}"
    if isinstance(value, (set, frozenset)):
        return [type(value).__name__, sorted(map(repr, value))]
    return f"{type(value).__qualname__}@{id(value):x}"


def record(listener: str, hook: str, arguments: dict[str, Any]) -> None:
    described = tuple(sorted((name, describe(value)) for name, value in arguments.items()))
    events[listener].append((hook, threading.get_ident(), described))


_NO_DEFAULT = object()


def documented_default(hook: str, argument: str) -> Any:
    """The value ``argument`` of ``hook`` has when a sender leaves it out, as its spec
    documents it: the spec's default, or None when its ``:param:`` says so;
    ``_NO_DEFAULT`` when the spec documents none."""
    from hosthooks.specs import FAMILIES
    from hosthooks.specs import LEFT_OUT_DEFAULT_NOTE

    for module in FAMILIES.values():
        spec = getattr(module, hook, None)
        if spec is None:
            continue
        parameter = inspect.signature(spec).parameters.get(argument)
        if parameter is None:
            return _NO_DEFAULT
        if parameter.default is not inspect.Parameter.empty:
            return parameter.default
        doc = " ".join((spec.__doc__ or "").split())
        found = re.search(rf":param {argument}:(.*?)(?=:param |$)", doc)
        if found and LEFT_OUT_DEFAULT_NOTE in found.group(1):
            return None
        return _NO_DEFAULT
    return _NO_DEFAULT


def _by_thread(stream: Sequence[Event]) -> dict[int, list[Event]]:
    threads: dict[int, list[Event]] = {}
    for event in stream:
        threads.setdefault(event[1], []).append(event)
    return threads


def _key(event: Event) -> tuple[str, Any]:
    return event[0], dict(event[2]).get("sender")


def _pairs(
    control: list[Event], plugin: list[Event]
) -> tuple[list[tuple[Event, Event]], list[Event], list[Event]]:
    """Events paired by hook and sender in order; the unpaired of each side."""
    if [_key(e) for e in control] == [_key(e) for e in plugin]:
        return list(zip(control, plugin, strict=True)), [], []
    # Common ends first: the matcher's cost grows with what it has to align.
    start = 0
    while start < min(len(control), len(plugin)) and _key(control[start]) == _key(plugin[start]):
        start += 1
    end = 0
    while end < min(len(control), len(plugin)) - start and _key(control[-1 - end]) == _key(
        plugin[-1 - end]
    ):
        end += 1
    pairs = list(zip(control[:start], plugin[:start], strict=True))
    middle_c, middle_p = control[start : len(control) - end], plugin[start : len(plugin) - end]
    matcher = difflib.SequenceMatcher(
        None, [_key(e) for e in middle_c], [_key(e) for e in middle_p], autojunk=False
    )
    missing: list[Event] = []
    extra: list[Event] = []
    for tag, c1, c2, p1, p2 in matcher.get_opcodes():
        if tag == "equal":
            pairs.extend(zip(middle_c[c1:c2], middle_p[p1:p2], strict=True))
        else:
            missing.extend(middle_c[c1:c2])
            extra.extend(middle_p[p1:p2])
    pairs.extend(zip(control[len(control) - end :], plugin[len(plugin) - end :], strict=True))
    return pairs, missing, extra


def compare(control: Sequence[Event], plugin: Sequence[Event]) -> dict[str, Any]:
    """The totals of the two streams, the documented defaults seen, and examples
    of every kind of difference (a few of each)."""
    totals = Counter({"paired": 0, "identical": 0, "documented_defaults": 0, "differing": 0})
    defaults: Counter[str] = Counter()
    examples: dict[str, list[Any]] = {"differing": [], "missing": [], "extra": []}
    plugin_threads = _by_thread(plugin)
    control_threads = _by_thread(control)
    for thread in sorted(set(control_threads) | set(plugin_threads)):
        pairs, missing, extra = _pairs(
            control_threads.get(thread, []), plugin_threads.get(thread, [])
        )
        totals["missing"] += len(missing)
        totals["extra"] += len(extra)
        examples["missing"].extend(missing[: 5 - len(examples["missing"])])
        examples["extra"].extend(extra[: 5 - len(examples["extra"])])
        for heard, recorded in pairs:
            totals["paired"] += 1
            if heard == recorded:
                totals["identical"] += 1
                continue
            hook, sent, got = heard[0], dict(heard[2]), dict(recorded[2])
            left_out = set(got) - set(sent)
            same = set(sent) <= set(got) and all(sent[name] == got[name] for name in sent)
            documented = {name: documented_default(hook, name) for name in left_out}
            default_ok = all(
                value is not _NO_DEFAULT and describe(value) == got[name]
                for name, value in documented.items()
            )
            if same and default_ok:
                totals["documented_defaults"] += 1
                defaults.update(f"{hook}.{name}" for name in sorted(left_out))
            else:
                totals["differing"] += 1
                if len(examples["differing"]) < 5:
                    examples["differing"].append([heard, recorded])
    return {"totals": dict(totals), "defaults": dict(defaults), "examples": examples}
