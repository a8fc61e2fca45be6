"""The Celery side of deferred calls: the app, its one task, and the worker.

Delivery is at least once: tasks are acknowledged after they run
(``acks_late``) and given back when the worker running them is lost
(``reject_on_worker_lost``). RabbitMQ redelivers such a task as soon as the
connection drops; Redis after the visibility timeout
(``queue_visibility_timeout``).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence
from typing import Any
from typing import Final

from celery import Celery
from celery import Task

from hosthooks.deferred import runner
from hosthooks.deferred.events import DEFAULT_QUEUE

TASK_NAME: Final = "hosthooks.deferred.run"

logger: Final = logging.getLogger("hosthooks.deferred")


def make_celery_app(broker_url: str, visibility_timeout: int) -> Celery:
    """A Celery app for deferred calls on ``broker_url``, with the run task registered."""
    app = Celery("hosthooks", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One task at a time per worker thread: a lost worker gives back no more
        # than it was running.
        worker_prefetch_multiplier=1,
        broker_transport_options={
            "visibility_timeout": visibility_timeout,
            # Redis gives back a lost worker's tasks in periodic sweeps; by
            # default one every 100 s, whatever the timeout. Sweep often enough
            # that redelivery follows the timeout closely.
            "unacked_restore_interval": max(1, min(10, visibility_timeout // 2)),
            "unacked_restore_throttle": 1,
        },
        broker_connection_retry_on_startup=True,
        task_default_queue=DEFAULT_QUEUE,
        worker_hijack_root_logger=False,
    )

    @app.task(  # type: ignore[untyped-decorator]
        name=TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True
    )
    def run_deferred(task: Task, message: dict[str, Any]) -> None:
        from hosthooks.host import get_host

        attempt = task.request.retries + 1
        try:
            runner.run(get_host(), message, attempt)
        except LookupError:
            # Retrying cannot make a missing implementation appear.
            logger.exception("deferred %s: dropped", message.get("event_id"))
        except Exception as error:
            if attempt > message["retries"]:
                logger.error(
                    "deferred %s by plugin %r, event %s: gave up after %d attempts",
                    message["hook"],
                    message["plugin"],
                    message["event_id"],
                    attempt,
                )
                return
            raise task.retry(
                countdown=runner.backoff(attempt), max_retries=message["retries"], exc=error
            ) from None

    return app


def run_worker(
    broker_url: str, visibility_timeout: int, queues: Sequence[str], concurrency: int
) -> None:
    """Consume ``queues`` until stopped (SIGTERM or Ctrl-C: a warm shutdown).

    Runs in threads of this one process, so a worker killed with ``-9`` leaves
    no orphan running a task the broker will give to another worker.
    """
    app = make_celery_app(broker_url, visibility_timeout)
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
    worker.start()
