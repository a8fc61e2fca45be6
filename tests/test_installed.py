"""The entry-point scanner finds what importlib.metadata finds: same entry points,
same order, same winner when a distribution is present twice, same metadata."""

from __future__ import annotations

import importlib.metadata
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from hosthooks.loading import installed
from hosthooks.loading.installed import EntryPoint
from tests.probes import run_probe


def reference(group: str) -> list[tuple[object, ...]]:
    """What importlib.metadata says of ``group``, in the scanner's shape."""
    found: list[tuple[object, ...]] = []
    for point in importlib.metadata.entry_points(group=group):
        metadata = point.dist.metadata if point.dist is not None else None
        found.append(
            (
                point.name,
                point.value,
                metadata["Name"] if metadata else None,
                metadata["Version"] if metadata else None,
                tuple(metadata.get_all("Requires-Dist") or ()) if metadata else (),
            )
        )
    return found


def scanned(group: str) -> list[tuple[object, ...]]:
    return [
        (entry.point.name, entry.point.value, entry.dist, entry.version, entry.requires)
        for entry in installed.scan(group)
    ]


def dist_info(
    site: Path,
    folder: str,
    metadata: str,
    entry_points: str | None = None,
    metadata_file: str = "METADATA",
) -> Path:
    info = site / folder
    info.mkdir(parents=True)
    (info / metadata_file).write_text(textwrap.dedent(metadata).lstrip())
    if entry_points is not None:
        (info / "entry_points.txt").write_text(textwrap.dedent(entry_points).lstrip())
    return info


@pytest.fixture
def sites(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """Two site directories alone on sys.path, first one first."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    monkeypatch.setattr(sys, "path", [str(first), str(tmp_path / "missing"), str(second)])
    return first, second


def test_what_is_found_in_this_environment_is_what_importlib_metadata_finds():
    groups = {
        point.group for dist in importlib.metadata.distributions() for point in dist.entry_points
    }
    assert {"hosthooks", "console_scripts", "pytest11"} <= groups
    for group in sorted(groups):
        assert scanned(group) == reference(group), group


def test_tricky_layouts_are_read_as_importlib_metadata_reads_them(sites):
    first, second = sites
    dist_info(
        first,
        "Folded_Name-1.0.dist-info",
        """
        Metadata-Version: 2.1
        Name: Folded.Name
        Version: 1.0
        Summary: a summary
          continued on a second line
        Requires-Dist: hosthooks>=0.1
        Requires-Dist: other; extra == "x"
        requires-dist: lower-case-too

        Name: not-a-header (the body)
        """,
        """
        # a comment
        [console_scripts]
        folded = folded:main

        [hosthooks]
        folded = folded_plugin:Plugin.instance [extra]
        second=folded_plugin
        ; not a comment for importlib.metadata = but a pair
        """,
    )
    # The same distribution again, later on the path: left out whole.
    dist_info(
        second,
        "folded_name-2.0.dist-info",
        "Name: folded-name\nVersion: 2.0\n",
        "[hosthooks]\nshadowed = shadowed_plugin\n",
    )
    # A distribution with no entry points still shadows a later one that has some.
    dist_info(first, "quiet-1.0.dist-info", "Name: quiet\nVersion: 1.0\n")
    dist_info(second, "Quiet-3.0.dist-info", "Name: Quiet\nVersion: 3.0\n", "[hosthooks]\nq = q\n")
    # Legacy (egg-info) metadata, as `setup.py develop` leaves it in a project folder.
    dist_info(
        second,
        "legacy.egg-info",
        "Metadata-Version: 1.1\r\nName: legacy\r\nVersion: 0.9\r\n\r\n",
        "[hosthooks]\nlegacy = legacy_plugin\n",
        metadata_file="PKG-INFO",
    )
    # An unpacked egg on the path: named by its metadata.
    egg = second / "eggy-1.0-py3.11.egg"
    dist_info(
        egg, "EGG-INFO", "Name: eggy\nVersion: 1.0\n", "[hosthooks]\neggy = eggy\n", "PKG-INFO"
    )
    sys.path.append(str(egg))
    # A folder, not a file, where metadata should be; and no metadata at all.
    dist_info(first, "odd-1.0.dist-info", "Name: odd\nVersion: 1.0\n", "[hosthooks]\nodd = odd\n")
    (first / "bare-1.0.dist-info").mkdir()
    (first / "bare-1.0.dist-info" / "entry_points.txt").write_text("[hosthooks]\nbare = bare\n")
    (first / "not-a-dist.txt").write_text("")
    (first / "plain-file.egg-info").write_text("Name: plain-file\nVersion: 1\n")
    for group in ("hosthooks", "console_scripts"):
        assert scanned(group) == reference(group), group
    names = [row[0] for row in scanned("hosthooks")]
    assert "shadowed" not in names
    assert "q" not in names
    assert {"folded", "second", "legacy", "eggy", "bare"} <= set(names)


def test_a_zip_archive_on_the_path_is_read_too(sites, tmp_path):
    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("zipped-1.0.dist-info/METADATA", "Name: zipped\nVersion: 1.0\n")
        zipped.writestr("zipped-1.0.dist-info/entry_points.txt", "[hosthooks]\nzipped = zipped\n")
    (tmp_path / "not-a-zip").write_text("")
    sys.path[:0] = [str(archive), str(tmp_path / "not-a-zip")]
    assert (
        scanned("hosthooks")
        == reference("hosthooks")
        == [("zipped", "zipped", "zipped", "1.0", ())]
    )


def test_a_finder_declaring_its_own_distributions_is_asked_as_importlib_metadata_would(
    sites, tmp_path, monkeypatch
):
    elsewhere = dist_info(
        tmp_path / "elsewhere",
        "found-1.0.dist-info",
        "Name: found\nVersion: 1.0\n",
        "[hosthooks]\nfound = found\n",
    )

    class Finder:
        @staticmethod
        def find_spec(*args: object) -> None:
            return None

        @staticmethod
        def find_distributions(*args: object) -> list[importlib.metadata.Distribution]:
            return [importlib.metadata.Distribution.at(elsewhere)]

    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Finder()])
    assert (
        scanned("hosthooks") == reference("hosthooks") == [("found", "found", "found", "1.0", ())]
    )


def test_an_entry_point_loads_a_module_or_an_attribute_path():
    assert EntryPoint("x", "hosthooks.loading.installed", "g").load() is installed
    assert EntryPoint("x", "hosthooks.loading.installed : EntryPoint.load [extra]", "g").load() is (
        EntryPoint.load
    )
    with pytest.raises(ValueError, match="invalid value 'not a value'"):
        EntryPoint("x", "not a value", "g").load()
    with pytest.raises(AttributeError):
        EntryPoint("x", "hosthooks.loading.installed:missing", "g").load()


def test_normalize_folds_separators_and_case_as_pep_503_does():
    assert installed.normalize("Foo.Bar-_baz") == "foo_bar_baz"


def test_importing_hosthooks_or_creating_its_host_imports_no_cli_runtime_or_metadata():
    probe = (
        "import sys, hosthooks\n"
        "imported = lambda: sorted(m for m in ('click', 'importlib.metadata', 'email.parser',"
        " 'hosthooks.runtime', 'hosthooks.cli', 'httpx') if m in sys.modules)\n"
        "assert imported() == [], imported()\n"
        "hosthooks.get_host()\n"
        "assert imported() == [], imported()\n"
        "print(hosthooks.__version__)\n"
    )
    result = run_probe(probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == importlib.metadata.version("hosthooks")


def test_the_version_constant_is_the_projects_version():
    import hosthooks

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    with pyproject.open("rb") as file:
        assert hosthooks.__version__ == tomllib.load(file)["project"]["version"]


@pytest.mark.parametrize(
    ("requires", "expected"),
    [
        (["hosthooks"], ("hosthooks", True)),
        (["  HostHooks [extra] "], ("hosthooks", True)),
        (["other>=1", "HostHooks >=0.1"], ("HostHooks>=0.1", True)),
        (["hosthooks>=99"], ("hosthooks>=99", False)),
        (['hosthooks>=99; extra == "future"'], None),
        (["hosthooks-other", "hosthooksx", "other"], None),
        (["hosthooks x", "hosthooks[a"], None),
    ],
)
def test_a_distributions_requirement_on_hosthooks(requires, expected):
    from hosthooks.loading.records import hosthooks_requirement

    assert hosthooks_requirement(requires) == expected
