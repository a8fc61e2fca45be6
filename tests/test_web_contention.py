"""``hosthooks serve`` under contention and fed hostile text: simultaneous
notes and sign-ups, processes started together, U+0000, usernames that differ
only in case, and a home page of many notes; on both servers and both databases."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.test import Client as WsgiClient

from hosthooks.runtime import auth
from hosthooks.runtime.db import Database
from hosthooks.runtime.db import IntegrityError
from hosthooks.runtime.db import get_database
from hosthooks.runtime.demo import Note
from hosthooks.runtime.demo import Tag
from hosthooks.runtime.demo import make_app
from hosthooks.runtime.settings import Settings
from tests.databases import BACKENDS
from tests.databases import empty_schema
from tests.databases import scratch_postgresql_database
from tests.services import POSTGRESQL_PORT
from tests.services import need_service
from tests.serving import HOSTHOOKS
from tests.serving import PASSWORD
from tests.serving import SERVERS
from tests.serving import Client
from tests.serving import Server
from tests.serving import clean_environ
from tests.serving import serving

RACERS = 8
ROUNDS = 10


@pytest.fixture(scope="module", params=SERVERS)
def kind(request) -> str:
    return str(request.param)


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def db(backend, tmp_path_factory) -> Iterator[str]:
    """The module's database: a SQLite file, or a PostgreSQL database."""
    if backend == "sqlite":
        yield str(tmp_path_factory.mktemp("contended-db") / "notes.sqlite3")
        return
    need_service("PostgreSQL", POSTGRESQL_PORT)
    with scratch_postgresql_database("contention") as url:
        yield url


@pytest.fixture(scope="module")
def server(kind, db, tmp_path_factory) -> Iterator[Server]:
    # Enough threads that every racer of a round is served at once.
    with serving(
        tmp_path_factory.mktemp(f"contended-{kind}"),
        serve_options=["--threads", str(RACERS * 2)],
        kind=kind,
        db=db,
    ) as running:
        yield running


def race(count: int, attempt: Callable[[int], int]) -> list[int]:
    """The statuses of ``count`` calls of ``attempt(number)`` released at one instant."""
    barrier = threading.Barrier(count, timeout=30)
    statuses: list[int] = [0] * count

    def run(number: int) -> None:
        barrier.wait()
        statuses[number] = attempt(number)

    threads = [threading.Thread(target=run, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


# -- 4. races -------------------------------------------------------------------


def test_notes_adding_the_same_new_tag_at_once_all_succeed(server, kind):
    clients = [Client(server) for _ in range(RACERS)]
    for number, client in enumerate(clients):
        assert client.signup(f"tagger-{kind}-{number}") == 303
    answers: list[int] = []
    for round_number in range(ROUNDS):
        label = f"fresh-{kind}-{round_number}"

        def add(number: int, label: str = label) -> int:
            fields = {"title": f"note {number}", "tags": f"{label}, shared-{kind}"}
            return clients[number].post("/notes", fields)[0]

        answers += race(RACERS, add)
        assert server.query("SELECT COUNT(*) FROM demo_tag WHERE label = ?", (label,)) == [(1,)]
        linked = (
            "SELECT COUNT(*) FROM demo_note_tags nt JOIN demo_tag t ON t.id = nt.tag_id "
            "WHERE t.label = ?"
        )
        assert server.query(linked, (label,)) == [(RACERS,)]
    assert answers == [303] * RACERS * ROUNDS


def test_sign_ups_of_one_name_at_once_give_one_account(server, kind):
    outcomes = []
    for round_number in range(ROUNDS):
        clients = [Client(server) for _ in range(RACERS)]
        for client in clients:
            client.get("/signup")
        name = f"contested-{kind}-{round_number}"

        def sign_up(number: int, name: str = name, clients: list[Client] = clients) -> int:
            # Some in another case: the name is one, however spelled.
            spelled = name.upper() if number % 2 else name
            fields = {"username": spelled, "password": PASSWORD}
            return clients[number].post("/signup", fields)[0]

        outcomes.append(sorted(race(RACERS, sign_up)))
        assert server.query(
            "SELECT COUNT(*) FROM auth_user WHERE lower(username) = ?", (name,)
        ) == [(1,)]
    assert outcomes == [[303] + [400] * (RACERS - 1)] * ROUNDS


# -- 4. processes started together on an empty database ----------------------------


def start_serving(root: Path, name: str, db: str, kind: str) -> tuple[subprocess.Popen[str], Path]:
    log = root / f"{name}.log"
    env = clean_environ()
    if "://" in db:
        env["HOSTHOOKS_SECRET_KEY"] = "s" * 48
    # Beside a SQLite file both make the key on first start: one makes it, the other reads it.
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [
                str(HOSTHOOKS),
                "serve",
                "--port",
                "0",
                "--db",
                db,
                *(["--asgi"] if kind == "asgi" else []),
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=root,
        )
    return process, log


def started(process: subprocess.Popen[str], log: Path) -> bool:
    """Whether the process got to serving (False once it exited, or after 60 s)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if re.search(r"http://127\.0\.0\.1:\d+/", log.read_text()):
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def test_two_processes_started_together_on_an_empty_database_both_serve(
    kind, backend, tmp_path, request
):
    failures = []
    url = None
    if backend == "postgresql":
        need_service("PostgreSQL", POSTGRESQL_PORT)
        url = request.getfixturevalue("postgresql_url")
    for round_number in range(ROUNDS):
        root = tmp_path / str(round_number)
        root.mkdir()
        if url is not None:
            empty_schema(url)
        db = url or str(root / "new.sqlite3")
        processes = [start_serving(root, name, db, kind) for name in ("first", "second")]
        try:
            for process, log in processes:
                if not started(process, log):
                    failures.append(log.read_text())
        finally:
            for process, _ in processes:
                if process.poll() is None:
                    process.send_signal(2)
            for process, _ in processes:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    assert failures == []


# -- 5. hostile text --------------------------------------------------------------


def test_a_nul_character_in_a_form_field_is_a_400_naming_it_and_writes_nothing(server, kind):
    client = Client(server)
    assert client.signup(f"nul-{kind}") == 303
    before = server.dump()
    for fields, name in (
        ({"title": "a\x00b", "body": ""}, "title"),
        ({"title": "fine", "body": "x\x00"}, "body"),
        ({"title": "fine", "tags": "a,\x00"}, "tags"),
    ):
        status, _, page = client.post("/notes", fields)
        assert status == 400
        assert f"the field &#39;{name}&#39; may not hold the character U+0000 (NUL)" in page
    other = Client(server)
    other.get("/signup")
    status, _, page = other.post("/signup", {"username": "nul\x00name", "password": PASSWORD})
    assert status == 400
    assert "the field &#39;username&#39; may not hold" in page
    server.settle()
    assert server.dump() == before


def test_usernames_are_one_in_any_case_at_sign_up_and_login(server, kind):
    name = f"Member-{kind}"
    assert Client(server).signup(name) == 303
    client = Client(server)
    client.get("/signup")
    status, _, page = client.post("/signup", {"username": name.lower(), "password": PASSWORD})
    assert status == 400
    assert "is taken" in page
    client.get("/login")
    status, _, _ = client.post("/login", {"username": name.upper(), "password": PASSWORD})
    assert status == 303
    assert f'<span class="who">{name}</span>' in client.get("/")[2]


# -- 6. a home page of many notes ---------------------------------------------------


def test_the_home_page_shows_fifty_notes_a_page_with_links_to_the_others(server, kind):
    client = Client(server)
    name = f"prolific-{kind}"
    assert client.signup(name) == 303
    [(owner,)] = server.query("SELECT id FROM auth_user WHERE username = ?", (name,))
    for number in range(120):
        created = f"2026-01-01T00:{number // 60:02d}:{number % 60:02d}+00:00"
        server.query(
            "INSERT INTO demo_note (owner_id, title, body, created) VALUES (?, ?, '', ?) "
            "RETURNING id",
            (owner, f"note number {number:03d}", created),
        )
    pages = {}
    for number in (1, 2, 3):
        status, _, page = client.get(f"/?page={number}")
        assert status == 200
        pages[number] = re.findall(r"<h2>note number (\d+)</h2>", page)
        for other in {1, 2, 3} - {number}:
            assert f'<a href="/?page={other}">{other}</a>' in page
        assert f'<span aria-current="page">{number}</span>' in page
    newest_first = [f"{number:03d}" for number in range(119, -1, -1)]
    assert pages == {1: newest_first[:50], 2: newest_first[50:100], 3: newest_first[100:]}
    assert re.findall(r"<h2>note number (\d+)</h2>", client.get("/")[2]) == pages[1]
    for bad in ("4", "0", "-1", "x", "1.5", "99999999999"):
        assert client.get(f"/?page={bad}")[0] == 404, bad


def hosthooks(*arguments: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HOSTHOOKS), *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env=clean_environ(),
        timeout=120,
    )


def test_migrate_names_usernames_that_differ_only_in_case_and_check_reports_them(
    backend, tmp_path, request
):
    if backend == "postgresql":
        need_service("PostgreSQL", POSTGRESQL_PORT)
        location: str = request.getfixturevalue("postgresql_url")
        empty_schema(location)
    else:
        location = str(tmp_path / "older.sqlite3")
    # A users table as an earlier release made it, before usernames had keys.
    older = Database(location, alias="older")
    types = older.backend.column_types
    older.execute(
        f'CREATE TABLE "auth_user" ("id" {older.backend.primary_key_definition}, '
        f'"username" TEXT NOT NULL UNIQUE, "password" TEXT NOT NULL, '
        f'"last_login" {types["datetime"]}, "date_joined" {types["datetime"]} NOT NULL, '
        f'"is_staff" {types["boolean"]} NOT NULL)'
    )
    for name in ("Member", "member", "other"):
        older.execute(
            'INSERT INTO "auth_user" ("username", "password", "date_joined", "is_staff") '
            "VALUES (?, 'scrypt$16384$8$1$AA==$AA==', '2026-01-01T00:00:00+00:00', ?)",
            [name, False],
        )
    rows_before = older.execute('SELECT "id", "username" FROM "auth_user" ORDER BY "id"').fetchall()

    migrated = hosthooks("migrate", "--db", location, "--app", "hosthooks.runtime.demo")
    assert migrated.returncode == 0, migrated.stderr
    assert (
        "  usernames that differ only in case, left as they are: Member, member\n"
        in migrated.stdout
    )
    rows = older.execute('SELECT "id", "username" FROM "auth_user" ORDER BY "id"').fetchall()
    assert rows == rows_before
    checked = hosthooks("check", "--db", location)
    assert checked.returncode == 1
    assert checked.stdout.splitlines() == [
        "database: usernames that differ only in case (sign-up and login take them "
        "for one): 'Member', 'member'"
    ]

    older.execute('DELETE FROM "auth_user" WHERE "username" = \'member\'')
    again = hosthooks("migrate", "--db", location, "--app", "hosthooks.runtime.demo")
    assert again.returncode == 0, again.stderr
    assert "differ only in case" not in again.stdout
    checked = hosthooks("check", "--db", location)
    assert (checked.returncode, checked.stdout) == (0, "0 plugin(s) checked, no problems.\n")
    # Unique now, whatever writes the row: the index refuses a second key.
    with pytest.raises(IntegrityError):
        older.execute(
            'INSERT INTO "auth_user" ("username", "username_key", "password", "date_joined", '
            "\"is_staff\") VALUES ('MEMBER', 'member', 'x', '2026-01-01T00:00:00+00:00', ?)",
            [False],
        )
    older.close()


def test_the_home_page_reads_the_tags_of_a_whole_page_in_one_query(database_location, default_host):
    settings = Settings(environ={"HOSTHOOKS_SECRET_KEY": "k" * 48})
    app = make_app(database_location, settings)
    owner = auth.create_user("reader", PASSWORD)
    for number in range(60):
        note = Note.objects.create(owner=owner, title=f"note {number}")
        note.tags.set(
            [
                Tag.objects.get_or_create(label=f"tag {number % 7}")[0],
                Tag.objects.get_or_create(label="all")[0],
            ]
        )
    client = WsgiClient(app)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    fields = {"username": "reader", "password": PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/login", data=fields).status_code == 303
    database = get_database()
    statements: list[str] = []
    database.statement_observer = lambda sql, params: statements.append(sql)
    try:
        response = client.get("/")
    finally:
        database.statement_observer = None
    assert response.status_code == 200
    assert response.get_data(as_text=True).count('<span class="tag">all</span>') == 50
    assert len([sql for sql in statements if "demo_tag" in sql]) == 1
    database.close()
