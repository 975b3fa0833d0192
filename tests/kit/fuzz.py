"""Odd webhook deliveries, validly signed: for the fuzz test and ``benchmarks/hardening``.

:func:`deliveries` makes GitHub and GitLab deliveries of the events the bot acts on, each
either as the host sends it or with one field the bot reads given an odd shape or value (or
removed), or the whole body made odd (not JSON, not UTF-8, nested deep, not an object), or odd
headers.  Each delivery says whether it must not make a job (``invalid``): a field whose value
breaks the host's rules (a repository name, a number, a commit SHA, an id) can never be
trusted, whatever else the delivery holds.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from agents.platforms.github import sign

MISSING = object()  # "remove the field"
# Values of every JSON shape, and the odd ones seen in the wild or in attacks.
ODD: list[Any] = [
    MISSING, None, True, False, 0, -1, 1.5, 2**31, 2**63, 10**300, float("nan"), "", "x", "7",
    "opened", "../../../etc", "a" * 5000, "ø/ø", "acme/shop\n", "acme/../shop", "A" * 40,
    [], ["opened"], {}, {"id": 1}, {"sha": "x"}, [[[[]]]],
]  # fmt: skip
_GH_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}/(?!\.\.?$)[A-Za-z0-9._-]{1,100}")
_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")


def _number_ok(v: Any) -> bool:
    return type(v) is int and 1 <= v <= 2**31 - 1


def _id_ok(v: Any) -> bool:
    return type(v) is int and 1 <= v <= 2**63 - 1


# The fields whose values must follow the host's rules: a value that does not never makes a job.
RULES = {
    "repository.full_name": lambda v: isinstance(v, str) and bool(_GH_REPO.fullmatch(v)),
    "pull_request.number": _number_ok,
    "pull_request.head.sha": lambda v: isinstance(v, str) and bool(_SHA.fullmatch(v)),
    "issue.number": _number_ok,
    "comment.id": _id_ok,
    "project.id": _id_ok,
    "object_attributes.iid": _number_ok,
    "object_attributes.last_commit.id": lambda v: isinstance(v, str) and bool(_SHA.fullmatch(v)),
    "merge_request.iid": _number_ok,
    "object_attributes.id": _id_ok,
}
# Every field the bot reads, per event (a parent before its children).
FIELDS = {
    ("github", "pull_request"): [
        "action", "repository", "repository.full_name", "repository.clone_url", "pull_request",
        "pull_request.number", "pull_request.head", "pull_request.head.sha", "installation",
        "installation.id",
    ],
    ("github", "issue_comment"): [
        "action", "issue", "issue.number", "issue.pull_request", "comment", "comment.id",
        "comment.body", "comment.author_association", "sender", "sender.type", "repository",
        "repository.full_name", "repository.clone_url", "installation", "installation.id",
    ],
    ("gitlab", "Merge Request Hook"): [
        "object_attributes", "object_attributes.action", "object_attributes.oldrev",
        "object_attributes.iid", "object_attributes.last_commit",
        "object_attributes.last_commit.id", "project", "project.id", "project.git_http_url",
    ],
    ("gitlab", "Note Hook"): [
        "object_attributes", "object_attributes.noteable_type", "object_attributes.note",
        "object_attributes.id", "user", "user.bot", "merge_request", "merge_request.iid",
        "merge_request.last_commit", "merge_request.last_commit.id", "project", "project.id",
        "project.git_http_url",
    ],
}  # fmt: skip


@dataclass
class Delivery:
    platform: str
    event: str
    body: bytes
    headers: dict[str, str]
    mutation: str  # what was made odd ("" for none)
    invalid: bool  # it must not make a job
    payload: Any = field(default=None, repr=False)

    @property
    def path(self) -> str:
        return f"/webhooks/{self.platform}"


def _sha(rng: random.Random) -> str:
    return f"{rng.getrandbits(160):040x}"


def base_payload(platform: str, event: str, rng: random.Random) -> dict[str, Any]:
    """A delivery as the host sends it (the fields the bot reads, and a few it does not)."""
    n = rng.randint(1, 5000)
    if event == "pull_request":
        return {
            "action": rng.choice(["opened", "synchronize", "reopened", "ready_for_review"]),
            "number": n,
            "pull_request": {"number": n, "head": {"sha": _sha(rng)}, "base": {"sha": _sha(rng)}},
            "repository": {"full_name": f"acme/shop-{rng.randint(1, 50)}", "clone_url": ""},
            "installation": {"id": rng.randint(1, 10**6)},
            "sender": {"login": "dev", "type": "User"},
        }
    if event == "issue_comment":
        return {
            "action": "created",
            "issue": {"number": n, "pull_request": {"url": "x"}},
            "comment": {"id": rng.randint(1, 10**9), "body": "/assay review",
                        "author_association": "MEMBER"},
            "repository": {"full_name": "acme/shop"},
            "installation": {"id": 99},
            "sender": {"login": "lead", "type": "User"},
        }  # fmt: skip
    if event == "Merge Request Hook":
        return {
            "object_kind": "merge_request",
            "project": {"id": rng.randint(1, 10**6), "git_http_url": ""},
            "object_attributes": {"iid": n, "action": "open", "last_commit": {"id": _sha(rng)}},
        }
    return {
        "object_kind": "note",
        "project": {"id": rng.randint(1, 10**6)},
        "user": {"username": "lead", "bot": False},
        "object_attributes": {"id": rng.randint(1, 10**9), "note": "/assay tests",
                              "noteable_type": "MergeRequest"},
        "merge_request": {"iid": n, "last_commit": {"id": _sha(rng)}},
    }  # fmt: skip


def _set(payload: dict[str, Any], path: str, value: Any) -> bool:
    """Set (or remove) ``path`` in ``payload``; False when a parent is not an object."""
    parts = path.split(".")
    node: Any = payload
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            return False
    if value is MISSING:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value
    return True


def _get(payload: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(payload, dict) or part not in payload:
            return MISSING
        payload = payload[part]
    return payload


def breaks_rules(payload: Any, fields: list[str]) -> bool:
    """Whether a field the bot reads breaks the host's rules (then no job may come of it)."""
    return any(path in RULES and not RULES[path](_get(payload, path)) for path in fields)


def _headers(platform: str, event: str, body: bytes, secret: str) -> dict[str, str]:
    if platform == "github":
        return {
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(secret.encode(), body),
        }
    return {
        "Content-Type": "application/json",
        "X-Gitlab-Event": event,
        "X-Gitlab-Token": secret,
        "Idempotency-Key": str(uuid.uuid4()),
    }


_BODIES: list[tuple[str, bytes]] = [
    ("not JSON", b"{not json"),
    ("not UTF-8", b'{"action": "\xff\xfe"}'),
    ("nested 100k deep", b"[" * 100_000 + b"]" * 100_000),
    ("a JSON array", b"[]"),
    ("a JSON string", b'"opened"'),
    ("a JSON number", b"7"),
    ("JSON null", b"null"),
    ("empty", b""),
    ("NaN", b'{"action": NaN}'),
    ("a 5000-digit number", b'{"action": "opened", "number": ' + b"9" * 5000 + b"}"),
    ("trailing garbage", b'{"action": "opened"} x'),
]


def deliveries(n: int, secret: str, seed: int = 17) -> list[Delivery]:
    """``n`` deliveries across both hosts and their four events: about 10 % as the host sends
    them, 75 % with one field odd, the rest with an odd body or odd headers."""
    rng = random.Random(seed)
    events = list(FIELDS)
    out: list[Delivery] = []
    for i in range(n):
        platform, event = events[i % len(events)]
        payload = base_payload(platform, event, rng)
        roll = rng.random()
        mutation, invalid = "", False
        if roll < 0.10:
            body = json.dumps(payload).encode()
        elif roll < 0.85:
            path = rng.choice(FIELDS[(platform, event)])
            value = rng.choice(ODD)
            _set(payload, path, value)
            body = json.dumps(payload).encode()
            shown = "removed" if value is MISSING else json.dumps(value)[:40]
            mutation = f"{path} = {shown}"
            invalid = breaks_rules(payload, FIELDS[(platform, event)])
        elif roll < 0.95:
            mutation, body = rng.choice(_BODIES)
            invalid = True
            payload = None
        else:
            body = json.dumps(payload).encode()
            headers = _headers(platform, event, body, secret)
            odd = rng.choice(["event", "delivery", "content-type", "charset"])
            if odd == "event":
                headers["X-GitHub-Event" if platform == "github" else "X-Gitlab-Event"] = (
                    rng.choice(["", "x" * 300, "pull_request.x", "PULL_REQUEST", "push"])
                )
                invalid = True
            elif odd == "delivery":
                key = "X-GitHub-Delivery" if platform == "github" else "Idempotency-Key"
                headers[key] = "d" * 500
                invalid = True
            elif odd == "content-type":
                headers["Content-Type"] = rng.choice(
                    ["text/plain", "application/x-www-form-urlencoded", ""]
                )
                invalid = True
            else:
                headers["Content-Type"] = "application/json; charset=utf-8"
            out.append(Delivery(platform, event, body, headers, f"header {odd}", invalid, payload))
            continue
        headers = _headers(platform, event, body, secret)
        out.append(Delivery(platform, event, body, headers, mutation, invalid, payload))
    return out


def job_is_valid(params: dict[str, Any]) -> bool:
    """Whether a queued ``pr`` job's parameters follow the hosts' rules (the fuzz's oracle)."""
    repo, platform = params.get("repo"), params.get("platform")
    if platform == "github":
        repo_ok = isinstance(repo, str) and bool(_GH_REPO.fullmatch(repo))
    else:
        repo_ok = isinstance(repo, str) and repo.isdigit() and _id_ok(int(repo))
    sha = params.get("head_sha")
    installation = params.get("installation_id")
    return (
        repo_ok
        and _number_ok(params.get("number"))
        and (sha == "" or (isinstance(sha, str) and bool(_SHA.fullmatch(sha))))
        and (installation is None or _id_ok(installation))
    )
