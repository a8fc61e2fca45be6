"""Password guessing against ``hosthooks serve``: logins throttled per account
and per client address, counted in the database that every process shares,
and password hashes at today's cost; on both servers and both databases."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from hosthooks.runtime import auth
from hosthooks.runtime.settings import Settings
from hosthooks.runtime.settings import reset_settings
from tests.databases import BACKENDS
from tests.databases import scratch_postgresql_database
from tests.services import POSTGRESQL_PORT
from tests.services import need_service
from tests.serving import PASSWORD
from tests.serving import SERVERS
from tests.serving import Client
from tests.serving import Server
from tests.serving import serving

#: A cost where a hash takes long enough (~0.25 s here) that an answer computing
#: none is told apart from one computing one by its time alone.
SLOW_SCRYPT_N = str(2**16)


@pytest.fixture(scope="module", params=SERVERS)
def kind(request) -> str:
    return str(request.param)


@pytest.fixture(scope="module", params=BACKENDS)
def db(request, tmp_path_factory) -> Iterator[str]:
    """The database the module's servers share: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        yield str(tmp_path_factory.mktemp("throttled-db") / "shared.sqlite3")
        return
    need_service("PostgreSQL", POSTGRESQL_PORT)
    with scratch_postgresql_database("throttle") as url:
        yield url


@pytest.fixture(scope="module")
def guarded(kind, db, tmp_path_factory) -> Iterator[Server]:
    """A server behind a trusted proxy on 127.0.0.1, hashing at SLOW_SCRYPT_N."""
    with serving(
        tmp_path_factory.mktemp(f"guarded-{kind}"),
        serve_options=["--trusted-proxy", "127.0.0.1"],
        settings={"PASSWORD_SCRYPT_N": SLOW_SCRYPT_N},
        kind=kind,
        db=db,
    ) as running:
        yield running


@pytest.fixture(scope="module")
def second(kind, db, tmp_path_factory) -> Iterator[Server]:
    """Another process serving the same database."""
    with serving(
        tmp_path_factory.mktemp(f"second-{kind}"),
        serve_options=["--trusted-proxy", "127.0.0.1"],
        kind=kind,
        db=db,
    ) as running:
        yield running


def address(kind: str, number: int) -> str:
    """A client address of its own for each server kind (the servers of both
    kinds serve one database in turn, and the counts stay in it)."""
    return f"198.51.{100 + SERVERS.index(kind)}.{number}"


class Guesser:
    """A client whose requests reach the server through the proxy from ``address``."""

    def __init__(self, server: Server, address: str) -> None:
        self.client = Client(server)
        self.address = address
        self.client.get("/login")

    def login(self, username: str, password: str) -> tuple[int, dict[str, str], float]:
        started = time.perf_counter()
        status, headers, _ = self.client.post(
            "/login",
            {"username": username, "password": password},
            # The client may claim any earlier hop: only the proxy's own counts.
            headers={"X-Forwarded-For": f"10.0.0.1, {self.address}"},
        )
        return status, headers, time.perf_counter() - started


def age_failures(server: Server, seconds: float, key: str) -> None:
    """Move the counted failures of ``key`` ``seconds`` into the past."""
    server.query(
        "UPDATE auth_loginfailure SET at = at - ? WHERE key = ? RETURNING id", (seconds, key)
    )


def sign_up(server: Server, name: str) -> None:
    client = Client(server)
    assert client.signup(name) == 303


def test_five_failures_throttle_an_account_right_password_included_and_cost_no_hash(
    guarded, second, kind, db
):
    name = f"target-{kind}-{'pg' if '://' in db else 'lite'}"
    sign_up(guarded, name)
    guesser = Guesser(guarded, address(kind, 1))
    failures = []
    for _ in range(5):
        status, _, took = guesser.login(name, "wrong password")
        assert status == 200
        failures.append(took)
    status, headers, took = guesser.login(name, "wrong password")
    assert status == 429
    assert 58 <= int(headers["Retry-After"]) <= 60
    refused = [took]
    status, headers, took = guesser.login(name, PASSWORD)
    assert status == 429
    refused.append(took)
    # Another process on the same database knows the count, and another
    # address is refused too: the account is throttled, wherever from.
    status, _, _ = Guesser(second, address(kind, 2)).login(name.upper(), PASSWORD)
    assert status == 429
    # No hash was computed for a refused attempt: it answers in a fraction of a guess's time.
    assert max(refused) < min(failures) / 3, (refused, failures)
    # The address is not throttled for other accounts: 6 of its 20.
    assert guesser.login("someone-else", "wrong password")[0] == 200


def test_the_delay_doubles_and_ends_with_the_window(guarded, kind, db):
    name = f"doubled-{kind}-{'pg' if '://' in db else 'lite'}"
    sign_up(guarded, name)
    key = f"account:{name}"
    guesser = Guesser(guarded, address(kind, 3))
    for _ in range(5):
        assert guesser.login(name, "wrong password")[0] == 200
    waits = []
    for step in (61, 121, 241):
        status, headers, _ = guesser.login(name, PASSWORD)
        assert status == 429
        waits.append(int(headers["Retry-After"]))
        age_failures(guarded, step, key)
        assert guesser.login(name, "wrong password")[0] == 200
    status, headers, _ = guesser.login(name, PASSWORD)
    assert status == 429
    waits.append(int(headers["Retry-After"]))
    # One minute, doubling; the fourth would be 8 minutes (480 s), but the
    # first failures leave the 15-minute window 477 s after the last ageing,
    # less the seconds since they were made: it ends then. (A second or two of
    # leeway: the clock runs while the server hashes.)
    bounds = ((58, 60), (118, 120), (238, 240), (470, 477))
    assert all(low <= wait <= high for wait, (low, high) in zip(waits, bounds, strict=True)), waits
    age_failures(guarded, 478, key)
    status, headers, _ = guesser.login(name, PASSWORD)
    assert (status, headers["Location"]) == (303, "/")


def test_twenty_failures_throttle_an_address_whatever_the_account(guarded, second, kind):
    guesser = Guesser(guarded, address(kind, 20))
    for number in range(20):
        assert guesser.login(f"nobody-{kind}-{number}", "wrong password")[0] == 200
    status, headers, _ = guesser.login(f"nobody-{kind}-20", "wrong password")
    assert status == 429
    assert 58 <= int(headers["Retry-After"]) <= 60
    assert Guesser(second, address(kind, 20)).login(f"nobody-{kind}-21", "x" * 8)[0] == 429
    # The hop nearest the proxy names the client: another address is free.
    assert Guesser(guarded, address(kind, 21)).login(f"nobody-{kind}-22", "x" * 8)[0] == 200


def test_the_current_password_is_guessed_no_more_freely_than_at_login(guarded, kind, db):
    name = f"changer-{kind}-{'pg' if '://' in db else 'lite'}"
    client = Client(guarded)
    assert client.signup(name) == 303
    client.get("/password")
    proxied = {"X-Forwarded-For": address(kind, 40)}
    # The right current password with a new one the policy refuses is no guess.
    fields = {"old_password": PASSWORD, "new_password": "short"}
    assert client.post("/password", fields, headers=proxied)[0] == 400
    guess = {"old_password": "wrong password", "new_password": "a new passphrase"}
    for _ in range(5):
        assert client.post("/password", guess, headers=proxied)[0] == 400
    right = {"old_password": PASSWORD, "new_password": "a new passphrase"}
    status, headers, _ = client.post("/password", right, headers=proxied)
    assert status == 429
    assert 58 <= int(headers["Retry-After"]) <= 60
    # One count for the account, wherever its password is checked.
    assert Guesser(guarded, address(kind, 41)).login(name, PASSWORD)[0] == 429
    age_failures(guarded, 900, f"account:{name}")
    assert client.post("/password", right, headers=proxied)[0] == 303


def test_an_older_hash_is_made_anew_at_the_next_good_login(guarded, kind, db):
    name = f"rehashed-{kind}-{'pg' if '://' in db else 'lite'}"
    # createuser hashes at the tests' cheaper cost, as an older release did.
    created = guarded.create_user(name)
    assert created.returncode == 0, created.stderr
    [(before,)] = guarded.query("SELECT password FROM auth_user WHERE username = ?", (name,))
    assert before.startswith("scrypt$16384$8$1$")
    guesser = Guesser(guarded, address(kind, 30))
    assert guesser.login(name, "wrong password")[0] == 200
    assert guarded.query("SELECT password FROM auth_user WHERE username = ?", (name,)) == [
        (before,)
    ]
    assert guesser.login(name, PASSWORD)[0] == 303
    [(after,)] = guarded.query("SELECT password FROM auth_user WHERE username = ?", (name,))
    assert after.startswith(f"scrypt${SLOW_SCRYPT_N}$8$1$")
    assert Guesser(guarded, address(kind, 31)).login(name, PASSWORD)[0] == 303


def test_the_default_cost_is_owasps_minimum(monkeypatch):
    monkeypatch.delenv("HOSTHOOKS_PASSWORD_SCRYPT_N")
    settings = Settings(environ={})
    assert settings.PASSWORD_SCRYPT_N == 2**17
    reset_settings(settings)
    try:
        encoded = auth.hash_password(PASSWORD)
    finally:
        reset_settings(None)
    assert encoded.startswith("scrypt$131072$8$1$")
    assert auth.verify_password(PASSWORD, encoded)
