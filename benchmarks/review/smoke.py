"""Smoke test of the harness, no model: a scripted OpenAI-compatible fake answers every review
call with one finding on the first added line of the prompt ("the sep argument is ignored, a
space is hard-coded"), which is a hit on bug01 and a false alarm on any refactor.

    python3.11 benchmarks/review/smoke.py [--assay-bin PATH] [--skip-pr-agent] [--skip-assay]

It checks, in order: pr-agent starts and fails cleanly against a closed port (no JSON, no hang);
pr-agent and assay each review bug01 and ref01 through run.py against the fake (tags
``smoke-pr-agent`` / ``smoke-assay``); score.py grades them (bug01 HIT, ref01 1 false alarm).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

PRS = ["bug01-args2sh-sep", "ref01-barrellist-unused-len"]
MESSAGE = "The sep argument is ignored: a single space is hard-coded instead of using sep."


def answer(prompt: str) -> str:
    if "key_issues_to_review" in prompt:  # pr-agent's review prompt
        # the PR's own file (the prompt's instructions hold an example file before it)
        path = re.search(r"## File: '(boltons/[^']+)'", prompt)
        line = re.compile(r"^(\d+) \+", re.M).search(prompt, path.end() if path else 0)
        n = int(line.group(1)) if line else 1
        return (
            "```yaml\nreview:\n  estimated_effort_to_review_[1-5]: 1\n  relevant_tests: |\n    No\n"
            "  key_issues_to_review:\n"
            f"    - relevant_file: |\n        {path.group(1) if path else 'boltons/strutils.py'}\n"
            "      issue_header: |\n        Possible Bug\n"
            f"      issue_content: |\n        {MESSAGE}\n"
            f"      start_line: {n}\n      end_line: {n}\n"
            "  security_concerns: |\n    No\n```"
        )
    first = next((ln for ln in prompt.splitlines() if " + " in ln[:9]), "    1 + x")
    n = int(first[:5].strip() or 1)
    return (
        f"```yaml\nfindings:\n  - line: {n}\n    severity: medium\n    category: bug\n"
        f"    message: {MESSAGE}\n```"
    )


class Fake:
    def __init__(self) -> None:
        self.calls = 0

        fake = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: Any) -> None:
                pass

            def _send(self, obj: dict[str, Any]) -> None:
                data = json.dumps(obj).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _events(self, chunks: list[dict[str, Any]]) -> None:
                data = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
                raw = data.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                self._send({"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                prompt = "\n".join(str(m.get("content")) for m in body.get("messages", []))
                fake.calls += 1
                text = answer(prompt)
                usage = {
                    "prompt_tokens": len(prompt) // 4,
                    "completion_tokens": len(text) // 4,
                    "total_tokens": len(prompt) // 4 + len(text) // 4,
                }
                head = {"id": f"fake-{fake.calls}", "created": int(time.time()),
                        "model": "fake-model"}  # fmt: skip
                if body.get("stream"):  # assay streams (server-sent events), as llama.cpp does
                    self._events([
                        {**head, "object": "chat.completion.chunk", "choices": [
                            {"index": 0, "delta": {"role": "assistant", "content": text},
                             "finish_reason": None}]},
                        {**head, "object": "chat.completion.chunk", "choices": [
                            {"index": 0, "delta": {}, "finish_reason": "stop"}]},
                        {**head, "object": "chat.completion.chunk", "choices": [],
                         "usage": usage},
                    ])  # fmt: skip
                    return
                self._send(
                    {
                        **head,
                        "object": "chat.completion",
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "stop",
                                "message": {"role": "assistant", "content": text},
                            }
                        ],
                        "usage": usage,
                    }
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def check_closed_port() -> None:
    import run

    tmp = Path(tempfile.mkdtemp(prefix="review-smoke-"))
    try:
        (tmp / "pr.diff").write_text(common.pr_diff(PRS[0]))
        env = run.pr_agent_env(f"http://127.0.0.1:{closed_port()}", "fake-model", 60)
        start = time.monotonic()
        done = subprocess.run(
            [
                str(run.PR_AGENT_VENV / "bin" / "pr-agent"),
                "--diff-file",
                "pr.diff",
                "--json-output",
                str(tmp / "review.json"),
                "review",
            ],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        secs = time.monotonic() - start
        failed_msg = "Failed to review PR" in done.stdout
        print(
            f"pr-agent vs closed port: exit {done.returncode}, {secs:.0f} s, "
            f"JSON written: {(tmp / 'review.json').exists()}, "
            f"says 'Failed to review PR': {failed_msg}"
        )
        assert not (tmp / "review.json").exists() and failed_msg, "pr-agent did not fail cleanly"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--assay-bin", help="assay executable (default: run.py's)")
    ap.add_argument("--skip-pr-agent", action="store_true")
    ap.add_argument("--skip-assay", action="store_true")
    args = ap.parse_args()
    here = Path(__file__).resolve().parent
    py = sys.executable
    if not args.skip_pr_agent:
        check_closed_port()
    fake = Fake()
    tags = []
    try:
        pr_args = [a for p in PRS for a in ("--pr", p)]
        if not args.skip_pr_agent:
            subprocess.run(
                [
                    py,
                    str(here / "run.py"),
                    "pr-agent",
                    "--endpoint",
                    fake.url,
                    "--tag",
                    "smoke-pr-agent",
                    "--timeout",
                    "300",
                    *pr_args,
                ],
                check=True,
            )
            tags.append("smoke-pr-agent")
        if not args.skip_assay:
            extra = ["--assay-bin", args.assay_bin] if args.assay_bin else []
            subprocess.run(
                [
                    py,
                    str(here / "run.py"),
                    "assay",
                    "--endpoint",
                    fake.url,
                    "--tag",
                    "smoke-assay",
                    "--timeout",
                    "300",
                    *extra,
                    *pr_args,
                ],
                check=True,
            )
            tags.append("smoke-assay")
    finally:
        fake.stop()
    out = Path(tempfile.mkstemp(suffix=".json")[1])
    subprocess.run(
        [
            py,
            str(here / "score.py"),
            *[a for t in tags for a in ("--tag", t)],
            "--details",
            "--json",
            str(out),
        ],
        check=True,
    )
    report = json.loads(out.read_text())
    out.unlink()
    ok = True
    for tag in tags:
        rows = {r["pr"]: r for r in report[tag]["rows"]}
        bug, ref = rows[PRS[0]], rows[PRS[1]]
        good = bug.get("status") == "HIT" and ref.get("false_alarms") == 1
        print(
            f"{tag}: bug01 {bug.get('status')}, ref01 false alarms {ref.get('false_alarms')}: "
            f"{'as expected' if good else 'NOT as expected'}"
        )
        ok &= good
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
