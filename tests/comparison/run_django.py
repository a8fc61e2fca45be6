"""Runs the scenario on Django's ORM and prints its signals as JSON.

On in-memory SQLite, or on the PostgreSQL database whose URL is in
``COMPARISON_DATABASE_URL`` (``postgresql://user@host:port/name``).
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlsplit

import django
from django.conf import settings


def database_settings() -> dict[str, Any]:
    url = os.environ.get("COMPARISON_DATABASE_URL")
    if not url:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    parts = urlsplit(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/"),
        "USER": parts.username,
        "HOST": parts.hostname,
        "PORT": parts.port,
    }


settings.configure(
    INSTALLED_APPS=["tests.comparison.django_app"],
    DATABASES={"default": database_settings()},
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
