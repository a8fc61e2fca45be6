"""Sessions: a dict kept in a signed cookie, with a key that login rotates, and
the key it is signed with."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from typing import Final

from hosthooks.runtime.backends import is_url

#: The form field (and session key) of the CSRF token.
CSRF_FIELD: Final = "csrf_token"
_MIN_SECRET_LENGTH: Final = 32


class Session(dict[str, Any]):
    """A request's session: a dict kept in a signed cookie, with a key that login rotates."""

    def __init__(self, data: dict[str, Any] | None = None, key: str | None = None) -> None:
        super().__init__(data or {})
        self.key = key or secrets.token_urlsafe(16)
        # Only a session that changed is sent back: a visitor who never stores
        # anything gets no cookie, and a request costs no signing.
        self.modified = False

    def __setitem__(self, name: str, value: Any) -> None:
        super().__setitem__(name, value)
        self.modified = True

    def __delitem__(self, name: str) -> None:
        super().__delitem__(name)
        self.modified = True

    # Every other dict method that changes the contents marks the session too;
    # a change the session does not know of would never reach the cookie.

    def pop(self, name: str, *default: Any) -> Any:
        if name in self:
            self.modified = True
        return super().pop(name, *default)

    def popitem(self) -> tuple[str, Any]:
        item = super().popitem()
        self.modified = True
        return item

    def setdefault(self, name: str, default: Any = None) -> Any:
        if name not in self:
            self.modified = True
        return super().setdefault(name, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self.modified = True

    def __ior__(self, other: Any) -> Session:  # type: ignore[override,misc]
        self.update(other)
        return self

    def clear(self) -> None:
        if self:
            self.modified = True
        super().clear()

    def cycle_key(self) -> None:
        """A new key (and CSRF token), the same data: done at login."""
        self.key = secrets.token_urlsafe(16)
        self.pop(CSRF_FIELD, None)
        self.modified = True

    def flush(self) -> None:
        """Forget everything, under a new key: done at logout."""
        self.clear()
        self.cycle_key()


def load_secret_key(database_path: str, configured: str | None) -> str:
    """The key sessions are signed with: ``configured`` if set, else the file
    ``<database>.secret``, generated on first run with owner-only permissions.

    :raises ValueError: when the key is shorter than 32 characters, or when
        none is configured for a database on a server (``postgresql://``): no
        file lies beside it, and every process of the app must share one key.
    """
    if configured:
        key = configured
    elif is_url(database_path):
        raise ValueError(
            "set SECRET_KEY (HOSTHOOKS_SECRET_KEY) to the same key in every process of "
            "the app: a database on a server has no file beside it to keep one in"
        )
    elif database_path == ":memory:":
        key = secrets.token_urlsafe(48)
    else:
        path = Path(f"{database_path}.secret")
        key = secrets.token_urlsafe(48)
        # Written whole under a name of its own, then linked into place: a
        # process started at the same moment finds either no file or the whole
        # key, never one still empty, and the first link wins.
        draft = path.with_name(f"{path.name}.{secrets.token_hex(8)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as secret_file:
                secret_file.write(key + "\n")
            os.link(draft, path)
        except FileExistsError:
            key = path.read_text(encoding="utf-8").strip()
        finally:
            draft.unlink()
    if len(key) < _MIN_SECRET_LENGTH:
        raise ValueError(f"the secret key must have at least {_MIN_SECRET_LENGTH} characters")
    return key
