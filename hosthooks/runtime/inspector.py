"""The inspector: ``/-/hooks``, ``/-/plugins`` and ``/-/calls``, each with a JSON twin.

The pages are for staff users unless ``INSPECTOR_PUBLIC`` opens them (the App
enforces that for every ``/-/`` path). Recent calls are recorded only while
someone looks: the first request for ``/-/calls`` (or its JSON) attaches a
listener to the host, each later one keeps it, and it detaches itself when no
one has asked for :data:`LINGER_SECONDS`. Until then hook calls are not traced
at all, so the inspector costs nothing while its page is closed.
"""

from __future__ import annotations

import datetime
import json
import threading
from collections import deque
from collections.abc import Callable
from importlib import resources
from typing import Any
from typing import Final

from werkzeug.wrappers import Response

from hosthooks.engine.tracing import HookTrace
from hosthooks.host import Host
from hosthooks.host import get_host
from hosthooks.report import hooks_json
from hosthooks.report import plugins_json
from hosthooks.runtime.web import INSPECTING
from hosthooks.runtime.web import Request

#: How long recording goes on after the last look at the recent calls.
LINGER_SECONDS: Final = 30.0
#: How many recent calls are kept.
RECENT_CALLS: Final = 200

#: Renders a page: (request, template name, context) -> response.
PageRenderer = Callable[..., Response]


class RecentCalls:
    """The most recent hook calls of a host, recorded while someone looks.

    :param linger: seconds recording goes on after the last :meth:`touch`.
    """

    def __init__(self, size: int = RECENT_CALLS, linger: float = LINGER_SECONDS) -> None:
        self._calls: deque[dict[str, Any]] = deque(maxlen=size)
        self._linger = linger
        self._lock = threading.Lock()
        self._sequence = 0
        self._host: Host | None = None
        self._detach: Callable[[], None] | None = None
        self._timer: threading.Timer | None = None

    @property
    def recording(self) -> bool:
        return self._detach is not None

    def touch(self, host: Host) -> None:
        """Record ``host``'s calls from now until ``linger`` seconds pass without a touch."""
        with self._lock:
            if self._host is not host and self._detach is not None:
                self._detach()
                self._detach = None
            if self._detach is None:
                self._host = host
                self._detach = host.add_call_listener(self._record)
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self._linger, self.stop)
            # The process may end while no one looks: the timer must not keep it alive.
            self._timer.daemon = True
            self._timer.start()

    def stop(self) -> None:
        """Stop recording (the calls recorded so far are kept)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._detach is not None:
                self._detach()
                self._detach = None

    def after(self, sequence: int) -> list[dict[str, Any]]:
        """The calls recorded after number ``sequence``, oldest first."""
        with self._lock:
            return [call for call in self._calls if call["seq"] > sequence]

    def _record(self, trace: HookTrace) -> None:
        if INSPECTING.get():
            return
        at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
        with self._lock:
            self._sequence += 1
            self._calls.append(
                {
                    "seq": self._sequence,
                    "at": at,
                    "hook": trace.hook,
                    "sender": trace.sender,
                    "duration_ms": round(trace.duration_ms, 3),
                    "impls": [
                        {
                            "plugin": impl.plugin,
                            "function": impl.function,
                            "duration_ms": round(impl.duration_ms, 3),
                            "outcome": impl.outcome,
                            "error": impl.error,
                        }
                        for impl in trace.impls
                    ],
                }
            )


def _json(data: Any) -> Response:
    return Response(json.dumps(data, indent=2), content_type="application/json")


class InspectorViews:
    """The inspector's views; ``page`` renders a template with the app's layout."""

    def __init__(self, page: PageRenderer, recent: RecentCalls) -> None:
        self.page = page
        self.recent = recent

    def hooks_page(self, request: Request) -> Response:
        hooks = hooks_json(get_host())
        families: dict[str, list[dict[str, Any]]] = {}
        for hook in hooks:
            families.setdefault(hook["family"], []).append(hook)
        return self.page(request, "inspector_hooks.html", families=families, error=None)

    @staticmethod
    def hooks_json(request: Request) -> Response:
        return _json(hooks_json(get_host()))

    def plugins_page(self, request: Request) -> Response:
        plugins = plugins_json(get_host(), include_builtin=True)
        return self.page(request, "inspector_plugins.html", plugins=plugins, error=None)

    @staticmethod
    def plugins_json(request: Request) -> Response:
        return _json(plugins_json(get_host()))

    def calls_page(self, request: Request) -> Response:
        self.recent.touch(get_host())
        return self.page(
            request, "inspector_calls.html", calls=self.recent.after(0)[::-1], error=None
        )

    def calls_json(self, request: Request) -> Response:
        """``{"calls": [...], "recording": true}``: the calls after ``?after=N``, oldest first."""
        self.recent.touch(get_host())
        try:
            after = max(0, int(request.args.get("after", "0")))
        except ValueError:
            after = 0
        return _json({"calls": self.recent.after(after), "recording": self.recent.recording})

    @staticmethod
    def script(request: Request) -> Response:
        code = resources.files("hosthooks.runtime").joinpath("static/inspector.js").read_bytes()
        return Response(code, content_type="text/javascript; charset=utf-8")


#: The inspector's routes, for the app's route table (the App restricts /-/ to staff).
ROUTES: Final = [
    ("/-/hooks", "hooks_page", ["GET"]),
    ("/-/hooks.json", "hooks_json", ["GET"]),
    ("/-/plugins", "plugins_page", ["GET"]),
    ("/-/plugins.json", "plugins_json", ["GET"]),
    ("/-/calls", "calls_page", ["GET"]),
    ("/-/calls.json", "calls_json", ["GET"]),
    ("/static/inspector.js", "script", ["GET"]),
]
