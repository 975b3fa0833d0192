"""Running a JS/TS project's tests in the sandbox with its own runner (vitest or jest).

:class:`JsRunner` builds the command (the runner's own entry in ``node_modules``, or the user's
``--test-command``) with assay's options: coverage with branches into an istanbul JSON report
(``coverage-final.json``: vitest's v8 or istanbul provider, jest's own), per-test results as
JSON, no cache (``node_modules`` is read-only in the sandbox).  The run's output directory comes
back from :meth:`flows.Sandbox.run_collect`; :func:`read_istanbul` turns the report into the same
:class:`flows.CoverageReport` the Python pipeline reads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from agents.cover.js.project import JsProject, relative_to_copy
from agents.errors import InputError
from flows import CoverageReport, FileCoverage, RunResult, Sandbox

HEAP_MB = 2048  # node's heap; the address space is not capped (V8 and WebAssembly reserve much)


@dataclass(frozen=True)
class Case:
    file: str  # repository-relative test file
    name: str  # the test's full name
    status: str  # "passed", "failed", "skipped"
    message: str = ""


@dataclass(frozen=True)
class JsTestRun:
    result: RunResult
    cases: tuple[Case, ...] = ()
    coverage: CoverageReport | None = None
    error: str = ""
    files: Mapping[str, bytes] = field(default_factory=dict)  # what the run left in its out/

    @property
    def passed(self) -> bool:
        return (
            self.result.ok
            and not self.error
            and all(c.status != "failed" for c in self.cases)
            and any(c.status == "passed" for c in self.cases)
        )

    @property
    def failing_files(self) -> set[str]:
        return {c.file for c in self.cases if c.status == "failed"}

    def failure(self, limit: int = 1500) -> str:
        """Why the run failed, trimmed for a reader (or the model)."""
        if self.result.timed_out:
            return "the tests timed out"
        messages = [
            f"{c.name}: {_assertion(c.message)}" for c in self.cases if c.status == "failed"
        ]
        if messages:  # each failure's own message first, not the runner's stack frames
            return "\n".join(messages).strip()[:limit]
        return (self.error or self.result.output).strip()[-limit:]


FRAME = re.compile(r"\s+at \S")  # an indented stack frame line ("    at runTest (…)")


def _assertion(message: str, lines: int = 4) -> str:
    """A failure message without its stack frames (``    at …`` lines)."""
    kept = [ln for ln in message.splitlines() if ln.strip() and not FRAME.match(ln)]
    return "\n".join(kept[:lines])


class JsRunner:
    """Runs (some of) the project's tests in ``sandbox``, under coverage when asked."""

    def __init__(self, sandbox: Sandbox, project: JsProject, *, timeout: float) -> None:
        self.sandbox, self.project, self.timeout = sandbox, project, timeout

    def argv(self, tests: Sequence[str] | None, coverage: bool) -> list[str]:
        p = self.project
        argv = list(p.command)
        if p.runner == "vitest":
            if not p.custom_command or "run" not in argv:
                argv.append("run")
            argv += ["--no-cache", "--reporter=json", "--outputFile={out}/results.json"]
            argv += ["--passWithNoTests"]
            if coverage:
                argv += ["--coverage.enabled=true", f"--coverage.provider={p.coverage_provider()}"]
                argv += ["--coverage.reporter=json", "--coverage.reportsDirectory={out}/coverage"]
                argv += [f"--coverage.include={s}" for s in p.sources]
                argv += ["--coverage.all=true"]
            argv += list(tests or ())
        else:
            argv += ["--ci", "--no-cache", "--watchman=false", "--json"]
            argv += ["--outputFile={out}/results.json", "--passWithNoTests"]
            if coverage:
                argv += ["--coverage", "--coverageReporters=json"]
                argv += ["--coverageDirectory={out}/coverage"]
                argv += [f"--collectCoverageFrom={s}" for s in p.sources]
            if tests:
                argv += ["--runTestsByPath", *tests]
        return argv

    def run(
        self,
        tests: Sequence[str] | None = None,
        *,
        files: Mapping[str, str] | None = None,
        coverage: bool = True,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> JsTestRun:
        """Run ``tests`` (all when None) with ``files`` added to the copy."""
        run_env = {"NODE_OPTIONS": f"--max-old-space-size={HEAP_MB}", "CI": "1"}
        run_env.update({"NODE_ENV": "test", "FORCE_COLOR": "0", **(env or {})})
        result, out = self.sandbox.run_collect(
            self.argv(tests, coverage),
            extra_files=files,
            env=run_env,
            timeout=timeout or self.timeout,
        )
        cases, error = _read_results(out.get("results.json"), self.project.runner)
        if result.broken:
            error = f"the sandbox broke: {result.broken}"
        elif result.timed_out:
            error = "the test run timed out"
        report = None
        if coverage and "coverage/coverage-final.json" in out:
            try:
                report = read_istanbul(json.loads(out["coverage/coverage-final.json"]))
            except ValueError as exc:
                error = error or f"unreadable coverage report: {exc}"
        elif coverage and not error:
            error = "the run wrote no coverage report: " + result.output.strip()[-1500:]
        if not error and not cases and result.returncode not in (0, None):
            error = result.output.strip()[-2000:] or f"exit {result.returncode}"
        return JsTestRun(result, cases, report, error, out)


def _read_results(data: bytes | None, runner: str) -> tuple[tuple[Case, ...], str]:
    """The per-test records of the runner's JSON report (jest's format; vitest writes it too)."""
    if not data:  # no test files (vitest writes nothing then); a crash shows in the exit code
        return (), ""
    try:
        report = json.loads(data)
    except ValueError:
        return (), "the runner's results are not JSON"
    cases: list[Case] = []
    for suite in report.get("testResults", []):
        file = relative_to_copy(str(suite.get("name", ""))) or str(suite.get("name", ""))
        assertions = suite.get("assertionResults") or []
        for case in assertions:
            status = str(case.get("status", ""))
            status = {"pending": "skipped", "todo": "skipped", "disabled": "skipped"}.get(
                status, status
            )
            message = "\n".join(str(m) for m in case.get("failureMessages") or [])
            cases.append(Case(file, str(case.get("fullName", "")), status, message[:2000]))
        if suite.get("status") == "failed" and not any(c.status == "failed" for c in cases):
            # A file that failed before any test ran (a syntax or import error).
            message = str(suite.get("message") or suite.get("failureMessage") or "failed to load")
            cases.append(Case(file, f"{file} (loading)", "failed", message[:2000]))
    return tuple(cases), ""


def read_istanbul(data: Mapping[str, object]) -> CoverageReport:
    """An istanbul ``coverage-final.json`` as a :class:`flows.CoverageReport`: a line is a
    statement (executed when any statement starting on it ran), an arc is a branch outcome
    ``(line of the branch, line of the outcome)`` (made unique when two share lines)."""
    files: dict[str, FileCoverage] = {}
    for path, raw in data.items():
        if not isinstance(raw, dict):
            continue
        rel = relative_to_copy(str(raw.get("path") or path))
        if rel is None:
            continue
        files[rel] = _file_coverage(rel, raw)
    return CoverageReport(files=files, coverage_version="istanbul")


def _file_coverage(rel: str, raw: dict[str, object]) -> FileCoverage:
    statement_map = raw.get("statementMap") or {}
    counts = raw.get("s") or {}
    assert isinstance(statement_map, dict) and isinstance(counts, dict)
    lines: dict[int, bool] = {}
    for key, loc in statement_map.items():
        line = int(loc["start"]["line"])
        lines[line] = lines.get(line, False) or int(counts.get(key, 0) or 0) > 0
    branch_map = raw.get("branchMap") or {}
    branch_counts = raw.get("b") or {}
    assert isinstance(branch_map, dict) and isinstance(branch_counts, dict)
    hit: list[tuple[int, int]] = []
    missed: list[tuple[int, int]] = []
    seen: set[tuple[int, int]] = set()
    for key, branch in branch_map.items():
        line = int(branch.get("line") or branch["loc"]["start"]["line"])
        taken = branch_counts.get(key) or []
        for index, loc in enumerate(branch.get("locations") or []):
            start = (loc or {}).get("start") or {}
            arc = (line, int(start.get("line") or line))
            while arc in seen:  # two outcomes on the same lines (a ? b : c)
                arc = (arc[0], arc[1] + 100_000)
            seen.add(arc)
            count = taken[index] if index < len(taken) else 0
            (hit if int(count or 0) > 0 else missed).append(arc)
    executed = tuple(sorted(n for n, ran in lines.items() if ran))
    missing = tuple(sorted(n for n, ran in lines.items() if not ran))
    total = len(lines) + len(hit) + len(missed)
    percent = 100.0 * (len(executed) + len(hit)) / total if total else 100.0
    return FileCoverage(
        path=rel,
        executed_lines=executed,
        missing_lines=missing,
        excluded_lines=(),
        executed_branches=tuple(sorted(hit)),
        missing_branches=tuple(sorted(missed)),
        num_statements=len(lines),
        num_branches=len(hit) + len(missed),
        percent=percent,
    )


def show_arc(arc: tuple[int, int]) -> str:
    """A branch outcome for a reader: ``line 7 → 9``."""
    return f"line {arc[0]} → {arc[1] % 100_000}"


def install(sandbox: Sandbox, command: str, timeout: float) -> None:
    """``--install-command``: run once in the sandbox's copy of the package, with the network."""
    done = sandbox.prepare(["/bin/sh", "-c", command], network=True, timeout=timeout)
    if not done.ok:
        tail = (done.broken or done.output.strip() or f"exit {done.returncode}")[-600:]
        raise InputError(
            f"--install-command {command!r} failed: {tail}",
            "fix the command (it runs in the sandbox's copy of the package)",
        )


def baseline_failures(run: JsTestRun, runner: str, allow_failing: bool) -> list[str]:
    """The project's own tests that fail before assay adds any; an error when the suite could
    not run, or when some fail and ``--allow-failing`` was not given."""
    failing = sorted({c.name for c in run.cases if c.status == "failed"})
    if run.coverage is None or (run.error and not run.cases):
        raise InputError(
            f"The project's tests could not run with {runner}: "
            f"{(run.error or run.failure())[-800:]}",
            "check that they pass with the project's own test command, or pass --test-command",
        )
    if failing and not allow_failing:
        raise InputError(
            f"{len(failing)} of the project's tests fail before assay adds any: "
            f"{', '.join(failing[:5])}",
            "fix them, or pass --allow-failing to leave them out of the gates",
        )
    return failing
