"""Users, password hashing, authenticate/login/logout. The only place the auth hooks fire.

Passwords are hashed with scrypt (memory-hard, in the standard library) and a
random salt per password, compared in constant time, and never stored or
logged in the clear. Hashing (~75 ms of CPU) always happens before a write
transaction begins, so no writer waits on it.

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
import re
import secrets
from collections.abc import Mapping
from typing import Any
from typing import Final
from typing import Protocol

from hosthooks.host import get_host
from hosthooks.runtime import fields
from hosthooks.runtime.db import DEFAULT_ALIAS
from hosthooks.runtime.db import atomic
from hosthooks.runtime.models import Model
from hosthooks.runtime.settings import get_settings

#: The sender of ``user_login_failed``: this module's name, as Django sends its own.
SENDER: Final = __name__
CLEANSED: Final = "********************"
_SENSITIVE: Final = re.compile("api|token|key|secret|password|signature", re.IGNORECASE)

# scrypt's cost: 2**14 rounds of 8 blocks, 16 MiB of memory per hash.
_SCRYPT_N: Final = 2**14
_SCRYPT_R: Final = 8
_SCRYPT_P: Final = 1
_MAX_USERNAME: Final = 150


class Session(Protocol):
    """What login and logout need of a request's session."""

    key: str

    def get(self, key: str, default: Any = None) -> Any: ...
    def __setitem__(self, key: str, value: Any) -> None: ...
    def cycle_key(self) -> None: ...
    def flush(self) -> None: ...


class AuthError(ValueError):
    """A username or password is unacceptable; the message can be shown to the user."""


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash``, salt and hash in base64.

    :raises AuthError: for an empty password.
    """
    if not password:
        raise AuthError("the password may not be empty")
    salt = secrets.token_bytes(16)
    return _encode(salt, _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P))


def _encode(salt: bytes, digest: bytes) -> str:
    encoded_salt, encoded_digest = (
        base64.b64encode(salt).decode(),
        base64.b64encode(digest).decode(),
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${encoded_salt}${encoded_digest}"


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32
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


# Hashing a dummy password for unknown usernames keeps a failed login as slow
# as a wrong password, so timing does not tell which usernames exist.
_DUMMY_HASH: Final = _encode(bytes(16), bytes(32))


class User(Model):
    """A user who can log in. ``password`` holds the scrypt hash, never the password."""

    username = fields.Text(unique=True)
    password = fields.Text()
    last_login = fields.DateTime(null=True)
    date_joined = fields.DateTime(default=lambda: datetime.datetime.now(datetime.timezone.utc))
    #: May see the inspector (the ``/-/`` pages).
    is_staff = fields.Boolean(default=False)

    def set_password(self, raw_password: str) -> None:
        self.password = hash_password(raw_password)

    def check_password(self, raw_password: str) -> bool:
        return verify_password(raw_password, self.password)

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


#: What a database needs for users to sign in: migrate these.
MODELS: Final = [User, UserSession]


def _digest(session_key: str) -> str:
    # Only a digest is stored: a copy of the database signs nobody in.
    return hashlib.sha256(session_key.encode()).hexdigest()


def create_user(
    username: str, password: str, *, is_staff: bool = False, using: str = DEFAULT_ALIAS
) -> User:
    """A new saved user.

    The password is hashed before the write transaction begins.

    :raises AuthError: for an empty or over-long username, an empty password,
        or a username already taken.
    """
    username = username.strip()
    if not username:
        raise AuthError("the username may not be empty")
    if len(username) > _MAX_USERNAME:
        raise AuthError(f"the username may have at most {_MAX_USERNAME} characters")
    user = User(username=username, password=hash_password(password), is_staff=is_staff)
    with atomic(using):
        if User.objects.using(using).filter(username=username).exists():
            raise AuthError(f"the username {username!r} is taken")
        user.save(using=using)
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


def authenticate(
    request: Any = None, *, using: str = DEFAULT_ALIAS, **credentials: Any
) -> User | None:
    """The user matching ``username`` and ``password``, or None.

    On failure fires ``user_login_failed(sender="hosthooks.runtime.auth",
    credentials=<cleansed>, request=request)``.
    """
    username, password = credentials.get("username"), credentials.get("password")
    user = None
    if isinstance(username, str) and isinstance(password, str) and password:
        user = User.objects.using(using).filter(username=username.strip()).first()
        if user is None:
            verify_password(password, _DUMMY_HASH)
        elif not user.check_password(password):
            user = None
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

    :raises AuthError: for an empty password.
    """
    encoded = hash_password(new_password)
    using = user._state.db or DEFAULT_ALIAS
    session: Session = request.session
    with atomic(using):
        user.password = encoded
        user.save(update_fields=["password"], using=using)
        UserSession.objects.using(using).filter(user=user).delete()
        session.cycle_key()
        _remember(session, user)
