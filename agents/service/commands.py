"""The PR bot's ``pr`` jobs: what runs by itself on open and push, and the commands.

On open and push the bot runs what the repository's settings ask (``review_auto``, ``auto`` in
the ``[review]`` table of ``.assay.toml``; default ``["review"]``).  Commands said in a comment
(``/assay WORD`` or ``/WORD``) each update their own place in the PR:

- ``/describe``: a marked section of the PR body (title, type, summary, walkthrough, labels),
  replaced in place each time; the author's text around it is kept;
- ``/review``: inline comments and the summary comment (:func:`agents.service.bot.review_pr`);
- ``/improve``: the suggestions the repository's tests pass with, inline, and one comment;
- ``/ask QUESTION``: answered in the review thread it was asked in (about those lines), or in
  a comment of its own;
- ``/tests``: the tests comment;
- ``/assay wrong [reason]`` in a finding's thread (or with the finding's fingerprint): the finding
  is remembered as wrong for the repository and not posted again; a 👎 on a finding does the same
  (GitLab: an ``Emoji Hook`` delivery; GitHub sends none for reactions: they are read at the
  next review, :func:`agents.service.bot.harvest_dismissals`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.platforms.base import CodeHost, InlineComment, PullRequest
from agents.review import prompts
from agents.service.bot import OpenPR, make_host, open_pr, review_pr
from agents.service.jobs import JobContext
from flows import StageFailed

CONTEXT_LINES = 4  # around a thread's line, when the host sent no diff hunk


def pr_job(ctx: JobContext) -> dict[str, Any]:
    p = ctx.job.params
    host = make_host(ctx.settings, p["platform"], p.get("installation_id"))
    try:
        action = p.get("action", "review")
        extra = p.get("extra") or {}
        if action == "wrong":
            return wrong(ctx, host, p, extra)
        opened = open_pr(ctx, host, p)
        if isinstance(opened, dict):
            return opened
        if not str(p.get("trigger", "")).startswith("comment"):
            return auto(ctx, host, opened)
        return COMMANDS[action](ctx, host, opened, extra)
    finally:
        host.close()


def auto(ctx: JobContext, host: CodeHost, opened: OpenPR) -> dict[str, Any]:
    """What the repository runs by itself on open and push (``review_auto``)."""
    wanted = opened.settings.review_auto
    result: dict[str, Any] = {}
    if "describe" in wanted:
        result["describe"] = describe(ctx, host, opened, {})
    if "review" in wanted:
        result.update(review_pr(ctx, host, opened, "review",
                                tests=True if "tests" in wanted else None)[0])  # fmt: skip
    elif "tests" in wanted:
        result.update(review_pr(ctx, host, opened, "tests")[0])
    if "improve" in wanted:
        result["improve"] = review_pr(ctx, host, opened, "improve")[0]
    if not wanted:
        result["skipped"] = "nothing runs by itself here (review auto = [])"
    return result


def _open_run(ctx: JobContext, opened: OpenPR, name: str) -> Any:
    from agents.runtime import open_run

    return open_run(opened.settings, name, trace_id=ctx.job.id[:12])


def describe(
    ctx: JobContext, host: CodeHost, opened: OpenPR, extra: dict[str, Any]
) -> dict[str, Any]:
    """``/describe``: the marked section of the PR body, replaced in place."""
    from agents.review.describe import describe as describe_diff
    from agents.review.describe import description_markdown, with_section

    pr = opened.pr
    ctx.progress("describing")
    diff = host.diff(pr)
    with _open_run(ctx, opened, "describe") as run:
        try:
            found = describe_diff(run.llm, diff, trace=run.trace)
        except StageFailed as exc:  # an answer that is no description: the body stays as it is
            return {"error": f"the model's description could not be read: {str(exc)[:200]}"}
    body = with_section(pr.body, description_markdown(found, pr.head_sha))
    if body != pr.body:
        host.set_description(pr, body, found.labels)
    return {"title": found.title, "type": found.type, "labels": found.labels,
            "updated": body != pr.body}  # fmt: skip


def _thread_lines(host: CodeHost, pr: PullRequest, extra: dict[str, Any]) -> str:
    """The lines a question on a review thread is about."""
    path, line = str(extra.get("path") or ""), extra.get("line")
    if extra.get("hunk"):
        return f"{path}:{line}\n{extra['hunk']}" if path else str(extra["hunk"])
    if not path or not isinstance(line, int):
        return ""
    text = host.read_file(pr, path) or ""
    lines = text.splitlines()
    lo, hi = max(1, line - CONTEXT_LINES), min(len(lines), line + CONTEXT_LINES)
    return f"{path}:{line}\n" + "\n".join(f"{n:>5} {lines[n - 1]}" for n in range(lo, hi + 1))


def ask(ctx: JobContext, host: CodeHost, opened: OpenPR, extra: dict[str, Any]) -> dict[str, Any]:
    """``/ask QUESTION``: answered in its review thread, or in a comment of its own."""
    from agents.review.ask import answer

    pr, trigger = opened.pr, str(ctx.job.params.get("trigger", ""))
    question = str(extra.get("argument") or "").strip()
    thread = str(extra.get("thread") or "")
    if question:
        ctx.progress("answering")
        diff = host.diff(pr)
        with _open_run(ctx, opened, "ask") as run:
            text = answer(
                run.llm, opened.settings, question, diff, repo_name=opened.repo_name,
                practices=opened.practices(host), lines=_thread_lines(host, pr, extra),
                trace=run.trace,
            )  # fmt: skip
        quoted = "\n".join("> " + q for q in question.splitlines())
        body = f"{quoted}\n\n{text or '_The model gave no answer._'}"
    else:
        body = "Ask a question after the command: `/ask why can b be 0 here?`"
    marker = prompts.MARKER_ASK.format(id=trigger.removeprefix("comment:"))
    if thread:
        return {"reply": host.reply(pr, thread, f"{body}\n\n{marker}"), "thread": thread}
    return {"comment": host.upsert_note(pr, marker, f"{marker}\n{body}")}


def wrong(
    ctx: JobContext, host: CodeHost, p: dict[str, Any], extra: dict[str, Any]
) -> dict[str, Any]:
    """``/assay wrong [reason]``: the finding of the thread is remembered as wrong for the
    repository (any PR's state: a dismissal on a closed PR still counts)."""
    from agents.review.suppressions import Suppressions

    pr = host.pull_request(p["repo"], int(p["number"]))
    thread = str(extra.get("thread") or "")
    fingerprint, path, message = str(extra.get("fingerprint") or ""), "", ""
    comment: InlineComment | None = None
    if extra.get("note"):  # GitLab: a 👎 on a note; ours start the findings' discussions
        note = str(extra["note"])
        comment = next((c for c in host.inline_comments(pr) if c.id == note), None)
        thread = comment.thread if comment is not None else ""
    elif thread and not fingerprint:
        comment = host.thread_comment(pr, thread)
    if not fingerprint:
        if comment is None or comment.fingerprint is None:
            return {"skipped": "not said about an assay finding"}
        fingerprint, path = comment.fingerprint, comment.path
        message = comment.body.split("<!-- assay:")[0].strip()
    repo_name = p.get("repo_name") or pr.repo
    reason = str(extra.get("argument") or "")
    Suppressions.for_settings(ctx.settings).add(
        repo_name, fingerprint, path=path, message=message, reason=reason,
        by=str(extra.get("by") or host.name),
    )  # fmt: skip
    ack = (f"Noted: assay will not post this finding (`{fingerprint}`) again in this "
           "repository. `assay policy suppressions` lists and removes such findings.")  # fmt: skip
    marker = f"<!-- assay:wrong:{fingerprint} -->"
    if thread:
        host.reply(pr, thread, f"{ack}\n\n{marker}")
    else:
        host.upsert_note(pr, marker, f"{marker}\n{ack}")
    return {"suppressed": fingerprint, "repo": repo_name, "reason": reason}


def _review(ctx: JobContext, host: CodeHost, opened: OpenPR, extra: dict[str, Any]) -> Any:
    return review_pr(ctx, host, opened, "review")[0]


def _tests(ctx: JobContext, host: CodeHost, opened: OpenPR, extra: dict[str, Any]) -> Any:
    return review_pr(ctx, host, opened, "tests")[0]


def _improve(ctx: JobContext, host: CodeHost, opened: OpenPR, extra: dict[str, Any]) -> Any:
    return review_pr(ctx, host, opened, "improve")[0]


COMMANDS: dict[str, Callable[[JobContext, CodeHost, OpenPR, dict[str, Any]], dict[str, Any]]] = {
    "review": _review,
    "tests": _tests,
    "improve": _improve,
    "describe": describe,
    "ask": ask,
}
