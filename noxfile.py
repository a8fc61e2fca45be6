"""The test matrix: every Python from 3.10 to 3.14, Django 5.2 LTS and the newest 6.x.

    .venv/bin/nox -s matrix                    # every job below but the first, one at a time
    .venv/bin/nox -s "matrix(3.13, django 6)"  # one job

| Python | Django     | what runs                                                      |
|--------|------------|----------------------------------------------------------------|
| 3.11   | 5.2        | the whole suite: the README's test command, run by .ci/run     |
| 3.14   | newest 6.x | the whole suite (the deferred-calls fault suite: 3.11's job)   |
| 3.10   | 5.2        | the fast core (below), and the ASGI fault cases of KeyboardInterrupt |
| 3.12   | 5.2        | the fast core                                                  |
| 3.13   | newest 6.x | the fast core                                                  |

The project is built once per run (a wheel of hosthooks and of each example
plugin, with the machine's own Python) and each job installs those wheels into
a throwaway venv of its interpreter, with the Django it tests. pytest puts the
checkout first on ``sys.path`` (``pythonpath = ["."]``), so the tests read the
checkout's modules; the wheels give each venv the distributions (metadata,
entry points, the ``hosthooks`` script) and what they depend on.

Interpreters: ``HOSTHOOKS_PYTHON_3_14`` (and so on for each version) names one;
otherwise pyenv's, and for 3.14 the one ``.ci/python314.sh`` assembles in its
cache. A missing interpreter fails its job when ``CI`` or
``HOSTHOOKS_REQUIRE_SERVICES=1`` is set, and skips it with the reason elsewhere.

The time budget (CI: 90 minutes at most; the aim: well under 60 on 2 cores).
Measured here on a quiet machine: the README's whole suite ~15 min on 3.11
(the deferred-calls fault suite, ~8 min of it, included), the 3.14 whole suite
~11 min, each fast-core job 1-2 min with its venv: about 35 minutes in all,
with ~2 min to assemble 3.14 and build the wheels. What keeps a
slow suite out of the fast core is that the core is a path list
(:data:`FAST_CORE`) run with ``-m "not faults and not slow_suite"``: a suite
of minutes is a module of its own marked ``pytestmark = pytest.mark.faults``
(the deferred-calls fault suite) or ``pytestmark = pytest.mark.slow_suite``
(Django's own tests as a judge, one run per Django version), and never joins
:data:`FAST_CORE`. The whole-suite jobs run everything.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import nox

REPO = Path(__file__).resolve().parent
# Interpreters come from this machine only (no download: the registries are all
# the network there is).
nox.options.download_python = "never"
nox.options.sessions = ["matrix"]

#: The fast core: dispatch, fidelity, pluggy's own suite, async, the model layer, the bridge.
FAST_CORE = (
    # dispatch and fidelity
    "tests/test_dispatch.py",
    "tests/test_dispatch_fidelity.py",
    "tests/test_dispatch_senders.py",
    "tests/test_generated_code_names.py",
    "tests/test_ordering.py",
    "tests/test_host.py",
    # pluggy's own test suite through host.hook
    "tests/test_pluggy_suite.py",
    # async
    "tests/test_async_dispatch.py",
    "tests/test_async_fidelity.py",
    "tests/test_async_django_signals.py",
    # the model layer
    "tests/test_runtime_models.py",
    "tests/test_runtime_instances.py",
    "tests/test_runtime_semantics.py",
    "tests/test_runtime_transactions.py",
    "tests/test_runtime_postgresql.py",
    # the Django bridge
    "tests/test_django_bridge.py",
    "tests/test_bridge_support.py",
    "tests/test_django_comparison.py",
)
#: What the fast core leaves out wherever it is marked.
NOT_SLOW = "not faults and not slow_suite"

DJANGO_5_2 = "django>=5.2,<5.3"
DJANGO_6 = "django>=6,<7"


class Job(NamedTuple):
    python: str
    django: str
    tests: tuple[str, ...]
    #: pytest's -m, if any.
    marks: str | None = None


JOBS = {
    # The whole suite but the deferred-calls fault suite, which one job runs: the
    # README's (its brokers and workers are processes; the interpreter is not what
    # it judges).
    "3.14, django 6": Job("3.14", DJANGO_6, (), "not faults"),
    "3.10, django 5.2": Job("3.10", DJANGO_5_2, FAST_CORE, NOT_SLOW),
    # Python 3.10's asyncio.run leaves SIGINT's default handler in place: a
    # plugin's KeyboardInterrupt under `serve --asgi` is still that plugin's failure.
    "3.10 asgi interrupts, django 5.2": Job(
        "3.10", DJANGO_5_2, ("tests/test_faults.py", "-k", "asgi and interrupt")
    ),
    "3.12, django 5.2": Job("3.12", DJANGO_5_2, FAST_CORE, NOT_SLOW),
    "3.13, django 6": Job("3.13", DJANGO_6, FAST_CORE, NOT_SLOW),
    # Django 6.x's own test suites judging the bridge and the bulk hooks: the 3.14
    # job runs them in CI; this one is the quicker way to run them by hand.
    "3.13 django judges, django 6": Job(
        "3.13", DJANGO_6, ("tests/test_django_suite.py", "tests/test_django_bulk_suite.py")
    ),
}
#: The README's test command: what .ci/run runs first, and this session runs on demand.
README_JOB = Job("3.11", DJANGO_5_2, ())

EXAMPLE_PLUGINS = sorted(str(path) for path in (REPO / "plugins").iterdir() if path.is_dir())


def _strict() -> bool:
    return "CI" in os.environ or os.environ.get("HOSTHOOKS_REQUIRE_SERVICES") == "1"


def find_python(version: str) -> str | None:
    """An interpreter of ``version`` on this machine, or None."""
    named = os.environ.get(f"HOSTHOOKS_PYTHON_{version.replace('.', '_')}")
    if named:
        return named if Path(named).exists() else None
    if version == "3.14":
        cache = os.environ.get("HOSTHOOKS_PYTHON314_CACHE") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
            "hosthooks",
            "python3.14",
        )
        assembled = Path(cache, "current", "usr", "bin", "python3.14")
        if assembled.exists():
            return str(assembled)
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found = sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}"))
    if found:
        return found[-1]
    on_path = shutil.which(f"python{version}")
    # pyenv's shims answer for versions pyenv has but does not put on the PATH.
    if on_path and "/shims/" not in on_path:
        return on_path
    return None


_wheels: list[str] = []


def wheels(session: nox.Session) -> list[str]:
    """The project's wheel and each example plugin's, built once per nox run."""
    if _wheels:
        return _wheels
    out = REPO / ".nox" / "wheels"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    session.log("building the wheels once for every job")
    session.run(
        sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO), silent=True
    )
    session.run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--no-deps",
        "--wheel-dir",
        str(out),
        *EXAMPLE_PLUGINS,
    )
    _wheels.extend(sorted(str(path) for path in out.glob("*.whl")))
    return _wheels


def run_job(session: nox.Session, name: str, job: Job) -> None:
    python = find_python(job.python)
    if python is None:
        variable = f"HOSTHOOKS_PYTHON_{job.python.replace('.', '_')}"
        reason = f"no Python {job.python} on this machine (set {variable} to one)"
        if _strict():
            session.error(reason)
        session.skip(reason)
    built = wheels(session)
    venv = REPO / ".nox" / "venvs" / name.replace(", ", "-").replace(" ", "-")
    shutil.rmtree(venv, ignore_errors=True)
    session.run(python, "-m", "venv", str(venv), external=True)
    venv_python = str(venv / "bin" / "python")
    version = subprocess.run(
        [venv_python, "-c", "import sys; print(sys.version.split()[0])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    session.log(f"{name}: Python {version} at {python}")
    [project] = [wheel for wheel in built if Path(wheel).name.startswith("hosthooks-")]
    plugins = [wheel for wheel in built if wheel != project]
    session.run(
        venv_python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        f"{project}[test]",
        *plugins,
        job.django,
        external=True,
    )
    marks = ["-m", job.marks] if job.marks else []
    session.run(
        venv_python, "-m", "pytest", "-p", "no:cacheprovider", *marks, *job.tests, external=True
    )


@nox.session(python=False)
@nox.parametrize("name", list(JOBS), ids=list(JOBS))
def matrix(session: nox.Session, name: str) -> None:
    """One job of the matrix (see the table above)."""
    run_job(session, name, JOBS[name])


@nox.session(python=False, name="readme")
def readme(session: nox.Session) -> None:
    """The README's job (Python 3.11, Django 5.2, the whole suite) from the wheels,
    as the matrix's jobs run; .ci/run runs the README's own command instead."""
    run_job(session, "3.11, django 5.2", README_JOB)
