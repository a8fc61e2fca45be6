"""Entry-point discovery for real: plugins installed with pip into a throwaway virtual environment."""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.serving import SERVERS
from tests.serving import serving
from tests.venvs import Venv

REPO = Path(__file__).resolve().parent.parent
SETUP_EXAMPLES = {
    "setuptools-pyproject": ("hosthooks-example-setuptools", "example-setuptools"),
    "hatchling": ("hosthooks-example-hatchling", "example-hatchling"),
    "flit": ("hosthooks-example-flit", "example-flit"),
    "poetry": ("hosthooks-example-poetry", "example-poetry"),
    "setup-cfg": ("hosthooks-example-setup-cfg", "example-setup-cfg"),
    "setup-py": ("hosthooks-example-setup-py", "example-setup-py"),
}


@pytest.fixture(scope="module")
def venv(tmp_path_factory, hosthooks_wheel) -> Venv:
    """A fresh virtual environment with hosthooks installed from its wheel (not editable)."""
    return Venv.create(tmp_path_factory.mktemp("venv"), hosthooks_wheel)


def make_distribution(
    root: Path,
    dist: str,
    module: str,
    entry_point: str,
    source: str,
    dependencies: tuple[str, ...] = ("hosthooks",),
) -> Path:
    project = root / dist
    project.mkdir()
    (project / "pyproject.toml").write_text(
        textwrap.dedent(f"""
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{dist}"
        version = "2.3.4"
        dependencies = {json.dumps(list(dependencies))}

        [project.entry-points.hosthooks]
        {entry_point} = "{module}"

        [tool.setuptools]
        py-modules = ["{module}"]
    """)
    )
    (project / f"{module}.py").write_text(textwrap.dedent(source))
    return project


def test_pip_installed_plugins_are_found_and_a_broken_one_is_isolated(venv, tmp_path):
    good = make_distribution(
        tmp_path,
        "hosthooks-good",
        "good_plugin",
        "good",
        """
        from hosthooks import hookimpl

        @hookimpl
        def post_save(sender, instance, created):
            pass
    """,
    )
    broken = make_distribution(
        tmp_path,
        "hosthooks-broken",
        "broken_plugin",
        "broken",
        "import this_module_does_not_exist\n",
    )
    venv.pip_install(good, broken)

    listed = venv.hosthooks("plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    plugins = {plugin["name"]: plugin for plugin in json.loads(listed.stdout)}
    assert plugins["good"] == {
        "name": "good",
        "dist": "hosthooks-good",
        "version": "2.3.4",
        "source": "entry-point",
        "status": "active",
        "error": None,
        "hooks": ["post_save"],
        "settings": None,
        "requires": "hosthooks",
        "compatible": True,
        "location": plugins["good"]["location"],
        "problems": [],
        "muted": False,
        "muted_by": None,
        "muted_until": None,
    }
    assert plugins["good"]["location"].startswith(str(venv.root))
    assert plugins["good"]["location"].endswith("/site-packages/good_plugin.py")
    assert plugins["broken"]["status"] == "failed"
    assert plugins["broken"]["dist"] == "hosthooks-broken"
    assert (
        plugins["broken"]["error"]
        == "ModuleNotFoundError: No module named 'this_module_does_not_exist'"
    )

    shown = venv.hosthooks("hooks", "post_save")
    assert shown.returncode == 0, shown.stderr
    assert "1. good: good_plugin.post_save" in shown.stdout

    checked = venv.hosthooks("check")
    assert checked.returncode == 1
    assert checked.stdout.splitlines() == [
        "broken: ModuleNotFoundError: No module named 'this_module_does_not_exist'"
    ]

    blocked = venv.hosthooks("--disable-plugins", "broken", "check")
    assert blocked.returncode == 0, blocked.stdout


def test_a_plugin_made_for_another_hosthooks_is_refused_before_import(venv, tmp_path):
    imported = tmp_path / "imported"
    source = f"""
        from pathlib import Path
        Path({str(imported)!r}).write_text("imported")
        from hosthooks import hookimpl

        @hookimpl
        def post_save(sender):
            pass
    """
    future = make_distribution(
        tmp_path,
        "hosthooks-future",
        "future_plugin",
        "future",
        source,
        dependencies=("hosthooks>=99", "hosthooks-other; extra == 'x'"),
    )
    current = make_distribution(
        tmp_path,
        "hosthooks-current",
        "current_plugin",
        "current",
        "from hosthooks import hookimpl\n",
        # The requirement for an extra is not the plugin's requirement on this host.
        dependencies=("hosthooks>=0.1,<1", "hosthooks>=99; extra == 'future'"),
    )
    # Without --no-deps pip would look for a hosthooks 99 and refuse the install.
    venv.pip_install(future, current, no_deps=True)
    try:
        listed = venv.hosthooks("plugins", "--json")
        assert listed.returncode == 0, listed.stderr
        plugins = {plugin["name"]: plugin for plugin in json.loads(listed.stdout)}
        version = subprocess.run(
            [str(venv.bin / "hosthooks"), "--version"], capture_output=True, text=True, check=True
        ).stdout.split()[-1]
        assert plugins["future"]["status"] == "failed"
        assert plugins["future"]["requires"] == "hosthooks>=99"
        assert plugins["future"]["compatible"] is False
        assert plugins["future"]["error"] == (
            f"IncompatiblePlugin: requires hosthooks>=99, but hosthooks {version} is installed"
        )
        assert not imported.exists()
        assert plugins["current"]["status"] == "active"
        assert plugins["current"]["requires"] == "hosthooks<1,>=0.1"
        assert plugins["current"]["compatible"] is True
        checked = venv.hosthooks("check")
        assert checked.returncode == 1
        assert (
            "future: IncompatiblePlugin: requires hosthooks>=99, "
            f"but hosthooks {version} is installed"
        ) in checked.stdout.splitlines()
    finally:
        venv.pip_uninstall("hosthooks-future", "hosthooks-current")


def test_install_and_uninstall_run_pip_then_show_what_changed(venv, tmp_path):
    plugin = make_distribution(
        tmp_path,
        "hosthooks-installed",
        "installed_plugin",
        "installed",
        "from hosthooks import hookimpl\n\n@hookimpl\ndef post_save(sender):\n    pass\n",
    )
    installed = venv.hosthooks("install", str(plugin))
    assert installed.returncode == 0, installed.stderr
    assert installed.stdout.splitlines() == ["added: installed (hosthooks-installed 2.3.4) active"]
    again = venv.hosthooks("install", str(plugin))
    assert again.stdout.splitlines() == [
        "hosthooks: install: no plugin appeared, disappeared or changed"
    ]
    removed = venv.hosthooks("uninstall", "hosthooks-installed")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.splitlines() == ["removed: installed (hosthooks-installed 2.3.4)"]

    missing = tmp_path / "no-such-project"
    failed = venv.hosthooks("install", str(missing))
    assert failed.returncode == 1
    last = failed.stderr.strip().splitlines()[-1]
    assert last.startswith("hosthooks: error: pip failed: ERROR: ")
    assert str(missing) in last
    assert failed.stdout == ""


def test_the_example_plugin_declared_every_common_way_is_found(venv, tmp_path):
    # Copied first: setuptools builds in the source tree and would leave build/ behind.
    examples = tmp_path / "setup_examples"
    shutil.copytree(REPO / "setup_examples", examples)
    venv.pip_install(*(examples / folder for folder in SETUP_EXAMPLES))
    listed = venv.hosthooks("plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    plugins = {plugin["name"]: plugin for plugin in json.loads(listed.stdout)}
    for folder, (dist, entry_point) in SETUP_EXAMPLES.items():
        plugin = plugins.get(entry_point)
        assert plugin is not None, f"{folder}: {entry_point} not listed"
        assert plugin["status"] == "active", (folder, plugin)
        assert plugin["dist"] == dist, folder
        assert plugin["version"] == "1.0.0", folder
        assert plugin["hooks"] == ["post_save"], folder


@pytest.mark.parametrize("kind", SERVERS)
def test_a_non_editable_install_serves_the_demo_app(venv, tmp_path, kind):
    # Templates are package data: a wheel without them would fail here, not in a checkout.
    with serving(tmp_path, executable=venv.bin / "hosthooks", kind=kind) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("GET", "/signup")
        response = connection.getresponse()
        body = response.read().decode()
        connection.close()
    assert response.status == 200
    assert 'name="csrf_token"' in body


#: Run in the throwaway environment: the scanner against importlib.metadata, every group.
_SAME_AS_IMPORTLIB_METADATA = """
import importlib.metadata, json
from hosthooks.loading import installed
groups = {p.group for d in importlib.metadata.distributions() for p in d.entry_points}
for group in sorted(groups):
    expected = [
        [p.name, p.value, p.dist.metadata["Name"], p.dist.metadata["Version"],
         list(p.dist.metadata.get_all("Requires-Dist") or ())]
        for p in importlib.metadata.entry_points(group=group)
    ]
    found = [
        [e.point.name, e.point.value, e.dist, e.version, list(e.requires)]
        for e in installed.scan(group)
    ]
    assert found == expected, (group, found, expected)
print(json.dumps(sorted(groups)))
"""


def test_editable_and_develop_installs_are_found_as_importlib_metadata_finds_them(venv, tmp_path):
    editable = make_distribution(
        tmp_path,
        "hosthooks-editable",
        "editable_plugin",
        "editable",
        "from hosthooks import hookimpl\n",
    )
    # What `setup.py develop` leaves: the project's folder on sys.path through a
    # .pth file, its .egg-info inside it, and an .egg-link naming it.
    develop = tmp_path / "develop"
    develop.mkdir()
    (develop / "develop_plugin.py").write_text("from hosthooks import hookimpl\n")
    info = develop / "hosthooks_develop.egg-info"
    info.mkdir()
    (info / "PKG-INFO").write_text(
        "Metadata-Version: 2.1\nName: hosthooks-develop\nVersion: 0.5\nRequires-Dist: hosthooks\n"
    )
    (info / "entry_points.txt").write_text("[hosthooks]\ndevelop = develop_plugin\n")
    # A second copy of the same distribution later on the path: importlib.metadata
    # (and so hosthooks) sees only the first.
    shadowed = tmp_path / "shadowed" / "hosthooks_develop-9.0.dist-info"
    shadowed.mkdir(parents=True)
    (shadowed / "METADATA").write_text("Name: hosthooks-develop\nVersion: 9.0\n")
    (shadowed / "entry_points.txt").write_text("[hosthooks]\nshadowed = develop_plugin\n")
    venv.pip_install("-e", editable)
    [site] = venv.root.glob("lib/python*/site-packages")
    (site / "hosthooks-develop.egg-link").write_text(f"{develop}\n.")
    (site / "zz-develop.pth").write_text(f"{develop}\n{shadowed.parent}\n")
    try:
        compared = venv.run("python", "-c", _SAME_AS_IMPORTLIB_METADATA)
        assert compared.returncode == 0, compared.stderr
        assert "hosthooks" in json.loads(compared.stdout)
        listed = venv.hosthooks("plugins", "--json")
        assert listed.returncode == 0, listed.stderr
        plugins = {plugin["name"]: plugin for plugin in json.loads(listed.stdout)}
        assert plugins["editable"]["status"] == "active"
        assert plugins["editable"]["dist"] == "hosthooks-editable"
        assert (plugins["develop"]["dist"], plugins["develop"]["version"]) == (
            "hosthooks-develop",
            "0.5",
        )
        assert plugins["develop"]["status"] == "active"
        assert "shadowed" not in plugins
    finally:
        (site / "zz-develop.pth").unlink()
        (site / "hosthooks-develop.egg-link").unlink()
        venv.pip_uninstall("hosthooks-editable")
