"""The demo app ``hosthooks serve`` runs: notes with tags, owned by users.

It exercises every hook family: requests (web), auth, templates, models (saves,
deletes, relation changes) and connections; settings and migrations at start.
"""

from __future__ import annotations

import datetime
import math
import urllib.parse
from importlib import resources
from typing import Any
from typing import Final

from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from hosthooks.runtime import auth
from hosthooks.runtime import console
from hosthooks.runtime import fields
from hosthooks.runtime import throttle
from hosthooks.runtime.db import Database
from hosthooks.runtime.db import atomic
from hosthooks.runtime.migrations import migrate
from hosthooks.runtime.models import Model
from hosthooks.runtime.sessions import CSRF_FIELD
from hosthooks.runtime.sessions import load_secret_key
from hosthooks.runtime.settings import Settings
from hosthooks.runtime.settings import get_settings
from hosthooks.runtime.templates import Templates
from hosthooks.runtime.web import App
from hosthooks.runtime.web import Request
from hosthooks.runtime.web import form_text

MAX_TAGS: Final = 20
#: Notes on a page of the home page.
PAGE_SIZE: Final = 50
#: The views that begin their own transactions (see App's ``own_transactions``).
OWN_TRANSACTIONS: Final = frozenset({"login", "password"})
MAX_LABEL: Final = 40


class Tag(Model):
    label = fields.Text(unique=True)


class Note(Model):
    owner = fields.ForeignKey(auth.User, on_delete=fields.CASCADE)
    title = fields.Text()
    body = fields.Text(default="")
    created = fields.DateTime(default=lambda: datetime.datetime.now(datetime.timezone.utc))
    tags = fields.ManyToMany(Tag, related_name="notes")


MODELS: Final = [*auth.MODELS, Tag, Note, Note.tags.relation.through]
#: SQLite's largest row id: a larger id in a URL names no row (404), rather
#: than overflowing the integer SQLite takes (500).
MAX_ID: Final = 2**63 - 1


def safe_next(target: str | None) -> str:
    r"""``target`` if a browser would read it as a path on this site, else "/": the
    login form's ``next`` must never send a visitor to another site.

    Browsers drop tabs and line breaks anywhere in a URL, trim control
    characters and spaces at its ends, and read a backslash as a slash, so
    ``/\t/evil.example`` and ``/\evil.example`` lead off-site however
    harmless they look: a target with any control character or backslash is
    refused outright, rather than cleaned and then checked. What is left goes
    out percent-encoded, so a header never carries a byte it cannot hold.
    """
    if (
        not target
        or any(char < " " or char == "\x7f" for char in target)
        or "\\" in target
        or not target.startswith("/")
        or target.startswith("//")
    ):
        return "/"
    parts = urllib.parse.urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return urllib.parse.quote(target, safe="/?#&=+;:@!$'()*,~%")


def _page_number(text: str | None) -> int:
    """``?page=`` as a number (1 when absent).

    :raises NotFound: for anything but a positive whole number of at most 9 digits.
    """
    if text is None:
        return 1
    if not text.isascii() or not text.isdigit() or len(text) > 9 or int(text) < 1:
        raise NotFound("No such page of notes.")
    return int(text)


def parse_tags(text: str) -> list[str]:
    """``"a, b,,a"`` -> ``["a", "b"]``: stripped, without empties or repeats, in order.

    :raises ValueError: for too many tags or a tag too long.
    """
    labels = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if len(labels) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags")
    for label in labels:
        if len(label) > MAX_LABEL:
            raise ValueError(f"a tag may have at most {MAX_LABEL} characters")
    return labels


class DemoViews:
    """The views of the demo app, sharing its templates.

    :param database: the app's database; the login view begins its
        transactions there itself (see :data:`OWN_TRANSACTIONS`).
    """

    def __init__(self, templates: Templates, database: Database) -> None:
        self.templates = templates
        self.database = database

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        context.update(user=request.user, csrf_token=request.csrf_token)
        body = self.templates.render(name, context)
        return Response(body, status=status, content_type="text/html; charset=utf-8")

    @staticmethod
    def redirect(location: str) -> Response:
        return Response("", status=303, headers={"Location": location})

    def index(self, request: Request) -> Response:
        """The user's notes, newest first, :data:`PAGE_SIZE` a page (``?page=N``),
        with their tags read in one query for the whole page.

        :raises NotFound: for a page number that is not a positive whole number.
        """
        if request.user is None:
            return self.page(request, "index.html", notes=[], pages=[], current=1, error=None)
        number = _page_number(request.args.get("page"))
        owned = Note.objects.filter(owner=request.user)
        total = owned.count()
        last = max(1, math.ceil(total / PAGE_SIZE))
        if number > last:
            raise NotFound("No such page of notes.")
        start = (number - 1) * PAGE_SIZE
        notes = list(owned.order_by("-created", "-id")[start : start + PAGE_SIZE])
        labels = self.labels_of([note.pk for note in notes])
        return self.page(
            request,
            "index.html",
            notes=[(note, labels.get(note.pk, [])) for note in notes],
            pages=list(range(1, last + 1)) if last > 1 else [],
            current=number,
            error=None,
        )

    def labels_of(self, note_ids: list[int]) -> dict[int, list[str]]:
        """Each note's tag labels, sorted, in one query for all of ``note_ids``."""
        if not note_ids:
            return {}
        through = Note.tags.relation.through._meta.table
        marks = ", ".join("?" for _ in note_ids)
        rows = self.database.execute(
            f'SELECT n."note_id", t."label" FROM "{through}" n '
            f'JOIN "{Tag._meta.table}" t ON t."id" = n."tag_id" '
            f'WHERE n."note_id" IN ({marks}) ORDER BY t."label"',
            note_ids,
        ).fetchall()
        labels: dict[int, list[str]] = {}
        for note_id, label in rows:
            labels.setdefault(note_id, []).append(label)
        return labels

    def signup(self, request: Request) -> Response:
        if request.method == "GET":
            return self.page(request, "signup.html", error=None, username="")
        username = form_text(request, "username", max_length=1000)
        password = request.form.get("password", "")
        try:
            user = auth.create_user(username, password)
        except auth.AuthError as error:
            return self.page(
                request, "signup.html", status=400, error=str(error), username=username
            )
        auth.login(request, user)
        return self.redirect("/")

    def begin_attempt(
        self, request: Request, account: str, template: str, **context: Any
    ) -> throttle.Attempt | Response:
        """Count a password check for the username ``account`` from the client's
        address (:func:`throttle.begin_attempt`), or the 429 page (``template``,
        with ``Retry-After``) when either is throttled."""
        try:
            return throttle.begin_attempt(account, request.remote_addr)
        except throttle.Throttled as refused:
            minutes = math.ceil(refused.retry_after / 60)
            response = self.page(
                request,
                template,
                status=429,
                error=f"Too many failed attempts: try again in {minutes} minute(s).",
                **context,
            )
            response.headers["Retry-After"] = str(refused.retry_after)
            return response

    def login(self, request: Request) -> Response:
        """Log in, throttled (:mod:`hosthooks.runtime.throttle`): the attempt is
        counted, committed, before the password is checked outside any
        transaction; a throttled one answers 429 with ``Retry-After`` and
        checks no password. The login's writes are one transaction."""
        target = request.args.get("next")
        if request.method == "GET":
            return self.page(request, "login.html", error=None, username="", next=target)
        username = form_text(request, "username", max_length=1000)
        attempt = self.begin_attempt(
            request, username, "login.html", username=username, next=target
        )
        if isinstance(attempt, Response):
            return attempt
        user = None
        try:
            with self.database.atomic_from_first_write():
                user = auth.authenticate(
                    request, username=username, password=request.form.get("password", "")
                )
                if user is None:
                    return self.page(
                        request,
                        "login.html",
                        error="Unknown username or wrong password.",
                        username=username,
                        next=target,
                    )
                attempt.succeeded()
                auth.login(request, user)
        except BaseException:
            # A good password whose login failed (a plugin refused it): it
            # was no guess, and its writes are undone; so is its count.
            if user is not None:
                attempt.abandon()
            raise
        return self.redirect(safe_next(target))

    def logout(self, request: Request) -> Response:
        auth.logout(request)
        return self.redirect("/")

    def password(self, request: Request) -> Response:
        """Change the password; the current one is checked as a login checks it:
        counted against the account and the address, throttled alike (a stolen
        session must not make guessing it free)."""
        if request.user is None:
            return self.redirect("/login?next=%2Fpassword")
        if request.method == "GET":
            return self.page(request, "password.html", error=None)
        user = request.user
        counted = self.begin_attempt(request, user.username, "password.html")
        if isinstance(counted, Response):
            return counted
        if not user.check_password(request.form.get("old_password", "")):
            error = "The current password is wrong."
            return self.page(request, "password.html", status=400, error=error)
        try:
            with self.database.atomic_from_first_write():
                # Hashed before the transaction begins, which the count's
                # forgetting then joins.
                auth.change_password(request, user, request.form.get("new_password", ""))
                counted.succeeded()
        except auth.AuthError as problem:
            # The current password was right: no guess, whatever the new one is.
            counted.abandon()
            return self.page(request, "password.html", status=400, error=str(problem))
        except BaseException:
            counted.abandon()
            raise
        return self.redirect("/")

    def add_note(self, request: Request) -> Response:
        if request.user is None:
            return self.redirect("/login")
        title = form_text(request, "title", max_length=200)
        body = form_text(request, "body")
        error = None
        try:
            labels = parse_tags(form_text(request, "tags", max_length=2000))
        except ValueError as problem:
            error = str(problem)
        if not title:
            error = "A note needs a title."
        if error is not None:
            return self.page(
                request, "index.html", status=400, notes=[], pages=[], current=1, error=error
            )
        # One transaction: a plugin refusing the note (or a tag) leaves nothing behind.
        with atomic():
            note = Note.objects.create(owner=request.user, title=title, body=body)
            # Tags made in one order (sorted) by every request: two notes
            # adding the same new tags never wait on each other in a cycle.
            made = {label: Tag.objects.get_or_create(label=label)[0] for label in sorted(labels)}
            note.tags.set([made[label] for label in labels])
        return self.redirect("/")

    def delete_note(self, request: Request, note_id: int) -> Response:
        note = None
        if request.user is not None:
            note = Note.objects.filter(pk=note_id, owner=request.user).first()
        if note is None:
            raise NotFound("No such note.")
        note.delete()
        return self.redirect("/")

    @staticmethod
    def stylesheet(request: Request) -> Response:
        css = resources.files("hosthooks.runtime").joinpath("static/style.css").read_bytes()
        return Response(css, content_type="text/css; charset=utf-8")

    def error_page(self, error: HTTPException, request: Request | None) -> Response:
        """An HTTP error (404, 500...) in the app's layout, showing the signed-in
        user when the request got as far as knowing one."""
        user = request.user if request is not None else None
        # No new CSRF token: a 5xx answer saves no session, so a token made now
        # would be one the session never holds.
        token = request.session.get(CSRF_FIELD) if request is not None else None
        context = {
            "user": user,
            "csrf_token": token if isinstance(token, str) else "",
            "code": error.code,
            "name": error.name,
            "description": error.description,
            "error": None,
        }
        body = self.templates.render("error.html", context)
        return Response(body, status=error.code, content_type="text/html; charset=utf-8")


ROUTES: Final = [
    ("/", "index", ["GET"]),
    ("/signup", "signup", ["GET", "POST"]),
    ("/login", "login", ["GET", "POST"]),
    ("/logout", "logout", ["POST"]),
    ("/password", "password", ["GET", "POST"]),
    ("/notes", "add_note", ["POST"]),
    (f"/notes/<int(max={MAX_ID}):note_id>/delete", "delete_note", ["POST"]),
    ("/static/style.css", "stylesheet", ["GET"]),
    # Staff only, whatever INSPECTOR_PUBLIC says: the console checks that itself.
    *console.ROUTES,
]


def make_app(
    database_path: str | None = None,
    settings: Settings | None = None,
    *,
    trusted_proxy: str | None = None,
) -> App:
    """The demo app on ``database_path`` (default: the DATABASE setting), migrated.

    :param trusted_proxy: the proxy whose X-Forwarded-Proto is believed
        (default: the TRUSTED_PROXY setting; empty or None believes no one).

    :raises DatabaseError: when the database cannot be opened or migrated.
    :raises ValueError: when the configured secret key is too short, or the
        circuit breaker's settings are negative.
    """
    settings = settings or get_settings()
    path = database_path or settings.DATABASE
    database = Database(path)
    migrate(database, models=list(MODELS), verbosity=0)
    templates = Templates()
    views = DemoViews(templates, database)
    console_views = console.setup(database, templates, settings)
    return App(
        ROUTES,
        {
            **console_views.endpoints(),
            **{
                endpoint: getattr(views, endpoint)
                for _, endpoint, _ in ROUTES
                if not endpoint.startswith("console.")
            },
        },
        secret_key=load_secret_key(str(path), settings.SECRET_KEY),
        load_user=auth.get_user,
        max_body_size=settings.MAX_BODY_SIZE,
        session_max_age=settings.SESSION_MAX_AGE,
        cookie_name=settings.SESSION_COOKIE_NAME,
        debug=settings.DEBUG,
        request_transaction=database.atomic_from_first_write,
        inspector_public=bool(settings.INSPECTOR_PUBLIC),
        trusted_proxy=trusted_proxy or settings.TRUSTED_PROXY or None,
        error_page=views.error_page,
        own_transactions=OWN_TRANSACTIONS,
    )
