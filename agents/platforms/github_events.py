"""GitHub's webhook deliveries as the bot reads them: pydantic models of the payloads (names,
numbers and SHAs validated before any job) and :func:`parse_event`, which turns a delivery into
an :class:`~agents.platforms.base.Event` or a reason to ignore it.  Commands come from members
only (``author_association``), never from bots; ``pull_request_review_comment`` deliveries carry
the thread they were said in (``/ask`` about lines, ``/assay wrong`` on a finding).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from agents.platforms.base import (
    BadPayload,
    Event,
    Id,
    Number,
    Payload,
    Sha,
    Short,
    Text,
    parse_command,
    parse_payload,
    shown,
)

NAME = "github"
PR_ACTIONS = {"opened", "synchronize", "reopened", "ready_for_review"}
TRUSTED = {"OWNER", "MEMBER", "COLLABORATOR"}

# GitHub's name rules: an owner is letters, digits, '-' (and '_' on Enterprise), not starting
# with '-'; a repository name is letters, digits, '.', '-', '_' (up to 100), never '.' or '..'.
REPO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}/(?!\.\.?$)[A-Za-z0-9._-]{1,100}")


def repo_name(value: str) -> str:
    if not REPO_NAME.fullmatch(value):
        raise ValueError(f"{shown(value)} is not a GitHub repository name (owner/name)")
    return value


class _Repository(Payload):
    full_name: Annotated[str, Field(strict=True), AfterValidator(repo_name)]
    clone_url: Text | None = None


class _Installation(Payload):
    id: Id


class _Head(Payload):
    sha: Sha


class _PullRequest(Payload):
    number: Number
    head: _Head


class _Action(Payload):
    action: Short


class PullRequestEvent(Payload):
    """What the bot reads of a ``pull_request`` delivery."""

    action: Short
    repository: _Repository
    pull_request: _PullRequest
    installation: _Installation | None = None


class _Issue(Payload):
    number: Number
    pull_request: dict[str, Any] | None = None


class _Comment(Payload):
    id: Id
    body: Text
    author_association: Short = ""


class _Sender(Payload):
    type: Short = ""
    login: Short = ""


class IssueCommentEvent(Payload):
    """What the bot reads of an ``issue_comment`` delivery."""

    action: Short
    issue: _Issue
    comment: _Comment
    repository: _Repository
    sender: _Sender | None = None
    installation: _Installation | None = None


class _ReviewComment(Payload):
    id: Id
    body: Text
    author_association: Short = ""
    in_reply_to_id: Id | None = None
    path: Text = ""
    line: Number | None = None
    diff_hunk: Text = ""


class ReviewCommentEvent(Payload):
    """What the bot reads of a ``pull_request_review_comment`` delivery (a comment on lines)."""

    action: Short
    comment: _ReviewComment
    pull_request: _PullRequest
    repository: _Repository
    sender: _Sender | None = None
    installation: _Installation | None = None


_FINGERPRINT_ARG = re.compile(r"\A([0-9a-f]{12})\b[ \t]*(.*)", re.S)


def _command(body: str, sender: _Sender | None, association: str) -> tuple[str, str] | str:
    """(command, argument) of a comment, or why it is not one the bot takes."""
    found = parse_command(body)
    if found is None:
        return "no /assay command in the comment"
    if sender is not None and sender.type == "Bot":
        return "comments by bots are not commands"
    if association not in TRUSTED:
        return f"commands are taken from members only (author is {association or 'unknown'})"
    return found


def parse_event(event: str, payload: Any) -> Event | str:
    """The bot's work for one delivery, or why there is none (a 2xx "ignored").  A delivery of
    an event the bot acts on whose fields are missing or of the wrong shape is
    :class:`BadPayload` naming the field: no job is made from it."""
    if event not in ("pull_request", "issue_comment", "pull_request_review_comment"):
        return "ping" if event == "ping" else f"event {shown(event)} is not handled"
    if not isinstance(payload, dict):
        raise BadPayload("the payload is not a JSON object")
    action = parse_payload(_Action, payload).action
    if event == "pull_request":
        if action not in PR_ACTIONS:
            return f"pull_request action {shown(action)} needs no review"
        pr = parse_payload(PullRequestEvent, payload)
        return Event(
            platform=NAME,
            action="review",
            repo=pr.repository.full_name,
            number=pr.pull_request.number,
            head_sha=pr.pull_request.head.sha,
            installation_id=pr.installation.id if pr.installation else None,
            clone_url=pr.repository.clone_url or "",
            trigger=action,
        )
    if action != "created":
        return "only new comments carry commands"
    if event == "pull_request_review_comment":
        return _review_comment(parse_payload(ReviewCommentEvent, payload))
    comment = parse_payload(IssueCommentEvent, payload)
    if not comment.issue.pull_request:
        return "a comment on an issue, not on a pull request"
    found = _command(comment.comment.body, comment.sender, comment.comment.author_association)
    if isinstance(found, str):
        return found
    command, argument = found
    extra: dict[str, Any] = {"argument": argument, "by": _by(comment.sender)}
    if command == "wrong":  # outside a thread: `/assay wrong FINGERPRINT [reason]`
        named = _FINGERPRINT_ARG.match(argument)
        if named is None:
            return "/assay wrong goes in the finding's thread (or names its fingerprint)"
        extra.update(fingerprint=named.group(1), argument=named.group(2).strip())
    return Event(
        platform=NAME,
        action=command,
        repo=comment.repository.full_name,
        number=comment.issue.number,
        installation_id=comment.installation.id if comment.installation else None,
        clone_url=comment.repository.clone_url or "",
        trigger=f"comment:{comment.comment.id}",
        extra=extra,
    )


def _by(sender: _Sender | None) -> str:
    return f"{NAME}:{sender.login}" if sender is not None and sender.login else NAME


def _review_comment(event: ReviewCommentEvent) -> Event | str:
    """A command said on lines of the PR: in reply to a finding (``/assay wrong``), or a
    question about the lines (``/ask``), answered in that thread."""
    c = event.comment
    found = _command(c.body, event.sender, c.author_association)
    if isinstance(found, str):
        return found
    command, argument = found
    if command == "wrong" and c.in_reply_to_id is None:
        return "/assay wrong is a reply to an assay finding"
    extra = {
        "argument": argument, "by": _by(event.sender), "thread": str(c.in_reply_to_id or c.id),
        "path": c.path, "line": c.line, "hunk": c.diff_hunk[-4000:],
    }  # fmt: skip
    return Event(
        platform=NAME,
        action=command,
        repo=event.repository.full_name,
        number=event.pull_request.number,
        installation_id=event.installation.id if event.installation else None,
        clone_url=event.repository.clone_url or "",
        trigger=f"comment:{c.id}",
        extra=extra,
    )
