"""Helpers for the service, webhook and review tests: a sample project in git, a scripted model,
signed deliveries, `assay serve` / `assay worker` / `redis-server` as real processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from agents.platforms.github import sign
from tests.fakes.openai_server import RecordedRequest, Reply
from tests.kit.cli import ASSAY, run_assay

BASE_CALC = "def add(a, b):\n    return a + b\n"
HEAD1_CALC = BASE_CALC + "\n\ndef divide(a, b):\n    return a / b\n"
HEAD2_CALC = HEAD1_CALC + "\n\ndef mod(a, b):\n    return a % b\n"
TESTS = "from app.calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
DIVIDE_TEST = "from app.calc import divide\n\n\ndef test_divide():\n    assert divide(6, 3) == 2\n"

F_ZERO = {"line": 6, "severity": "high", "category": "bug",
          "message": "divide raises ZeroDivisionError when b is 0",
          "suggestion": "    return a / b if b else 0.0"}  # fmt: skip
F_DOC = {"line": 5, "severity": "low", "category": "docs", "message": "divide has no docstring"}
F_MOD = {"line": 10, "severity": "medium", "category": "bug",
         "message": "mod raises ZeroDivisionError when b is 0"}  # fmt: skip
F_OFF = {"line": 40, "severity": "high", "category": "bug", "message": "not on the diff at all"}

ENV = {
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}  # fmt: skip


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args],
        env={**os.environ, **ENV}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def make_project(root: Path) -> dict[str, str]:
    """A git repository: base commit, then two pushes on a branch; refs/pull/7/head = head 2.

    Returns the SHAs and diffs: base, head1, head2, diff1, diff2."""
    (root / "app").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "calc.py").write_text(BASE_CALC)
    (root / "tests" / "test_calc.py").write_text(TESTS)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    base = git(root, "rev-parse", "HEAD")
    git(root, "checkout", "-qb", "feature")
    (root / "app" / "calc.py").write_text(HEAD1_CALC)
    git(root, "commit", "-qam", "divide")
    head1 = git(root, "rev-parse", "HEAD")
    (root / "app" / "calc.py").write_text(HEAD2_CALC)
    git(root, "commit", "-qam", "mod")
    head2 = git(root, "rev-parse", "HEAD")
    git(root, "update-ref", "refs/pull/7/head", head1)
    git(root, "update-ref", "refs/merge-requests/3/head", head1)
    diff1 = git(root, "diff", base, head1) + "\n"
    diff2 = git(root, "diff", base, head2) + "\n"
    git(root, "checkout", "-q", "main")
    return {"base": base, "head1": head1, "head2": head2, "diff1": diff1, "diff2": diff2}


def findings_yaml(findings: list[dict[str, Any]]) -> str:
    return "```yaml\n" + json.dumps({"findings": findings}) + "\n```"


class ScriptedModel:
    """Answers review prompts with ``findings`` and cover prompts with ``tests`` per function."""

    def __init__(self) -> None:
        self.findings: list[dict[str, Any]] = []
        self.tests: dict[str, str] = {"divide": DIVIDE_TEST}
        self.review_calls = 0
        self.gate: Callable[[], None] | None = None

    def __call__(self, req: RecordedRequest) -> Reply | str:
        prompt = req.prompt
        if "List the problems in the added lines" in prompt:
            self.review_calls += 1
            if self.gate is not None:
                self.gate()
            return findings_yaml(self.findings)
        for name, code in self.tests.items():
            if f"for `{name}`" in prompt:
                return f"```python\n{code}```\n"
        return "no"


def rsa_pair() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def github_headers(secret: str, body: bytes, event: str, delivery: str | None = None) -> dict:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(secret.encode(), body),
    }


def pr_payload(action: str, head: str, *, clone_url: str = "", number: int = 7) -> bytes:
    payload = {
        "action": action,
        "number": number,
        "pull_request": {"number": number, "head": {"sha": head}, "base": {"sha": "0" * 40}},
        "repository": {"full_name": "acme/shop", "clone_url": clone_url},
        "installation": {"id": 99},
        "sender": {"login": "dev", "type": "User"},
    }
    return json.dumps(payload).encode()


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
    """Poll until ``predicate()`` is truthy; fail with ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what or predicate}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Proc:
    """A child process whose output lines are collected by a thread (no blocking reads)."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self.lines: list[str] = []
        self._log = log.open("a")
        self.proc = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=self._log, text=True,
            start_new_session=True,
        )  # fmt: skip
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def line(self, prefix: str, timeout: float = 60.0) -> str:
        def found() -> str | None:
            if self.proc.poll() is not None and not any(x.startswith(prefix) for x in self.lines):
                raise AssertionError(
                    f"exited {self.proc.returncode}: {self.log.read_text()[-2000:]}"
                )
            return next((x for x in self.lines if x.startswith(prefix)), None)

        return str(wait_for(found, timeout, f"a line starting {prefix!r}"))

    def kill9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()


def assay(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_assay(*args, env=env, timeout=120)


@contextmanager
def server(env: dict[str, str], log: Path, *args: str) -> Iterator[tuple[str, Proc]]:
    """``assay serve`` on a free loopback port; yields its URL once /healthz answers."""
    proc = Proc(
        [*ASSAY, "serve", "--port", "0", "--no-access-log", *args],
        env, log,
    )  # fmt: skip
    try:
        url = proc.line("assay service on ").split()[3]

        def healthy() -> bool:
            try:
                return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, 60, "/healthz")
        yield url, proc
    finally:
        proc.stop()


@contextmanager
def redis_server(tmp: Path) -> Iterator[str]:
    """A throwaway redis-server on a free loopback port (the caller skips when it is absent)."""
    binary = shutil.which("redis-server")
    assert binary is not None
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip

    def up() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    try:
        wait_for(up, 20, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
