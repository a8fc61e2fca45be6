"""What the console's pages show, as JSON-ready data: each page renders it and
its JSON twin sends it as it is."""

from __future__ import annotations

import dataclasses
import math
import os
import time
import typing
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import Final

from hosthooks.configuration.typed_settings import declared_settings
from hosthooks.configuration.typed_settings import is_secret
from hosthooks.configuration.typed_settings import setting_sources
from hosthooks.host import Host
from hosthooks.loading.records import Status
from hosthooks.operations import plugin_errors
from hosthooks.report import hooks_json
from hosthooks.report import iso_time
from hosthooks.report import plugins_json
from hosthooks.runtime.console.recording import WINDOW_SECONDS
from hosthooks.runtime.console.recording import RecentCalls

#: The outcomes a call filter may ask for.
OUTCOMES: Final = ("ok", "result", "raised", "muted", "wrapped")
#: How many groups the calls page shows (the newest).
MAX_GROUPS: Final = 50
#: The width of a waterfall, in its own units (the SVG's viewBox).
WATERFALL_WIDTH: Final = 1000.0


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of ``values`` (not empty)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


# -- plugins -----------------------------------------------------------------------


def plugin_rows(host: Host) -> list[dict[str, Any]]:
    """Every plugin as ``plugins.json`` lists it, with its errors and the hooks the
    circuit breaker muted it in."""
    rows = plugins_json(host, include_builtin=True)
    for row in rows:
        counted = plugin_errors(row["name"])
        row["errors"] = counted.count
        row["last_error"] = counted.last_error
        row["last_error_hook"] = counted.last_hook
        row["last_error_at"] = None if counted.last_at is None else iso_time(counted.last_at)
        row["tripped"] = [
            {"hook": mute.hook, "until": None if mute.until is None else iso_time(mute.until)}
            for mute in host.switchboard.hook_mutes(row["name"])
        ]
    return rows


def needs_attention(row: Mapping[str, Any]) -> bool:
    """Whether an operator should look at this plugin first."""
    return bool(
        row["status"] != Status.ACTIVE.value
        or row["error"]
        or row["problems"]
        or row["errors"]
        or row["muted"]
        or row["tripped"]
    )


def overview(host: Host, recent: RecentCalls, now: float | None = None) -> dict[str, Any]:
    """Each plugin's health, those needing attention first; calls and latency
    percentiles over the last :data:`WINDOW_SECONDS` while recording."""
    now = time.time() if now is None else now
    rows = plugin_rows(host)
    timings = recent.timings(now - WINDOW_SECONDS) if recent.recording else {}
    for row in rows:
        durations = timings.get(row["name"], [])
        row["attention"] = needs_attention(row)
        row["calls"] = len(durations) if recent.recording else None
        row["p50_ms"] = round(percentile(durations, 0.5), 3) if durations else None
        row["p95_ms"] = round(percentile(durations, 0.95), 3) if durations else None
    rows.sort(key=lambda row: (not row["attention"], row["name"]))
    return {
        "recording": recent.recording,
        "window_seconds": WINDOW_SECONDS,
        "plugins": rows,
    }


def _type_name(hint: Any) -> str:
    if isinstance(hint, type):
        return hint.__name__
    return str(hint).replace("typing.", "")


def typed_settings(host: Host, name: str) -> list[dict[str, Any]]:
    """A plugin's settings, one row each: key, type, value (secrets redacted),
    source (``default``, ``file``, ``environment``) and whether it is a secret."""
    settings_class = declared_settings(host.plugin_manager.get_plugin(name))
    shown = host.shown_plugin_settings(name)
    if settings_class is None or shown is None:
        return []
    hints = typing.get_type_hints(settings_class)
    sources = setting_sources(
        name, settings_class, host.config.plugin_tables.get(name, {}), os.environ
    )
    return [
        {
            "key": field.name,
            "type": _type_name(hints.get(field.name, field.type)),
            "value": shown[field.name],
            "source": sources[field.name],
            "secret": is_secret(field),
        }
        for field in dataclasses.fields(settings_class)
    ]


def plugin_details(host: Host) -> list[dict[str, Any]]:
    """The plugins page: each plugin's row, typed settings and implementations."""
    rows = plugin_rows(host)
    impls: dict[str, list[dict[str, Any]]] = {}
    for hook in hooks_json(host):
        for position, impl in enumerate(hook["impls"], start=1):
            impls.setdefault(impl["plugin"], []).append(
                {"hook": hook["name"], "position": position, **impl}
            )
    for row in rows:
        row["typed_settings"] = typed_settings(host, row["name"])
        row["implementations"] = impls.get(row["name"], [])
        # The error that made it fail is "error"; problems say the rest, once each.
        row["problems"] = [p for p in dict.fromkeys(row["problems"]) if p != row["error"]]
        row["attention"] = needs_attention(row)
    return rows


# -- hooks -------------------------------------------------------------------------


def hook_rows(host: Host, implemented_only: bool) -> list[dict[str, Any]]:
    """Every hook (or only those implemented), implementations in call order, each
    with what placed it there."""
    rows = []
    for hook in hooks_json(host):
        if implemented_only and not hook["impls"]:
            continue
        for impl in hook["impls"]:
            impl["placed_by"] = placed_by(impl)
        rows.append(hook)
    return rows


def placed_by(impl: Mapping[str, Any]) -> str:
    """Why an implementation is where it is in the call order."""
    reasons = []
    if impl["wrapper"]:
        reasons.append("wrapper: around the others")
    if impl["tryfirst"]:
        reasons.append("tryfirst")
    if impl["trylast"]:
        reasons.append("trylast")
    if impl["before"]:
        reasons.append(f"before={','.join(impl['before'])}")
    if impl["after"]:
        reasons.append(f"after={','.join(impl['after'])}")
    return ", ".join(reasons) or "registration order (later runs first)"


# -- calls -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CallFilter:
    """Which calls the calls page shows.

    :param hook: only calls of this hook.
    :param plugin: only calls that reached this plugin.
    :param outcome: only calls where an implementation had this outcome.
    :param slower_ms: only groups (a request, a transaction, a call) that took
        at least this long.
    :param empty: also calls that reached no implementation.
    """

    hook: str = ""
    plugin: str = ""
    outcome: str = ""
    slower_ms: float = 0.0
    empty: bool = False

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> CallFilter:
        """From a query string; values that make no sense are ignored."""
        try:
            slower = max(0.0, float(args.get("slower", "") or 0))
        except ValueError:
            slower = 0.0
        if not math.isfinite(slower):
            slower = 0.0
        outcome = args.get("outcome", "")
        return cls(
            hook=args.get("hook", "").strip(),
            plugin=args.get("plugin", "").strip(),
            outcome=outcome if outcome in OUTCOMES else "",
            slower_ms=slower,
            empty=args.get("empty", "") in {"1", "on", "true", "yes"},
        )

    def keeps(self, call: Mapping[str, Any]) -> bool:
        impls = call["impls"]
        if not impls and not self.empty:
            return False
        if self.hook and call["hook"] != self.hook:
            return False
        # With both a plugin and an outcome, that plugin's implementation had it.
        chosen = [impl for impl in impls if not self.plugin or impl["plugin"] == self.plugin]
        if self.plugin and not chosen:
            return False
        return not self.outcome or any(impl["outcome"] == self.outcome for impl in chosen)

    def as_query(self) -> dict[str, str]:
        query = {"hook": self.hook, "plugin": self.plugin, "outcome": self.outcome}
        if self.slower_ms:
            query["slower"] = f"{self.slower_ms:g}"
        if self.empty:
            query["empty"] = "1"
        return {key: value for key, value in query.items() if value}


def grouped_calls(
    calls: Sequence[Mapping[str, Any]],
    requests: Mapping[int, Mapping[str, Any]],
    wanted: CallFilter,
) -> list[dict[str, Any]]:
    """The calls the filter keeps, grouped: by request, else by transaction, else
    alone; the newest :data:`MAX_GROUPS` groups, newest first, calls oldest first
    within a group, each group with its waterfall."""
    groups: dict[tuple[str, int], dict[str, Any]] = {}
    for call in calls:
        if not wanted.keeps(call):
            continue
        if call["request"] is not None:
            key = ("request", call["request"])
        elif call["transaction"] is not None:
            key = ("transaction", call["transaction"])
        else:
            key = ("call", call["seq"])
        group = groups.get(key)
        if group is None:
            request = requests.get(key[1]) if key[0] == "request" else None
            group = groups[key] = {"kind": key[0], "request": request, "calls": []}
        group["calls"].append(call)
    shown: list[dict[str, Any]] = []
    newest = sorted(groups.values(), key=lambda group: group["calls"][-1]["seq"], reverse=True)
    for group in newest:
        if len(shown) == MAX_GROUPS:
            break
        calls_in = group["calls"]
        start = min(call["started"] for call in calls_in)
        end = max(call["started"] + call["duration_ms"] / 1000 for call in calls_in)
        request = group.get("request")
        total = (end - start) * 1000
        if request is not None and request["duration_ms"] is not None:
            total = max(total, request["duration_ms"])
        group["duration_ms"] = round(total, 3)
        group["last_seq"] = max(call["seq"] for call in calls_in)
        group["at"] = calls_in[0]["at"]
        if group["duration_ms"] < wanted.slower_ms:
            continue
        group["waterfall"] = waterfall(calls_in, start, total)
        shown.append(group)
    shown.sort(key=lambda group: group["last_seq"], reverse=True)
    return shown


def waterfall(calls: Sequence[Mapping[str, Any]], start: float, total_ms: float) -> dict[str, Any]:
    """Bars for an SVG (x and width in :data:`WATERFALL_WIDTH` units): one per call,
    one per implementation under it, laid one after the other in call order."""
    scale = WATERFALL_WIDTH / total_ms if total_ms > 0 else 0.0
    rows = []
    for call in calls:
        offset = (call["started"] - start) * 1000
        rows.append(
            {
                "kind": "call",
                "label": f"{call['hook']} ({call['sender']})",
                "x": round(offset * scale, 2),
                "width": round(max(call["duration_ms"] * scale, 1.0), 2),
                "ms": call["duration_ms"],
                "outcome": "raised"
                if any(impl["outcome"] == "raised" for impl in call["impls"])
                else "ok",
            }
        )
        for impl in call["impls"]:
            rows.append(
                {
                    "kind": "impl",
                    "label": impl["plugin"],
                    "x": round(offset * scale, 2),
                    "width": round(max(impl["duration_ms"] * scale, 1.0), 2),
                    "ms": impl["duration_ms"],
                    "outcome": impl["outcome"],
                }
            )
            offset += impl["duration_ms"]
    return {"width": WATERFALL_WIDTH, "total_ms": round(total_ms, 3), "rows": rows}
