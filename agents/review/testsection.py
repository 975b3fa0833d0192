"""The tests section of a review: diff coverage of the change, and tests for what it misses.

Diff coverage: the project's suite runs once under coverage in the sandbox, and the changed
executable lines of its source files (Python; or JavaScript/TypeScript with the package's own
runner, :mod:`agents.cover.js`) are split into covered and not covered.  Then the cover
agent (:mod:`agents.cover.engine`, ``diff_base``, dry run) writes tests for the uncovered changed
code; only tests that pass every one of its gates are offered, as a patch.  Nothing is written to
the repository.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.cover.engine import CoverAgent
from agents.cover.js.engine import JsCoverAgent
from agents.cover.js.project import (
    SOURCE_EXTENSIONS,
    check_installed,
    detect_project,
    is_js_project,
    js_test_command,
)
from agents.cover.js.runner import JsRunner
from agents.cover.options import OMIT, CoverOptions
from agents.cover.targets import coverage_sources, source_files, tests_pythonpath
from agents.errors import AssayError
from agents.gitdiff import changed_lines
from agents.review.report import TestsSection
from agents.settings import Settings
from flows import (
    Completer,
    CoverageReport,
    FlowsError,
    LLMUnreachable,
    Sandbox,
    TraceWriter,
    repo_files,
)

_PATCHED = re.compile(r"^\+\+\+ b/(.+)$", re.M)


@dataclass(frozen=True)
class TestsOptions:
    test_command: str = "pytest"
    max_minutes: float = 10.0
    max_tokens: int | None = None
    repeat: int = 3
    attempts: int = 2
    mutation: bool = True
    candidate_timeout: float = 60.0
    suite_timeout: float = 600.0
    generate: bool = True
    explore: bool = True
    explore_seconds: float = 20.0

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> TestsOptions:
        """The options the settings ask for (``test_command``, ``cover_*``,
        ``review_tests_minutes``), with ``overrides`` on top."""
        s = settings
        values: dict[str, Any] = dict(
            test_command=s.test_command, max_minutes=s.review_tests_minutes,
            repeat=s.cover_repeat, attempts=s.cover_attempts, mutation=s.cover_mutation,
            candidate_timeout=s.cover_candidate_timeout, suite_timeout=s.sandbox_timeout,
            explore=s.cover_explore, explore_seconds=s.cover_explore_seconds,
        )  # fmt: skip
        return cls(**{**values, **overrides})


def _code_lines(repo: Path, path: str, lines: set[int]) -> set[int]:
    """Changed lines that look like code, for a file the tests never imported."""
    try:
        text = (repo / path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return set()
    return {
        n
        for n in lines
        if 0 < n <= len(text) and text[n - 1].strip() and not text[n - 1].lstrip().startswith("#")
    }


def measure(
    repo: Path, changed: dict[str, set[int]], coverage: CoverageReport, files: list[str]
) -> TestsSection:
    """Split the changed executable lines of ``files`` into covered and uncovered."""
    section = TestsSection()
    for path in files:
        lines = changed.get(path, set())
        fc = coverage.get(path)
        if fc is None:
            executable, executed = _code_lines(repo, path, lines), set()
        else:
            executable = set(fc.executed_lines) | set(fc.missing_lines)
            executed = set(fc.executed_lines)
        mine = lines & executable
        section.changed_lines += len(mine)
        section.covered_lines += len(mine & executed)
        if mine - executed:
            section.uncovered[path] = sorted(mine - executed)
    section.covered_after = section.covered_lines
    return section


def tests_section(
    repo: Path,
    base: str,
    sandbox: Sandbox,
    llm: Completer | None,
    options: TestsOptions,
    trace: TraceWriter | None = None,
) -> TestsSection:
    """Diff coverage of ``repo``'s working tree against ``base``, plus generated tests."""
    if is_js_project(repo):
        return _js_tests_section(repo, base, sandbox, llm, options, trace)
    changed = changed_lines(repo, base)
    files = source_files(sorted(changed))
    if not files:
        return TestsSection(note="no Python source file changed")
    try:
        run = sandbox.run_tests(
            [],
            test_command=options.test_command,
            source=coverage_sources(repo, files),
            omit=list(OMIT),
            env={"PYTHONPATH": tests_pythonpath(repo, files)},
            timeout=options.suite_timeout,
        )
    except FlowsError as exc:
        return TestsSection(note=f"the tests could not run: {str(exc)[:200]}")
    if run.coverage is None:
        return TestsSection(note=f"coverage could not be measured: {run.coverage_error[-200:]}")
    section = measure(repo, changed, run.coverage, files)
    failing = [c.nodeid for c in run.tests if c.outcome in ("failed", "error")]
    if failing:
        section.note = f"{len(failing)} test(s) fail on this change, e.g. {failing[0]}"
    if not section.uncovered or llm is None or not options.generate:
        return section
    return _generate(section, repo, base, sandbox, llm, options, trace, language="python")


def _js_tests_section(
    repo: Path, base: str, sandbox: Sandbox, llm: Completer | None, options: TestsOptions,
    trace: TraceWriter | None,
) -> TestsSection:  # fmt: skip
    """The tests section of a JavaScript/TypeScript package (its own runner, its own files)."""
    changed = changed_lines(repo, base, SOURCE_EXTENSIONS)
    try:
        project = detect_project(repo, repo_files(repo), test_command=js_test_command(
            options.test_command))  # fmt: skip
        files = [f for f in project.sources if f in changed]
        if not files:
            return TestsSection(note="no JavaScript or TypeScript source file changed")
        check_installed(project, None)
        run = JsRunner(sandbox, project, timeout=options.suite_timeout).run()
    except (AssayError, FlowsError) as exc:
        return TestsSection(note=f"the tests could not run: {str(exc)[:200]}")
    if run.coverage is None:
        return TestsSection(note=f"coverage could not be measured: {run.error[-200:]}")
    section = measure(repo, changed, run.coverage, files)
    failing = [c.name for c in run.cases if c.status == "failed"]
    if failing:
        section.note = f"{len(failing)} test(s) fail on this change, e.g. {failing[0]}"
    if not section.uncovered or llm is None or not options.generate:
        return section
    return _generate(section, repo, base, sandbox, llm, options, trace, language="javascript")


def _generate(
    section: TestsSection, repo: Path, base: str, sandbox: Sandbox, llm: Completer,
    options: TestsOptions, trace: TraceWriter | None, *, language: str,
) -> TestsSection:  # fmt: skip
    """Tests for the uncovered changed lines by the cover agent (dry run): only what passes
    its gates, as a patch."""
    cover = CoverOptions(
        include=tuple(sorted(section.uncovered)),
        diff_base=base,
        dry_run=True,
        repeat=options.repeat,
        attempts=options.attempts,
        mutation=options.mutation,
        allow_failing=True,
        max_minutes=options.max_minutes,
        max_tokens=options.max_tokens,
        candidate_timeout=options.candidate_timeout,
        suite_timeout=options.suite_timeout,
        test_command=options.test_command,
        explore=options.explore,
        explore_seconds=options.explore_seconds,
        mutants="off",  # a review's tests section: diff coverage, not the mutation score
    )
    try:
        if language == "javascript":
            report = JsCoverAgent(repo, llm, sandbox, cover, trace=trace).run()
        else:
            report = CoverAgent(repo, llm, sandbox, cover, trace=trace).run()
    except LLMUnreachable:
        raise
    except (AssayError, FlowsError) as exc:
        note = f"tests could not be generated: {str(exc)[:200]}"
        section.note = f"{section.note}; {note}" if section.note else note
        return section
    section.tokens = report.tokens
    section.accepted = report.accepted
    section.patch = report.diff
    section.written = sorted(set(_PATCHED.findall(report.diff)))
    gained = {
        (outcome.target.split("::")[0], line)
        for outcome in report.targets
        for line in outcome.gained_lines
    }
    newly = {(p, n) for p, lines in section.uncovered.items() for n in lines} & gained
    section.covered_after = section.covered_lines + len(newly)
    if report.stopped.startswith("budget"):
        note = f"test generation stopped on its {report.stopped}"
        section.note = f"{section.note}; {note}" if section.note else note
    return section
