"""Webhook intake of ``assay serve`` on loopback: latency p50/p99 and throughput, bounded.

Starts ``assay serve`` (embedded SQLite queue, no worker threads: only the intake is measured —
read the body under its cap, verify the HMAC, parse, deduplicate the delivery id, create the job
and enqueue it, answer 202) in a throwaway ``ASSAY_HOME``, then sends signed ``pull_request``
deliveries shaped like GitHub's (``--payload-kb`` of JSON):

1. latency: ``--requests`` sequential deliveries on one keep-alive connection;
2. throughput: ``--burst`` deliveries from ``--concurrency`` clients at once;
3. the refusals: deliveries with a bad signature (401) and replays of a delivery id (200).

Every run is bounded by ``--max-seconds`` per phase; nothing leaves 127.0.0.1.

    nice -n 10 .venv/bin/python benchmarks/service/intake.py [--results-md]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

SECRET = b"bench-secret"
# The client writes headers and body separately: without TCP_NODELAY, Nagle's algorithm and the
# server's delayed ACK add ~40 ms to every request, which measures the client, not the server.
NODELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]


def client(url: str) -> httpx.Client:
    return httpx.Client(
        base_url=url, timeout=30, transport=httpx.HTTPTransport(socket_options=NODELAY)
    )


ROOT = Path(__file__).resolve().parents[2]


def payload(kb: int, n: int) -> bytes:
    head = hashlib.sha1(f"{n}".encode()).hexdigest()
    body = {
        "action": "synchronize",
        "number": 7,
        "pull_request": {
            "number": 7,
            "head": {"sha": head, "ref": "feature"},
            "base": {"sha": "0" * 40, "ref": "main"},
            "body": "",
        },
        "repository": {"full_name": "acme/shop", "clone_url": "https://example.invalid/x.git"},
        "installation": {"id": 1},
        "sender": {"login": "dev", "type": "User"},
    }
    pad = max(0, kb * 1024 - len(json.dumps(body)))
    body["pull_request"]["body"] = "x" * pad  # type: ignore[index]
    return json.dumps(body).encode()


def headers(body: bytes, delivery: str, *, good: bool = True) -> dict[str, str]:
    sig = hmac.new(SECRET if good else b"wrong", body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": f"sha256={sig}",
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(ms: list[float]) -> dict[str, float]:
    return {
        "n": len(ms),
        "p50": round(pct(ms, 0.50), 2),
        "p90": round(pct(ms, 0.90), 2),
        "p99": round(pct(ms, 0.99), 2),
        "max": round(max(ms), 2),
        "mean": round(statistics.fmean(ms), 2),
    }


def start_server(home: Path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "ASSAY_HOME": str(home), "ASSAY_GITHUB_WEBHOOK_SECRET": SECRET.decode()}
    env = {k: v for k, v in env.items() if not k.startswith("ASSAY_REDIS")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "agents.cli", "serve", "--port", "0", "--workers", "0",
         "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        if line.startswith("assay service on "):
            url = line.split()[3]
            break
        if time.monotonic() > deadline:
            raise SystemExit("assay serve did not start")
    else:
        raise SystemExit(f"assay serve exited with {proc.wait()}")
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # drain the rest
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("assay serve never answered /healthz")


def sequential(url: str, bodies: list[bytes], max_s: float, **kw: Any) -> tuple[list[float], dict]:
    times, codes = [], {}
    stop = time.monotonic() + max_s
    with client(url) as c:
        for body in bodies:
            if time.monotonic() > stop:
                break
            h = headers(body, kw.get("delivery") or str(uuid.uuid4()), good=kw.get("good", True))
            t = time.perf_counter()
            r = c.post("/webhooks/github", content=body, headers=h)
            times.append((time.perf_counter() - t) * 1000)
            codes[r.status_code] = codes.get(r.status_code, 0) + 1
    return times, codes


def burst(url: str, bodies: list[bytes], clients: int, max_s: float) -> dict[str, Any]:
    lock = threading.Lock()
    times: list[float] = []
    codes: dict[int, int] = {}
    queue = list(enumerate(bodies))
    stop = time.monotonic() + max_s

    def worker() -> None:
        with client(url) as c:
            while time.monotonic() < stop:
                with lock:
                    if not queue:
                        return
                    _, body = queue.pop()
                t = time.perf_counter()
                h = headers(body, str(uuid.uuid4()))
                r = c.post("/webhooks/github", content=body, headers=h)
                with lock:
                    times.append((time.perf_counter() - t) * 1000)
                    codes[r.status_code] = codes.get(r.status_code, 0) + 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {"latency_ms": summary(times), "codes": codes, "seconds": round(wall, 2),
            "per_second": round(len(times) / wall, 1), "clients": clients}  # fmt: skip


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="assay-intake-") as tmp:
        proc, url = start_server(Path(tmp))
        try:
            warm = [payload(args.payload_kb, -i - 1) for i in range(20)]
            sequential(url, warm, args.max_seconds)
            bodies = [payload(args.payload_kb, i) for i in range(args.requests)]
            seq, seq_codes = sequential(url, bodies, args.max_seconds)
            more = [payload(args.payload_kb, 10**6 + i) for i in range(args.burst)]
            par = burst(url, more, args.concurrency, args.max_seconds)
            bad, bad_codes = sequential(url, bodies[:200], args.max_seconds, good=False)
            dup, dup_codes = sequential(url, bodies[:200], args.max_seconds, delivery="replayed")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return {
        "payload_kb": args.payload_kb,
        "sequential": {"latency_ms": summary(seq), "codes": seq_codes},
        "burst": par,
        "bad_signature": {"latency_ms": summary(bad), "codes": bad_codes},
        "replayed": {"latency_ms": summary(dup), "codes": dup_codes},
    }


def markdown(out: dict[str, Any], machine: str, argv: str) -> str:
    s, b = out["sequential"], out["burst"]
    bad, dup = out["bad_signature"], out["replayed"]
    rate = f"{b['per_second']} deliveries/s ({b['latency_ms']['n']} in {b['seconds']} s)"
    rows = [
        ("sequential, one connection", s["latency_ms"], f"{s['codes']}"),
        (f"burst, {b['clients']} clients", b["latency_ms"], f"{rate} {b['codes']}"),
        ("bad signature (401)", bad["latency_ms"], f"{bad['codes']}"),
        ("replayed delivery id (200)", dup["latency_ms"], f"{dup['codes']}"),
    ]
    lines = [
        f"### Webhook intake, {machine}",
        "",
        f"`{argv}` — {out['payload_kb']} KB signed `pull_request` deliveries; each 202 created "
        "and queued a job (SQLite queue, no worker threads running).",
        "",
        "| phase | p50 ms | p90 ms | p99 ms | max ms | notes |",
        "|---|---|---|---|---|---|",
    ]
    for name, lat, note in rows:
        lines.append(
            f"| {name} | {lat['p50']} | {lat['p90']} | {lat['p99']} | {lat['max']} | {note} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--burst", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--payload-kb", type=int, default=24)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--results-md", action="store_true", help="append to RESULTS.md")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from results_md import add_entry, machine

    out = run(args)
    text = markdown(out, machine(), "python benchmarks/service/intake.py " + " ".join(sys.argv[1:]))
    print(text)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    if args.results_md:
        add_entry(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
