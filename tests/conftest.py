"""Small fixtures: a fresh host with no autoload, and a plugin that records every call."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

import hosthooks
from hosthooks import Host
from hosthooks.authoring.hook_calls import HookCalls
from tests.databases import BACKENDS
from tests.databases import empty_schema
from tests.databases import scratch_postgresql_database
from tests.services import POSTGRESQL_PORT
from tests.services import need_service
from tests.serving import TEST_SCRYPT_N
from tests.venvs import build_wheel

#: The keys of each plugin in ``hosthooks plugins --json`` (the CLI's contract;
#: additions never remove keys).
PLUGIN_JSON_KEYS = frozenset(
    {
        "name",
        "dist",
        "version",
        "source",
        "status",
        "error",
        "hooks",
        "settings",
        "requires",
        "compatible",
        "location",
        "problems",
        "muted",
        "muted_by",
        "muted_until",
    }
)


def pytest_configure(config: pytest.Config) -> None:
    # Started in the background of a script (`cmd &`, no job control), the suite
    # inherits SIGINT ignored, and so would every server it starts: an ignored
    # SIGINT stays ignored across exec, and Python then installs no Ctrl-C
    # handler. The tests stop servers with SIGINT and expect them to stop, so
    # the suite takes Python's own handler, which its children start without.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


class Recorder(HookCalls):
    """The public recorder, called in plain order (after tryfirst implementations),
    which the runtime's tests compare call by call."""

    def __init__(self) -> None:
        super().__init__(tryfirst=False)


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Passwords hashed at TEST_SCRYPT_N in this process too (the default costs ~0.5 s)."""
    monkeypatch.setenv("HOSTHOOKS_PASSWORD_SCRYPT_N", TEST_SCRYPT_N)


@pytest.fixture(scope="session")
def hosthooks_wheel(tmp_path_factory) -> Path:
    """hosthooks' wheel, built once per test session for the throwaway environments."""
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture
def host() -> Host:
    """A host with every hookspec and no plugins."""
    return Host()


@pytest.fixture
def recorder(host: Host) -> Recorder:
    """A Recorder registered on ``host``."""
    plugin = Recorder()
    host.register(plugin, "recorder")
    return plugin


@pytest.fixture
def default_host(host: Host) -> Iterator[Host]:
    """``host`` made the process-wide default (what the runtime fires through)."""
    hosthooks.set_default_host(host)
    yield host
    hosthooks.set_default_host(None)


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    """The URL of a PostgreSQL database made for this test run (dropped at its end)."""
    need_service("PostgreSQL", POSTGRESQL_PORT)
    with scratch_postgresql_database() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def database_location(request, tmp_path) -> Iterator[str]:
    """Where a test's database lives: a SQLite file, then an empty PostgreSQL database."""
    if request.param == "sqlite":
        yield str(tmp_path / "app.sqlite3")
        return
    url: str = request.getfixturevalue("postgresql_url")
    empty_schema(url)
    yield url
