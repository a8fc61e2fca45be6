"""Users, password hashing, authenticate/login/logout. The only place the auth hooks fire.

Passwords are hashed with scrypt (memory-hard, in the standard library) at
the cost the PASSWORD_SCRYPT_N setting gives (2**17 by default: OWASP's
minimum, ~0.5 s and 128 MiB a hash), with a random salt per password,
compared in constant time, and never stored or logged in the clear. Hashing
always happens before a write transaction begins, so no writer waits on it.

A signed-in session is known to the server: login records its key (hashed),
logout forgets it, a password change forgets every session of the user but
the one changing it. A session cookie the server no longer knows is anonymous,
however valid its signature.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import logging
import re
import secrets
import unicodedata
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any
from typing import Final
from typing import Protocol
from typing import TextIO

from hosthooks.host import get_host
from hosthooks.runtime import fields
from hosthooks.runtime.db import DEFAULT_ALIAS
from hosthooks.runtime.db import Database
from hosthooks.runtime.db import IntegrityError
from hosthooks.runtime.db import atomic
from hosthooks.runtime.models import Model
from hosthooks.runtime.settings import get_settings

#: The sender of ``user_login_failed``: this module's name, as Django sends its own.
SENDER: Final = __name__
CLEANSED: Final = "********************"
logger: Final = logging.getLogger("hosthooks.auth")
_SENSITIVE: Final = re.compile("api|token|key|secret|password|signature", re.IGNORECASE)

# scrypt's block size and parallelism; its cost N is the PASSWORD_SCRYPT_N setting.
_SCRYPT_R: Final = 8
_SCRYPT_P: Final = 1
_MAX_USERNAME: Final = 150
#: The password policy, alike for sign-up, ``createuser`` and a password change.
MIN_PASSWORD: Final = 8
MAX_PASSWORD: Final = 1024


class Session(Protocol):
    """What login and logout need of a request's session."""

    key: str

    def get(self, key: str, default: Any = None) -> Any: ...
    def __setitem__(self, key: str, value: Any) -> None: ...
    def cycle_key(self) -> None: ...
    def flush(self) -> None: ...


class AuthError(ValueError):
    """A username or password is unacceptable; the message can be shown to the user."""


def validate_password(password: str) -> None:
    """Refuse a password the policy does not allow: fewer than 8 characters or more than 1,024.

    :raises AuthError: saying which.
    """
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AuthError(f"the password may have at most {MAX_PASSWORD} characters")


def _scrypt_n() -> int:
    """The PASSWORD_SCRYPT_N setting.

    :raises AuthError: when it is not a power of 2 above 1 (scrypt takes no other).
    """
    n = get_settings().PASSWORD_SCRYPT_N
    if not isinstance(n, int) or n < 2 or n & (n - 1):
        raise AuthError(f"PASSWORD_SCRYPT_N must be a power of 2 above 1, not {n!r}")
    return n


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash``, salt and hash in base64, at the cost the
    PASSWORD_SCRYPT_N setting gives. It checks no policy: see :func:`validate_password`.

    :raises AuthError: for an empty password, or an unusable PASSWORD_SCRYPT_N.
    """
    if not password:
        raise AuthError("the password may not be empty")
    n = _scrypt_n()
    salt = secrets.token_bytes(16)
    return _encode(n, salt, _scrypt(password, salt, n, _SCRYPT_R, _SCRYPT_P))


def _encode(n: int, salt: bytes, digest: bytes) -> str:
    encoded_salt, encoded_digest = (
        base64.b64encode(salt).decode(),
        base64.b64encode(digest).decode(),
    )
    return f"scrypt${n}${_SCRYPT_R}${_SCRYPT_P}${encoded_salt}${encoded_digest}"


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # scrypt needs 128 * n * r * p bytes; room for that and a little more.
    memory = 129 * n * r * p + 1024 * 1024
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=memory, dklen=32
    )


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches ``encoded`` (compared in constant time).

    False for a malformed hash rather than an error.
    """
    try:
        algorithm, n, r, p, salt, digest = encoded.split("$")
        if algorithm != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(encoded: str) -> bool:
    """Whether ``encoded`` was made at another cost than the settings give now."""
    return not encoded.startswith(f"scrypt${_scrypt_n()}${_SCRYPT_R}${_SCRYPT_P}$")


def _dummy_hash() -> str:
    # Hashing a dummy password for unknown usernames keeps a failed login as
    # slow as a wrong password (at today's cost), so timing does not tell which
    # usernames exist.
    return _encode(_scrypt_n(), bytes(16), bytes(32))


def fold_username(username: str) -> str:
    """What usernames are compared by: NFKC-normalised and case-folded, so
    ``Member`` and ``member`` (or ``ﬀ`` and ``FF``) are one name."""
    return unicodedata.normalize("NFKC", username).casefold()


class User(Model):
    """A user who can log in. ``password`` holds the scrypt hash, never the password.

    Usernames are unique as :func:`fold_username` compares them: the key is
    saved with the user, and a unique index on it (made by ``migrate``, see
    :meth:`after_migrate`) refuses a second ``member`` beside ``Member``.
    """

    username = fields.Text(unique=True)
    #: :func:`fold_username` of ``username``, kept by :meth:`save`. Unique by an
    #: index migrate makes when no two users share one (see after_migrate).
    username_key = fields.Text(null=True)
    password = fields.Text()
    last_login = fields.DateTime(null=True)
    date_joined = fields.DateTime(default=lambda: datetime.datetime.now(datetime.timezone.utc))
    #: May see the inspector (the ``/-/`` pages).
    is_staff = fields.Boolean(default=False)

    def set_password(self, raw_password: str) -> None:
        self.password = hash_password(raw_password)

    def check_password(self, raw_password: str) -> bool:
        return verify_password(raw_password, self.password)

    def save(
        self,
        *,
        using: str | None = None,
        update_fields: Iterable[str] | None = None,
        raw: bool = False,
    ) -> None:
        self.username_key = fold_username(self.username)
        if update_fields is not None and "username" in update_fields:
            update_fields = {*update_fields, "username_key"}
        super().save(using=using, update_fields=update_fields, raw=raw)

    @classmethod
    def after_migrate(cls, database: Database, stdout: TextIO | None) -> None:
        """Give every user its username key, then make the key unique, unless
        some users' names differ only in case: those are named (on ``stdout``
        and in the log) and left as they are, and the index waits for them to
        be resolved (``hosthooks check --db`` reports them meanwhile)."""
        table = cls._meta.table
        missing = database.execute(
            f'SELECT "id", "username" FROM "{table}" WHERE "username_key" IS NULL'
        ).fetchall()
        if missing:
            database.executemany(
                f'UPDATE "{table}" SET "username_key" = ? WHERE "id" = ?',
                [(fold_username(name), pk) for pk, name in missing],
            )
        clashes = case_duplicates(database)
        if not clashes:
            # Not "<table>_username_key": PostgreSQL gives that name to the
            # index of username's own UNIQUE, and IF NOT EXISTS would find it.
            database.execute(
                f'CREATE UNIQUE INDEX IF NOT EXISTS "{table}_unique_username_key" '
                f'ON "{table}" ("username_key")'
            )
            return
        for names in clashes:
            line = f"usernames that differ only in case, left as they are: {', '.join(names)}"
            logger.warning("%s", line)
            if stdout is not None:
                stdout.write(f"  {line}\n")

    def update_last_login(self) -> None:
        """Record now as ``last_login``: what the built-in ``hosthooks.last-login``
        plugin asks of a user who has logged in, as Django's ``update_last_login`` does."""
        self.last_login = datetime.datetime.now(datetime.timezone.utc)
        self.save(update_fields=["last_login"])

    def __repr__(self) -> str:
        return f"<User {self.username!r}>"


class UserSession(Model):
    """A signed-in session the server knows: the SHA-256 of its key, and its user."""

    key_digest = fields.Text(unique=True)
    user = fields.ForeignKey(User, on_delete=fields.CASCADE)
    created = fields.DateTime(default=lambda: datetime.datetime.now(datetime.timezone.utc))


class LoginFailure(Model):
    """A failed login (or one being checked), counted against an account or a
    client address by :mod:`hosthooks.runtime.throttle`."""

    #: ``account:<username key>`` or ``address:<client address>``.
    key = fields.Text()
    #: When, in seconds since the epoch.
    at = fields.Float()


#: What a database needs for users to sign in: migrate these.
MODELS: Final = [User, UserSession, LoginFailure]


def case_duplicates(database: Database) -> list[list[str]]:
    """The usernames that differ only in case (as :func:`fold_username` compares
    them), each group sorted; none when the users table does not exist yet."""
    table = User._meta.table
    if not database.table_columns(table):
        return []
    groups: dict[str, list[str]] = {}
    for (name,) in database.execute(f'SELECT "username" FROM "{table}"').fetchall():
        groups.setdefault(fold_username(name), []).append(name)
    return sorted(sorted(names) for names in groups.values() if len(names) > 1)


def _digest(session_key: str) -> str:
    # Only a digest is stored: a copy of the database signs nobody in.
    return hashlib.sha256(session_key.encode()).hexdigest()


def create_user(
    username: str, password: str, *, is_staff: bool = False, using: str = DEFAULT_ALIAS
) -> User:
    """A new saved user.

    The password is hashed before the write transaction begins.

    :raises AuthError: for an empty or over-long username, a password the
        policy refuses (:func:`validate_password`), or a username already
        taken in any case, even by a sign-up committed meanwhile.
    """
    username = username.strip()
    if not username:
        raise AuthError("the username may not be empty")
    if len(username) > _MAX_USERNAME:
        raise AuthError(f"the username may have at most {_MAX_USERNAME} characters")
    validate_password(password)
    user = User(username=username, password=hash_password(password), is_staff=is_staff)
    taken = AuthError(f"the username {username!r} is taken")
    with atomic(using):
        existing = User.objects.using(using).filter(username_key=fold_username(username))
        if existing.exists():
            raise taken
        try:
            # A savepoint: another sign-up of the name may commit between the
            # look-up and the insert, and the refused insert is undone alone.
            with atomic(using):
                user.save(using=using)
        except IntegrityError:
            raise taken from None
    return user


def get_user(session: Session, *, using: str = DEFAULT_ALIAS) -> User | None:
    """The user ``session`` is signed in as, or None when the server does not
    know the session (never signed in, logged out, or revoked)."""
    uid = session.get("uid")
    if not isinstance(uid, int):
        return None
    known = UserSession.objects.using(using).filter(key_digest=_digest(session.key)).first()
    if known is None or known.user_id != uid:
        return None
    user: User | None = User.objects.using(using).filter(pk=uid).first()
    return user


def _remember(session: Session, user: User) -> None:
    using = user._state.db or DEFAULT_ALIAS
    # A session never logged out outlives its cookie here: forget the user's
    # expired ones at each login, so the table holds what can still sign in.
    max_age = datetime.timedelta(seconds=get_settings().SESSION_MAX_AGE)
    expired = datetime.datetime.now(datetime.timezone.utc) - max_age
    UserSession.objects.using(using).filter(user=user, created__lt=expired).delete()
    UserSession.objects.using(using).create(key_digest=_digest(session.key), user=user)


def cleanse_credentials(credentials: Mapping[str, Any]) -> dict[str, Any]:
    """``credentials`` with every value whose key looks secret replaced by asterisks."""
    return {
        key: CLEANSED if _SENSITIVE.search(key) else value for key, value in credentials.items()
    }


def find_user(username: str, *, using: str = DEFAULT_ALIAS) -> User | None:
    """The user called ``username``, in any case; None when none is.

    Where migrate found users whose names differ only in case, only the one
    spelled exactly so is found.
    """
    found = list(User.objects.using(using).filter(username_key=fold_username(username.strip()))[:2])
    if len(found) > 1:
        exact = [user for user in found if user.username == username.strip()]
        return exact[0] if exact else None
    return found[0] if found else None


def authenticate(
    request: Any = None, *, using: str = DEFAULT_ALIAS, **credentials: Any
) -> User | None:
    """The user matching ``username`` (in any case) and ``password``, or None.

    A password longer than the policy allows matches no one and is not hashed.
    A match whose hash was made at another cost than the settings give now is
    hashed anew and saved. On failure fires ``user_login_failed(sender=
    "hosthooks.runtime.auth", credentials=<cleansed>, request=request)``.
    """
    username, password = credentials.get("username"), credentials.get("password")
    user = None
    if (
        isinstance(username, str)
        and isinstance(password, str)
        and password
        and len(password) <= MAX_PASSWORD
    ):
        user = find_user(username, using=using)
        if user is None:
            verify_password(password, _dummy_hash())
        elif not user.check_password(password):
            user = None
        elif needs_rehash(user.password):
            user.password = hash_password(password)
            user.save(update_fields=["password"], using=using)
    if user is None:
        host = get_host()
        if host.has_listeners("user_login_failed"):
            host.hook.user_login_failed(
                sender=SENDER, credentials=cleanse_credentials(credentials), request=request
            )
    return user


def login(request: Any, user: User) -> None:
    """Log ``user`` in: rotate the session key, remember the user, record the
    session server-side, fire ``user_logged_in``.

    ``request.session`` must offer ``key``, ``cycle_key()``, item assignment
    and ``get()``. Run it inside the request's transaction: a plugin raising
    in ``user_logged_in`` then undoes the login's writes.
    """
    session: Session = request.session
    if session.get("uid") not in (None, user.pk):
        session.flush()
    # A new key on every login: a session id fixed before login is worthless after it.
    session.cycle_key()
    session["uid"] = user.pk
    _remember(session, user)
    request.user = user
    host = get_host()
    if host.has_listeners("user_logged_in"):
        host.hook.user_logged_in(sender=type(user), request=request, user=user)


def logout(request: Any) -> None:
    """Fire ``user_logged_out`` (with ``user=None`` and sender ``NoneType`` if anonymous),
    then forget the session server-side and flush it: a copy of its cookie signs
    nobody in any more."""
    user = getattr(request, "user", None)
    host = get_host()
    if host.has_listeners("user_logged_out"):
        host.hook.user_logged_out(sender=type(user), request=request, user=user)
    if isinstance(user, User):
        using = user._state.db or DEFAULT_ALIAS
        UserSession.objects.using(using).filter(key_digest=_digest(request.session.key)).delete()
    request.session.flush()
    request.user = None


def change_password(request: Any, user: User, new_password: str) -> None:
    """Give ``user`` a new password and sign out every other session of theirs.

    The session of ``request`` stays signed in, under a new key. The password
    is hashed before the write transaction begins.

    :raises AuthError: for a password the policy refuses.
    """
    validate_password(new_password)
    encoded = hash_password(new_password)
    using = user._state.db or DEFAULT_ALIAS
    session: Session = request.session
    with atomic(using):
        user.password = encoded
        user.save(update_fields=["password"], using=using)
        UserSession.objects.using(using).filter(user=user).delete()
        session.cycle_key()
        _remember(session, user)
