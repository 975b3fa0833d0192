"""A counting pass-through in front of the model endpoint (stdlib only): every tool of the
benchmark talks to the same server through it, so tokens and calls are counted the same way
for all of them (from the ``usage`` of each OpenAI-style answer), whatever the tool reports.

    proxy = UsageProxy("http://127.0.0.1:8111").start()   # proxy.url -> http://127.0.0.1:PORT
    ...                                                     # point the tool at proxy.url + "/v1"
    proxy.stop(); proxy.totals()  # {"calls", "prompt_tokens", "completion_tokens", ...}

Streamed answers (``text/event-stream``) are passed through chunk by chunk and their ``usage``
is read when the server sends one; a streamed answer without it counts in ``calls_without_usage``.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
    "proxy-authenticate",
    "host",
    "content-length",
}


class UsageProxy:
    def __init__(self, upstream: str, *, timeout: float = 1800) -> None:
        parsed = urllib.parse.urlsplit(upstream.rstrip("/"))
        if parsed.scheme != "http" or not parsed.hostname:
            raise ValueError(f"upstream {upstream!r}: expected http://HOST:PORT")
        self.host, self.port = parsed.hostname, parsed.port or 80
        self.prefix = parsed.path.removesuffix("/v1")
        self.timeout = timeout
        self.lock = threading.Lock()
        self.calls: list[dict[str, Any]] = []
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> UsageProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                self._forward("GET")

            def do_POST(self) -> None:
                self._forward("POST")

            def _forward(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                start = time.monotonic()
                record: dict[str, Any] = {"path": self.path, "method": method}
                try:
                    conn = http.client.HTTPConnection(proxy.host, proxy.port, timeout=proxy.timeout)
                    conn.request(method, proxy.prefix + self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                except OSError as exc:
                    record.update(status=502, error=str(exc), seconds=time.monotonic() - start)
                    proxy._record(record, count=method == "POST")
                    msg = json.dumps(
                        {"error": {"message": f"upstream unreachable: {exc}"}}
                    ).encode()
                    self.send_response(502)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(msg)))
                    self.end_headers()
                    self.wfile.write(msg)
                    return
                ctype = resp.getheader("Content-Type", "")
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in HOP_BY_HOP:
                        self.send_header(k, v)
                usage = None
                if "text/event-stream" in ctype:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    try:
                        while chunk := resp.read1(65536):
                            for line in chunk.split(b"\n"):
                                usage = _usage_from_sse(line) or usage
                            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                            self.wfile.flush()
                        self.wfile.write(b"0\r\n\r\n")
                    except (BrokenPipeError, ConnectionResetError):
                        # The client stopped reading (its own stop sequence): the call counts,
                        # its usage is unknown (the tool's own count is kept beside).
                        record["client_closed"] = True
                else:
                    data = resp.read()
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    try:
                        usage = json.loads(data).get("usage")
                    except (ValueError, AttributeError):
                        usage = None
                conn.close()
                record.update(status=resp.status, usage=usage, seconds=time.monotonic() - start)
                proxy._record(record, count=method == "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def _record(self, record: dict[str, Any], *, count: bool) -> None:
        if count:
            with self.lock:
                self.calls.append(record)

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def totals(self) -> dict[str, Any]:
        with self.lock:
            calls = list(self.calls)
        prompt = sum(int((c.get("usage") or {}).get("prompt_tokens") or 0) for c in calls)
        completion = sum(int((c.get("usage") or {}).get("completion_tokens") or 0) for c in calls)
        return {
            "calls": len(calls),
            "failed_calls": sum(1 for c in calls if c.get("status") != 200),
            "calls_without_usage": sum(
                1 for c in calls if c.get("status") == 200 and not c.get("usage")
            ),
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "tokens": prompt + completion,
            "model_seconds": round(sum(c.get("seconds", 0.0) for c in calls), 1),
        }


def _usage_from_sse(line: bytes) -> dict[str, Any] | None:
    line = line.strip()
    if not line.startswith(b"data:") or line == b"data: [DONE]":
        return None
    try:
        return json.loads(line[5:]).get("usage") or None
    except (ValueError, AttributeError):
        return None
