"""What every request meets before a route sees it (an ASGI middleware):

1. a declared ``Content-Length`` over ``max_body_bytes`` → 413 at once, nothing read;
2. on the API (``/v1/…``) the token is checked before a byte of the body is read → 401 (the
   scope and the rate limit are the route's, :func:`agents.service.auth.require`);
3. the body is counted while it is read, whoever reads it: past the cap the read raises
   :class:`TooLarge` → 413 (a chunked body that never declared its length included).

So a client without a token cannot make the server hold a body, and no body larger than the cap
is ever held in memory.
"""

from __future__ import annotations

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agents.service.admin import AdminStore
from agents.service.auth import Problem, authenticate

API_PREFIX = "/v1"


class TooLarge(HTTPException):
    """The body went past the cap while it was read (FastAPI passes HTTP exceptions on)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body is over {limit} bytes (max_body_bytes): send less")

    def response(self) -> JSONResponse:
        return JSONResponse({"error": "too_large", "detail": self.detail}, status_code=413)


class RequestLimits:
    """The middleware: body cap on every route, the API token before the body."""

    def __init__(self, app: ASGIApp, *, limit: int, admin: AdminStore) -> None:
        self.app = app
        self.limit = limit
        self.admin = admin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            refusal = TooLarge(self.limit).response() if declared.isdigit() else JSONResponse(
                {"error": "bad_request", "detail": "Content-Length is not a number"}, 400
            )  # fmt: skip
            await refusal(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            header = headers.get("authorization", "")
            try:
                record = await run_in_threadpool(authenticate, self.admin, header)
            except Problem as problem:
                await problem.response()(scope, receive, send)
                return
            scope.setdefault("state", {})["token"] = record
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise TooLarge(self.limit)
            return message

        await self.app(scope, counted, send)
