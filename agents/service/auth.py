"""API tokens: creation, verification in constant time, scopes, and a per-token rate limit.

A token reads ``assay_<id>_<secret>``: 8 hex characters that name the stored record, then 32
random bytes.  The store keeps its SHA-256 only; a presented token is hashed and compared with
:func:`hmac.compare_digest`.  Scopes nest: ``admin`` can do what ``write`` can, which can do
what ``read`` can.  401 and 403 answers say what is missing and how to get it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from agents.errors import InputError
from agents.service.admin import AdminStore, TokenRecord

SCOPES = ("read", "write", "admin")
PREFIX = "assay_"
_DUMMY = hashlib.sha256(b"assay-no-such-token").hexdigest()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def expand(scopes: list[str]) -> set[str]:
    """The scopes a token has, the implied ones included."""
    top = max((SCOPES.index(s) for s in scopes if s in SCOPES), default=-1)
    return set(SCOPES[: top + 1])


def create_token(store: AdminStore, name: str, scopes: list[str]) -> tuple[str, TokenRecord]:
    """A new token (shown once) and its stored record."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise InputError(
            f"Unknown or missing scope {', '.join(unknown) or '(none)'}",
            f"pass --scope with one of {', '.join(SCOPES)}",
        )
    token_id = secrets.token_hex(4)
    token = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    record = TokenRecord(
        id=token_id, name=name, hash=hash_token(token), scopes=sorted(set(scopes)),
        created_at=time.time(),
    )  # fmt: skip
    store.add_token(record)
    return token, record


def verify(store: AdminStore, token: str) -> TokenRecord | None:
    """The live record of ``token``, or None (unknown, wrong secret, revoked)."""
    token_id = ""
    if token.startswith(PREFIX):
        token_id = token[len(PREFIX) :].split("_", 1)[0]
    record = store.token(token_id) if token_id else None
    expected = record.hash if record else _DUMMY
    ok = hmac.compare_digest(expected.encode(), hash_token(token).encode())
    if not ok or record is None or record.revoked_at is not None:
        return None
    return record


class RateLimiter:
    """A token bucket per API token: ``per_minute`` requests, refilled continuously."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(per_minute)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when the request may go ahead, else the seconds until it may."""
        with self._lock:
            now = self.clock()
            level, last = self._buckets.get(key, (self.burst, now))
            level = min(self.burst, level + (now - last) * self.rate)
            if level >= 1.0:
                self._buckets[key] = (level - 1.0, now)
                return 0.0
            self._buckets[key] = (level, now)
            return (1.0 - level) / self.rate


@dataclass
class Caller:
    token: TokenRecord

    @property
    def scopes(self) -> set[str]:
        return expand(self.token.scopes)


class Problem(Exception):
    """An error answer (401, 403, 404, 429, …) with a body that says why: error and detail."""

    def __init__(
        self, status: int, error: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"error": self.error, "detail": self.detail}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


CHALLENGE = {"WWW-Authenticate": 'Bearer realm="assay"'}


def authenticate(store: AdminStore, header: str) -> TokenRecord:
    """The live token of an ``Authorization`` header, or a 401 :class:`Problem` saying what to
    do.  Run before the request's body is read (:mod:`agents.service.limits`)."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(
            401, "unauthorized",
            "no API token: send 'Authorization: Bearer <token>' "
            "(create one with 'assay token create NAME --scope read')",
            CHALLENGE,
        )  # fmt: skip
    record = verify(store, token.strip())
    if record is None:
        raise Problem(
            401, "unauthorized",
            "the API token is unknown or revoked: create a new one with 'assay token create'",
            {"WWW-Authenticate": 'Bearer realm="assay", error="invalid_token"'},
        )  # fmt: skip
    return record


def require(scope: str) -> Callable[[Request], Caller]:
    """A FastAPI dependency: the caller's token must carry ``scope`` (and be within its rate)."""

    def dependency(request: Request) -> Caller:
        state = request.app.state
        record = getattr(request.state, "token", None)  # checked before the body was read
        if record is None:
            record = authenticate(state.admin, request.headers.get("authorization", ""))
        caller = Caller(record)
        if scope not in caller.scopes:
            raise Problem(
                403, "forbidden",
                f"this needs the '{scope}' scope; token '{record.name}' has "
                f"{', '.join(sorted(caller.scopes, key=SCOPES.index))}",
                {"WWW-Authenticate": f'Bearer realm="assay", error="insufficient_scope", '
                 f'scope="{scope}"'},
            )  # fmt: skip
        wait = state.limiter.take(record.id)
        if wait > 0:
            limit = state.settings.rate_limit_per_minute
            raise Problem(
                429, "rate_limited",
                f"token '{record.name}' is over its limit of {limit} requests per minute: "
                f"retry in {wait:.1f} s",
                {"Retry-After": str(max(1, int(wait + 0.999)))},
            )  # fmt: skip
        if record.last_used is None or time.time() - record.last_used > 60:
            state.admin.touch_token(record.id)
        return caller

    return dependency
