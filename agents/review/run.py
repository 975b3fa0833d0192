"""One review, wired: options from the settings, the quality policy and the index context,
the review agent and the tests section.

Used by ``assay review`` (a local repository), the service's review jobs and the PR bot.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from agents.cover.js.project import is_js_project
from agents.review.agent import ReviewAgent, ReviewOptions
from agents.review.context import IndexContext
from agents.review.report import ReviewReport
from agents.review.testsection import TestsOptions, tests_section
from agents.runtime import open_sandbox
from agents.settings import Settings
from flows import Completer, TraceWriter


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
    listener: Callable[[str, dict[str, Any]], None] | None = None,
) -> ReviewReport:
    """Findings on ``diff`` (unless ``findings=False``) plus, when asked (``tests``, default:
    the ``review_tests`` setting) and a checkout is at hand, the tests section against ``base``.
    ``practices``: the repository's own best practices (the ``review_best_practices`` file),
    added to the quality policy's; read from ``repo_dir`` when not given."""
    if not practices and repo_dir is not None and settings.review_best_practices:
        practices = read_practices(repo_dir, settings.review_best_practices)
    context = IndexContext(repo_name, settings=settings, fallback_practices=practices)
    options = ReviewOptions.from_settings(settings, path_weight=context.path_weight)
    agent = ReviewAgent(llm, options, context=context, listener=listener, trace=trace)
    report = agent.review(diff if findings else "", head=head)
    if not findings:
        report.errors = []
    if context.warning:
        report.errors.append(context.warning)
    want_tests = settings.review_tests if tests is None else tests
    if want_tests and repo_dir is not None and base:
        if listener:
            listener("tests", {})
        language = "javascript" if is_js_project(repo_dir) else "python"
        with open_sandbox(settings, repo_dir, language=language) as sandbox:
            report.tests = tests_section(
                repo_dir, base, sandbox=sandbox, llm=llm,
                options=TestsOptions.from_settings(settings), trace=trace,
            )  # fmt: skip
    return report
