"""A pytest plugin that runs pluggy's own test suite through hosthooks hosts.

Loaded with ``-p tests.pluggy_bridge`` into a pytest run over the ``testing/``
directory of pluggy's sdist (see ``test_pluggy_suite.py``). Before pluggy's
tests import it, ``pluggy.PluginManager`` becomes a
:class:`~hosthooks.engine.callers.HostPluginManager` that builds a :class:`~hosthooks.Host`
around itself with the test's own project name and no hookspecs of ours. So
every plugin manager the tests make (the ``pm`` fixture's, the ones they
construct, the subclasses they define) belongs to a real host, and every
``pm.hook.<name>(...)`` goes through it.

``HOSTHOOKS_PLUGGY_MODE`` chooses what ``pm.hook`` is:

- ``routed``: the manager's own relay of pluggy ``HookCaller`` objects, whose
  calls run the host's live callers (``host.hook.<name>``);
- ``shared``: ``host.hook`` itself, so pluggy's manager registers, verifies and
  calls through hosthooks' live callers alone.

At the end of the session the number of hosts made is written to the file
named by ``HOSTHOOKS_PLUGGY_REPORT``, so the caller can tell the hosts were used.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pluggy
import pytest

from hosthooks import Host
from hosthooks import HostPluginManager

MODE = os.environ["HOSTHOOKS_PLUGGY_MODE"]
if MODE not in ("routed", "shared"):
    raise ValueError(f"HOSTHOOKS_PLUGGY_MODE must be routed or shared, not {MODE!r}")

hosts_made = 0


class PluginManager(HostPluginManager):
    """What pluggy's tests get for ``pluggy.PluginManager``: a host's plugin manager."""

    def __init__(self, project_name: str) -> None:
        global hosts_made
        super().__init__(project_name)
        self.host = Host(plugin_manager=self, specs=())
        if MODE == "shared":
            # Before any hookspec is added, so pluggy creates every caller on it.
            object.__setattr__(self, "hook", self.host.hook)
            assert vars(self)["hook"] is self.host.hook
        hosts_made += 1


pluggy.PluginManager = PluginManager  # type: ignore[misc]


def pytest_sessionfinish(session: pytest.Session) -> None:
    report = os.environ.get("HOSTHOOKS_PLUGGY_REPORT")
    if report:
        Path(report).write_text(json.dumps({"mode": MODE, "hosts": hosts_made}))
