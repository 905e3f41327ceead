"""Who is asking: an analyst logged in with a password (a signed session cookie) or a
script with an API token; the CSRF token every form of a session carries; and a limit
on wrong passwords per user name.

Passwords are kept as argon2 hashes only (`hash_password`); a name that is not a user
costs the same verification as one that is, so timing does not tell which names exist.
A session remembers a fingerprint of the user's hash: changing the hash (or removing
the user) in monitor.yaml ends that user's sessions.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from monitor.web.settings import WebConfig, WebUser

_HASHER = PasswordHasher()
MAX_FAILURES = 10  # wrong passwords for one user name ...
FAILURE_WINDOW = 15 * 60  # ... within this many seconds lock it out for the rest of them
MAX_NAMES = 10_000  # names remembered at most (a flood of made-up names cannot fill memory)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


@cache
def _decoy() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))


def check_password(settings: WebConfig, name: str, password: str) -> WebUser | None:
    """The user if the password is theirs, else None (a name that is no user: None, in
    the same time)."""
    user = next((u for u in settings.users if u.name == name), None)
    stored = user.password_hash.get_secret_value() if user is not None else _decoy()
    try:
        _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def fingerprint(user: WebUser) -> str:
    """What a session keeps of the user's hash: a new hash ends old sessions."""
    return hashlib.sha256(user.password_hash.get_secret_value().encode()).hexdigest()[:16]


def session_user(settings: WebConfig, session: dict) -> str | None:
    """The user a session belongs to, if it is still theirs and its login is younger than
    `session_hours` (the cookie is renewed on every answer; the login is not)."""
    name = session.get("user")
    user = next((u for u in settings.users if u.name == name), None)
    if user is None or not hmac.compare_digest(str(session.get("fp", "")), fingerprint(user)):
        return None
    at = session.get("at")
    if not isinstance(at, int | float) or time.time() - at > settings.session_hours * 3600:
        return None
    return user.name


def token_user(settings: WebConfig, authorization: str | None) -> str | None:
    """The token's name for `Authorization: Bearer <token>`, if it is a configured token."""
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return None
    found = None
    for token in settings.tokens:  # compare with every one: no early exit to time
        if hmac.compare_digest(token.token.get_secret_value().encode(), given.strip().encode()):
            found = token.name
    return found


def csrf_token(session: dict) -> str:
    """The session's CSRF token (made on first use); every form carries it."""
    if not session.get("csrf"):
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def csrf_ok(session: dict, submitted: object) -> bool:
    expected = session.get("csrf")
    return (
        bool(expected)
        and isinstance(submitted, str)
        and hmac.compare_digest(expected.encode(), submitted.encode())
    )


class LoginLimiter:
    """Wrong passwords per user name: after MAX_FAILURES in FAILURE_WINDOW seconds, that
    name is refused until the oldest failure is out of the window."""

    def __init__(self, limit: int = MAX_FAILURES, window: float = FAILURE_WINDOW) -> None:
        self.limit, self.window = limit, window
        self.failures: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def _recent(self, name: str, now: float) -> deque[float]:
        times = self.failures.setdefault(name, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def blocked(self, name: str) -> bool:
        with self.lock:
            return len(self._recent(name, time.monotonic())) >= self.limit

    def failed(self, name: str) -> None:
        with self.lock:
            self._recent(name, time.monotonic()).append(time.monotonic())
            while len(self.failures) > MAX_NAMES:  # forget the name first seen longest ago
                del self.failures[next(iter(self.failures))]

    def succeeded(self, name: str) -> None:
        with self.lock:
            self.failures.pop(name, None)
