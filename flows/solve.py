"""The solve flow: code that must pass tests, after the AlphaCodium recipe, for small models.

Stages, in order (each small, bounded and traced; see :mod:`flows.solve_stages`):

1. ``reflect``: goal, inputs, outputs, rules, edge cases as short bullets (optional on failure);
2. ``test_reasoning``: why each given test (at most three) gives its result (optional);
3. ``candidates``: 2–3 distinct approaches; ``rank``: best first (simple, correct, robust);
4. ``extra_tests``: more asserts, kept only if they parse and call the entry point; they are
   weaker evidence than the given tests (they may be wrong);
5. ``code``: first the plain completion of the function stub (signature + statement as its
   docstring, no notes: what a small code model does best), then the ranked approaches, each run
   in the sandbox, until one passes every given test (the best one so far goes on);
6. ``fix`` on the given tests, one failing test fed back at a time; a fix is kept only when more
   given tests pass;
7. ``fix`` on the extra tests with **test anchors**: every test that passed before must still
   pass, or the fix is reverted; the model may declare an extra test wrong, which drops it;
8. the best version by (compiles, given tests passed, extra tests passed) is returned.

A ``draft`` (a version to repair, e.g. a failing suggested change) replaces steps 3–5.

Small-model help beyond the recipe: module-level junk (prints, asserts, ``__main__`` blocks) is
dropped from code before it runs, the starter's imports are added when the code forgot them, a
function named after its approach (``sort_even_2``) is bound to the entry point's name, the plain
completion of the stub is tried before the model's own approaches (which lead a 1.5B model to
over-engineer, and its notes to invent edge cases),
assertion failures say what the code returned, and every stage degrades instead of stopping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from flows import solve_prompts as prompts
from flows import solve_stages as st
from flows.runtime import BudgetExhausted, FlowRunner, StageFailed, extract_python
from flows.sandbox import Sandbox
from flows.solve_exec import (
    ExecReport,
    TestCase,
    TestSuite,
    alias_entry,
    defines,
    function_stub,
    parse_extra_tests,
    prepare_code,
    run_cases,
)

# The first code attempt: the plain completion of the function stub (see ``plain_first``).
PLAIN = st.Solution(name="plain", idea="complete the function stub as it is")


@dataclass(frozen=True)
class Problem:
    """A problem statement, its given tests, the function to write and (optionally) its
    starter: the signature and imports the solution must keep."""

    statement: str
    tests: TestSuite
    entry_point: str
    starter: str = ""
    draft: str = ""  # a first version to fix (e.g. a suggested change): no fresh candidates


@dataclass(frozen=True)
class SolveOptions:
    candidates: int = 3  # approaches proposed and tried in turn (1: no ranking)
    plain_first: bool = True  # first complete the stub as it is, then the ranked approaches
    reflect: bool = True
    reason_tests: bool = True
    extra_tests: int = 5  # 0: no extra tests
    anchors: bool = True
    fix_given: int = 3  # fix attempts on the given tests
    fix_extra: int = 2  # fix attempts on the extra tests
    case_timeout: float = 3.0  # seconds per test case
    shown_tests: int = 3  # given tests shown in prompts


@dataclass
class Version:
    """One version of the code and how it fared."""

    code: str
    origin: str
    report: ExecReport
    given_passed: frozenset[str] = frozenset()
    extra_passed: frozenset[str] = frozenset()

    @property
    def compiled(self) -> bool:
        return self.report.compiled

    @property
    def passed(self) -> frozenset[str]:
        return self.given_passed | self.extra_passed


@dataclass
class SolveResult:
    code: str  # the best version ("" when no code was written)
    best: Version | None
    versions: list[Version] = field(default_factory=list)
    given: tuple[TestCase, ...] = ()
    extra: list[TestCase] = field(default_factory=list)
    stopped: str = ""  # why the flow stopped early ("" when it ran to the end)
    calls: int = 0
    tokens: int = 0
    seconds: float = 0.0

    @property
    def given_passed(self) -> list[str]:
        return sorted(self.best.given_passed) if self.best else []

    @property
    def solved(self) -> bool:
        """Compiles and passes every given test."""
        best = self.best
        return best is not None and best.compiled and len(best.given_passed) == len(self.given)


class SolveFlow:
    """One run of the solve flow on ``problem`` (the runner and sandbox are the caller's)."""

    def __init__(
        self,
        problem: Problem,
        runner: FlowRunner,
        sandbox: Sandbox,
        options: SolveOptions | None = None,
    ) -> None:
        self.problem = problem
        self.runner = runner
        self.sandbox = sandbox
        self.options = options or SolveOptions()
        self.given = problem.tests.cases
        self.extra: list[TestCase] = []
        self.versions: list[Version] = []
        self.notes = ""
        starter = problem.starter.strip()
        self.vars = {
            "statement": problem.statement.strip(),
            "signature": prompts.SIGNATURE.format(starter=starter) if starter else "",
            "notes": "",
            "entry": problem.entry_point,
        }

    # -- the flow ------------------------------------------------------------------------------

    def run(self) -> SolveResult:
        stopped = ""
        try:
            self._understand()
            if self.problem.draft:
                self._stage("draft")
                current: Version | None = self._evaluate(self.problem.draft, "draft")
            else:
                approaches = self._approaches()
                self._extra_tests()
                current = self._initial(approaches)
            if current is not None:
                current = self._fix_given(current)
                self._fix_extra(current)
        except BudgetExhausted as exc:
            stopped = exc.what
            self.runner.step("stopped", reason=stopped)
        best = self.best()
        spent = self.runner.usage.total
        return SolveResult(
            code=best.code if best else "",
            best=best,
            versions=self.versions,
            given=self.given,
            extra=self.extra,
            stopped=stopped,
            calls=spent.calls + spent.failed_calls,
            tokens=spent.total_tokens,
            seconds=self.runner.elapsed,
        )

    def best(self) -> Version | None:
        """The version that compiles and passes the most given, then extra tests (first wins)."""
        live = {c.name for c in self.extra}
        return max(
            self.versions,
            key=lambda v: (v.compiled, len(v.given_passed), len(v.extra_passed & live)),
            default=None,
        )

    # -- stages --------------------------------------------------------------------------------

    def _stage(self, name: str) -> None:
        self.runner.step("stage", name=name)

    def _understand(self) -> None:
        parts = []
        if self.options.reflect:
            self._stage("reflect")
            try:
                parts.append(self.runner.run(st.REFLECT, self.vars).value.render())
            except StageFailed as exc:
                self.runner.step("skipped", stage="reflect", reason=str(exc))
        if self.options.reason_tests and self.given:
            self._stage("test_reasoning")
            shown = self._show_tests(self.given)
            try:
                result = self.runner.run(st.TEST_REASONING, {**self.vars, "tests": shown})
                parts.append(result.value.render(self.options.shown_tests))
            except StageFailed as exc:
                self.runner.step("skipped", stage="test_reasoning", reason=str(exc))
        self.notes = "\n".join(p for p in parts if p)
        if self.notes:
            self.vars["notes"] = prompts.NOTES.format(notes=self.notes)

    def _approaches(self) -> list[st.Solution]:
        plain = [PLAIN]
        ranked = self._ranked()
        if not ranked:
            return plain
        return plain + ranked if self.options.plain_first else ranked

    def _ranked(self) -> list[st.Solution]:
        if self.options.candidates <= 1:
            return []
        self._stage("candidates")
        try:
            found = self.runner.run(
                st.CANDIDATES, {**self.vars, "count": self.options.candidates}
            ).value.solutions[: self.options.candidates]
        except StageFailed as exc:
            self.runner.step("skipped", stage="candidates", reason=str(exc))
            return []
        if len(found) < 2:
            return found
        self._stage("rank")
        listing = "\n".join(f"{i}. {s.name}: {s.idea}"[:300] for i, s in enumerate(found, 1))
        try:
            ranking = self.runner.run(st.RANK, {**self.vars, "solutions": listing}).value.ranking
        except StageFailed as exc:
            self.runner.step("skipped", stage="rank", reason=str(exc))
            return found
        order = [n - 1 for n in dict.fromkeys(ranking) if 1 <= n <= len(found)]
        order += [i for i in range(len(found)) if i not in order]
        self.runner.step("ranked", order=[found[i].name for i in order])
        return [found[i] for i in order]

    def _extra_tests(self) -> None:
        if self.options.extra_tests <= 0:
            return
        self._stage("extra_tests")
        count = self.options.extra_tests
        try:
            answer = self.runner.run(st.EXTRA_TESTS, {**self.vars, "count": count}).value
        except StageFailed as exc:
            self.runner.step("skipped", stage="extra_tests", reason=str(exc))
            return
        known = [c.body for c in self.given]
        self.extra = parse_extra_tests(answer.code, self.problem.entry_point, known, count)
        self.runner.step("extra-tests", kept=len(self.extra), tests=[c.body for c in self.extra])

    def _initial(self, approaches: list[st.Solution]) -> Version | None:
        current: Version | None = None
        for i, approach in enumerate(approaches, 1):
            self._stage("code")
            try:  # the idea only: a small model turns the name ("sort_v2") into the function's
                if approach is PLAIN:
                    answer = self.runner.run(st.PLAIN, {"prompt": self._plain_prompt()})
                else:
                    variables = {**self.vars, "approach": approach.idea}
                    answer = self.runner.run(st.CODE, variables, seed=i)
            except StageFailed as exc:
                self.runner.step("rotate", candidate=i, reason=str(exc))
                continue
            version = self._evaluate(answer.value.code, f"candidate {i} ({approach.name})")
            if current is None or self._key(version) > self._key(current):
                current = version
            if version.compiled and len(version.given_passed) == len(self.given):
                return version
            why = (
                version.report.error
                if not version.compiled
                else f"passes {len(version.given_passed)} of {len(self.given)} given tests"
            )
            if i < len(approaches):
                self.runner.step("rotate", candidate=i, reason=why[:200])
        return current

    def _fix_given(self, current: Version) -> Version:
        for attempt in range(1, self.options.fix_given + 1):
            failing = [c for c in self.given if c.name not in current.given_passed]
            if current.compiled and not failing:
                break
            case = failing[(attempt - 1) % len(failing)] if failing else None
            code = self._fix(current, case, weak=False, attempt=attempt)
            if code is None:
                continue
            version = self._evaluate(code, f"fix {attempt} (given)")
            if self._key(version)[:2] > self._key(current)[:2]:
                current = version
                self.runner.step("kept", version=version.origin)
            else:
                self.runner.step("reverted", version=version.origin, reason="no more tests pass")
        return current

    def _fix_extra(self, current: Version) -> Version:
        tried: set[str] = set()
        for attempt in range(1, self.options.fix_extra + 1):
            if not current.compiled:
                break
            failing = [
                c for c in self.extra if c.name not in current.extra_passed and c.name not in tried
            ]
            if not failing:
                break
            case = failing[0]
            tried.add(case.name)
            code = self._fix(current, case, weak=True, attempt=attempt)
            if code is None:
                continue
            version = self._evaluate(code, f"fix {attempt} (extra {case.name})")
            broken = (current.given_passed | current.extra_passed) - version.passed
            if self.options.anchors and broken:
                self.runner.step(
                    "reverted", version=version.origin, reason="broke passing tests",
                    broken=sorted(broken),
                )  # fmt: skip
            elif case.name in version.extra_passed:
                current = version  # without anchors: kept even if it broke other tests
                self.runner.step("kept", version=version.origin, broken=sorted(broken))
            else:
                self.runner.step("reverted", version=version.origin, reason="test still fails")
        return current

    def _fix(
        self, current: Version, case: TestCase | None, *, weak: bool, attempt: int
    ) -> str | None:
        """A fixed version of ``current`` for ``case`` (None: no usable answer / test dropped)."""
        self._stage("fix")
        code = current.code.strip()
        try:
            if not current.compiled or case is None:
                answer = self.runner.run(
                    st.FIX_COMPILE, {**self.vars, "code": code, "error": current.report.error},
                    seed=attempt,
                )  # fmt: skip
                return answer.value.code
            error = current.report.failure(case)
            hint = prompts.HINT_EXTRA if weak else prompts.HINT_GIVEN
            variables = {**self.vars, "code": code, "test": case.body, "error": error}
            reply = self.runner.run(st.FIX, {**variables, "hint": hint}, seed=attempt).value.text
        except StageFailed as exc:
            self.runner.step("skipped", stage="fix", reason=str(exc))
            return None
        fixed = extract_python(reply)
        if weak and prompts.WRONG_TEST in reply.upper() and "def " not in fixed:
            self.extra = [c for c in self.extra if c.name != case.name]
            self.runner.step("dropped-test", test=case.body, reason="the model says it is wrong")
            return None
        return fixed

    # -- running -------------------------------------------------------------------------------

    @staticmethod
    def _key(version: Version) -> tuple[bool, int, int]:
        return version.compiled, len(version.given_passed), len(version.extra_passed)

    def _evaluate(self, code: str, origin: str) -> Version:
        self.runner.check_budget()  # the wall-time budget covers test runs too
        entry = self.problem.entry_point
        code = alias_entry(prepare_code(code, self.problem.starter), entry)
        cases = [*self.given, *self.extra]
        if not defines(code, entry):
            report = ExecReport(False, f"the code does not define `{entry}`")
        else:
            report = run_cases(
                self.sandbox, code, cases, prelude=self.problem.tests.prelude,
                timeout=self.options.case_timeout,
            )  # fmt: skip
        version = Version(
            code, origin, report, report.passed(self.given), report.passed(self.extra)
        )
        self.versions.append(version)
        self.runner.step(
            "tests", version=origin, compiled=report.compiled, error=report.error[:200],
            given=f"{len(version.given_passed)}/{len(self.given)}",
            extra=f"{len(version.extra_passed)}/{len(self.extra)}",
        )  # fmt: skip
        return version

    def _plain_prompt(self) -> str:
        problem = self.problem
        stub = function_stub(problem.starter, problem.statement, problem.entry_point)
        if stub:
            return prompts.PLAIN.format(stub=stub.rstrip())
        return prompts.PLAIN_FREE.format(
            statement=problem.statement.strip(), entry=problem.entry_point
        )

    def _show_tests(self, cases: Sequence[TestCase]) -> str:
        return "\n".join(c.body for c in cases[: self.options.shown_tests])


def solve_problem(
    problem: Problem,
    runner: FlowRunner,
    sandbox: Sandbox,
    options: SolveOptions | None = None,
) -> SolveResult:
    """Run the solve flow (see the module docstring)."""
    return SolveFlow(problem, runner, sandbox, options).run()
