"""The console's views: every page, its JSON twin, and the POSTs that change things.

Every one of them is for staff users only, whatever ``INSPECTOR_PUBLIC`` says:
a visitor who is not staff gets 403 (JSON, or any POST) or the login page.
POSTs are CSRF-checked by the App like every unsafe request.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from collections.abc import Callable
from importlib import resources
from typing import Any
from typing import Final

from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from hosthooks.configuration.keys import duration_from_text
from hosthooks.host import get_host
from hosthooks.loading.records import Status
from hosthooks.markers import PROJECT
from hosthooks.report import hooks_json
from hosthooks.report import plugins_json
from hosthooks.runtime.console import data
from hosthooks.runtime.console.mutes import MuteStore
from hosthooks.runtime.console.mutes import MuteSync
from hosthooks.runtime.console.recording import RecentCalls
from hosthooks.runtime.templates import Templates
from hosthooks.runtime.web import Request

logger: Final = logging.getLogger("hosthooks.console")

#: The console's pages, in the order the navigation lists them: (path, title).
NAVIGATION: Final = (
    ("/-/", "Overview"),
    ("/-/plugins", "Plugins"),
    ("/-/hooks", "Hooks"),
    ("/-/calls", "Calls"),
    ("/-/deliveries", "Deliveries"),
)

View = Callable[..., Response]


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, indent=2), status=status, content_type="application/json")


def _flag(request: Request, name: str) -> bool:
    return request.args.get(name, "") in {"1", "on", "true", "yes"}


def staff_only(view: View) -> View:
    """The view, for staff users only: others get 403 for JSON and POSTs, and the
    login page (coming back here) for a page."""

    def guarded(self: ConsoleViews, request: Request, **arguments: Any) -> Response:
        if getattr(request.user, "is_staff", False) is True:
            return view(self, request, **arguments)
        if request.path.endswith(".json") or request.method != "GET":
            return _json({"error": "The console is for staff users only."}, status=403)
        query = urllib.parse.urlencode({"next": request.full_path.rstrip("?")})
        return Response("", status=303, headers={"Location": f"/login?{query}"})

    guarded.__name__ = view.__name__
    guarded.__doc__ = view.__doc__
    return guarded


class ConsoleViews:
    """The console on one app: its templates, recent calls and the database's mutes.

    :param sync: re-reads the mutes after a change, so this process follows at once.
    """

    def __init__(
        self, templates: Templates, recent: RecentCalls, mutes: MuteStore, sync: MuteSync
    ) -> None:
        self.templates = templates
        self.recent = recent
        self.mutes = mutes
        self.sync = sync

    def endpoints(self) -> dict[str, View]:
        """Each endpoint of :data:`ROUTES` and its view."""
        return {
            endpoint: getattr(self, endpoint.removeprefix("console.")) for _, endpoint, _ in ROUTES
        }

    def page(self, request: Request, name: str, *, status: int = 200, **context: Any) -> Response:
        """``console/<name>`` in the console's layout; with ``?fragment=1`` only the
        part the page's script refreshes."""
        context.update(
            user=request.user,
            csrf_token=request.csrf_token,
            project=PROJECT,
            navigation=NAVIGATION,
            here=request.path,
            fragment=_flag(request, "fragment"),
        )
        context.setdefault("error", None)
        body = self.templates.render(f"console/{name}", context)
        return Response(body, status=status, content_type="text/html; charset=utf-8")

    # -- overview ----------------------------------------------------------------

    @staff_only
    def overview_page(self, request: Request) -> Response:
        self.recent.touch(get_host())
        return self.page(request, "overview.html", overview=data.overview(get_host(), self.recent))

    @staff_only
    def overview_json(self, request: Request) -> Response:
        self.recent.touch(get_host())
        return _json(data.overview(get_host(), self.recent))

    # -- plugins -------------------------------------------------------------------

    @staff_only
    def plugins_page(self, request: Request, *, error: str | None = None) -> Response:
        plugins = data.plugin_details(get_host())
        return self.page(
            request, "plugins.html", status=400 if error else 200, plugins=plugins, error=error
        )

    @staff_only
    def plugins_json(self, request: Request) -> Response:
        """The CLI's ``plugins --json``; with ``?details=1`` what the page shows."""
        if _flag(request, "details"):
            return _json(data.plugin_details(get_host()))
        return _json(plugins_json(get_host()))

    @staff_only
    def mute(self, request: Request, name: str) -> Response:
        """Mute a loaded plugin (form field ``until``: a duration such as ``2h``, or empty)."""
        host = get_host()
        record = next((r for r in host.plugins() if r.name == name), None)
        if record is None:
            raise NotFound(f"No plugin is named {name!r}.")
        if record.status is not Status.ACTIVE:
            return self._refused(
                request, f"{name} is {record.status.value}: only a loaded plugin can be muted."
            )
        text = request.form.get("until", "").strip()
        until = None
        if text:
            try:
                until = time.time() + duration_from_text(text)
            except ValueError as problem:
                return self._refused(request, str(problem))
        self.mutes.mute(name, request.user.username, until)
        self.sync.sync()
        return self._done(request, name)

    @staff_only
    def unmute(self, request: Request, name: str) -> Response:
        if not any(r.name == name for r in get_host().plugins()):
            raise NotFound(f"No plugin is named {name!r}.")
        self.mutes.unmute(name, request.user.username)
        self.sync.sync()
        return self._done(request, name)

    def _refused(self, request: Request, message: str) -> Response:
        if _wants_json(request):
            return _json({"error": message}, status=400)
        return self.plugins_page(request, error=message)

    def _done(self, request: Request, name: str) -> Response:
        if _wants_json(request):
            row = next(
                p for p in plugins_json(get_host(), include_builtin=True) if p["name"] == name
            )
            return _json(row)
        back = request.form.get("back", "")
        target = back if back in {"/-/", "/-/plugins"} else "/-/plugins"
        return Response("", status=303, headers={"Location": f"{target}#plugin-{name}"})

    # -- hooks ---------------------------------------------------------------------

    @staff_only
    def hooks_page(self, request: Request) -> Response:
        implemented = _flag(request, "implemented")
        hooks = data.hook_rows(get_host(), implemented)
        families: dict[str, list[dict[str, Any]]] = {}
        for hook in hooks:
            families.setdefault(hook["family"], []).append(hook)
        return self.page(request, "hooks.html", families=families, implemented=implemented)

    @staff_only
    def hooks_json(self, request: Request) -> Response:
        """The CLI's ``hooks --json``; ``?implemented=1`` keeps the implemented hooks,
        ``?details=1`` adds what placed each implementation (``placed_by``)."""
        implemented = _flag(request, "implemented")
        if _flag(request, "details"):
            return _json(data.hook_rows(get_host(), implemented))
        return _json([h for h in hooks_json(get_host()) if h["impls"] or not implemented])

    # -- calls ---------------------------------------------------------------------

    def _calls(self, request: Request) -> dict[str, Any]:
        wanted = data.CallFilter.from_args(request.args)
        self.recent.touch(get_host(), empty=wanted.empty)
        try:
            after = max(0, int(request.args.get("after", "0")))
        except ValueError:
            after = 0
        calls = self.recent.after(after)
        kept = [call for call in calls if wanted.keeps(call)]
        return {
            "recording": self.recent.recording,
            "last": max((call["seq"] for call in calls), default=after),
            "filter": wanted.as_query(),
            "calls": kept,
            "groups": data.grouped_calls(kept, self.recent.requests(), wanted),
        }

    @staff_only
    def calls_page(self, request: Request) -> Response:
        """The calls page; its live part (``?fragment=1``) answers 204 when no call
        was recorded since the one numbered ``?since=N`` (the page's script sends
        the ``X-Console-Last`` it last got), so an idle page costs next to nothing."""
        fragment = _flag(request, "fragment")
        if fragment and request.args.get("since", "") == str(self.recent.last):
            self.recent.touch(get_host(), empty=data.CallFilter.from_args(request.args).empty)
            return Response(status=204)
        found = self._calls(request)
        host = get_host()
        # The live part has no filter form: its polls need not list the choices.
        response = self.page(
            request,
            "calls.html",
            found=found,
            wanted=data.CallFilter.from_args(request.args),
            hooks=[] if fragment else [hook["name"] for hook in hooks_json(host)],
            plugins=[]
            if fragment
            else [plugin["name"] for plugin in plugins_json(host, include_builtin=True)],
            outcomes=data.OUTCOMES,
        )
        response.headers["X-Console-Last"] = str(found["last"])
        return response

    @staff_only
    def calls_json(self, request: Request) -> Response:
        """``{"recording", "last", "filter", "calls", "groups"}``: the calls after
        ``?after=N`` the filter keeps (``hook``, ``plugin``, ``outcome``, ``slower``
        ms, ``empty=1``), oldest first, and grouped as the page shows them."""
        return _json(self._calls(request))

    # -- deliveries -----------------------------------------------------------------

    def _deliveries(self) -> dict[str, Any]:
        from hosthooks.deferred.outbox import OutboxMissing
        from hosthooks.runtime.console import deliveries

        try:
            return {"summary": deliveries.summary(deliveries.runtime_outbox()), "missing": None}
        except OutboxMissing as missing:
            return {"summary": None, "missing": str(missing)}

    @staff_only
    def deliveries_page(self, request: Request, *, notice: str | None = None) -> Response:
        found = self._deliveries()
        return self.page(
            request,
            "deliveries.html",
            summary=found["summary"],
            outbox_missing=found["missing"],
            notice=notice or request.args.get("notice"),
        )

    @staff_only
    def deliveries_retry(self, request: Request) -> Response:
        """Retry the calls of the form's ``event_id`` fields, or with ``dead=1``
        every dead call."""
        from hosthooks.runtime.console import deliveries

        event_ids = [value.strip() for value in request.form.getlist("event_id") if value.strip()]
        every_dead = request.form.get("dead", "") == "1"
        retried = deliveries.retry(
            deliveries.runtime_outbox(), request.user.username, event_ids, every_dead
        )
        if _wants_json(request):
            return _json({"retried": retried})
        notice = f"{len(retried)} call(s) sent back to the queue."
        return _see_deliveries(notice)

    @staff_only
    def deliveries_purge(self, request: Request) -> Response:
        """Delete the done calls older than the form's ``older_than`` (``7d``, ``12h``)."""
        from hosthooks.runtime.console import deliveries

        older_than = request.form.get("older_than", "").strip()
        try:
            removed = deliveries.purge(
                deliveries.runtime_outbox(), request.user.username, older_than
            )
        except ValueError as problem:
            if _wants_json(request):
                return _json({"error": str(problem)}, status=400)
            return self.page(
                request,
                "deliveries.html",
                status=400,
                error=str(problem),
                summary=self._deliveries()["summary"],
                outbox_missing=None,
                notice=None,
            )
        if _wants_json(request):
            return _json({"purged": removed})
        return _see_deliveries(f"{removed} done call(s) purged.")

    # -- static ---------------------------------------------------------------------

    @staticmethod
    def script(request: Request) -> Response:
        code = resources.files("hosthooks.runtime").joinpath("static/console.js").read_bytes()
        return Response(code, content_type="text/javascript; charset=utf-8")

    # -- deliveries --------------------------------------------------------------

    @staff_only
    def deliveries_json(self, request: Request) -> Response:
        """The delivery records of deferred calls, newest first, as ``hosthooks
        deliveries --json`` prints them; ``?state=``, ``?plugin=``, ``?limit=`` (100).
        With ``?details=1`` what the deliveries page shows: ``{"counts", "plugins",
        "dead"}`` (calls by state, each plugin's by state, the newest dead calls)."""
        if _flag(request, "details"):
            found = self._deliveries()
            if found["missing"] is not None:
                return _json({"error": found["missing"]}, status=404)
            return _json(found["summary"])
        from hosthooks.deferred.outbox import STATES
        from hosthooks.deferred.outbox import Outbox
        from hosthooks.runtime.db import runtime_layer

        state = request.args.get("state") or None
        if state is not None and state not in STATES:
            return _json({"error": f"state must be one of {', '.join(STATES)}"}, status=400)
        limit_text = request.args.get("limit", "100")
        if not limit_text.isdigit() or int(limit_text) < 1:
            return _json({"error": "limit must be a whole number of at least 1"}, status=400)
        outbox = Outbox(runtime_layer, None)
        if not outbox.exists():
            return _json({"error": "this database has no outbox table: run hosthooks migrate"}, 404)
        records = outbox.deliveries(
            state=state, plugin=request.args.get("plugin") or None, limit=int(limit_text)
        )
        return _json([record.as_json() for record in records])

    @staticmethod
    def stylesheet(request: Request) -> Response:
        css = resources.files("hosthooks.runtime").joinpath("static/console.css").read_bytes()
        return Response(css, content_type="text/css; charset=utf-8")


def _see_deliveries(notice: str) -> Response:
    query = urllib.parse.urlencode({"notice": notice})
    return Response("", status=303, headers={"Location": f"/-/deliveries?{query}"})


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


#: The console's routes for the app's route table: (rule, endpoint, methods);
#: each endpoint is ``console.`` and the name of a :class:`ConsoleViews` method.
ROUTES: Final = [
    ("/-/", "console.overview_page", ["GET"]),
    ("/-/overview.json", "console.overview_json", ["GET"]),
    ("/-/plugins", "console.plugins_page", ["GET"]),
    ("/-/plugins.json", "console.plugins_json", ["GET"]),
    ("/-/plugins/<name>/mute", "console.mute", ["POST"]),
    ("/-/plugins/<name>/unmute", "console.unmute", ["POST"]),
    ("/-/hooks", "console.hooks_page", ["GET"]),
    ("/-/hooks.json", "console.hooks_json", ["GET"]),
    ("/-/calls", "console.calls_page", ["GET"]),
    ("/-/calls.json", "console.calls_json", ["GET"]),
    ("/-/deliveries", "console.deliveries_page", ["GET"]),
    ("/-/deliveries.json", "console.deliveries_json", ["GET"]),
    ("/-/deliveries/retry", "console.deliveries_retry", ["POST"]),
    ("/-/deliveries/purge", "console.deliveries_purge", ["POST"]),
    ("/-/console.js", "console.script", ["GET"]),
    ("/-/console.css", "console.stylesheet", ["GET"]),
]
