"""The one module that talks to GitLab: webhooks in, REST (v4) calls out.

- :func:`verify_token` compares ``X-Gitlab-Token`` with the webhook's secret in constant time;
  :func:`parse_event` turns a ``Merge Request Hook`` or ``Note Hook`` into an :class:`Event`.
- :class:`GitLabHost` is the :class:`~agents.platforms.base.CodeHost` with a project or group
  access token: the MR and its diffs, ``.assay.toml`` at the head, a commit status, one summary
  note updated in place, inline discussions positioned with the MR's base/start/head SHAs,
  updated or deleted by fingerprint.  Every failure is a :class:`~agents.errors.PlatformError`.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import quote

from agents.errors import PlatformError
from agents.platforms.base import (
    BadPayload,
    Event,
    HostHTTP,
    Id,
    InlineComment,
    NewComment,
    Number,
    Payload,
    PullRequest,
    Sha,
    Short,
    Text,
    basic_auth,
    parse_command,
    parse_payload,
    shown,
)

NAME = "gitlab"
STATUS_NAME = "assay"
FIX_AUTH = "check ASSAY_GITLAB_TOKEN (a project or group access token with the api scope)"
STATES = {"success": "success", "neutral": "success", "failure": "failed", "skipped": "canceled"}


def verify_token(secret: bytes, header: str | None) -> bool:
    """True when ``X-Gitlab-Token`` equals the configured secret (constant time)."""
    if not header:
        return False
    return hmac.compare_digest(secret, header.encode())


class _Project(Payload):
    id: Id  # the bot addresses projects by id: no name to trust
    git_http_url: Text | None = None


class _Commit(Payload):
    id: Sha


class _MRTriage(Payload):
    action: Short = ""
    oldrev: Short | None = None


class _MRAttributes(_MRTriage):
    iid: Number
    last_commit: _Commit


class _MRTriageEvent(Payload):
    object_attributes: _MRTriage


class MergeRequestEvent(Payload):
    """What the bot reads of a ``Merge Request Hook``."""

    project: _Project
    object_attributes: _MRAttributes


class _NoteTriage(Payload):
    noteable_type: Short = ""
    note: Text = ""


class _Position(Payload):
    new_path: Text | None = None
    new_line: Number | None = None


class _NoteAttributes(_NoteTriage):
    id: Id
    discussion_id: Short = ""
    position: _Position | None = None


class _User(Payload):
    bot: bool | None = None
    username: Short = ""


class _MergeRequest(Payload):
    iid: Number
    last_commit: _Commit | None = None


class _NoteTriageEvent(Payload):
    object_attributes: _NoteTriage
    user: _User | None = None


class NoteEvent(Payload):
    """What the bot reads of a ``Note Hook`` on a merge request."""

    project: _Project
    object_attributes: _NoteAttributes
    merge_request: _MergeRequest
    user: _User | None = None


class _AwardTriage(Payload):
    name: Short = ""
    awardable_type: Short = ""
    action: Short = "award"


class _AwardTriageEvent(Payload):
    object_attributes: _AwardTriage


class _Award(_AwardTriage):
    id: Id
    awardable_id: Id


class EmojiEvent(Payload):
    """What the bot reads of an ``Emoji Hook``: a 👎 on a note of a merge request."""

    project: _Project
    object_attributes: _Award
    merge_request: _MergeRequest
    user: _User | None = None


def _emoji(payload: Any) -> Event | str:
    """A 👎 awarded to a note: a dismissal of the finding the note is (checked by the job)."""
    award = parse_payload(_AwardTriageEvent, payload).object_attributes
    if award.name != "thumbsdown" or award.awardable_type != "Note" or award.action != "award":
        return "only a thumbs-down awarded to a note dismisses a finding"
    if not isinstance(payload, dict) or not payload.get("merge_request"):
        return "an emoji on something other than a merge request"
    found = parse_payload(EmojiEvent, payload)
    user = found.user.username if found.user is not None and found.user.username else ""
    return Event(
        platform=NAME,
        action="wrong",
        repo=str(found.project.id),
        number=found.merge_request.iid,
        clone_url=found.project.git_http_url or "",
        trigger=f"comment:award-{found.object_attributes.id}",
        extra={"note": str(found.object_attributes.awardable_id), "argument": "👎 on the MR",
               "by": f"{NAME}:{user}" if user else NAME},
    )  # fmt: skip


def parse_event(event: str, payload: Any) -> Event | str:
    """The bot's work for one delivery, or why there is none (a 2xx "ignored").  A delivery of
    an event the bot acts on whose fields are missing or of the wrong shape is
    :class:`BadPayload` naming the field: no job is made from it."""
    if event not in ("Merge Request Hook", "Note Hook", "Emoji Hook"):
        return f"event {shown(event)} is not handled"
    if not isinstance(payload, dict):
        raise BadPayload("the payload is not a JSON object")
    if event == "Emoji Hook":
        return _emoji(payload)
    if event == "Merge Request Hook":
        action = parse_payload(_MRTriageEvent, payload).object_attributes
        if action.action == "update" and not action.oldrev:
            return "merge request update without new commits"
        if action.action not in ("open", "reopen", "update"):
            return f"merge request action {shown(action.action)} needs no review"
        mr = parse_payload(MergeRequestEvent, payload)
        return Event(
            platform=NAME,
            action="review",
            repo=str(mr.project.id),
            number=mr.object_attributes.iid,
            head_sha=mr.object_attributes.last_commit.id,
            clone_url=mr.project.git_http_url or "",
            trigger=action.action,
        )
    triage = parse_payload(_NoteTriageEvent, payload)
    if triage.object_attributes.noteable_type != "MergeRequest":
        return "a note on something other than a merge request"
    command = parse_command(triage.object_attributes.note)
    if command is None:
        return "no /assay command in the note"
    if triage.user is not None and triage.user.bot:
        return "notes by bots are not commands"
    found = parse_payload(NoteEvent, payload)
    last = found.merge_request.last_commit
    attrs = found.object_attributes
    user = found.user.username if found.user is not None and found.user.username else ""
    extra: dict[str, Any] = {"argument": command[1], "by": f"{NAME}:{user}" if user else NAME}
    if attrs.discussion_id:
        extra["thread"] = attrs.discussion_id
    if attrs.position is not None and attrs.position.new_path:
        extra.update(path=attrs.position.new_path, line=attrs.position.new_line)
    if command[0] == "wrong" and "thread" not in extra:
        return "/assay wrong is a reply in an assay finding's discussion"
    return Event(
        platform=NAME,
        action=command[0],
        repo=str(found.project.id),
        number=found.merge_request.iid,
        head_sha=last.id if last else "",
        clone_url=found.project.git_http_url or "",
        trigger=f"comment:{found.object_attributes.id}",
        extra=extra,
    )


def _file_header(d: dict[str, Any]) -> str:
    old, new = d.get("old_path", ""), d.get("new_path", "")
    lines = [f"diff --git a/{old} b/{new}"]
    if d.get("new_file"):
        lines += ["new file mode 100644", "--- /dev/null", f"+++ b/{new}"]
    elif d.get("deleted_file"):
        lines += ["deleted file mode 100644", f"--- a/{old}", "+++ /dev/null"]
    else:
        if d.get("renamed_file"):
            lines += [f"rename from {old}", f"rename to {new}"]
        lines += [f"--- a/{old}", f"+++ b/{new}"]
    return "\n".join(lines)


class GitLabHost:
    """GitLab's REST API for the bot, with one access token."""

    name = NAME
    suggestion_fence = "suggestion:-0+0"

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self.http = HostHTTP("GitLab", f"{self.url}/api/v4", {"PRIVATE-TOKEN": token}, FIX_AUTH)

    def _mr(self, pr: PullRequest) -> str:
        return f"/projects/{pr.repo}/merge_requests/{pr.number}"

    def pull_request(self, repo: str, number: int) -> PullRequest:
        data = self.http.json("GET", f"/projects/{repo}/merge_requests/{number}")
        refs = data.get("diff_refs") or {}
        if not refs.get("head_sha"):
            raise PlatformError(
                f"GitLab has not computed the diff of merge request !{number} yet",
                "it will be retried",
                transient=True,
            )
        project = self.http.json("GET", f"/projects/{repo}")
        return PullRequest(
            platform=NAME,
            repo=repo,
            number=number,
            head_sha=refs["head_sha"],
            base_sha=refs.get("base_sha", ""),
            start_sha=refs.get("start_sha", ""),
            title=data.get("title", ""),
            clone_url=(project or {}).get("http_url_to_repo", ""),
            fetch_ref=f"refs/merge-requests/{number}/head",
            state="open" if data.get("state") == "opened" else data.get("state", ""),
            body=data.get("description") or "",
        )

    def diff(self, pr: PullRequest) -> str:
        parts = [
            f"{_file_header(d)}\n{d.get('diff', '')}"
            for d in self.http.pages(f"{self._mr(pr)}/diffs")
        ]
        return "\n".join(p.rstrip("\n") for p in parts) + "\n"

    def read_file(self, pr: PullRequest, path: str) -> str | None:
        url = f"/projects/{pr.repo}/repository/files/{quote(path, safe='')}/raw"
        try:
            return self.http.request("GET", url, params={"ref": pr.head_sha}).text
        except PlatformError as exc:
            if exc.status == 404:
                return None
            raise

    def _status(self, pr: PullRequest, state: str, description: str) -> None:
        body = {"state": state, "name": STATUS_NAME, "description": description[:250]}
        self.http.json("POST", f"/projects/{pr.repo}/statuses/{pr.head_sha}", json=body)

    def start_check(self, pr: PullRequest) -> str:
        self._status(pr, "running", "assay is reviewing")
        return STATUS_NAME

    def finish_check(
        self, pr: PullRequest, check_id: str, *, conclusion: str, title: str, summary: str
    ) -> None:
        self._status(pr, STATES.get(conclusion, "success"), title)

    def upsert_note(self, pr: PullRequest, marker: str, body: str) -> str:
        for note in self.http.pages(f"{self._mr(pr)}/notes"):
            if marker in (note.get("body") or ""):
                if note.get("body") != body:
                    self.http.json("PUT", f"{self._mr(pr)}/notes/{note['id']}", json={"body": body})
                return str(note["id"])
        return str(self.http.json("POST", f"{self._mr(pr)}/notes", json={"body": body})["id"])

    def inline_comments(self, pr: PullRequest) -> list[InlineComment]:
        out = []
        for discussion in self.http.pages(f"{self._mr(pr)}/discussions"):
            notes = discussion.get("notes") or []
            if not notes:
                continue
            note = notes[0]
            position = note.get("position") or {}
            comment = InlineComment(
                id=str(note["id"]),
                path=position.get("new_path", ""),
                line=position.get("new_line"),
                body=note.get("body") or "",
                thread=str(discussion["id"]),
            )
            if comment.fingerprint:
                out.append(comment)
        return out

    def set_description(self, pr: PullRequest, body: str, labels: list[str]) -> None:
        data: dict[str, Any] = {"description": body}
        if labels:
            data["add_labels"] = ",".join(labels)
        self.http.json("PUT", self._mr(pr), json=data)

    def reply(self, pr: PullRequest, thread: str, body: str) -> str:
        url = f"{self._mr(pr)}/discussions/{quote(thread, safe='')}/notes"
        return str(self.http.json("POST", url, json={"body": body})["id"])

    def thread_comment(self, pr: PullRequest, thread: str) -> InlineComment | None:
        url = f"{self._mr(pr)}/discussions/{quote(thread, safe='')}"
        try:
            discussion = self.http.json("GET", url)
        except PlatformError as exc:
            if exc.status == 404:
                return None
            raise
        notes = (discussion or {}).get("notes") or []
        if not notes:
            return None
        position = notes[0].get("position") or {}
        return InlineComment(
            id=str(notes[0]["id"]), path=position.get("new_path", ""),
            line=position.get("new_line"), body=notes[0].get("body") or "", thread=thread,
        )  # fmt: skip

    def post_inline(self, pr: PullRequest, comments: list[NewComment], summary: str) -> None:
        for c in comments:
            position = {
                "position_type": "text",
                "base_sha": pr.base_sha,
                "start_sha": pr.start_sha,
                "head_sha": pr.head_sha,
                "old_path": c.path,
                "new_path": c.path,
                "new_line": c.line,
            }
            if c.old_line is not None:  # an unchanged line: GitLab wants both sides
                position["old_line"] = c.old_line
            body = {"body": c.body, "position": position}
            self.http.json("POST", f"{self._mr(pr)}/discussions", json=body)

    def update_inline(self, pr: PullRequest, comment: InlineComment, body: str) -> None:
        url = f"{self._mr(pr)}/discussions/{comment.thread}/notes/{comment.id}"
        self.http.json("PUT", url, json={"body": body})

    def delete_inline(self, pr: PullRequest, comment: InlineComment) -> None:
        url = f"{self._mr(pr)}/discussions/{comment.thread}/notes/{comment.id}"
        self.http.request("DELETE", url)

    def git_auth(self, pr: PullRequest) -> tuple[str, str | None]:
        if pr.clone_url.startswith("https://"):
            return pr.clone_url, basic_auth("oauth2", self._token)
        return pr.clone_url, None

    def close(self) -> None:
        self.http.close()
