"""The hook reference: generated from the specs, committed as docs/hooks.md and
kept equal to what the specs say; every hook and argument in it."""

from __future__ import annotations

import inspect
import types
from html.parser import HTMLParser
from pathlib import Path

import pytest

from hosthooks import Host
from hosthooks import hookspec
from hosthooks import specs
from hosthooks.authoring import reference
from hosthooks.cli import main

REPO = Path(__file__).resolve().parent.parent
COMMITTED = REPO / "docs" / "hooks.md"
SPECS = [
    (name, getattr(module, name))
    for module in specs.FAMILIES.values()
    for name in specs.hook_names(module)
]


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def test_the_committed_reference_is_what_the_specs_generate():
    assert COMMITTED.read_text(encoding="utf-8") == reference.render_markdown(), (
        "docs/hooks.md is stale: run `hosthooks docs --output docs/hooks.md`"
    )


def test_the_readme_links_the_reference():
    assert "(docs/hooks.md)" in (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(("name", "function"), SPECS, ids=[name for name, _ in SPECS])
def test_every_hook_and_argument_is_in_the_reference(name, function):
    markdown = reference.render_markdown()
    section = markdown[markdown.index(f"\n### {name}\n") :]
    section = section[: section.find("\n### ", 1)]
    doc = next(doc for doc in reference.hook_docs() if doc.name == name)
    assert doc.summary in section
    assert doc.details, f"{name}: say when exactly it fires"
    parameters = list(inspect.signature(function).parameters)
    assert [argument.name for argument in doc.arguments] == parameters
    for argument in doc.arguments:
        assert argument.description, f"{name}.{argument.name}"
        assert f"| `{argument.name}` | " in section, f"{name}.{argument.name}"
    if doc.family in specs.OWN_FAMILIES:
        assert doc.django_signal is None
        assert "hosthooks' own hook: Django sends no signal here." in section
    else:
        assert f"Mirrors Django's `{doc.django_signal}`" in section


def test_an_undocumented_argument_is_refused():
    @hookspec
    def spec_with_a_gap(sender: object, instance: object) -> None:
        """Something happened.

        Fires sometimes.

        :param sender: who sent it.
        """

    with pytest.raises(ValueError, match="spec_with_a_gap: argument 'instance' is undocumented"):
        reference.hook_doc("models", spec_with_a_gap)


def test_every_example_is_a_valid_implementation():
    host = Host()
    for doc in reference.hook_docs():
        example = types.ModuleType(f"example_{doc.name}")
        exec(doc.example(), example.__dict__)
        host.register(example, doc.name)
        assert host.hooks_of(doc.name) == [doc.name]
    assert host.check() == []
    assert len(host.plugins()) == len(SPECS)


class _Balance(HTMLParser):
    """The open elements, and the ids of the articles."""

    VOID = frozenset({"meta"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.articles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        self.open.append(tag)
        if tag == "article":
            self.articles.append(dict(attrs)["id"] or "")

    def handle_endtag(self, tag: str) -> None:
        assert self.open.pop() == tag


def test_docs_writes_markdown_or_balanced_html(capsys, tmp_path):
    code, out, err = run(capsys, "docs")
    assert (code, err) == (0, "")
    assert out == reference.render_markdown()
    target = tmp_path / "hooks.html"
    code, out, err = run(capsys, "docs", "--format", "html", "--output", str(target))
    assert (code, out, err) == (0, "", f"wrote {target}\n")
    page = _Balance()
    page.feed(target.read_text(encoding="utf-8"))
    assert page.open == []
    assert page.articles == [name for name, _ in SPECS]
    code, out, err = run(capsys, "docs", "--output", str(tmp_path / "missing" / "hooks.md"))
    assert code == 1
    assert err == (
        f"hosthooks: error: cannot write {tmp_path / 'missing' / 'hooks.md'}: "
        "No such file or directory\n"
    )


def test_a_spec_without_a_summary_is_refused():
    def bare(sender: object) -> None:
        pass

    with pytest.raises(ValueError, match="starts with its summary line"):
        reference.hook_doc("models", bare)
