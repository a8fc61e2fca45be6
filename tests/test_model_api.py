"""The model API for plugins (label, pk, field names and values, adding): the
same answers for the runtime's models and, through the bridge, Django's; the
example plugins read instances through it alone."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hosthooks
from hosthooks.runtime import Database
from hosthooks.runtime import migrate
from tests import model_api_plugin
from tests.comparison.models import MODELS
from tests.comparison.models import Author
from tests.comparison.models import Book
from tests.test_django_bridge import run_scenario

REPO = Path(__file__).resolve().parent.parent


def expected(app: str) -> list[list[object]]:
    """What the reader must read of model_api_plugin.run on models of ``app``."""
    author, book = f"{app}.Author", f"{app}.Book"
    names = ["id", "title", "author"]
    first = {"id": None, "title": "Earthsea", "author": 1}
    saved = {**first, "id": 1}
    changed = {**saved, "title": "A Wizard of Earthsea"}
    return [
        ["pre_save", author, author, None, ["id", "name"], {"id": None, "name": "Ursula"}, True],
        ["post_save", author, author, 1, ["id", "name"], {"id": 1, "name": "Ursula"}, False],
        ["pre_save", book, book, None, names, first, True],
        ["post_save", book, book, 1, names, saved, False],
        ["pre_save", book, book, 1, names, changed, False],
        ["post_save", book, book, 1, names, changed, False],
        # Django sets the pk to None after the delete; the row is gone either way.
        ["post_delete", book, book, 1, names, changed, False],
    ]


def test_the_model_api_reads_runtime_instances(tmp_path, default_host):
    database = Database(tmp_path / "api.sqlite3")
    migrate(database, models=MODELS, verbosity=0)
    assert model_api_plugin.run(Author, Book) == expected("comparison")
    database.close()


def test_the_model_api_reads_django_instances_through_the_bridge(tmp_path):
    read = run_scenario(tmp_path, "model_api", {"autoload": False})
    assert read == expected("django_app")


def test_the_model_api_refuses_what_is_not_a_model(default_host):
    for function in (hosthooks.model_label, hosthooks.field_names):
        with pytest.raises(TypeError, match="is not a model class or instance"):
            function(object())
    with pytest.raises(TypeError, match="is a model class, not an instance"):
        hosthooks.instance_pk(Book)
    with pytest.raises(TypeError, match="is a model class, not an instance"):
        hosthooks.field_values(Book)
    with pytest.raises(TypeError, match="is not a model instance"):
        hosthooks.is_adding(Book)
    assert hosthooks.model_label(Book) == "comparison.Book"
    assert hosthooks.field_names(Book) == ["id", "title", "author"]


#: Attributes of an instance or a model class only the model API may read.
PRIVATE = {"_meta", "_state", "pk", "id"}


@pytest.mark.parametrize(
    "source",
    sorted(REPO.glob("plugins/*/hosthooks_*/__init__.py")),
    ids=lambda path: path.parts[-3],
)
def test_the_example_plugins_read_instances_only_through_the_model_api(source: Path):
    tree = ast.parse(source.read_text())
    reached = [
        f"{source.name}:{node.lineno}: .{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in PRIVATE
    ]
    reached += [
        f"{source.name}:{node.lineno}: getattr"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "getattr"
    ]
    assert reached == []
