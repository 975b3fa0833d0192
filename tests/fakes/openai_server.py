"""A scripted, OpenAI-compatible chat server on a loopback port, for tests.

It is a real HTTP server: the code under test uses its real client against ``server.url``.
Script it with a queue of replies (strings or :class:`Reply`), or with a function of the
request; it records every request for assertions::

    with FakeOpenAI() as llm:
        llm.queue("```yaml\\nok: true\\n```", Reply(status=429, headers={"Retry-After": "1"}))
        client = LLMClient(llm.url, "fake-model")
        ...
        assert len(llm.chat_requests) == 2

A reply can be a normal answer, an HTTP error (429 with Retry-After, 500, 401, 404), a slow
answer, a hang (never answers until the server stops), or a raw body (empty, garbage).
Streaming (``stream: true``) is answered as server-sent events.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    content: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    hang: bool = False
    body: bytes | None = None
    error: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str = "stop"


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def messages(self) -> list[dict[str, str]]:
        return list((self.json or {}).get("messages", []))

    @property
    def prompt(self) -> str:
        """All message contents joined: handy for ``assert "x" in req.prompt``."""
        return "\n".join(m.get("content", "") for m in self.messages)


Handler = Callable[[RecordedRequest], "Reply | str"]


class FakeOpenAI:
    """The fake server. Use as a context manager or call :meth:`start` / :meth:`stop`."""

    def __init__(
        self,
        replies: Iterable[Reply | str] = (),
        *,
        handler: Handler | None = None,
        models: Iterable[str] = ("fake-model",),
        strict_models: bool = False,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.address = (host, port)
        self._queue: deque[Reply | str] = deque(replies)
        self.handler = handler
        self.models = list(models)
        self.strict_models = strict_models
        self.api_key = api_key
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting ----------------------------------------------------------------------------

    def queue(self, *replies: Reply | str) -> None:
        with self._lock:
            self._queue.extend(replies)

    def on(self, handler: Handler) -> None:
        """Answer every request the queue does not answer with ``handler(request)``."""
        self.handler = handler

    @property
    def pending(self) -> int:
        return len(self._queue)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.rstrip("/") == "/v1/chat/completions"]

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.address[0]}:{self.port}/v1"

    def start(self) -> FakeOpenAI:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

        class _Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                # A client that hangs up mid-answer (stop_when, timeouts) is normal here.
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        self._server = _Server(self.address, _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving ------------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        req = RecordedRequest(
            method=method,
            path=h.path,
            headers={k.lower(): v for k, v in h.headers.items()},
            body=body,
            at=time.monotonic(),
        )
        with self._lock:
            self.requests.append(req)

        if (
            self.api_key is not None
            and req.headers.get("authorization") != f"Bearer {self.api_key}"
        ):
            return self._send_error(h, 401, "Incorrect API key provided", "invalid_api_key")
        path = h.path.split("?", 1)[0].rstrip("/")
        if method == "GET" and path == "/v1/models":
            data = [{"id": m, "object": "model", "owned_by": "fake"} for m in self.models]
            return self._send_json(h, 200, {"object": "list", "data": data})
        if method != "POST" or path != "/v1/chat/completions":
            return self._send_error(h, 404, f"no route {method} {h.path}", "not_found")
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            return self._send_error(h, 400, "request body is not JSON", "invalid_request")
        model = payload.get("model", "")
        if self.strict_models and model not in self.models:
            return self._send_error(
                h, 404, f"The model `{model}` does not exist", "model_not_found"
            )

        reply = self._next_reply(req)
        if reply.hang:
            self._stopping.wait(120)
            return
        if reply.delay:
            time.sleep(reply.delay)
        if reply.body is not None:
            return self._send_raw(h, reply.status, reply.body, reply.headers)
        if reply.status != 200:
            return self._send_error(
                h,
                reply.status,
                reply.error or f"scripted HTTP {reply.status}",
                "scripted",
                reply.headers,
            )
        prompt_tokens = reply.prompt_tokens
        if prompt_tokens is None:
            prompt_tokens = max(
                1, sum(len(m.get("content", "")) for m in payload.get("messages", [])) // 4
            )
        completion_tokens = reply.completion_tokens
        if completion_tokens is None:
            completion_tokens = max(1, len(reply.content) // 4)
        if payload.get("stream"):
            return self._send_stream(h, model, reply)
        self._send_json(
            h,
            200,
            {
                "id": f"chatcmpl-fake-{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply.content},
                        "finish_reason": reply.finish_reason,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
            reply.headers,
        )

    def _next_reply(self, req: RecordedRequest) -> Reply:
        with self._lock:
            item = self._queue.popleft() if self._queue else None
        if item is None and self.handler is not None:
            item = self.handler(req)
        if item is None:
            return Reply(status=500, error="fake server: no scripted reply left for this request")
        return Reply(content=item) if isinstance(item, str) else item

    @staticmethod
    def _send_raw(
        h: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None
    ) -> None:
        h.send_response(status)
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        for k, v in hdrs.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _send_json(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        obj: Any,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._send_raw(h, status, json.dumps(obj).encode(), headers)

    def _send_error(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        message: str,
        code: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        body = {"error": {"message": message, "type": "fake_error", "code": code}}
        self._send_json(h, status, body, headers)

    @staticmethod
    def _send_stream(h: BaseHTTPRequestHandler, model: str, reply: Reply) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Connection", "close")
        h.end_headers()
        pieces = [reply.content[i : i + 8] for i in range(0, len(reply.content), 8)] or [""]
        for i, piece in enumerate(pieces):
            chunk = {
                "id": "chatcmpl-fake-stream",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "delta": {"content": piece, **({"role": "assistant"} if i == 0 else {})},
                        "finish_reason": None,
                    }
                ],
            }
            h.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        end = {
            "id": "chatcmpl-fake-stream",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": {}, "finish_reason": reply.finish_reason}],
        }
        h.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
        h.wfile.flush()
        h.close_connection = True
