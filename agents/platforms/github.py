"""The one module that talks to GitHub: webhooks in, REST calls out, App authentication.

- :func:`verify_signature` checks ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body) in
  constant time; :func:`parse_event` (:mod:`agents.platforms.github_events`) turns a delivery
  into an :class:`Event` or a reason to ignore it.
- :class:`GitHubApp` signs a JWT with the App's private key and trades it for an installation
  token (cached until shortly before it expires).
- :class:`GitHubHost` is the :class:`~agents.platforms.base.CodeHost` for one installation: the
  PR and its diff, ``.assay.toml`` at the head, a check run, one summary comment updated in
  place, inline comments through the review API (``line`` + ``side``), updated or deleted by
  fingerprint.  Every failure is a :class:`~agents.errors.PlatformError`.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import jwt

from agents.errors import PlatformError
from agents.platforms.base import HostHTTP, InlineComment, NewComment, PullRequest, basic_auth
from agents.platforms.github_events import NAME as NAME
from agents.platforms.github_events import parse_event as parse_event

CHECK_NAME = "assay"
ACCEPT = "application/vnd.github+json"
FIX_AUTH = "check ASSAY_GITHUB_APP_ID and ASSAY_GITHUB_PRIVATE_KEY_PATH (or ASSAY_GITHUB_TOKEN)"


def verify_signature(secret: bytes, body: bytes, header: str | None) -> bool:
    """True when ``header`` is ``sha256=<HMAC-SHA256 of body with secret>`` (constant time)."""
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


def sign(secret: bytes, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends for ``body`` (tests and benchmarks)."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class GitHubApp:
    """JWT (RS256, 9 minutes) → installation token, cached per installation."""

    def __init__(
        self, api_url: str, app_id: int, private_key: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.app_id = app_id
        self.private_key = private_key
        self.clock = clock
        self._tokens: dict[int, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def jwt(self) -> str:
        now = int(self.clock())
        claims = {"iat": now - 60, "exp": now + 540, "iss": str(self.app_id)}
        try:
            return jwt.encode(claims, self.private_key, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise PlatformError(f"The GitHub App private key cannot sign: {exc}", FIX_AUTH) from exc

    def installation_token(self, installation_id: int) -> str:
        with self._lock:
            cached = self._tokens.get(installation_id)
            if cached and cached[1] - 300 > self.clock():
                return cached[0]
            http = HostHTTP(
                "GitHub", self.api_url, {"Accept": ACCEPT, "Authorization": f"Bearer {self.jwt()}"},
                FIX_AUTH,
            )  # fmt: skip
            try:
                data = http.json("POST", f"/app/installations/{installation_id}/access_tokens")
            finally:
                http.close()
            token = str(data["token"])
            expires = datetime.fromisoformat(str(data["expires_at"]).replace("Z", "+00:00"))
            self._tokens[installation_id] = (token, expires.timestamp())
            return token


def _inline(c: dict[str, Any]) -> InlineComment:
    reactions = c.get("reactions") or {}
    return InlineComment(
        id=str(c["id"]),
        path=c.get("path", ""),
        line=c.get("line") or c.get("original_line"),
        body=c.get("body") or "",
        thumbs_down=int(reactions.get("-1") or 0) if isinstance(reactions, dict) else 0,
    )


class _TokenAuth(httpx.Auth):
    def __init__(self, token: Callable[[], str]) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        yield request


class GitHubHost:
    """GitHub's REST API for the bot, as one installation (or one token)."""

    name = NAME
    suggestion_fence = "suggestion"

    def __init__(self, api_url: str, token: Callable[[], str]) -> None:
        self._token = token
        self.http = HostHTTP("GitHub", api_url.rstrip("/"), {"Accept": ACCEPT}, FIX_AUTH)
        self.http.client.auth = _TokenAuth(token)

    def pull_request(self, repo: str, number: int) -> PullRequest:
        data = self.http.json("GET", f"/repos/{repo}/pulls/{number}")
        return PullRequest(
            platform=NAME,
            repo=repo,
            number=number,
            head_sha=data["head"]["sha"],
            base_sha=data["base"]["sha"],
            start_sha=data["base"]["sha"],
            title=data.get("title", ""),
            clone_url=(data["base"].get("repo") or {}).get("clone_url", ""),
            fetch_ref=f"refs/pull/{number}/head",
            state=data.get("state", "open"),
            body=data.get("body") or "",
        )

    def diff(self, pr: PullRequest) -> str:
        headers = {"Accept": "application/vnd.github.diff"}
        url = f"/repos/{pr.repo}/pulls/{pr.number}"
        try:
            return self.http.request("GET", url, headers=headers).text
        except PlatformError as exc:
            if exc.status != 406:  # 406: "the diff is too large"; the files API still answers
                raise
        parts = []
        for f in self.http.pages(f"{url}/files"):
            new, old = f["filename"], f.get("previous_filename") or f["filename"]
            head = f"diff --git a/{old} b/{new}\n"
            if f.get("status") == "added":
                head += f"new file mode 100644\n--- /dev/null\n+++ b/{new}\n"
            elif f.get("status") == "removed":
                head += f"deleted file mode 100644\n--- a/{old}\n+++ /dev/null\n"
            else:
                head += f"--- a/{old}\n+++ b/{new}\n"
            patch = f.get("patch")
            parts.append(head + (patch + "\n" if patch else "Binary files differ\n"))
        return "".join(parts)

    def read_file(self, pr: PullRequest, path: str) -> str | None:
        url = f"/repos/{pr.repo}/contents/{quote(path)}"
        headers = {"Accept": "application/vnd.github.raw"}
        try:
            return self.http.request("GET", url, params={"ref": pr.head_sha}, headers=headers).text
        except PlatformError as exc:
            if exc.status == 404:
                return None
            raise

    def start_check(self, pr: PullRequest) -> str:
        url = f"/repos/{pr.repo}/commits/{pr.head_sha}/check-runs"
        found = self.http.json("GET", url, params={"check_name": CHECK_NAME})
        runs = (found or {}).get("check_runs") or []
        if runs:
            check_id = str(runs[0]["id"])
            self.http.json(
                "PATCH", f"/repos/{pr.repo}/check-runs/{check_id}", json={"status": "in_progress"}
            )
            return check_id
        body = {"name": CHECK_NAME, "head_sha": pr.head_sha, "status": "in_progress"}
        return str(self.http.json("POST", f"/repos/{pr.repo}/check-runs", json=body)["id"])

    def finish_check(
        self, pr: PullRequest, check_id: str, *, conclusion: str, title: str, summary: str
    ) -> None:
        body = {
            "status": "completed",
            "conclusion": conclusion,
            "completed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "output": {"title": title[:250], "summary": summary[:65000]},
        }
        self.http.json("PATCH", f"/repos/{pr.repo}/check-runs/{check_id}", json=body)

    def upsert_note(self, pr: PullRequest, marker: str, body: str) -> str:
        for comment in self.http.pages(f"/repos/{pr.repo}/issues/{pr.number}/comments"):
            if marker in (comment.get("body") or ""):
                if comment.get("body") != body:
                    url = f"/repos/{pr.repo}/issues/comments/{comment['id']}"
                    self.http.json("PATCH", url, json={"body": body})
                return str(comment["id"])
        url = f"/repos/{pr.repo}/issues/{pr.number}/comments"
        return str(self.http.json("POST", url, json={"body": body})["id"])

    def inline_comments(self, pr: PullRequest) -> list[InlineComment]:
        out = []
        for c in self.http.pages(f"/repos/{pr.repo}/pulls/{pr.number}/comments"):
            comment = _inline(c)
            if comment.fingerprint:
                out.append(comment)
        return out

    def set_description(self, pr: PullRequest, body: str, labels: list[str]) -> None:
        self.http.json("PATCH", f"/repos/{pr.repo}/pulls/{pr.number}", json={"body": body})
        if labels:
            url = f"/repos/{pr.repo}/issues/{pr.number}/labels"
            self.http.json("POST", url, json={"labels": labels})

    def reply(self, pr: PullRequest, thread: str, body: str) -> str:
        url = f"/repos/{pr.repo}/pulls/{pr.number}/comments/{thread}/replies"
        return str(self.http.json("POST", url, json={"body": body})["id"])

    def thread_comment(self, pr: PullRequest, thread: str) -> InlineComment | None:
        try:
            data = self.http.json("GET", f"/repos/{pr.repo}/pulls/comments/{thread}")
        except PlatformError as exc:
            if exc.status == 404:
                return None
            raise
        return _inline(data) if isinstance(data, dict) else None

    def post_inline(self, pr: PullRequest, comments: list[NewComment], summary: str) -> None:
        body = {
            "commit_id": pr.head_sha,
            "event": "COMMENT",
            "body": summary,
            "comments": [
                {"path": c.path, "line": c.line, "side": "RIGHT", "body": c.body} for c in comments
            ],
        }
        self.http.json("POST", f"/repos/{pr.repo}/pulls/{pr.number}/reviews", json=body)

    def update_inline(self, pr: PullRequest, comment: InlineComment, body: str) -> None:
        self.http.json(
            "PATCH", f"/repos/{pr.repo}/pulls/comments/{comment.id}", json={"body": body}
        )

    def delete_inline(self, pr: PullRequest, comment: InlineComment) -> None:
        self.http.request("DELETE", f"/repos/{pr.repo}/pulls/comments/{comment.id}")

    def git_auth(self, pr: PullRequest) -> tuple[str, str | None]:
        if pr.clone_url.startswith("https://"):
            return pr.clone_url, basic_auth("x-access-token", self._token())
        return pr.clone_url, None

    def close(self) -> None:
        self.http.close()
