"""Small fixtures: a fresh host with no autoload, and a plugin that records every call."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import hosthooks
from hosthooks import Host
from hosthooks import hookimpl
from hosthooks import specs


class Recorder:
    """A plugin implementing every built-in hook, recording (hook, arguments) in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def record(self, hook: str, arguments: dict[str, Any]) -> None:
        """Called by every implementation; subclasses may keep something else."""
        self.calls.append((hook, arguments))

    def named(self, hook: str) -> list[dict[str, Any]]:
        return [arguments for name, arguments in self.calls if name == hook]

    def hooks(self) -> list[str]:
        return [name for name, _ in self.calls]


def _make_recording_impl(hook_name: str, argnames: tuple[str, ...]) -> Any:
    # pluggy passes the arguments an implementation names, so the recorder's
    # implementations must name every argument of the spec.
    params = ", ".join(argnames)
    namespace: dict[str, Any] = {}
    exec(
        f"def {hook_name}(self, {params}):\n"
        f"    self.record({hook_name!r}, {{{', '.join(f'{n!r}: {n}' for n in argnames)}}})\n",
        namespace,
    )
    return hookimpl(namespace[hook_name])


def _install_recording_impls() -> None:
    host = Host()
    for module in specs.FAMILIES.values():
        for name in specs.hook_names(module):
            spec = getattr(host.plugin_manager.hook, name).spec
            setattr(Recorder, name, _make_recording_impl(name, (*spec.argnames, *spec.kwargnames)))


_install_recording_impls()


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
