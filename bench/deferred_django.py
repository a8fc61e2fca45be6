"""Under Django: what a deferred call costs the caller, beside Celery's own
``delay_on_commit``, measured the same way: a save in its own
``transaction.atomic()`` with the call, minus the same save without it.

Run by ``python -m bench.deferred`` in a process of its own (Django is set up
once per process): ``python -m bench.deferred_django --database URL|PATH
--broker URL [--rounds 5] [--calls 300]`` prints JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any


def _setup(database: str, broker: str) -> None:
    import django
    from django.conf import settings

    if database.startswith("postgresql://"):
        name = database.rsplit("/", 1)[1]
        engine: dict[str, Any] = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": "postgres",
            "HOST": "127.0.0.1",
            "PORT": "5432",
        }
    else:
        engine = {"ENGINE": "django.db.backends.sqlite3", "NAME": database}
    settings.configure(
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "hosthooks.django",
            "bench.deferred_django_app",
        ],
        DATABASES={"default": engine},
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        USE_TZ=True,
        HOSTHOOKS={"autoload": False, "broker_url": broker, "queue_backend": "celery"},
    )
    django.setup()


def measure(database: str, broker: str, rounds: int, calls: int) -> dict[str, float]:
    """Median microseconds per save in its own transaction: plain, with a deferred
    implementation, with a receiver calling Celery's ``delay_on_commit``."""
    _setup(database, broker)
    from celery import Celery
    from django.core.management import call_command
    from django.db import connection
    from django.db import transaction
    from django.db.models.signals import post_save

    from bench.deferred_django_app.models import Entry
    from hosthooks import hookimpl
    from hosthooks.django.bridge import bridge

    call_command("migrate", verbosity=0, run_syncdb=True)
    if connection.vendor == "sqlite":
        # As bench.deferred: the commit's fsync, alike for every contender, left out.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous = OFF")
    host = bridge.host
    assert host is not None
    queue = f"bench-{uuid.uuid4().hex[:10]}"
    app = Celery(
        "bench",
        broker=broker,
        task_cls="celery.contrib.django.task:DjangoTask",
        set_as_current=False,
    )

    # Routed to the run's own queue, removed after.
    @app.task(name="bench.entry_saved", ignore_result=True, queue=queue)  # type: ignore[untyped-decorator]
    def entry_saved(pk: int) -> None:
        return None

    class Deferred:
        @hookimpl(defer=True, queue=queue)
        def post_save(self, sender: Any, created: bool) -> None:
            return None

    def on_save(sender: Any, instance: Any, **kwargs: Any) -> None:
        entry_saved.delay_on_commit(instance.pk)

    def save() -> None:
        with transaction.atomic():
            Entry.objects.create(title="entry")

    def register() -> None:
        host.register(Deferred(), "deferred_bench")

    contenders: dict[str, tuple[Callable[[], None], Callable[[], None]]] = {
        "plain": (lambda: None, lambda: None),
        "deferred": (register, lambda: host.unregister("deferred_bench")),
        "delay_on_commit": (
            lambda: post_save.connect(on_save, sender=Entry, dispatch_uid="bench"),
            # The sender too: Django finds a receiver by dispatch_uid and sender, and
            # without it nothing was disconnected (every later save sent a task).
            lambda: post_save.disconnect(sender=Entry, dispatch_uid="bench"),
        ),
    }
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    try:
        for round_number in range(rounds + 1):
            for name, (enter, leave) in contenders.items():
                enter()
                try:
                    started = time.perf_counter()
                    for _ in range(calls):
                        save()
                    elapsed = time.perf_counter() - started
                finally:
                    leave()
                if round_number:  # the first round opens connections: not timed
                    samples[name].append(elapsed / calls * 1e6)
        sent = _messages_in(broker, queue)
    finally:
        from bench.deferred import _delete_queue

        _delete_queue(broker, queue)
    # Only delay_on_commit's saves send: a receiver left connected would time
    # Celery's send in every contender.
    if sent != (rounds + 1) * calls:
        raise RuntimeError(f"{sent} tasks sent to the broker, not {(rounds + 1) * calls}")
    return {name: statistics.median(values) for name, values in samples.items()}


def _messages_in(broker: str, queue: str) -> int:
    from kombu.connection import Connection

    # kombu ships no type information.
    with Connection(broker, connect_timeout=5) as connection:  # type: ignore[no-untyped-call]
        declared = connection.default_channel.queue_declare(queue, passive=True)
        return int(declared.message_count)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--database", required=True)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.database, args.broker, args.rounds, args.calls)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
