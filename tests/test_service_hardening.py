"""The service against bad input: thousands of odd, validly signed webhook deliveries (no 500,
no job from an invalid one), the body cap before the token on a real socket (the server's
memory stays bounded), request bounds, and jobs that fail for good failing once, at once."""

from __future__ import annotations

import asyncio
import os
import select
import socket
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents.errors import InputError, PlatformError
from agents.service.app import create_app
from agents.service.auth import create_token
from agents.service.jobs import JobContext, JobQueue, is_transient
from agents.settings import load_settings
from flows import (
    LLMAuthError,
    LLMBadResponse,
    LLMModelNotFound,
    LLMRateLimited,
    LLMServerError,
    LLMTimeout,
    LLMUnreachable,
    SandboxError,
)
from tests.kit.fuzz import deliveries, job_is_valid
from tests.kit.service import server, wait_for

SECRET = "fuzz-secret"


def test_webhook_fuzz_no_500_and_no_job_from_an_invalid_delivery(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ASSAY_GITHUB_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("ASSAY_GITLAB_WEBHOOK_SECRET", SECRET)
    app = create_app(load_settings().settings, workers=0)  # jobs are queued, none runs
    batch = deliveries(3000, SECRET)

    async def deliver_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://assay") as client:
            return [await client.post(d.path, content=d.body, headers=d.headers) for d in batch]

    started = time.monotonic()
    answers = asyncio.run(deliver_all())
    took = time.monotonic() - started
    codes = Counter(a.status_code for a in answers)
    assert codes[500] == 0 and set(codes) <= {200, 202, 400, 415}, codes
    pairs = list(zip(batch, answers, strict=True))
    wrong = [(d.mutation, a.text[:120]) for d, a in pairs if d.invalid and a.status_code == 202]
    assert wrong == [], wrong[:5]
    for d, a in pairs:
        if a.status_code == 400:  # a 400 names what is wrong, in one short line
            detail = a.json()["detail"]
            assert "\n" not in detail and len(detail) < 400, (d.mutation, detail)
    jobs = app.state.queue.store.list(5000)
    assert len(jobs) == codes[202] > 200  # as many jobs as 202s, and the valid ones got one
    assert [j.params for j in jobs if not job_is_valid(j.params)] == []
    app.state.queue.stop()
    print(f"\n{len(batch)} deliveries in {took:.1f} s: {dict(sorted(codes.items()))}")


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _post_raw(url: str, path: str, headers: dict[str, str], total: int, chunked: bool) -> int:
    """POST ``total`` bytes (or until the server answers or hangs up), 1 MiB at a time; the
    status the server answered (0: it hung up without one)."""
    host, port = url.removeprefix("http://").split(":")
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", "Content-Type: application/json"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}")
    chunk = b"x" * 2**20
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        sent = 0
        try:
            while sent < total:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                data = b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk
                sock.sendall(data)
                sent += len(chunk)
            if chunked and sent >= total:
                sock.sendall(b"0\r\n\r\n")
            answer = sock.recv(4096)
        except (BrokenPipeError, ConnectionResetError):
            return 0
    return int(answer.split()[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def test_body_cap_and_token_before_the_body_keep_the_server_small(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ASSAY_LLM_BASE_URL": "http://127.0.0.1:9/v1",
        "ASSAY_SERVICE_WORKERS": "0",
    }
    from agents.service.admin import AdminStore

    store = AdminStore(Path(env["ASSAY_HOME"]) / "service" / "admin.db")
    writer, _ = create_token(store, "w", ["write"])
    store.close()
    with server(env, tmp_path / "serve.log") as (url, proc):
        before = _rss_kib(proc.proc.pid)
        statuses = []
        for chunked in (False, True, False, True):  # 4 × 100 MB without a token
            statuses.append(_post_raw(url, "/v1/reviews", {}, 100 * 2**20, chunked))
        token = {"Authorization": f"Bearer {writer}"}
        statuses.append(_post_raw(url, "/v1/reviews", token, 30 * 2**20, chunked=True))
        statuses.append(_post_raw(url, "/v1/reviews", token, 30 * 2**20, chunked=False))
        statuses.append(_post_raw(url, "/webhooks/github", {}, 30 * 2**20, chunked=True))
        grew = _rss_kib(proc.proc.pid) - before
        assert httpx.get(f"{url}/healthz").status_code == 200  # still serving
    assert statuses == [413, 401, 413, 401, 413, 413, 503], statuses
    assert grew < 40 * 1024, f"the server grew by {grew // 1024} MiB"


def test_requests_out_of_bounds_are_422_naming_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(load_settings().settings, workers=0)
    transport = httpx.ASGITransport(app=app)

    async def ask() -> list[httpx.Response]:
        writer, _ = create_token(app.state.admin, "w", ["admin"])
        h = {"Authorization": f"Bearer {writer}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://assay") as c:
            return [
                await c.post("/v1/coverage", json={"repo": "shop", "max_minutes": -1}, headers=h),
                await c.post("/v1/coverage", json={"repo": "../etc"}, headers=h),
                await c.post("/v1/tests", json={"repo": "shop", "path": "../../x.py"}, headers=h),
                await c.post("/v1/reviews", json={"diff": "x", "wiat": False}, headers=h),
                await c.post(
                    "/v1/reviews", json={"repo": "shop", "base": "--upload-pack=x"}, headers=h
                ),
                await c.get("/v1/jobs?limit=100000", headers=h),
                await c.post("/v1/reviews", json={"diff": "x"}),  # no token at all
            ]

    answers = asyncio.run(ask())
    app.state.queue.stop()
    assert [a.status_code for a in answers] == [422, 422, 422, 422, 422, 422, 401]
    details = [a.json()["detail"] for a in answers]
    for where, detail in zip(
        ["max_minutes", "repo", "path", "wiat", "base", "limit"], details, strict=False
    ):
        assert where in detail and "\n" not in detail, detail


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (ValueError("bad"), False), (TypeError("bug"), False), (KeyError("k"), False),
        (RuntimeError("x"), False), (FileNotFoundError("f"), False),
        (InputError("no such repo", "register it"), False), (SandboxError("no python"), False),
        (LLMAuthError("key refused"), False), (LLMModelNotFound("no model"), False),
        (LLMBadResponse("garbage"), False),
        (PlatformError("404", status=404), False), (PlatformError("401", status=401), False),
        (LLMRateLimited("429"), True), (LLMServerError("500"), True), (LLMTimeout("slow"), True),
        (LLMUnreachable("down"), True), (ConnectionResetError(), True), (TimeoutError(), True),
        (PlatformError("502", status=502, transient=True), True),
    ],
)  # fmt: skip
def test_transient_or_permanent_for_every_exception_family(
    exc: BaseException, transient: bool
) -> None:
    assert is_transient(exc) is transient


def test_a_job_failing_for_good_fails_once_at_once_with_its_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ASSAY_JOB_MAX_ATTEMPTS", "2")
    runs: Counter[str] = Counter()

    def broken(ctx: JobContext) -> dict[str, Any]:
        runs[ctx.job.kind] += 1
        if ctx.job.kind == "bad":
            raise ValueError("the diff has no hunks")
        raise LLMServerError("the model server failed with HTTP 500")

    queue = JobQueue(load_settings().settings, {"bad": broken, "flaky": broken})
    queue.start(1)
    try:
        started = time.monotonic()
        bad, _ = queue.submit("bad", {})
        failed = wait_for(lambda: (j := queue.store.get(bad.id)) and j.finished and j, 30)
        assert time.monotonic() - started < 10  # at once: not after leases run out
        assert (failed.state, failed.attempts, failed.error) == (
            "failed", 1, "ValueError: the diff has no hunks"
        )  # fmt: skip
        flaky, _ = queue.submit("flaky", {})
        gone = wait_for(lambda: (j := queue.store.get(flaky.id)) and j.finished and j, 60)
        assert (gone.state, gone.attempts) == ("failed", 2)  # a transient error runs again
        assert gone.error is not None and "the model server failed with HTTP 500" in gone.error
    finally:
        queue.stop()
    assert runs == {"bad": 1, "flaky": 2}
