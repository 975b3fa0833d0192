"""Fake code-host REST APIs on loopback ports, for the bot's tests: the shared server and GitHub
(GitLab is :mod:`tests.fakes.gitlab_api`).

Real HTTP servers with just enough state (pull requests, diffs, files, comments, reviews, check
runs, commit statuses, discussions) for the bot to run against, recording every call::

    with FakeGitHub(app_id=1, public_key=pem) as gh:
        gh.add_pr("acme/shop", 7, head="abc", base="def", diff=DIFF, files={...})
        ...
        assert gh.calls_to("POST", "/repos/acme/shop/pulls/7/reviews") == 1

Like the real services they refuse what the real ones refuse: calls without the installation
token (401), an inline comment on a line that is not on the new side of the diff (422 / 400), a
GitLab discussion whose SHAs are not the MR's diff refs (400).  ``gate`` can hold a request (the
kill -9 test freezes the bot in the middle of publishing).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jwt

_HUNK_BOTH = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")


def diff_lines(diff: str) -> dict[str, dict[int, int | None]]:
    """Per file, the new-side lines the diff shows: added (→ None) and unchanged (→ their
    old-side number).  GitHub takes a RIGHT-side comment on either; GitLab wants an unchanged
    line's old number too."""
    out: dict[str, dict[int, int | None]] = {}
    path, line, old = "", 0, 0
    for text in diff.splitlines():
        if text.startswith("+++ "):
            path = text[4:].removeprefix("b/")
        elif text.startswith("--- "):
            continue
        elif m := _HUNK_BOTH.match(text):
            old, line = int(m.group(1)), int(m.group(2))
        elif text.startswith("+"):
            out.setdefault(path, {})[line] = None
            line += 1
        elif text.startswith("-"):
            old += 1
        elif text.startswith(" "):
            out.setdefault(path, {})[line] = old
            line, old = line + 1, old + 1
    return out


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    at: float


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None


class FakeHost:
    """Routing, recording, pagination and gating shared by the two fakes."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.lock = threading.RLock()
        self.ids = itertools.count(1000)
        self.gate: Callable[[Call], None] | None = None  # runs before answering (may block)
        self.fail_next: dict[tuple[str, str], int] = {}  # (method, path) -> status, once
        self.per_page_cap = 100
        self._server: ThreadingHTTPServer | None = None
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., Answer]]] = []

    def route(self, method: str, pattern: str, fn: Callable[..., Answer]) -> None:
        self.routes.append((method, re.compile(f"^{pattern}$"), fn))

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeHost:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _any(self) -> None:
                fake._serve(self)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- assertions -----------------------------------------------------------------------------

    def calls_to(self, method: str, path: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method and c.path == path]

    def summary(self) -> list[str]:
        with self.lock:
            return [f"{c.method} {c.path}" for c in self.calls]

    # -- serving --------------------------------------------------------------------------------

    def authorized(self, call: Call) -> bool:
        return True

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        split = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        headers = {k.lower(): v for k, v in h.headers.items()}
        call = Call(h.command, unquote(split.path), query, headers, body, time.monotonic())
        with self.lock:
            self.calls.append(call)
        if self.gate is not None:
            self.gate(call)
        answer = self._answer(call)
        payload = answer.raw if answer.raw is not None else json.dumps(answer.body).encode()
        h.send_response(answer.status)
        headers = {"Content-Type": "application/json", **answer.headers}
        for key, value in headers.items():
            h.send_header(key, value)
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        h.wfile.write(payload)

    def _answer(self, call: Call) -> Answer:
        status = self.fail_next.pop((call.method, call.path), None)
        if status:
            return Answer(status, {"message": f"scripted {status}"})
        if not self.authorized(call):
            return Answer(401, {"message": "Bad credentials"})
        for method, pattern, fn in self.routes:
            m = pattern.match(call.path)
            if m and method == call.method:
                with self.lock:
                    return fn(call, *m.groups())
        return Answer(404, {"message": f"Not Found: {call.method} {call.path}"})

    def page(self, call: Call, items: list[Any], style: str) -> Answer:
        per = min(int(call.query.get("per_page", 30)), self.per_page_cap)
        page = int(call.query.get("page", 1))
        chunk = items[(page - 1) * per : page * per]
        headers = {}
        if page * per < len(items):
            if style == "link":
                nxt = f"{self.url}{call.path}?per_page={per}&page={page + 1}"
                headers["Link"] = f'<{nxt}>; rel="next"'
            else:
                headers["X-Next-Page"] = str(page + 1)
        return Answer(200, chunk, headers)


@dataclass
class FakePR:
    repo: str
    number: int
    head: str
    base: str
    diff: str
    title: str = "a change"
    state: str = "open"
    clone_url: str = ""
    files: dict[tuple[str, str], str] = field(default_factory=dict)  # (sha, path) -> text
    changed: list[dict[str, Any]] = field(default_factory=list)  # the /pulls/N/files answer
    body: str = ""
    labels: list[str] = field(default_factory=list)


class FakeGitHub(FakeHost):
    """The GitHub REST API for one App (``app_id`` + its public key) or a plain token."""

    def __init__(self, *, app_id: int = 0, public_key: str = "", token: str = "") -> None:
        super().__init__()
        self.app_id, self.public_key = app_id, public_key
        self.tokens: set[str] = {token} if token else set()
        self.prs: dict[tuple[str, int], FakePR] = {}
        self.issue_comments: list[dict[str, Any]] = []
        self.review_comments: list[dict[str, Any]] = []
        self.reviews: list[dict[str, Any]] = []
        self.check_runs: list[dict[str, Any]] = []
        repo = r"/repos/([^/]+/[^/]+)"
        r = self.route
        r("POST", r"/app/installations/(\d+)/access_tokens", self._token)
        r("GET", repo + r"/pulls/(\d+)", self._pull)
        r("PATCH", repo + r"/pulls/(\d+)", self._patch_pull)
        r("POST", repo + r"/issues/(\d+)/labels", self._labels)
        r("GET", repo + r"/pulls/comments/(\d+)", self._get_inline)
        r("POST", repo + r"/pulls/(\d+)/comments/(\d+)/replies", self._reply)
        r("GET", repo + r"/pulls/(\d+)/files", self._files)
        r("GET", repo + r"/contents/(.+)", self._contents)
        r("GET", repo + r"/commits/([0-9a-f]+)/check-runs", self._list_checks)
        r("POST", repo + r"/check-runs", self._new_check)
        r("PATCH", repo + r"/check-runs/(\d+)", self._patch_check)
        r("GET", repo + r"/issues/(\d+)/comments", self._list_notes)
        r("POST", repo + r"/issues/(\d+)/comments", self._new_note)
        r("PATCH", repo + r"/issues/comments/(\d+)", self._patch_note)
        r("GET", repo + r"/pulls/(\d+)/comments", self._list_inline)
        r("POST", repo + r"/pulls/(\d+)/reviews", self._new_review)
        r("PATCH", repo + r"/pulls/comments/(\d+)", self._patch_inline)
        r("DELETE", repo + r"/pulls/comments/(\d+)", self._delete_inline)

    def add_pr(self, pr: FakePR) -> FakePR:
        self.prs[(pr.repo, pr.number)] = pr
        return pr

    def authorized(self, call: Call) -> bool:
        if call.path.startswith("/app/"):
            return True
        auth = call.headers.get("authorization", "")
        return auth.split(" ", 1)[-1] in self.tokens

    def _token(self, call: Call, installation: str) -> Answer:
        bearer = call.headers.get("authorization", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(bearer, self.public_key, algorithms=["RS256"])
        except jwt.PyJWTError as exc:
            return Answer(401, {"message": f"A JSON web token could not be decoded: {exc}"})
        if str(claims.get("iss")) != str(self.app_id):
            return Answer(401, {"message": "wrong issuer"})
        token = f"ghs_installation{installation}_{next(self.ids)}"
        self.tokens.add(token)
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        return Answer(201, {"token": token, "expires_at": expires})

    def _pr(self, repo: str, number: str) -> FakePR | None:
        return self.prs.get((repo, int(number)))

    def _pull(self, call: Call, repo: str, number: str) -> Answer:
        pr = self._pr(repo, number)
        if pr is None:
            return Answer(404, {"message": "Not Found"})
        if "diff" in call.headers.get("accept", ""):
            return Answer(200, raw=pr.diff.encode(), headers={"Content-Type": "text/plain"})
        return Answer(200, {
            "number": pr.number, "title": pr.title, "state": pr.state, "body": pr.body or None,
            "head": {"sha": pr.head, "ref": "feature"},
            "base": {"sha": pr.base, "ref": "main", "repo": {"clone_url": pr.clone_url}},
        })  # fmt: skip

    def _patch_pull(self, call: Call, repo: str, number: str) -> Answer:
        pr = self._pr(repo, number)
        assert pr is not None
        pr.body = call.body.get("body", pr.body)
        return Answer(200, {"number": pr.number, "body": pr.body})

    def _labels(self, call: Call, repo: str, number: str) -> Answer:
        pr = self._pr(repo, number)
        assert pr is not None
        pr.labels = list(dict.fromkeys([*pr.labels, *call.body["labels"]]))
        return Answer(200, [{"name": n} for n in pr.labels])

    def _get_inline(self, call: Call, repo: str, comment_id: str) -> Answer:
        found = [c for c in self.review_comments if c["id"] == int(comment_id)]
        return Answer(200, found[0]) if found else Answer(404, {"message": "Not Found"})

    def _reply(self, call: Call, repo: str, number: str, comment_id: str) -> Answer:
        parent = next((c for c in self.review_comments if c["id"] == int(comment_id)), None)
        if parent is None or parent.get("in_reply_to_id"):
            return Answer(404, {"message": "Not Found"})  # replies go to a thread's first comment
        reply = {"id": next(self.ids), "pr": (repo, int(number)), "body": call.body["body"],
                 "path": parent["path"], "line": parent["line"],
                 "in_reply_to_id": parent["id"]}  # fmt: skip
        self.review_comments.append(reply)
        return Answer(201, reply)

    def _files(self, call: Call, repo: str, number: str) -> Answer:
        pr = self._pr(repo, number)
        assert pr is not None
        return self.page(call, pr.changed, "link")

    def _contents(self, call: Call, repo: str, path: str) -> Answer:
        ref = call.query.get("ref", "")
        for pr in self.prs.values():
            if pr.repo == repo and (ref, path) in pr.files:
                return Answer(200, raw=pr.files[(ref, path)].encode())
        return Answer(404, {"message": "Not Found"})

    def _list_checks(self, call: Call, repo: str, sha: str) -> Answer:
        name = call.query.get("check_name")
        runs = [c for c in self.check_runs if c["head_sha"] == sha and c["name"] == name]
        return Answer(200, {"total_count": len(runs), "check_runs": runs})

    def _new_check(self, call: Call, repo: str) -> Answer:
        run = {"id": next(self.ids), **call.body}
        self.check_runs.append(run)
        return Answer(201, run)

    def _patch_check(self, call: Call, repo: str, check_id: str) -> Answer:
        run = next(c for c in self.check_runs if c["id"] == int(check_id))
        run.update(call.body)
        return Answer(200, run)

    def _list_notes(self, call: Call, repo: str, number: str) -> Answer:
        notes = [c for c in self.issue_comments if c["pr"] == (repo, int(number))]
        return self.page(call, notes, "link")

    def _new_note(self, call: Call, repo: str, number: str) -> Answer:
        note = {"id": next(self.ids), "pr": (repo, int(number)), "body": call.body["body"],
                "user": {"login": "assay[bot]", "type": "Bot"}}  # fmt: skip
        self.issue_comments.append(note)
        return Answer(201, note)

    def _patch_note(self, call: Call, repo: str, note_id: str) -> Answer:
        note = next(c for c in self.issue_comments if c["id"] == int(note_id))
        note["body"] = call.body["body"]
        return Answer(200, note)

    def _list_inline(self, call: Call, repo: str, number: str) -> Answer:
        items = [c for c in self.review_comments if c["pr"] == (repo, int(number))]
        return self.page(call, items, "link")

    def _new_review(self, call: Call, repo: str, number: str) -> Answer:
        pr = self._pr(repo, number)
        assert pr is not None
        body = call.body
        if body.get("commit_id") != pr.head:
            return Answer(422, {"message": "commit_id is not the head of the pull request"})
        lines = diff_lines(pr.diff)
        for c in body.get("comments", []):
            if c.get("side") != "RIGHT" or c.get("line") not in lines.get(c.get("path"), {}):
                return Answer(422, {"message": "Line could not be resolved", "comment": c})
        review = {"id": next(self.ids), "pr": (repo, int(number)), **body}
        self.reviews.append(review)
        for c in body.get("comments", []):
            self.review_comments.append({"id": next(self.ids), "pr": (repo, int(number)),
                                         "commit_id": pr.head, **c})  # fmt: skip
        return Answer(200, {"id": review["id"]})

    def _patch_inline(self, call: Call, repo: str, comment_id: str) -> Answer:
        comment = next(c for c in self.review_comments if c["id"] == int(comment_id))
        comment["body"] = call.body["body"]
        return Answer(200, comment)

    def _delete_inline(self, call: Call, repo: str, comment_id: str) -> Answer:
        self.review_comments = [c for c in self.review_comments if c["id"] != int(comment_id)]
        return Answer(204, raw=b"")
