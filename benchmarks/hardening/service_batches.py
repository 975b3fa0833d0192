"""Bounded batches of bad requests to a real ``assay serve`` on loopback: what comes back?

Starts ``assay serve --workers 0`` (jobs are queued, none runs) in a throwaway ``ASSAY_HOME``
with GitHub and GitLab webhook secrets and three API tokens (read, write, admin), then sends:

- webhooks: validly signed deliveries from ``tests/kit/fuzz.py`` (as the hosts send them, one
  field the bot reads made odd, an odd body, odd headers), counted by status; afterwards every
  queued job is checked against the hosts' rules, and no delivery marked invalid may have made
  one;
- REST: requests without a token, with a forged one, with too small a scope, bodies out of
  bounds or of the wrong shape, bodies that are not JSON or nested 100,000 deep, odd query and
  path parameters, and oversized bodies (100 MB without a token, 30 MB with one, declared and
  chunked) sent 1 MiB at a time until the server answers or hangs up.

The server's RSS is read from ``/proc`` before and after each batch.  Every batch is bounded
(a count, and ``--max-seconds`` each).

    .venv/bin/python benchmarks/hardening/service_batches.py [--deliveries 5000] [--json F]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import socket
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from agents.service.admin import AdminStore  # noqa: E402
from agents.service.auth import create_token  # noqa: E402
from agents.service.store import SqliteJobs  # noqa: E402
from tests.kit.fuzz import deliveries, job_is_valid  # noqa: E402
from tests.kit.service import server  # noqa: E402

SECRET = "batch-secret"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def raw_post(url: str, path: str, headers: dict[str, str], total: int, chunked: bool) -> int:
    """POST ``total`` bytes 1 MiB at a time until the server answers or hangs up; its status
    (0: it hung up without one)."""
    host, port = url.removeprefix("http://").split(":")
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", "Content-Type: application/json"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}")
    chunk = b"x" * 2**20
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        sent = 0
        try:
            while sent < total and not select.select([sock], [], [], 0)[0]:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
                sent += len(chunk)
            if chunked and sent >= total:
                sock.sendall(b"0\r\n\r\n")
            answer = sock.recv(4096)
        except OSError:
            return 0
    return int(answer.split()[1]) if answer.startswith(b"HTTP/1.1 ") else 0


class Batches:
    def __init__(self, url: str, pid: int, max_seconds: float) -> None:
        self.url, self.pid, self.max_seconds = url, pid, max_seconds
        self.client = httpx.Client(base_url=url, timeout=60)
        self.rows: list[dict[str, Any]] = []

    def batch(self, name: str, requests: list[dict[str, Any]]) -> Counter[int]:
        """Send ``requests`` (httpx.request keyword arguments) one after another."""
        before, started = rss_mib(self.pid), time.monotonic()
        codes: Counter[int] = Counter()
        sent = 0
        for req in requests:
            if time.monotonic() - started > self.max_seconds:
                break
            try:
                codes[self.client.request(**req).status_code] += 1
            except httpx.HTTPError:
                codes[0] += 1
            sent += 1
        self.record(name, sent, codes, before, started)
        return codes

    def record(self, name: str, sent: int, codes: Counter[int], before: float, t0: float) -> None:
        after = rss_mib(self.pid)
        self.rows.append(
            {
                "batch": name,
                "sent": sent,
                "codes": dict(sorted(codes.items())),
                "seconds": round(time.monotonic() - t0, 1),
                "rss_mib": [round(before), round(after)],
            }
        )


def webhook_batches(b: Batches, n: int) -> dict[str, Any]:
    batch = deliveries(n, SECRET, seed=2026)
    kinds: dict[str, list[Any]] = defaultdict(list)
    for d in batch:
        kind = (
            "as sent"
            if not d.mutation
            else "odd headers"
            if d.mutation.startswith("header")
            else "odd field"
            if " = " in d.mutation
            else "odd body"
        )
        kinds[kind].append(d)
    bad_jobs = 0
    for kind, items in kinds.items():
        before, started = rss_mib(b.pid), time.monotonic()
        codes: Counter[int] = Counter()
        for d in items:
            if time.monotonic() - started > b.max_seconds:
                break
            answer = b.client.post(d.path, content=d.body, headers=d.headers)
            codes[answer.status_code] += 1
            bad_jobs += d.invalid and answer.status_code == 202
        b.record(f"webhooks: {kind}", sum(codes.values()), codes, before, started)
    return {
        "deliveries": len(batch),
        "invalid": sum(d.invalid for d in batch),
        "jobs_from_invalid": bad_jobs,
    }


def rest_requests(tokens: dict[str, str], rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    def auth(t: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {t}"}

    w, a = auth(tokens["write"]), auth(tokens["admin"])
    odd = [
        None,
        True,
        -1,
        0,
        1.5,
        10**300,
        "",
        "x" * 5000,
        "../../etc/passwd",
        "--upload-pack=x",
        [],
        {},
        ["a"] * 1000,
        "ø",
        "HEAD~1",
    ]
    fields = {
        "/v1/coverage": ["repo", "files", "max_minutes", "max_tokens", "target_coverage", "write"],
        "/v1/tests": ["repo", "path", "symbol", "snippet", "module", "max_minutes", "wait"],
        "/v1/reviews": ["diff", "repo", "base", "tests", "wait"],
        "/v1/repos": ["name", "path", "clone_url", "default_branch"],
    }
    shaped = []
    for _ in range(400):
        route = rng.choice(list(fields))
        body: dict[str, Any] = {"repo": "shop"} if route != "/v1/repos" else {"name": "shop"}
        body[rng.choice(fields[route])] = rng.choice(odd)
        if rng.random() < 0.2:
            body["unknown_field"] = 1
        body.setdefault("wait", False) if route != "/v1/repos" else None
        shaped.append(
            {
                "method": "POST",
                "url": route,
                "json": body,
                "headers": a if route == "/v1/repos" else w,
            }
        )
    deep = b"[" * 100_000 + b"]" * 100_000
    return {
        "no token": [
            {"method": m, "url": u}
            for m, u in [
                ("GET", "/v1/jobs"),
                ("POST", "/v1/reviews"),
                ("GET", "/v1/whoami"),
                ("PUT", "/v1/policy"),
            ]
            for _ in range(50)
        ],
        "forged or malformed token": [
            {"method": "GET", "url": "/v1/jobs", "headers": {"Authorization": h}}
            for h in [
                "Bearer assay_00000000_forged",
                "Basic abc",
                "Bearer",
                "bearer " + "x" * 5000,
                "Bearer " + tokens["write"][:-3] + "xyz",
            ]
            for _ in range(40)
        ],
        "too small a scope": [
            {
                "method": "POST",
                "url": "/v1/reviews",
                "json": {"diff": "x"},
                "headers": auth(tokens["read"]),
            }
            for _ in range(100)
        ],
        "bodies out of bounds or of the wrong shape": shaped,
        "bodies that are not JSON": [
            {"method": "POST", "url": rng.choice(list(fields)), "content": c, "headers": h}
            for c in [b"{not json", b"\xff\xfe", b"[]", b"null", b'"x"', deep]
            for h in [a, {**a, "Content-Type": "text/plain"}]
            for _ in range(10)
        ],
        "odd query and path parameters": [
            {"method": "GET", "url": u, "headers": w}
            for u in [
                "/v1/jobs?limit=0",
                "/v1/jobs?limit=-5",
                "/v1/jobs?limit=abc",
                "/v1/jobs?limit=" + "9" * 400,
                "/v1/jobs/" + "x" * 3000,
                "/v1/jobs/..%2F..%2Fetc",
                "/v1/repos/..%2F..%2Fetc",
                "/v1/repos/nope",
            ]
            for _ in range(15)
        ],
    }


def rest_batches(b: Batches, tokens: dict[str, str]) -> None:
    for name, requests in rest_requests(tokens, random.Random(2026)).items():
        b.batch(f"REST: {name}", requests)
    before, started = rss_mib(b.pid), time.monotonic()
    codes: Counter[int] = Counter()
    w = {"Authorization": f"Bearer {tokens['write']}"}
    for path, headers, total in (
        [("/v1/reviews", {}, 100 * 2**20)] * 4
        + [("/v1/reviews", w, 30 * 2**20)] * 4
        + [("/webhooks/github", {}, 100 * 2**20)] * 2
    ):
        for chunked in (False, True):
            codes[raw_post(b.url, path, headers, total, chunked)] += 1
    b.record(
        "oversized: 100 MB without a token, 30 MB with one, webhooks",
        sum(codes.values()),
        codes,
        before,
        started,
    )


def markdown(rows: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    out = [
        "| batch | requests | status codes | 500s | RSS MiB before → after | s |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        codes = ", ".join(f"{k}: {v}" for k, v in r["codes"].items())
        out.append(
            f"| {r['batch']} | {r['sent']} | {codes} | {r['codes'].get(500, 0)} | "
            f"{r['rss_mib'][0]} → {r['rss_mib'][1]} | {r['seconds']} |"
        )
    out.append("")
    out.append(", ".join(f"{k}: {v}" for k, v in summary.items()))
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=5000)
    parser.add_argument("--max-seconds", type=float, default=120.0, help="per batch")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="assay-batches-") as tmp:
        home = Path(tmp) / "home"
        env = {
            **os.environ,
            "ASSAY_HOME": str(home),
            "ASSAY_SERVICE_WORKERS": "0",
            "ASSAY_GITHUB_WEBHOOK_SECRET": SECRET,
            "ASSAY_GITLAB_WEBHOOK_SECRET": SECRET,
            "ASSAY_RATE_LIMIT_PER_MINUTE": "1000000",
            "ASSAY_LLM_BASE_URL": "http://127.0.0.1:9/v1",
        }
        store = AdminStore(home / "service" / "admin.db")
        tokens = {s: create_token(store, s, [s])[0] for s in ("read", "write", "admin")}
        store.close()
        started = time.monotonic()
        with server(env, Path(tmp) / "serve.log") as (url, proc):
            b = Batches(url, proc.proc.pid, args.max_seconds)
            hooks = webhook_batches(b, args.deliveries)
            rest_batches(b, tokens)
            alive = httpx.get(f"{url}/healthz").status_code == 200
        jobs = SqliteJobs(home / "service" / "jobs.db").list(100_000)
        summary = {
            **hooks,
            "jobs queued": len(jobs),
            "jobs breaking the hosts' rules": sum(
                not job_is_valid(j.params) for j in jobs if j.kind == "pr"
            ),
            "REST requests": sum(r["sent"] for r in b.rows if not r["batch"].startswith("web")),
            "500s": sum(r["codes"].get(500, 0) for r in b.rows),
            "server alive at the end": alive,
            "seconds": round(time.monotonic() - started),
        }
    commit = os.popen(f"git -C {ROOT} rev-parse --short HEAD").read().strip()
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, commit {commit}\n")
    print(markdown(b.rows, summary))
    if args.json:
        args.json.write_text(json.dumps({"rows": b.rows, "summary": summary}, indent=2))
    ok = summary["500s"] == 0 and not hooks["jobs_from_invalid"] and alive
    return 0 if ok and not summary["jobs breaking the hosts' rules"] else 1


if __name__ == "__main__":
    sys.exit(main())
