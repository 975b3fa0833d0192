"""The runtime gates a candidate test must pass, in order, all in the sandbox.

1. It runs alone under coverage and passes.  A failing candidate gets its expected values from
   the code's observed behaviour (:mod:`agents.cover.oracle`), then loses the tests that still
   fail; an import failure is reported as such.
2. It passes ``repeat`` times in a row in one copy (catches tests that depend on leftovers).
3. It passes together with the existing suite and what was accepted before, and that run's
   coverage of the target is higher than before (line or branch).
4. It fails against at least one simple mutant of the target (``mutation=False`` skips this),
   or, for a candidate written against named mutants (survivors of the suite), against those:
   then coverage gain is not asked for (the line ran before; the bug on it was not caught).

A run of the candidate (alone or repeated) that left processes running, passed the memory cap,
or touched the host outside its run (:mod:`agents.cover.guard`) rejects it as ``side-effects``;
a run that destroyed its copy or could not start rejects it as ``sandbox-broken`` (its output
is not fed back).  Either way the cover run goes on with the next candidate.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from agents.cover.candidate import (
    Candidate,
    Rejection,
    check_static,
    cut_at_failures,
    keep_tests,
    test_names,
    unchecked_tests,
)
from agents.cover.mutant_gate import MutantGate, NamedMutant
from agents.cover.oracle import (
    GUARD_FILE,
    GUARD_MODULE,
    GUARD_SOURCE,
    Change,
    add_observed_checks,
    instrument,
    observe_locals,
    observed_values,
    repair,
)
from agents.cover.repeat_gate import QUIET_PYTEST, run_repeated, without_flaky
from agents.cover.side_effects import trouble as _trouble
from agents.cover.targets import Target, coverage_gain, runs_target
from flows import Arc, CaseResult, CoverageReport, RunResult, Sandbox, TestRun

_IMPORT_ERROR = re.compile(r"^E?\s*((?:ModuleNotFoundError|ImportError)\b.*)$", re.M)
_NO_FIXTURE = re.compile(r"^E\s+fixture '(\w+)' not found", re.M)
MAX_DETAIL = 1200
FIX_ROUNDS = 3  # repair-then-cut rounds for a candidate whose tests fail alone


@dataclass(frozen=True)
class GateConfig:
    test_command: str = "pytest"
    sources: tuple[str, ...] = (".",)
    omit: tuple[str, ...] = ()
    pythonpath: str = ""
    repeat: int = 3
    mutation: bool = True
    observed_oracles: bool = True
    # "gain": the suite run must cover missed lines or branches of the target (assay cover);
    # "runs": the candidate must run the target at all (assay tests: behaviours of code that may
    # be fully covered already).
    coverage_gate: str = "gain"
    max_mutants: int = 4
    timeout: float = 60.0  # one candidate run
    suite_timeout: float = 600.0
    suite_args: tuple[str, ...] = ()  # --deselect/--ignore of baseline failures (--allow-failing)


@dataclass
class Verdict:
    candidate: Candidate | None
    rejection: Rejection | None = None
    coverage: CoverageReport | None = None  # of the suite run with the candidate
    gained_lines: tuple[int, ...] = ()
    gained_branches: tuple[Arc, ...] = ()
    killed: str = ""  # the mutant the test killed
    killed_ids: list[str] = field(default_factory=list)  # named mutants it killed
    kept_for: dict[str, str] = field(default_factory=dict)  # "file::test" → mutant id
    also_killed: dict[str, list[str]] = field(default_factory=dict)  # test → mutants besides
    oracle_changes: list[Change] = field(default_factory=list)  # expected values we repaired
    runs: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.rejection is None and self.candidate is not None


def trim(text: str, limit: int = MAX_DETAIL) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    return "…" + text[-limit:]


def _failure_detail(cases: list[CaseResult], output: str) -> str:
    if cases:
        case = cases[0]
        tail = "\n".join(case.text.strip().splitlines()[-12:])
        return trim(f"{case.nodeid.split('::', 1)[-1]}: {case.message}\n{tail}")
    return trim("\n".join(output.strip().splitlines()[-15:]))


class Gatekeeper:
    """Runs the gates for candidates of one cover run.

    ``accepted`` maps test-file paths to the contents accepted so far in this run; every run
    includes them, so the suite and coverage seen by a candidate are the current ones.
    """

    def __init__(self, sandbox: Sandbox, config: GateConfig, accepted: Mapping[str, str]) -> None:
        self.sandbox = sandbox
        self.config = config
        self.accepted = accepted

    @property
    def env(self) -> dict[str, str]:
        return {"PYTHONPATH": self.config.pythonpath} if self.config.pythonpath else {}

    def files_with(self, path: str, code: str, **more: str) -> dict[str, str]:
        return {**self.accepted, path: code, GUARD_FILE: GUARD_SOURCE, **more}

    def _alone(self, path: str, code: str) -> TestRun:
        return self.sandbox.run_tests(
            [path, "-p", "no:randomly", "--tb=short", "-p", GUARD_MODULE],
            test_command="pytest",
            extra_files=self.files_with(path, code),
            source=list(self.config.sources),
            omit=list(self.config.omit) or None,
            env=self.env,
            timeout=self.config.timeout,
        )

    def check(
        self,
        candidate: Candidate,
        target: Target,
        current: CoverageReport,
        path: str,
        *,
        must_kill: Sequence[NamedMutant] = (),
        kills: Mapping[str, str] | None = None,
        rewrite: bool = False,
    ) -> Verdict:
        """All runtime gates for ``candidate`` written at ``path`` (a new test file); with
        ``must_kill``, the mutant gate asks for those (``kills``: which test is for which).  A
        ``rewrite`` of an accepted test need not add coverage, only run the target."""
        verdict = Verdict(candidate=candidate)
        code = candidate.code

        # 1. Alone, under coverage; wrong expected values repaired, failing tests dropped.
        alone = self._alone(path, code)
        verdict.runs += 1
        if trouble := _trouble(alone, self.config.timeout):
            return self._reject(verdict, *trouble)
        if not alone.passed:
            first_failure = _failure_detail(
                alone.with_outcome("failed") + alone.with_outcome("error"), alone.result.output
            )
            found = _IMPORT_ERROR.search(alone.result.output)
            if found and not alone.with_outcome("passed"):
                return self._reject(verdict, "import-error", found.group(1).strip())
            fixture = _NO_FIXTURE.search(alone.result.output)
            if fixture and not alone.with_outcome("passed"):
                return self._reject(verdict, "no-fixture", fixture.group(1))
            # A failing assert hides the ones after it: repair and cut in turn, a few rounds.
            for _ in range(FIX_ROUNDS):
                if self.config.observed_oracles:
                    repaired = self._repair(path, code, target, verdict)
                    if repaired is not None:
                        candidate, code = repaired, repaired.code
                        alone = self._alone(path, code)
                        verdict.runs += 1
                        if trouble := _trouble(alone, self.config.timeout):
                            return self._reject(verdict, *trouble)
                if alone.passed:
                    break
                cut = self._cut(path, code, target, alone, verdict)
                if cut is None:
                    break
                candidate, code = cut, cut.code
                alone = self._alone(path, code)
                verdict.runs += 1
                if trouble := _trouble(alone, self.config.timeout):
                    return self._reject(verdict, *trouble)
                if alone.passed:
                    break
            if not alone.passed:
                salvaged = self._salvage(code, target, alone, verdict)
                if salvaged is None:
                    return self._reject(verdict, "fails", first_failure)
                candidate, code = salvaged, salvaged.code
                alone = self._alone(path, code)
                verdict.runs += 1
                if trouble := _trouble(alone, self.config.timeout):
                    return self._reject(verdict, *trouble)
                if not alone.passed:
                    return self._reject(verdict, "fails", first_failure)
            verdict.candidate = candidate

        # 2. Repeatedly, in one copy, each run a new process: a test failing in one goes.
        repeat = self._repeat(path, code, verdict)
        if not repeat.ok and not _trouble(repeat, self.config.timeout):
            fewer, dropped = without_flaky(code, target, repeat.output)
            if fewer is not None:
                verdict.candidate, code = fewer, fewer.code
                verdict.notes.append(f"dropped {dropped} flaky test(s)")
                repeat = self._repeat(path, code, verdict)
        if trouble := _trouble(repeat, self.config.timeout):
            return self._reject(verdict, *trouble)
        if not repeat.ok:
            return self._reject(verdict, "flaky", trim(repeat.output, 600))

        # 3. With the suite: passes, and raises the target's coverage.
        suite = self._suite(path, code)
        verdict.runs += 1
        if not suite.passed and not suite.broken and not suite.result.timed_out:
            # Its own tests that fail only beside the suite (a locale another test left
            # active): without them, once; a failure elsewhere in the suite rejects it.
            fewer = self._salvage(code, target, suite, verdict, path)
            if fewer is not None:
                verdict.candidate, code = fewer, fewer.code
                suite = self._suite(path, code)
                verdict.runs += 1
        if suite.broken:  # side effects of the whole suite may be the project's own
            return self._reject(verdict, "sandbox-broken", suite.broken)
        if suite.result.timed_out:
            return self._reject(verdict, "timeout", f"{self.config.suite_timeout:g}")
        if not suite.passed:
            cases = suite.with_outcome("failed") + suite.with_outcome("error")
            return self._reject(
                verdict, "breaks-suite", _failure_detail(cases, suite.result.output)
            )
        verdict.coverage = suite.coverage
        lines, branches = coverage_gain(current, suite.coverage, target)
        verdict.gained_lines, verdict.gained_branches = lines, branches
        if self.config.coverage_gate == "runs" or must_kill or rewrite:
            if not must_kill and not runs_target(alone.coverage, target):
                return self._reject(verdict, "not-called", target.qualname)
        elif not lines and not branches:
            return self._reject(verdict, "no-coverage")

        # 4. Kills a mutant of the target (or the named ones).
        gate = MutantGate(self.sandbox, self.env, self.config.timeout)
        if must_kill:
            named = gate.named(self.files_with, path, code, must_kill, kills)
            verdict.runs += named.runs
            if not named.killed or not named.code.strip():
                return self._reject(verdict, "mutant-survived", "; ".join(named.tried[:2]))
            if named.code != code:
                kept = check_static(named.code, target)
                if not isinstance(kept, Candidate):
                    return self._reject(verdict, "mutant-survived", "; ".join(named.tried[:2]))
                verdict.candidate = kept
            verdict.killed_ids = named.killed
            verdict.also_killed = named.extra
            verdict.killed = f"{len(named.killed)} mutant(s) it was written for"
        elif self.config.mutation:
            file_cov = alone.coverage.get(target.path) if alone.coverage else None
            executed = set(file_cov.executed_lines) if file_cov else None
            caught = gate.any_mutant(
                self.files_with, path, code, target, executed, self.config.max_mutants
            )
            verdict.runs += caught.runs
            if caught.tried and not caught.killed:
                return self._reject(verdict, "no-mutant-killed", "; ".join(caught.tried[:2]))
            verdict.killed = caught.killed[0] if caught.killed else "no mutable code"
        return verdict

    def _repeat(self, path: str, code: str, verdict: Verdict) -> RunResult:
        verdict.runs += 1
        files = self.files_with(path, code)
        return run_repeated(
            self.sandbox, path, self.config.repeat, files, self.env, self.config.timeout
        )

    def _repair(self, path: str, code: str, target: Target, verdict: Verdict) -> Candidate | None:
        """Observed oracles: rerun with the asserts' values printed, write them in."""
        instrumented = instrument(code)
        if instrumented is None:
            return None
        argv = [str(self.sandbox.python), "-m", "pytest", "-s", *QUIET_PYTEST[1:]]
        argv += ["-p", GUARD_MODULE, path]  # installed before the code under test is imported
        run = self.sandbox.run(
            argv,
            extra_files=self.files_with(path, instrumented),
            env=self.env,
            timeout=self.config.timeout,
        )
        verdict.runs += 1
        if _trouble(run, self.config.timeout):
            return None
        repaired, changes = repair(code, observed_values(run.output))
        checked = check_static(repaired, target) if changes else None
        if not isinstance(checked, Candidate):
            return None
        verdict.oracle_changes += changes
        return checked

    def _cut(
        self, path: str, code: str, target: Target, run: TestRun, verdict: Verdict
    ) -> Candidate | None:
        """Failing tests end before the statement that raised (what ran before it passed).  A
        test left with no check gets asserts of the values it computed, as observed; one with
        nothing observable goes."""
        where = re.compile(rf"^{re.escape(path)}:(\d+)", re.M)
        failures: dict[str, int] = {}
        for case in run.with_outcome("failed"):
            found = where.search(case.text)
            name = case.nodeid.split("::", 1)[-1]
            if found and "::" not in name:
                failures[name] = int(found.group(1))
        if not failures:
            return None
        trimmed = cut_at_failures(code, failures, keep_unchecked=True)
        bare = unchecked_tests(trimmed) & set(failures)
        if bare:
            trimmed = self._observe(path, trimmed, bare, verdict)
            unchecked = unchecked_tests(trimmed) & bare
            keep = set(test_names(ast.parse(trimmed))) - unchecked
            trimmed = keep_tests(trimmed, keep) if unchecked else trimmed
        cut = check_static(trimmed, target)
        if not isinstance(cut, Candidate) or cut.code == code:
            return None
        verdict.notes.append(f"cut {len(failures)} test(s) before the statement that failed")
        return cut

    def _observe(self, path: str, code: str, tests: set[str], verdict: Verdict) -> str:
        """``code`` with asserts of what ``tests`` computed, from one probing run."""
        probe = observe_locals(code, tests)
        if probe is None:
            return code
        argv = [str(self.sandbox.python), "-m", "pytest", "-s", "-q", "-p", "no:cacheprovider"]
        run = self.sandbox.run(
            [*argv, "-p", "no:randomly", "-p", GUARD_MODULE, path],
            extra_files=self.files_with(path, probe),
            env=self.env,
            timeout=self.config.timeout,
        )
        verdict.runs += 1
        if _trouble(run, self.config.timeout):
            return code
        checked, added = add_observed_checks(code, observed_values(run.output), tests)
        if added:
            verdict.notes.append(f"{added} check(s) of observed values added")
        return checked

    @staticmethod
    def _salvage(
        code: str, target: Target, run: TestRun, verdict: Verdict, path: str | None = None
    ) -> Candidate | None:
        """The candidate without its failing tests, if any of its tests passed.  ``path``: a
        run of the whole suite, where the candidate is the file ``path`` and every failure
        must be one of its tests."""
        mine = [c for c in run.tests if path is None or c.nodeid.startswith(f"{path}::")]
        if path is not None and any(c not in mine for c in run.with_outcome("failed") +
                                    run.with_outcome("error")):  # fmt: skip
            return None
        passed = [case for case in mine if case.outcome == "passed"]
        keep = {case.nodeid.split("::", 1)[1] for case in passed if "::" in case.nodeid}
        if not keep or len(keep) == len(mine):
            return None
        salvage = check_static(keep_tests(code, keep), target)
        if not isinstance(salvage, Candidate):
            return None
        dropped = len(mine) - len(keep)
        where = " with the suite" if path else ""
        verdict.notes.append(f"dropped {dropped} failing test(s){where}, kept {len(keep)}")
        return salvage

    def _suite(self, path: str, code: str) -> TestRun:
        cfg, files = self.config, self.files_with(path, code)

        def run_with(args: list[str]) -> TestRun:
            return self.sandbox.run_tests(
                args, test_command=cfg.test_command, extra_files=files, source=list(cfg.sources),
                omit=list(cfg.omit) or None, env=self.env, timeout=cfg.suite_timeout,
            )  # fmt: skip

        run = run_with(list(cfg.suite_args))
        if not any(case.nodeid.startswith(path) for case in run.tests) and not run.result.timed_out:
            # The project's test paths do not collect the new file: name it explicitly.
            run = run_with([*cfg.suite_args, ".", path])
        return run

    @staticmethod
    def _reject(verdict: Verdict, reason: str, detail: str = "") -> Verdict:
        verdict.rejection = Rejection(reason, detail)
        return verdict


__all__ = ["GateConfig", "Gatekeeper", "Verdict", "coverage_gain", "test_names", "trim"]
