"""The PR bot's job: review a pull request and publish the outcome, idempotently.

A ``pr`` job fetches the PR, its ``.assay.toml`` and its diff, starts a check run (a commit
status on GitLab), reviews (with the tests section in a checkout when configured), then
publishes: inline comments synced by fingerprint (kept, updated, moved, marked resolved; new ones
in one review), one summary comment updated in place, and the check's conclusion.  Everything is
found again by markers, so a job that runs twice (a worker died mid-way) or a new push updates
what is there instead of posting it again.  A job whose PR moved on to a newer head publishes
nothing: the newer push has its own job.
"""

from __future__ import annotations

import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.errors import ConfigError, PlatformError, ServiceError
from agents.platforms.base import CodeHost, InlineComment, NewComment, PullRequest
from agents.review import prompts
from agents.review.report import (
    SEVERITIES,
    Finding,
    ReviewReport,
    TestsSection,
    finding_markdown,
    summary_markdown,
    tests_markdown,
)
from agents.service.jobs import JobContext
from agents.settings import Settings, with_repo_files

_apps: dict[tuple[str, int], Any] = {}
_apps_lock = threading.Lock()


def make_host(settings: Settings, platform: str, installation_id: int | None) -> CodeHost:
    """The code host client for a job, authenticated as configured."""
    if platform == "github":
        from agents.platforms.github import GitHubApp, GitHubHost

        if settings.github_app_id and settings.github_private_key_path and installation_id:
            key = (settings.github_api_url, settings.github_app_id)
            with _apps_lock:
                if key not in _apps:
                    try:
                        pem = settings.github_private_key_path.read_text()
                    except OSError as exc:
                        raise ServiceError(
                            f"Cannot read the GitHub App private key "
                            f"{settings.github_private_key_path}: {exc.strerror}",
                            "fix ASSAY_GITHUB_PRIVATE_KEY_PATH",
                        ) from exc
                    _apps[key] = GitHubApp(settings.github_api_url, settings.github_app_id, pem)
                app = _apps[key]
            return GitHubHost(
                settings.github_api_url, lambda: app.installation_token(installation_id)
            )
        if settings.github_token is not None:
            token = settings.github_token.get_secret_value()
            return GitHubHost(settings.github_api_url, lambda: token)
        raise ServiceError(
            "GitHub is not configured",
            "set ASSAY_GITHUB_APP_ID and ASSAY_GITHUB_PRIVATE_KEY_PATH (or ASSAY_GITHUB_TOKEN)",
        )
    if platform == "gitlab":
        from agents.platforms.gitlab import GitLabHost

        if settings.gitlab_token is None:
            raise ServiceError("GitLab is not configured", "set ASSAY_GITLAB_TOKEN")
        return GitLabHost(settings.gitlab_url, settings.gitlab_token.get_secret_value())
    raise ServiceError(f"Unknown code host '{platform}'", "use github or gitlab")


REPO_FILE = ".assay.toml"  # what a repository asks of reviews, read at the PR's head


def conclusion(report: ReviewReport, settings: Settings) -> str:
    fail_on = settings.review_fail_on
    if fail_on != "none":
        limit = SEVERITIES.index(fail_on)
        if any(SEVERITIES.index(f.severity) <= limit for f in report.findings):
            return "failure"
    return "neutral" if report.findings else "success"


def _resolved(comment: InlineComment, sha: str) -> str:
    text = comment.body.split("<!-- assay:")[0].strip()
    return f"✅ No longer reported at `{sha[:7]}`.\n\n~~{text}~~\n\n<!-- assay:resolved -->"


def unchanged_lines(diff: str) -> dict[tuple[str, int], int]:
    """(path, new-side line) → old-side line of the diff's unchanged lines: where a finding on
    deleted code sits (the hosts take comments on them, GitLab with both line numbers)."""
    from agents.gitdiff import parse_diff

    return {
        (f.path, ln.new): ln.old
        for f in parse_diff(diff) for h in f.hunks for ln in h.lines
        if ln.kind == " " and ln.new is not None and ln.old is not None
    }  # fmt: skip


def sync_inline(
    host: CodeHost, pr: PullRequest, findings: list[Finding], *, resolve: bool = True,
    unchanged: dict[tuple[str, int], int] | None = None,
) -> dict[str, int]:  # fmt: skip
    """Make the PR's inline comments match ``findings`` (``resolve=False``: add and update
    only, as ``/improve`` does beside the review's comments; ``unchanged``: the diff's
    :func:`unchanged_lines`); returns what was done."""
    counts = {"created": 0, "updated": 0, "kept": 0, "moved": 0, "resolved": 0}
    existing: dict[str, list[InlineComment]] = {}
    for comment in host.inline_comments(pr):
        existing.setdefault(comment.fingerprint or "", []).append(comment)
    new: list[NewComment] = []
    for finding in findings:
        body = finding_markdown(finding, suggestion_fence=host.suggestion_fence)
        olds = existing.pop(finding.fingerprint, [])
        keep = next((c for c in olds if c.path == finding.path and c.line == finding.line), None)
        for other in olds:
            if other is not keep:
                host.delete_inline(pr, other)  # it moved (or is a duplicate)
                counts["moved"] += 1
        if keep is None:
            old = (unchanged or {}).get((finding.path, finding.line))
            new.append(NewComment(finding.path, finding.line, body, old))
        elif keep.body.strip() != body.strip():
            host.update_inline(pr, keep, body)
            counts["updated"] += 1
        else:
            counts["kept"] += 1
    for stale in existing.values() if resolve else ():
        for comment in stale:
            host.update_inline(pr, comment, _resolved(comment, pr.head_sha))
            counts["resolved"] += 1
    if new:
        summary = f"assay: {len(new)} new finding(s) at {pr.head_sha[:7]}"
        try:
            host.post_inline(pr, new, summary)
        except PlatformError as exc:
            if exc.transient:
                raise
            counts["failed"] = len(new)  # e.g. a line the host does not place: the summary has it
            return counts
        counts["created"] = len(new)
    return counts


def improve_markdown(report: ReviewReport, offered: list[Finding], head: str) -> str:
    """The ``/improve`` comment: the verified suggestions (inline, committable) and what was
    not offered."""
    lines = [prompts.MARKER_IMPROVE, f"### assay improve at `{head[:7]}`", ""]
    if offered:
        lines.append(f"{len(offered)} suggested change(s) the repository's tests pass with, "
                     "posted on their lines as committable suggestions:")  # fmt: skip
        lines += [f"- `{f.path}:{f.line}` {f.message}" for f in offered]
    else:
        lines.append("No suggested change passed the repository's tests.")
    dropped = report.checks.suggestions_dropped
    if dropped:
        lines += ["", f"{dropped} suggestion(s) not offered: the tests failed with them."]
    return "\n".join(lines)


def _tests_checkout(host: CodeHost, pr: PullRequest, work: Path) -> tuple[Path, str]:
    from agents.gitdiff import checkout, fetch_base

    url, header = host.git_auth(pr)
    repo = checkout(url, pr.fetch_ref, pr.head_sha, work / "repo", header=header)
    return repo, fetch_base(repo, url, pr.start_sha or pr.base_sha, header=header)


def _superseded(host: CodeHost, pr: PullRequest, p: dict[str, Any]) -> bool:
    """A push job whose PR has a newer head: that push has its own job."""
    if str(p.get("trigger", "")).startswith("comment"):
        return False
    return host.pull_request(pr.repo, pr.number).head_sha != pr.head_sha


def _pr_settings(settings: Settings, text: str | None) -> tuple[Settings, str]:
    """The service's settings with the PR's ``.assay.toml`` as a layer; a broken file does not
    stop the review: the problem is reported and the file is not used."""
    try:
        return with_repo_files(settings, {REPO_FILE: text})[0], ""
    except ConfigError as exc:
        return settings, f"{exc}; {REPO_FILE} was not used"


@dataclass
class OpenPR:
    """A PR a job works on, with the settings its ``.assay.toml`` asks for."""

    pr: PullRequest
    settings: Settings
    problem: str  # a broken .assay.toml ("" when fine)
    repo_name: str  # the suppressions' key

    def practices(self, host: CodeHost) -> str:
        name = self.settings.review_best_practices
        return (host.read_file(self.pr, name) or "") if name else ""


def open_pr(ctx: JobContext, host: CodeHost, p: dict[str, Any]) -> OpenPR | dict[str, Any]:
    """The PR and its settings, or why the job has nothing to do (closed, superseded by a newer
    push, disabled by its ``.assay.toml``)."""
    ctx.progress("fetching")
    pr = host.pull_request(p["repo"], int(p["number"]))
    if pr.state != "open":
        return {"skipped": f"the pull request is {pr.state}"}
    by_comment = str(p.get("trigger", "")).startswith("comment")
    if p.get("head_sha") and p["head_sha"] != pr.head_sha and not by_comment:
        return {"skipped": f"superseded: the head is now {pr.head_sha[:7]}"}
    settings, problem = _pr_settings(ctx.settings, host.read_file(pr, REPO_FILE))
    if not settings.review_enabled:
        return {"skipped": f"disabled by {REPO_FILE}"}
    return OpenPR(pr, settings, problem, p.get("repo_name") or pr.repo)


def harvest_dismissals(host: CodeHost, opened: OpenPR) -> int:
    """Findings people gave a thumbs-down since the last review: remembered as suppressed
    (reviews then drop them; their comment is marked resolved)."""
    from agents.review.suppressions import Suppressions

    store = Suppressions.for_settings(opened.settings)
    known = store.fingerprints(opened.repo_name)
    added = 0
    for comment in host.inline_comments(opened.pr):
        fingerprint = comment.fingerprint
        if comment.thumbs_down and fingerprint and fingerprint not in known:
            message = comment.body.split("<!-- assay:")[0].strip()
            store.add(opened.repo_name, fingerprint, path=comment.path, message=message,
                      reason="👎 on the PR", by=f"{host.name}:reaction")  # fmt: skip
            known.add(fingerprint)
            added += 1
    return added


def review_pr(
    ctx: JobContext, host: CodeHost, opened: OpenPR, action: str, *, tests: bool | None = None,
    verify: bool | None = None,
) -> tuple[dict[str, Any], ReviewReport]:  # fmt: skip
    """Review the PR (``action`` review), offer its verified suggestions (``improve``) or write
    its tests (``tests``), and publish."""
    from agents.review.run import run_review
    from agents.runtime import open_run

    pr, settings, problem = opened.pr, opened.settings, opened.problem
    check = host.start_check(pr) if action != "improve" else ""
    if action == "improve":
        verify, tests = True, False
    practices = opened.practices(host)
    diff = host.diff(pr)
    want_tests = action == "tests" or (settings.review_tests if tests is None else tests)
    # The behaviour diff, the checks' runs and verified suggestions need the code: a checkout.
    evidence = (
        settings.review_behaviour
        or settings.review_check_findings
        or (settings.review_verify_suggestions if verify is None else verify)
    )
    checkout = want_tests or (action != "tests" and evidence)
    dismissed = harvest_dismissals(host, opened) if action == "review" else 0

    def listener(kind: str, data: dict[str, Any]) -> None:
        if kind == "call":
            ctx.progress("reviewing", data["done"], data["total"], path=data["path"])
        elif kind == "tests":
            ctx.progress("tests")

    work_root = ctx.settings.service_dir / "work"
    work_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"pr-{pr.number}-", dir=work_root) as tmp:
        repo_dir, base = None, None
        note = ""
        if checkout:
            ctx.progress("checkout")
            try:
                repo_dir, base = _tests_checkout(host, pr, Path(tmp))
            except Exception as exc:  # the review goes on without what needs the code
                lost = "tests section" if want_tests else "behaviour diff or runs of the checks"
                note = f"no {lost}: the checkout failed ({str(exc)[:200]})"
        with open_run(settings, "pr", trace_id=ctx.job.id[:12]) as run:
            assert run.llm is not None
            report = run_review(
                settings, run.llm, trace=run.trace, diff=diff, head=pr.head_sha,
                repo_dir=repo_dir, base=base, repo_name=opened.repo_name,
                practices=practices, findings=action != "tests", tests=want_tests,
                verify=verify, listener=listener,
            )  # fmt: skip
    for message in (problem, note):
        if message:
            report.errors.append(message)
    ctx.progress("publishing")
    if _superseded(host, pr, ctx.job.params):
        if check:
            host.finish_check(pr, check, conclusion="skipped", title="superseded by a newer push",
                              summary="A newer push has its own review.")  # fmt: skip
        return {"skipped": "superseded while reviewing", "review": report.as_dict()}, report
    result: dict[str, Any] = {"head": pr.head_sha, "findings": len(report.findings)}
    if dismissed:
        result["dismissed"] = dismissed
    if action == "review":
        result["inline"] = sync_inline(host, pr, report.findings, unchanged=unchanged_lines(diff))
        if result["inline"].get("failed"):
            report.errors.append(
                f"{host.name} refused the inline comments; the findings are in the table above"
            )
        text = summary_markdown(report)
        result["summary_comment"] = host.upsert_note(pr, prompts.MARKER_SUMMARY, text)
        counts = report.counts()
        found = ", ".join(f"{counts[s]} {s}" for s in SEVERITIES if counts[s])
        title = f"{len(report.findings)} finding(s)" + (f": {found}" if found else "")
    elif action == "improve":
        offered = [f for f in report.findings if f.suggestion and f.verified]
        result["inline"] = sync_inline(host, pr, offered, resolve=False,
                                       unchanged=unchanged_lines(diff))  # fmt: skip
        text = improve_markdown(report, offered, pr.head_sha)
        result["improve_comment"] = host.upsert_note(pr, prompts.MARKER_IMPROVE, text)
        result["suggestions"] = len(offered)
        result["review"] = report.as_dict()
        return result, report
    else:
        section = report.tests or TestsSection(note="; ".join(report.errors) or "no tests ran")
        text = tests_markdown(section, marker=True)
        result["tests_comment"] = host.upsert_note(pr, prompts.MARKER_TESTS, text)
        title = "tests: " + (f"diff coverage {section.percent:.0f} %" if section.percent is not None
                             else "not measured")  # fmt: skip
    outcome = conclusion(report, settings)
    summary = text.split("\n", 1)[1] if text.startswith("<!--") else text
    host.finish_check(pr, check, conclusion=outcome, title=title, summary=summary)
    result["conclusion"] = outcome
    result["review"] = report.as_dict()
    return result, report
