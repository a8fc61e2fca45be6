"""Small fixtures: a fresh host with no autoload, and a plugin that records every call."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import hosthooks
from hosthooks import Host
from hosthooks.hook_calls import HookCalls
from tests.venvs import build_wheel


class Recorder(HookCalls):
    """The public recorder, called in plain order (after tryfirst implementations),
    which the runtime's tests compare call by call."""

    def __init__(self) -> None:
        super().__init__(tryfirst=False)


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
