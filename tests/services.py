"""The services some tests talk to: PostgreSQL, Redis, RabbitMQ on 127.0.0.1.

A test that needs one calls :func:`need_service`: when it is unreachable the
test is skipped with the reason, unless ``HOSTHOOKS_REQUIRE_SERVICES=1`` (set by
CI), which makes it a failure.
"""

from __future__ import annotations

import os
import socket

import pytest

POSTGRESQL_PORT = 5432
REDIS_PORT = 6379
RABBITMQ_PORT = 5672


def reachable(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def need_service(name: str, port: int) -> None:
    """Skip (or, under ``HOSTHOOKS_REQUIRE_SERVICES=1``, fail) unless ``name`` answers on ``port``."""
    if reachable(port):
        return
    reason = f"{name} is not reachable on 127.0.0.1:{port}"
    if os.environ.get("HOSTHOOKS_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason}, and HOSTHOOKS_REQUIRE_SERVICES=1 requires it")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
