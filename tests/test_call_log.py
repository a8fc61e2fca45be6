"""A call log: recorded plans log each call raw, and reading describes it as the
traced path would (outcomes, errors, muted implementations, senders, robust calls)."""

from __future__ import annotations

import time

import pluggy
import pytest

from hosthooks import Host
from hosthooks import hookimpl
from hosthooks.engine.call_log import SKIP
from hosthooks.engine.call_log import CallLog
from hosthooks.engine.tracing import HookTrace


class Returns:
    @hookimpl
    def setting_changed(self, setting: str) -> str:
        return f"seen {setting}"

    @hookimpl
    def request_finished(self) -> None:
        pass


class Quiet:
    @hookimpl
    def setting_changed(self, setting: str) -> None:
        pass

    @hookimpl
    def request_finished(self) -> None:
        raise RuntimeError("finisher broke")


class Raises:
    @hookimpl(tryfirst=True)
    def setting_changed(self, setting: str) -> None:
        if setting == "BAD":
            raise ValueError("bad setting\nmore")


def _logged(log: CallLog) -> list[tuple[HookTrace, object]]:
    return [(trace, context) for _, trace, context in log.take()]


def _impls(trace: HookTrace) -> list[tuple[str, str, str | None]]:
    return [(impl.plugin, impl.outcome, impl.error) for impl in trace.impls]


@pytest.fixture
def host() -> Host:
    host = Host()
    host.register(Returns(), "returns")
    host.register(Quiet(), "quiet")
    host.register(Raises(), "raises")
    return host


def test_a_logged_call_reads_as_its_trace_would(host: Host) -> None:
    contexts = iter(["first", SKIP, "third"])
    log = CallLog(10, lambda hook: next(contexts))
    stop = host.add_call_log(log)
    assert host.hook.setting_changed(sender=Host, setting="X", value=1, enter=True) == ["seen X"]
    # Logged by a plan, not through pluggy's path.
    code = getattr(host.hook, "setting_changed").__code__  # noqa: B009 - untyped attribute
    assert code.co_filename == "<hosthooks plan setting_changed>"
    host.hook.setting_changed(sender=Host, setting="Y", value=1, enter=True)  # skipped
    with pytest.raises(ValueError, match="bad setting") as raised:
        host.hook.setting_changed(sender=Host, setting="BAD", value=1, enter=True)
    # The error still names its plugin, as it does untraced.
    assert getattr(raised.value, "__notes__", None) == [
        "raised by plugin 'raises' in hook 'setting_changed'"
    ]
    (ok, context), (failed, failed_context) = _logged(log)
    assert (ok.hook, ok.sender, context) == ("setting_changed", "Host", "first")
    assert _impls(ok) == [
        ("raises", "ok", None),
        ("quiet", "ok", None),
        ("returns", "result", None),
    ]
    assert [impl.function for impl in ok.impls][2] == f"{__name__}.Returns.setting_changed"
    assert ok.duration_ms == pytest.approx(sum(impl.duration_ms for impl in ok.impls))
    assert ok.duration_ms > 0
    assert failed_context == "third"
    assert _impls(failed) == [("raises", "raised", "ValueError: bad setting")]
    assert _logged(log) == []  # taken once
    stop()
    host.hook.setting_changed(sender=Host, setting="Z", value=1, enter=True)
    assert log.take() == []


def test_a_muted_implementation_is_logged_as_muted(host: Host) -> None:
    log = CallLog(10, lambda hook: None)
    host.add_call_log(log)
    with host.muted(plugins=["returns"]):
        assert host.hook.setting_changed(sender=Host, setting="X", value=1, enter=True) == []
    ((trace, _),) = _logged(log)
    assert _impls(trace)[2] == ("returns", "muted", None)
    assert trace.impls[2].function == f"{__name__}.Returns.setting_changed"


def test_robust_calls_log_their_steps(host: Host) -> None:
    log = CallLog(10, lambda hook: "here")
    host.add_call_log(log)
    outcomes = host.fire_robust("request_finished", sender=Host)
    assert [plugin for plugin, _ in outcomes] == ["quiet", "returns"]
    ((trace, context),) = _logged(log)
    assert (trace.hook, trace.sender, context) == ("request_finished", "Host", "here")
    assert _impls(trace) == [
        ("quiet", "raised", "RuntimeError: finisher broke"),
        ("returns", "ok", None),
    ]
    assert trace.duration_ms >= sum(impl.duration_ms for impl in trace.impls)


class Model:
    pass


class Other:
    pass


def test_sender_filtered_calls_are_logged_per_sender(host: Host) -> None:
    class Filtered:
        @hookimpl(sender=Model)
        def post_save(self, instance: object) -> None:
            pass

    host.register(Filtered(), "filtered")
    log = CallLog(10, lambda hook: None)
    host.add_call_log(log)
    for sender in (Model, Other, Model):
        host.hook.post_save(
            sender=sender, instance=1, created=True, raw=False, using="default", update_fields=None
        )
    # The call from Other reached nobody: not logged unless empty calls are asked for.
    assert [(trace.sender, _impls(trace)) for trace, _ in _logged(log)] == [
        ("Model", [("filtered", "ok", None)]),
        ("Model", [("filtered", "ok", None)]),
    ]


def test_a_sender_no_implementation_accepts_is_heard_while_empty_calls_are_logged(
    host: Host,
) -> None:
    class Filtered:
        @hookimpl(sender=Model)
        def pre_init(self, args: object) -> None:
            pass

    host.register(Filtered(), "filtered")
    log = CallLog(10, lambda hook: None)
    stop = host.add_call_log(log)
    # The model layer asks before building a call's arguments: Other's loads skip it.
    assert (host.has_listeners("pre_init", Model), host.has_listeners("pre_init", Other)) == (
        True,
        False,
    )
    stop()
    log.empty_calls = True
    stop = host.add_call_log(log)
    assert host.has_listeners("pre_init", Other) is True
    host.hook.pre_init(sender=Other, args=(), kwargs={})
    ((trace, _),) = _logged(log)
    assert (trace.hook, trace.sender, trace.impls) == ("pre_init", "Other", [])
    stop()
    assert host.has_listeners("pre_init", Other) is False


class FirstResultSpec:
    @pluggy.HookspecMarker("hosthooks")(firstresult=True)
    def pick(self, sender: object) -> object:
        """Pick one."""


def test_a_firstresult_call_is_logged_up_to_the_result() -> None:
    class Nothing:
        @hookimpl(tryfirst=True)
        def pick(self) -> None:
            pass

    class Picks:
        @hookimpl
        def pick(self) -> str:
            return "picked"

    class Never:
        @hookimpl(trylast=True)
        def pick(self) -> str:  # pragma: no cover - the call stops before it
            return "never"

    host = Host()
    host.plugin_manager.add_hookspecs(FirstResultSpec)
    for plugin, name in ((Nothing(), "nothing"), (Picks(), "picks"), (Never(), "never")):
        host.register(plugin, name)
    log = CallLog(10, lambda hook: None)
    host.add_call_log(log)
    assert getattr(host.hook, "pick")(sender=None) == "picked"  # noqa: B009 - not a typed hook
    ((trace, _),) = _logged(log)
    assert (trace.sender, _impls(trace)) == (
        "None",
        [("nothing", "ok", None), ("picks", "result", None)],
    )


def test_hooks_nobody_implements_are_unheard_unless_empty_calls_are_logged(host: Host) -> None:
    log = CallLog(10, lambda hook: None)
    stop = host.add_call_log(log)
    assert host.has_listeners("template_rendered") is False
    assert host.has_listeners("setting_changed") is True
    stop()
    log.empty_calls = True
    host.add_call_log(log)
    assert host.has_listeners("template_rendered") is True
    host.hook.template_rendered(sender=Host, template=None, context={})
    ((trace, _),) = _logged(log)
    assert (trace.hook, trace.impls) == ("template_rendered", [])


def test_a_log_beside_a_listener_gets_the_traces_whole(host: Host) -> None:
    seen: list[HookTrace] = []
    host.add_call_listener(seen.append)
    log = CallLog(10, lambda hook: "ctx")
    host.add_call_log(log)
    host.hook.setting_changed(sender=Host, setting="X", value=1, enter=True)
    ((trace, context),) = _logged(log)
    assert trace is seen[0]
    assert context == "ctx"


def test_the_oldest_calls_are_dropped_when_no_one_reads(host: Host) -> None:
    log = CallLog(3, lambda hook: None)
    host.add_call_log(log)
    for number in range(5):
        host.hook.setting_changed(sender=Host, setting=f"S{number}", value=1, enter=True)
    host.fire_robust("request_finished", sender=Host)
    taken = log.take()
    assert [trace.hook for _, trace, _ in taken] == ["setting_changed"] * 2 + ["request_finished"]
    # When each call ended, as wall-clock time, whichever clock timed it.
    ended = [at for at, _, _ in taken]
    assert ended == sorted(ended)
    assert time.time() - 5 < ended[0] <= ended[-1] <= time.time()


def test_a_logged_call_is_one_object_with_its_times_inline(host: Host) -> None:
    # What waits in a log outlives the collector's young generations: a call is
    # one list, with no tuple or list of times (or of robust steps) beside it.
    log = CallLog(10, lambda hook: "ctx")
    host.add_call_log(log)
    host.hook.setting_changed(sender=Host, setting="X", value=1, enter=True)
    host.fire_robust("request_finished", sender=Host)
    pending = list(log._calls)
    assert [type(logged) for logged in pending] == [list, list]
    for logged in pending:
        made_for_it = [item for item in logged if isinstance(item, (list, tuple, dict))]
        assert made_for_it == []
    assert [trace.hook for _, trace, _ in log.take()] == ["setting_changed", "request_finished"]


def test_the_console_keeps_the_newest_calls_made_between_two_reads() -> None:
    from hosthooks.runtime.console.recording import RecentCalls

    host = Host()

    class Plugin:
        @hookimpl
        def setting_changed(self, setting: str) -> None:
            pass

    host.register(Plugin(), "plugin")
    recent = RecentCalls(size=6, linger=60, pending=4)
    recent.touch(host)
    try:
        for number in range(3):
            host.hook.setting_changed(sender=Host, setting=f"A{number}", value=1, enter=True)
        assert recent.last == 3
        for number in range(5):
            host.hook.setting_changed(sender=Host, setting=f"B{number}", value=1, enter=True)
        # B0 was dropped unread; of those read, the newest six are kept.
        assert recent.last == 7
        assert [call["seq"] for call in recent.after(0)] == [2, 3, 4, 5, 6, 7]
    finally:
        recent.stop()
