"""One review, wired: options from the settings, the quality policy and the index context, the
behaviour diff, the review agent with its checks, verified suggestions, suppressions and the tests
section.

Used by ``assay review`` (a local repository), the service's review jobs and the PR bot.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import Any

from agents.cover.js.project import is_js_project
from agents.errors import AssayError
from agents.review.agent import ReviewAgent, ReviewOptions
from agents.review.behaviour import BehaviourOptions, behaviour_diff
from agents.review.behaviour_calls import behaviour_findings
from agents.review.checks import CheckOptions, measure_slowdowns, set_aside_unchanged
from agents.review.context import IndexContext
from agents.review.improve import ImproveOptions, SuggestionVerifier
from agents.review.report import BehaviourSection, ReviewReport
from agents.review.sides import CallRunner
from agents.review.suppressions import Suppressions
from agents.review.testsection import TestsOptions, tests_section
from agents.runtime import open_sandbox
from agents.settings import Settings
from flows import Completer, FlowsError, Sandbox, TraceWriter


def read_practices(repo: Path, name: str) -> str:
    """The repository's best-practices file (``review_best_practices``), "" when unreadable."""
    path = (repo / name).resolve()
    if not path.is_relative_to(repo.resolve()) or not path.is_file():
        return ""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def run_review(
    settings: Settings,
    llm: Completer,
    *,
    trace: TraceWriter | None = None,
    diff: str,
    head: str = "",
    repo_dir: Path | None = None,
    base: str | None = None,
    repo_name: str | None = None,
    practices: str = "",
    findings: bool = True,
    tests: bool | None = None,
    behaviour: bool | None = None,
    checks: bool | None = None,
    verify: bool | None = None,
    listener: Callable[[str, dict[str, Any]], None] | None = None,
) -> ReviewReport:
    """Findings on ``diff`` (unless ``findings=False``) plus, when a checkout of the head is at
    hand (``repo_dir``, with ``base``): the behaviour diff (``behaviour``, default the
    ``review_behaviour`` setting), checks of the model's findings (``checks``:
    ``review_check_findings``), verified suggestions (``verify``: ``review_verify_suggestions``)
    and the tests section (``tests``: ``review_tests``).  Findings the repository's people
    marked wrong before (``repo_name``'s suppressions) are dropped and counted.
    ``practices``: the repository's own best practices (the ``review_best_practices`` file),
    added to the quality policy's; read from ``repo_dir`` when not given."""
    emit = listener or (lambda kind, data: None)
    started = time.monotonic()
    if not practices and repo_dir is not None and settings.review_best_practices:
        practices = read_practices(repo_dir, settings.review_best_practices)
    context = IndexContext(repo_name, settings=settings, fallback_practices=practices)
    options = ReviewOptions.from_settings(settings, path_weight=context.path_weight)
    local = repo_dir is not None and bool(base)
    want = {
        "behaviour": settings.review_behaviour if behaviour is None else behaviour,
        "checks": settings.review_check_findings if checks is None else checks,
        "verify": settings.review_verify_suggestions if verify is None else verify,
    }
    with ExitStack() as stack:
        calls = None
        if local and findings:
            assert repo_dir is not None
            calls = stack.enter_context(CallRunner(repo_dir, _sandboxes(settings)))
        section, extra = None, []
        if local and findings and want["behaviour"]:
            assert repo_dir is not None and base is not None
            emit("behaviour", {})
            try:
                section = behaviour_diff(repo_dir, base, diff, _sandboxes(settings),
                                         BehaviourOptions.from_settings(settings))  # fmt: skip
            except (AssayError, FlowsError) as exc:
                section = BehaviourSection(note=f"could not run: {str(exc)[:200]}")
            extra = behaviour_findings(section, repo_dir)
        check = (
            CheckOptions(min_score=settings.review_min_score, run_calls=calls)
            if want["checks"]
            else None
        )
        agent = ReviewAgent(llm, options, context=context, listener=listener, trace=trace,
                            check=check)  # fmt: skip
        report = agent.review(diff if findings else "", head=head, extra=extra)
        report.behaviour = section
        if want["checks"]:
            report.findings = set_aside_unchanged(
                report.findings, section, settings.review_no_change_calls, report.checks
            )
            report.findings = measure_slowdowns(
                report.findings, section, settings.review_slowdown_factor, report.checks
            )
        if local and findings and want["verify"] and any(f.suggestion for f in report.findings):
            assert repo_dir is not None
            emit("verify", {})
            box = stack.enter_context(open_sandbox(settings, repo_dir))
            verifier = SuggestionVerifier(
                repo_dir, box, ImproveOptions.from_settings(settings), report.checks,
                llm=llm, trace=trace, run_calls=calls,
            )  # fmt: skip
            report.findings = verifier.verify(report.findings)
    if repo_name:
        suppress(report, Suppressions.for_settings(settings).fingerprints(repo_name))
    if not findings:
        report.errors = []
    if context.warning:
        report.errors.append(context.warning)
    report.wall_seconds = time.monotonic() - started
    want_tests = settings.review_tests if tests is None else tests
    if want_tests and repo_dir is not None and base:
        emit("tests", {})
        language = "javascript" if is_js_project(repo_dir) else "python"
        with open_sandbox(settings, repo_dir, language=language) as sandbox:
            report.tests = tests_section(
                repo_dir, base, sandbox=sandbox, llm=llm,
                options=TestsOptions.from_settings(settings), trace=trace,
            )  # fmt: skip
    return report


def suppress(report: ReviewReport, fingerprints: set[str]) -> None:
    """Drop the findings people marked wrong before (counted in the checks)."""
    if not fingerprints:
        return
    kept = [f for f in report.findings if f.fingerprint not in fingerprints]
    report.checks.suppressed += len(report.findings) - len(kept)
    report.findings = kept


def _sandboxes(settings: Settings) -> Callable[[Path], AbstractContextManager[Sandbox]]:
    return lambda root: open_sandbox(settings, root)
