"""Scenarios of what Django's own test suite asks of the bridge, one per process:
``python -m tests.djangoproject.fidelity NAME`` prints what it found as JSON.

Partial sends, receivers narrowed to the senders plugins name, and an app
registry rebuilt under a running host (as Django's test runner and
``override_settings(INSTALLED_APPS=...)`` rebuild it).
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.djangoproject.settings"

import django

django.setup()

from django.apps import apps  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core import checks  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

import hosthooks  # noqa: E402
from hosthooks.django.bridge import bridge  # noqa: E402
from hosthooks.django.receivers import describe_receivers  # noqa: E402
from hosthooks.django.signals import built_in_signals  # noqa: E402
from tests.djangoproject import early  # noqa: E402
from tests.djangoproject.library.models import Author  # noqa: E402
from tests.djangoproject.library.models import Book  # noqa: E402
from tests.djangoproject.library.models import Tag  # noqa: E402


def partial_sends() -> dict[str, Any]:
    """Django's partial sends, to a plugin naming every argument, and to a receiver
    connected after the bridge's."""
    call_command("migrate", verbosity=0, run_syncdb=True)
    heard: list[list[Any]] = []

    class Partial:
        @hosthooks.hookimpl
        def setting_changed(self, setting: str, value: Any, enter: bool) -> None:
            heard.append(["setting_changed", setting, value, enter])

        @hosthooks.hookimpl
        def post_migrate(
            self, app_config: Any, verbosity: int, interactive: Any, using: Any, plan: Any
        ) -> None:
            heard.append(["post_migrate", app_config.label, verbosity, interactive, using, plan])

    hosthooks.get_host().register(Partial(), "partial")
    after_the_bridge: list[list[str]] = []

    def plain(signal: Any, sender: Any, **kwargs: Any) -> None:
        after_the_bridge.append(sorted(kwargs))

    signals = built_in_signals()
    for hook in ("setting_changed", "post_migrate"):
        signals[hook].connect(plain, weak=False)
    # As Django's cache tests end an override of CACHES by hand.
    signals["setting_changed"].send(object, setting="CACHES", enter=False)
    # As Django's sites tests send it.
    library = apps.get_app_config("library")
    signals["post_migrate"].send(sender=library, app_config=library, verbosity=0)
    return {"heard": heard, "after_the_bridge": after_the_bridge}


def _bridge_senders(hook: str) -> list[str | None]:
    """The senders the bridge's receiver of ``hook`` is connected for (None: every one)."""
    return [
        receiver["sender"]
        for receiver in describe_receivers(hook)
        if receiver["dispatch_uid"] == f"hosthooks:{hook}"
    ]


def _hosthooks_problems() -> list[list[Any]]:
    return [
        [message.id, message.level, message.msg]
        for message in checks.run_checks()
        if str(message.id).startswith("hosthooks.")
    ]


def _statements(context: CaptureQueriesContext) -> list[str]:
    return [" ".join(query["sql"].split()[:3]) for query in context.captured_queries]


def _listening() -> dict[str, bool]:
    signals = built_in_signals()
    return {
        "pre_delete Book": signals["pre_delete"].has_listeners(Book),
        "pre_delete Author": signals["pre_delete"].has_listeners(Author),
        "pre_delete Tag": signals["pre_delete"].has_listeners(Tag),
        "m2m_changed library.Tag_books": signals["m2m_changed"].has_listeners(Tag.books.through),
        "m2m_changed django_app.Book_tags": signals["m2m_changed"].has_listeners(
            apps.get_model("django_app.Book_tags")
        ),
    }


def narrowed() -> dict[str, Any]:
    """Implementations filtered by sender, and what Django's fast paths make of them."""
    call_command("migrate", verbosity=0, run_syncdb=True)
    host = hosthooks.get_host()
    heard: list[list[Any]] = []

    class Named:
        @hosthooks.hookimpl(sender="library.Book")
        def pre_delete(self, sender: Any, instance: Any) -> None:
            heard.append(["pre_delete", sender._meta.label, instance.title])

        @hosthooks.hookimpl(sender=(Book, "library.Author"))
        def post_save(self, sender: Any, instance: Any) -> None:
            heard.append(["post_save", sender._meta.label])

        # The other app's tags: Django's fast add stays on for the library's.
        @hosthooks.hookimpl(sender="django_app.Book_tags")
        def m2m_changed(self, sender: Any, action: str) -> None:
            heard.append(["m2m_changed", sender._meta.label, action])

    host.register(Named(), "named")
    report: dict[str, Any] = {"listening": _listening()}
    hooks = ("pre_delete", "post_save", "m2m_changed")
    report["receivers"] = {hook: _bridge_senders(hook) for hook in hooks}
    ursula = Author.objects.create(name="Ursula")
    earthsea = Book.objects.create(title="Earthsea", author=ursula)
    Tag.objects.create(name="fantasy")
    Tag.objects.create(name="sea")
    with CaptureQueriesContext(connection) as deleting:
        Tag.objects.filter(name="sea").delete()
    report["tag_delete"] = _statements(deleting)
    fantasy = Tag.objects.get(name="fantasy")
    with CaptureQueriesContext(connection) as adding:
        fantasy.books.add(earthsea)
    report["m2m_add"] = _statements(adding)
    Book.objects.filter(title="Earthsea").delete()

    class Everyone:
        @hosthooks.hookimpl
        def pre_delete(self, sender: Any) -> None:
            heard.append(["pre_delete, any sender", sender._meta.label])

    host.register(Everyone(), "everyone")
    report["listening_with_an_unfiltered_one"] = _listening()
    report["receivers_with_an_unfiltered_one"] = _bridge_senders("pre_delete")
    host.unregister("everyone")
    host.unregister("named")
    report["receivers_after"] = _bridge_senders("pre_delete")
    report["heard"] = heard
    return report


def _receiver_names(hook: str) -> list[str]:
    return [receiver["function"] for receiver in describe_receivers(hook)]


def registry_rebuilt() -> dict[str, Any]:
    """Django rebuilds its app registry twice under the project's host (an app
    joins, then leaves), with the plugins of ``rebuild_plugins`` in strict mode."""
    call_command("migrate", verbosity=0, run_syncdb=True)
    host = hosthooks.get_host()

    def plain(signal: Any, sender: Any, **kwargs: Any) -> None:
        pass

    built_in_signals()["post_migrate"].connect(plain, weak=False)
    report: dict[str, Any] = {
        "problems_before": _hosthooks_problems(),
        "post_migrate_receivers_before": _receiver_names("post_migrate"),
    }
    with override_settings(INSTALLED_APPS=[*settings.INSTALLED_APPS, "django.contrib.admin"]):
        report["same_host"] = hosthooks.get_host() is host and bridge.host is host
        report["post_migrate_receivers_during"] = _receiver_names("post_migrate")
        report["problems_during"] = _hosthooks_problems()
        report["post_save_senders_during"] = _bridge_senders("post_save")
    report["post_migrate_receivers_after"] = _receiver_names("post_migrate")
    heard: list[Any] = list(early.heard_by_plugins)
    in_registry = [cls for cls in heard if cls._meta.apps is apps]
    prepared = Counter(cls._meta.label for cls in in_registry)
    report["prepared_more_than_once"] = sorted(label for label, n in prepared.items() if n > 1)
    prepared_early: list[Any] = list(early.prepared)
    django_order = [cls for cls in prepared_early if cls._meta.apps is apps]
    report["prepared_as_django_did"] = [cls._meta.label for cls in in_registry] == [
        cls._meta.label for cls in django_order
    ]
    report["admin_prepared"] = prepared["admin.LogEntry"]
    return report


SCENARIOS: dict[str, Callable[[], Any]] = {
    "narrowed": narrowed,
    "partial_sends": partial_sends,
    "registry_rebuilt": registry_rebuilt,
}


if __name__ == "__main__":
    print(json.dumps(SCENARIOS[sys.argv[1]]()))
