"""Runs the scenario on Django's ORM (in-memory SQLite) and prints its signals as JSON."""

from __future__ import annotations

import json
from typing import Any

import django
from django.conf import settings

settings.configure(
    INSTALLED_APPS=["tests.comparison.django_app"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
)
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db.models import signals  # noqa: E402

from tests.comparison import scenario  # noqa: E402
from tests.comparison.django_app.models import Author  # noqa: E402
from tests.comparison.django_app.models import Book  # noqa: E402
from tests.comparison.django_app.models import Tag  # noqa: E402

call_command("migrate", run_syncdb=True, verbosity=0)
records: list[Any] = []


def receiver_for(hook: str) -> Any:
    def receiver(sender: Any, **kwargs: Any) -> None:
        kwargs.pop("signal")
        records.append(scenario.normalise(hook, {"sender": sender, **kwargs}))

    return receiver


for hook in scenario.HOOKS:
    getattr(signals, hook).connect(receiver_for(hook), weak=False)
scenario.run(Author, Tag, Book, lambda name: records.append({"step": name}))
print(json.dumps(records))
