"""The Celery side of deferred calls: the app, its one task, and the worker.

A Celery message is a nudge, not the call: it carries the event ids of one or
more calls and their database alias, and the calls stay in the outbox. The
worker takes them there (``sent`` to ``running``, one statement) before it
runs them, so a message delivered twice runs its calls once, and acknowledges the message as it
starts (not ``acks_late``): a broker never gives a healthy run, however long,
to a second worker. What the broker no longer guards, the outbox does: a
running call's lease is renewed by its worker every 10 seconds, and a call
whose lease lapses (its worker was killed) is sent again by the relay, so it
runs again within a minute, on Redis as on RabbitMQ.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import Final

from celery import Celery
from celery import Task

from hosthooks.deferred.events import DEFAULT_QUEUE
from hosthooks.deferred.events import TASK_NAME
from hosthooks.deferred.outbox import RUNNING_LEASE
from hosthooks.deferred.outbox import Outbox
from hosthooks.deferred.runner import deliver_many

#: Seconds a connection to the broker may take to open or to answer: a broker
#: that accepts connections and never answers must not hold the relay for long.
BROKER_TIMEOUT: Final = 5.0

logger: Final = logging.getLogger("hosthooks.deferred")


class WorkerState:
    """What the task needs in a worker process: the outboxes by alias, and the
    calls running now (whose leases the worker renews)."""

    def __init__(self, outboxes: Mapping[str | None, Outbox]) -> None:
        self.outboxes = dict(outboxes)
        self.running: dict[str | None, set[str]] = {alias: set() for alias in self.outboxes}

    def outbox(self, using: str | None) -> Outbox:
        try:
            return self.outboxes[using]
        except KeyError:
            if using is None or using == "default":
                for alias in (None, "default"):
                    if alias in self.outboxes:
                        return self.outboxes[alias]
            raise


_state: WorkerState | None = None


def make_celery_app(broker_url: str, visibility_timeout: int) -> Celery:
    """A Celery app for deferred calls on ``broker_url``, with the run task registered."""
    app = Celery("hosthooks", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        # Acknowledged as it starts: the outbox, not the broker, brings back a
        # call whose worker was lost (see the module's docstring).
        task_acks_late=False,
        worker_prefetch_multiplier=4,
        broker_transport_options={
            "visibility_timeout": visibility_timeout,
            "socket_timeout": BROKER_TIMEOUT,
            "socket_connect_timeout": BROKER_TIMEOUT,
        },
        broker_connection_timeout=BROKER_TIMEOUT,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        # The relay retries on its own schedule, the outbox keeping the call.
        task_publish_retry=False,
        task_default_queue=DEFAULT_QUEUE,
        worker_hijack_root_logger=False,
    )

    @app.task(name=TASK_NAME, bind=True)  # type: ignore[untyped-decorator]
    def run_deferred(task: Task, nudge: dict[str, Any]) -> None:
        from hosthooks.host import get_host

        state = _state
        if state is None:
            logger.error("deferred call %s reached a process that is no worker", nudge)
            return
        using = nudge.get("using")
        event_ids = [str(event_id) for event_id in nudge.get("event_ids", ())]
        try:
            outbox = state.outbox(using)
        except KeyError:
            logger.error(
                "deferred calls %s are in database %r, which this worker does not have",
                ", ".join(event_ids),
                using,
            )
            return
        deliver_many(get_host(), outbox, event_ids, running=state.running[outbox.using])

    return app


def _renew_leases(state: WorkerState, stop: threading.Event) -> None:
    while not stop.wait(RUNNING_LEASE / 3):
        for alias, running in state.running.items():
            event_ids = list(running)
            if not event_ids:
                continue
            try:
                state.outboxes[alias].renew(event_ids)
            except Exception:
                logger.exception("renewing the leases of running deferred calls failed")


def run_worker(
    broker_url: str,
    visibility_timeout: int,
    queues: Sequence[str],
    concurrency: int,
    outboxes: Mapping[str | None, Outbox],
    *,
    relay: bool = True,
) -> None:
    """Consume ``queues`` until stopped (SIGTERM or Ctrl-C: a warm shutdown), and,
    with ``relay``, relay the outboxes' due calls to the broker meanwhile.

    Runs in threads of this one process, so a worker killed with ``-9`` leaves
    no orphan running a call.
    """
    global _state
    state = WorkerState(outboxes)
    _state = state
    app = make_celery_app(broker_url, visibility_timeout)
    stop = threading.Event()
    threading.Thread(
        target=_renew_leases, args=(state, stop), name="hosthooks-leases", daemon=True
    ).start()
    if relay:
        from hosthooks.deferred.relay import Relay
        from hosthooks.host import get_host

        config = get_host().config
        the_relay = Relay(app, list(outboxes.values()), keep=config.deliveries_keep)
        threading.Thread(
            target=the_relay.run, args=(stop,), name="hosthooks-relay", daemon=True
        ).start()
    worker = app.Worker(
        queues=list(queues),
        concurrency=concurrency,
        pool="threads",
        loglevel="INFO",
        hostname=f"hosthooks-{os.getpid()}@{socket.gethostname()}",
        without_gossip=True,
        without_mingle=True,
        without_heartbeat=True,
    )
    try:
        worker.start()
    finally:
        stop.set()
