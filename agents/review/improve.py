"""Verified suggestions: a suggested change is offered only when the repository's tests pass
with it.

Each finding's suggestion is applied to its file in a sandbox copy of the head; the
repository's test command runs there, plus the evidence call of a finding confirmed by running
it (the call must no longer fail).  A suggestion is green when no test fails that passed
without it and the evidence holds; it is then marked verified.  A suggestion that is not green
goes to the solve flow (:func:`flows.solve_problem`, the suggestion as its draft, the failing
tests and the evidence call as its given tests, ``review_fix_attempts`` rounds); the repaired
function is checked the same way.  What stays red is not offered: the finding keeps its message
and loses its suggestion, and the summary counts it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from agents.cover.targets import module_of, tests_pythonpath
from agents.review.changes import definitions
from agents.review.checks import RunCalls
from agents.review.report import Checks, Finding
from agents.review.sides import run_pytest
from agents.settings import Settings
from flows import (
    Budget,
    Completer,
    FlowRunner,
    FlowsError,
    Problem,
    Sandbox,
    SolveOptions,
    TraceWriter,
    load_tests,
    solve_problem,
)

MAX_FIX_TESTS = 3  # failing tests handed to the solve flow


@dataclass(frozen=True)
class ImproveOptions:
    test_command: str = "pytest"
    timeout: float = 600.0
    fix_attempts: int = 2  # solve-flow fix rounds for a red suggestion (0: none)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> ImproveOptions:
        """The options the settings ask for (``test_command``, ``review_fix_attempts``)."""
        s = settings
        values: dict[str, Any] = dict(
            test_command=s.test_command, timeout=s.sandbox_timeout,
            fix_attempts=s.review_fix_attempts,
        )  # fmt: skip
        return cls(**{**values, **overrides})


def apply_suggestion(source: str, line: int, suggestion: str) -> str | None:
    """``source`` with ``line`` replaced by the suggestion's lines (indented like the line when
    the suggestion is not), or None when the result does not parse."""
    lines = source.splitlines(keepends=True)
    if not 0 < line <= len(lines) or not suggestion.strip():
        return None
    old = lines[line - 1]
    indent = old[: len(old) - len(old.lstrip())]
    new = suggestion.rstrip("\n").splitlines()
    if new and not new[0][:1].isspace() and indent:
        new = [indent + text if text.strip() else text for text in new]
    out = "".join(lines[: line - 1]) + "".join(t + "\n" for t in new) + "".join(lines[line:])
    try:
        ast.parse(out)
    except SyntaxError:
        return None
    return out


def _solution_imports(module: str, source: str, entry: str) -> str:
    """What a solution module needs to see the code's module: every top-level name of it."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"}
    names.discard(entry)
    listed = ", ".join(sorted(names))
    return f"from {module} import {listed}\n" if listed else ""


def _without(source: str, entry: str) -> str:
    """A test module's prelude that does not import ``entry`` (the solution's is used)."""
    tree = ast.parse(source)
    kept = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            node.names = [a for a in node.names if (a.asname or a.name) != entry]
            if not node.names:
                continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            kept.append(ast.unparse(node))
    return "\n".join(kept)


class SuggestionVerifier:
    """Checks suggestions in one sandbox over the head (``root``)."""

    def __init__(
        self,
        root: Path,
        sandbox: Sandbox,
        options: ImproveOptions,
        checks: Checks,
        *,
        llm: Completer | None = None,
        trace: TraceWriter | None = None,
        run_calls: RunCalls | None = None,
    ) -> None:
        self.root, self.sandbox, self.options, self.checks = root, sandbox, options, checks
        self.llm, self.trace, self.run_calls = llm, trace, run_calls
        self._failing: set[str] | None = None

    def verify(self, findings: list[Finding]) -> list[Finding]:
        out = []
        for finding in findings:
            out.append(self._one(finding) if finding.suggestion else finding)
        return out

    def _one(self, finding: Finding) -> Finding:
        assert finding.suggestion is not None
        try:
            source = (self.root / finding.path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return self._drop(finding, "its file cannot be read")
        changed = apply_suggestion(source, finding.line, finding.suggestion)
        if changed is None:
            return self._drop(finding, "it does not parse in place")
        failing = self._red(finding, changed)
        if not failing:
            self.checks.suggestions_verified += 1
            return replace(finding, verified=True)
        fixed = self._solve(finding, source, changed, failing)
        if fixed is not None:
            self.checks.suggestions_verified += 1
            self.checks.suggestions_fixed += 1
            return fixed
        return self._drop(finding, f"{len(failing)} test(s) fail with it, e.g. {failing[0]}")

    def _drop(self, finding: Finding, why: str) -> Finding:
        self.checks.suggestions_dropped += 1
        self.checks.notes.append(f"suggestion at {finding.path}:{finding.line} dropped: {why}")
        return replace(finding, suggestion=None, verified=False)

    def _run(self, files: dict[str, str | bytes]) -> tuple[set[str], str]:
        """(failing node ids, why the run gave no per-test results or "") of the suite."""
        paths = [p for p in files if p.endswith(".py")]
        try:
            found, why = run_pytest(
                self.sandbox, self.options.test_command, files=files,
                pythonpath=tests_pythonpath(self.root, paths), timeout=self.options.timeout,
            )  # fmt: skip
        except FlowsError as exc:
            return set(), str(exc)[:200]
        return {n for n, outcome in found.items() if outcome in ("failed", "error")}, why

    def _red(self, finding: Finding, source: str) -> list[str]:
        """What fails with ``source`` in place: new failing tests, or the evidence call."""
        if self._failing is None:
            self._failing = self._run({})[0]
        failing, broken = self._run({finding.path: source})
        if broken:
            return [broken]
        new = sorted(failing - self._failing)
        if finding.confirmed and finding.call and self.run_calls is not None:
            seen = self.run_calls(finding.path, [finding.call], {finding.path: source})
            outcome, stable = seen.get(finding.call, ({}, False))
            if not stable or "raises" in outcome or "timeout" in outcome:
                new.append(f"the evidence call {finding.call}")
        return new

    def _solve(
        self, finding: Finding, original: str, changed: str, failing: list[str]
    ) -> Finding | None:
        """The suggestion repaired by the solve flow until the tests pass, or None."""
        if self.llm is None or self.options.fix_attempts <= 0:
            return None
        spans = definitions(changed)
        name = next(
            (q for q, s in spans.items() if "." not in q and s.start <= finding.line <= s.end),
            None,
        )
        if name is None:
            return None
        span = spans[name]
        module = module_of(self.root, finding.path)[0]
        lines = changed.splitlines(keepends=True)
        function = "".join(lines[span.start - 1 : span.end])
        tests = self._given_tests(failing, name, finding)
        if not tests.strip():
            return None
        starter = _solution_imports(module, original, name)
        problem = Problem(
            statement=f"Fix `{name}` of {finding.path}: {finding.message}",
            tests=load_tests(tests), entry_point=name, starter=starter + "\n" + function,
            draft=starter + "\n" + function,
        )  # fmt: skip
        runner = FlowRunner(
            self.llm, trace=self.trace, flow="improve",
            budget=Budget(max_calls=self.options.fix_attempts + 1),
        )  # fmt: skip
        options = SolveOptions(candidates=1, reflect=False, reason_tests=False, extra_tests=0,
                               fix_given=self.options.fix_attempts, fix_extra=0)  # fmt: skip
        try:
            result = solve_problem(problem, runner, self.sandbox, options)
        except FlowsError:
            return None
        if not result.solved:
            return None
        new_function = _function_source(result.code, name)
        if new_function is None:
            return None
        repaired = "".join(lines[: span.start - 1]) + new_function + "".join(lines[span.end :])
        if self._red(finding, repaired):
            return None
        return replace(
            finding, suggestion=new_function.rstrip("\n"), suggestion_start=span.start,
            line=max(finding.line, span.start), verified=True,
        )  # fmt: skip

    def _given_tests(self, failing: list[str], entry: str, finding: Finding) -> str:
        """The failing tests (those that take no fixture) and the evidence call, as tests."""
        parts: list[str] = []
        prelude: list[str] = []
        for nodeid in failing[:MAX_FIX_TESTS]:
            path, _, name = nodeid.partition("::")
            try:
                tree = ast.parse((self.root / path).read_text(encoding="utf-8"))
            except (OSError, SyntaxError, UnicodeDecodeError):
                continue
            for node in tree.body:
                if isinstance(node, ast.FunctionDef) and node.name == name and not node.args.args:
                    parts.append(ast.unparse(node))
                    prelude.append(_without(ast.unparse(tree), entry))
        if finding.confirmed and finding.call:
            parts.append(f"def test_evidence():\n    {finding.call}")
        return "\n".join(dict.fromkeys(prelude)) + "\n\n\n" + "\n\n\n".join(parts) if parts else ""


def _function_source(code: str, name: str) -> str | None:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return ast.get_source_segment(code, node, padded=True) + "\n"  # type: ignore[operator]
    return None
