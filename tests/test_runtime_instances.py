"""Making model instances as Django's ``Model.__init__`` does, whichever way it is
called and whoever listens: keyword arguments, positional values, defaults,
foreign keys, errors, ``pre_init``/``post_init``, custom ``__init__`` methods."""

from __future__ import annotations

from typing import Any

import pytest

from hosthooks import hookimpl
from hosthooks.runtime import Database
from hosthooks.runtime import Model
from hosthooks.runtime import fields
from hosthooks.runtime import migrate
from tests.bookshop.models import MODELS
from tests.bookshop.models import Author
from tests.bookshop.models import Book
from tests.bookshop.models import Edition


class Greeting(Model):
    """A model with an ``__init__`` of its own, which Model's must not replace."""

    text = fields.Text()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if not args:
            kwargs.setdefault("text", "hello")
        super().__init__(*args, **kwargs)
        self.greeted = True


class LoudGreeting(Greeting):
    """A subclass inherits the ``__init__`` (a model's fields are its own declared ones)."""

    text = fields.Text()
    volume = fields.Integer(default=11)


class Plain(Model):
    name = fields.Text()


class Derived(Plain):
    """A subclass of a model that keeps Model's ``__init__``: its own fields only."""

    colour = fields.Text(default="red")


class _Listening:
    def __init__(self) -> None:
        self.pre: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = []
        self.kept: list[dict[str, Any]] = []
        self.post: list[Any] = []

    @hookimpl
    def pre_init(self, sender: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.pre.append((sender, args, dict(kwargs)))
        self.kept.append(kwargs)

    @hookimpl
    def post_init(self, sender: Any, instance: Any) -> None:
        self.post.append(instance)


@pytest.fixture(params=["nobody listening", "listening"])
def listener(request, default_host) -> _Listening | None:
    if request.param == "nobody listening":
        return None
    listening = _Listening()
    default_host.register(listening)
    return listening


def test_keyword_arguments_defaults_and_callable_defaults(listener):
    first: Any = Book(title="T", author_id=3)
    second = Book(title="U", author_id=3, pages=7, extra={"a": 1})
    assert (first.id, first.title, first.author_id, first.pages) == (None, "T", 3, 0)
    assert (first.price, first.in_print, first.published) == (None, True, None)
    assert first.extra == {}
    assert first.extra is not Book(title="V", author_id=3).extra
    assert (second.pages, second.extra) == (7, {"a": 1})
    assert first._state.adding
    assert first._state.db is None
    assert Book(title="T", author_id=1, pk=5).id == 5
    assert Book(None, "T", 3).title == "T"


def test_a_foreign_key_takes_an_instance_or_an_id(listener):
    author = Author(name="Ann", id=4)
    assert vars(Book(title="T", author=author))["author_id"] == 4
    assert Book(title="T", author=author).author is author
    assert vars(Book(title="T", author_id=4))["author_id"] == 4
    assert vars(Edition(book_id=1, publisher_id=2))["reviewer_id"] is None
    with pytest.raises(TypeError, match="takes a Author"):
        Book(title="T", author="Ann")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"title": "T", "colour": "red"}, "unexpected keyword argument 'colour'"),
        ({"title": "T", "author": None, "author_id": 1}, "unexpected keyword argument 'author_id'"),
        ({"title": "T", "tags": []}, "direct assignment to Book.tags is not allowed"),
    ],
)
def test_what_init_refuses(listener, arguments, message):
    with pytest.raises(TypeError, match=message):
        Book(**arguments)


def test_too_many_positional_values_are_refused(listener):
    with pytest.raises(TypeError, match="at most 2 positional arguments"):
        Author(1, "Ann", "extra")


def test_init_hooks_see_what_django_sends(default_host):
    listening = _Listening()
    default_host.register(listening)
    book = Book(title="T", author_id=3)
    loaded = Author(None, "Ann")
    assert listening.pre == [
        (Book, (), {"title": "T", "author_id": 3}),
        (Author, (None, "Ann"), {}),
    ]
    # Consumed in place, as Django's __init__ does.
    assert listening.kept == [{}, {}]
    assert len(listening.post) == 2
    assert listening.post[0] is book
    assert listening.post[1] is loaded


def test_an_init_of_its_own_is_kept_and_inherited(listener):
    assert (Greeting().text, Greeting().greeted) == ("hello", True)
    loud = LoudGreeting()
    assert (loud.text, loud.volume, loud.greeted) == ("hello", 11, True)
    assert "__init__" not in LoudGreeting.__dict__


def test_a_subclass_of_a_model_gets_its_own_fields(listener):
    assert Plain(name="p").name == "p"
    assert Derived().colour == "red"
    assert Derived(colour="blue").colour == "blue"
    assert not hasattr(Derived(), "name")
    assert not hasattr(Plain(name="p"), "colour")
    with pytest.raises(TypeError, match="unexpected keyword argument 'name'"):
        Derived(name="d")


def test_loaded_rows_go_through_an_init_of_their_own(tmp_path, default_host):
    database = Database(tmp_path / "db.sqlite3")
    migrate(database, models=[*MODELS, Greeting], verbosity=0)
    Greeting(text="hi").save()
    (loaded,) = Greeting.objects.all()
    assert (loaded.text, loaded.greeted, loaded._state.adding) == ("hi", True, False)
    database.close()
