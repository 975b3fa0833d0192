"""``assay tests PATH::SYMBOL``: tests for one function, method or class, behaviour by behaviour.

Baseline run → exploration, no model (:mod:`agents.testgen.explored`: observed behaviours with
their calls and tests) → the docstring, what only the model adds (:mod:`agents.testgen.docstring`:
its behaviours exploration did not show; what the code contradicts is a possible bug), or the
model's list (:mod:`flows.testwrite`) when exploration found nothing → the pick → the tests
through the gates of ``assay cover``, each merged, written and announced as it passes → the
symbol's surviving mutants hunted (:mod:`agents.testgen.survivors`) → the whole suite with the
new tests (a test that breaks it is taken out).  All within the symbol's time budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from agents.cover import cover_prompts
from agents.cover.baseline import pick_test_dir
from agents.cover.candidate import (
    Candidate,
    add_missing_imports,
    check_static,
    hints_for,
    rename_duplicate_tests,
)
from agents.cover.context import build_context, summarize_missed
from agents.cover.explore import explore
from agents.cover.gates import GateConfig, Gatekeeper, Verdict, trim
from agents.cover.options import OMIT
from agents.cover.targets import coverage_sources, module_of, tests_pythonpath
from agents.cover.writer import (
    candidate_beside,
    check_writable,
    merge_tests,
    style_file_for,
    test_path_for,
    unified_diff,
    write_atomic,
)
from agents.errors import AssayError
from agents.settings import Settings
from agents.testgen.docstring_step import DocstringStep
from agents.testgen.explored import Explored, behaviours_of, combined_test, explore_targets, summary
from agents.testgen.options import TestgenOptions, gate_target
from agents.testgen.report import BehaviourResult, TestgenReport
from agents.testgen.rewrite_step import rewrite_explored
from agents.testgen.survivors import SurvivorHunt
from agents.testgen.symbols import Symbol, outline, retrieve_examples
from agents.testgen.testcode import broken_tests, functions_of, test_names_of, without_tests
from flows import (
    Behaviour,
    Budget,
    BudgetExhausted,
    Completer,
    CoverageReport,
    FlowRunner,
    Sandbox,
    TestRun,
    TestTarget,
    TestWritingFlow,
    TestWritingOptions,
    TraceWriter,
)

GENERATED_DOC = "Tests written by `assay tests`, kept because they pass and catch bugs."
PROBLEMS = cover_prompts.PROBLEMS

Listener = Callable[[str, dict[str, Any]], None]


class TestgenAgent:
    """One ``assay tests`` run: :meth:`prepare` lists behaviours, :meth:`write` writes tests."""

    __test__ = False

    def __init__(
        self,
        repo: Path,
        llm: Completer,
        sandbox: Sandbox,
        symbol: Symbol,
        options: TestgenOptions | None = None,
        listener: Listener | None = None,
        settings: Settings | None = None,
        trace: TraceWriter | None = None,
    ) -> None:
        self.settings = settings  # for the code index (retrieval of style examples)
        self.repo, self.sandbox, self.symbol = repo, sandbox, symbol
        self.options = options or TestgenOptions()
        self.emit: Listener = listener or (lambda kind, data: None)
        minutes = self.options.max_minutes
        self.runner = FlowRunner(
            llm, budget=Budget(max_seconds=minutes * 60 if minutes else None), trace=trace,
            flow="tests", listener=self._on_flow,
        )  # fmt: skip
        self.report = TestgenReport(symbol=f"{symbol.path}::{symbol.qualname}")
        self.source = (repo / symbol.path).read_text(encoding="utf-8")
        self.module, root = module_of(repo, symbol.path)
        self.pythonpath = tests_pythonpath(repo, [symbol.path])
        self.sources = tuple(coverage_sources(repo, [symbol.path]))
        self.target = gate_target(symbol, self.source, self.module, root)
        self.hints = hints_for(repo, symbol.path, self.module)
        self.failing: list[str] = []  # baseline failures, deselected in the final run
        self.flow: TestWritingFlow | None = None
        self.explored: dict[int, Explored] = {}  # by id() of its behaviour
        self.docstring = DocstringStep(
            self.runner, sandbox, symbol, self.source, self.module, self.pythonpath, self.report,
            self.emit, self.options.behaviours, enabled=self.options.docstring,
        )  # fmt: skip
        self._started = time.monotonic()

    def _on_flow(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "empty-reply":  # asked again, never judged (not a syntax error of a test)
            self.report.empty_replies += 1
        self.emit(kind, data)

    # -- step 1 and 2 --------------------------------------------------------------------------

    def prepare(self, *, docstring_later: bool = False) -> list[Behaviour]:
        """Baseline run, context, and the behaviours worth testing (one-line descriptions).

        ``docstring_later`` (every behaviour will be written, nobody picks): when exploration
        found behaviours, the docstring's model call waits until their tests are through the
        gates, so the first test is written without waiting for the model."""
        baseline = self._baseline()
        cov = baseline.coverage.get(self.symbol.path) if baseline.coverage else None
        body = range(self.symbol.body_start, self.symbol.end + 1)
        missing = tuple(n for n in (cov.missing_lines if cov else ()) if n in body)
        arcs = tuple(a for a in (cov.missing_branches if cov else ()) if a[0] in body)
        marked = replace(self.target, missing_lines=missing, missing_branches=arcs)
        self.test_dir = pick_test_dir(self.repo, baseline)
        style_file = style_file_for(self.repo, self.test_dir, self.symbol.path)
        ctx = build_context(self.repo, marked, style_file)
        code = ctx.code
        if self.symbol.kind == "class" and self.symbol.end - self.symbol.start > 60:
            code = outline(self.source, self.symbol)
        query = f"tests for {self.symbol.qualname} in {self.symbol.path}"
        examples, warning = (
            retrieve_examples(self.repo, query, self.settings) if self.settings else ("", "")
        )
        if warning:
            self.report.warnings.append(warning)
            self.emit("warning", {"message": warning})
        self.report.examples = "index" if examples else ("test file" if ctx.style else "none")
        test_target = TestTarget(
            qualname=self.symbol.qualname, module=self.module, path=self.symbol.path, code=code,
            header=ctx.header, missed_summary=summarize_missed(marked) if missing or arcs else "",
            style=examples or ctx.style,
        )  # fmt: skip
        opts = self.options
        flow_options = TestWritingOptions(
            reflect=opts.reflect, behaviours=opts.behaviours, rank=False, attempts=opts.attempts,
            answer_tokens=opts.answer_tokens,
        )  # fmt: skip
        self.flow = TestWritingFlow(self.runner, test_target, flow_options)
        found = [e.behaviour for e in self._explore(baseline)]
        if found and docstring_later:
            self.docstring.defer(ctx.header)
        else:
            found += self.docstring.now(found, ctx.header)
        if not found:  # exploration found nothing to check: the model lists behaviours
            found = self.flow.behaviours()
        self.report.behaviours = found
        self.emit("behaviours", {"behaviours": found})
        return found

    def _explore(self, baseline: TestRun) -> list[Explored]:
        """Exploration of the symbol (no model): its observed behaviours, with their calls."""
        if not self.options.explore:
            return []
        seconds = self.options.explore_seconds
        if self.options.max_minutes is not None:  # a sixth of the budget at most
            seconds = max(2.0, min(seconds, self.options.max_minutes * 60 / 6))
        self.emit("explore", {"symbol": self.symbol.qualname, "seconds": seconds})
        targets = explore_targets(self.target, self.symbol, baseline.coverage, self.source)
        found = explore(self.sandbox, self.repo, targets, seconds=seconds,
                        pythonpath=self.pythonpath)  # fmt: skip
        if found.error:
            self.report.warnings.append(f"exploration stopped: {found.error}")
            self.emit("warning", {"message": f"exploration stopped: {found.error}"})
        explored = behaviours_of(found.calls, self.source, self.symbol)
        self.report.explored = summary(found, explored)
        self.explored = {id(item.behaviour): item for item in explored}
        return explored

    def _run_suite(self, args: Sequence[str], files: dict[str, str] | None = None) -> TestRun:
        return self.sandbox.run_tests(
            list(args), test_command=self.options.test_command, extra_files=files,
            source=list(self.sources), omit=list(OMIT), env={"PYTHONPATH": self.pythonpath},
            timeout=self.options.suite_timeout,
        )  # fmt: skip

    def _baseline(self) -> TestRun:
        self.emit("baseline", {"command": self.options.test_command})
        run = self._run_suite([])
        if run.result.timed_out:
            raise AssayError(
                f"The baseline run of '{self.options.test_command}' timed out",
                "fix the hanging test or raise --sandbox-timeout",
            )
        self.failing = [c.nodeid for c in run.tests if c.outcome in ("failed", "error")]
        return run

    # -- step 3 and 4 --------------------------------------------------------------------------

    def write(self, picked: Sequence[Behaviour]) -> TestgenReport:
        """Write a test per picked behaviour through the gates; merge and write accepted ones."""
        assert self.flow is not None, "call prepare() first"
        opts = self.options
        config = GateConfig(
            test_command=opts.test_command, sources=self.sources, omit=OMIT,
            pythonpath=self.pythonpath,
            repeat=opts.repeat, mutation=opts.mutation, observed_oracles=opts.observed_oracles,
            timeout=opts.candidate_timeout, suite_timeout=opts.suite_timeout,
            coverage_gate="runs",
        )  # fmt: skip
        self.out_path = self._output_path()
        on_disk = self.repo / self.out_path
        self.original = on_disk.read_text(encoding="utf-8") if on_disk.is_file() else None
        self.merged = self.original or ""
        self.gates = Gatekeeper(self.sandbox, config, {})
        results = {id(b): BehaviourResult(b) for b in picked}
        self.report.results = list(results.values())
        try:
            left = self._write_explored(picked, results)
            left += self.docstring.later(results)
            for draft in self.flow.drafts(left):
                assert draft.behaviour is not None
                result = results[id(draft.behaviour)]
                self.emit("attempt", {"behaviour": draft.behaviour, "attempt": draft.attempt})
                verdict = self._judge(draft.code)
                if verdict.accepted and verdict.candidate is not None:
                    self._accept(verdict, result)
                    self.flow.accept()
                    continue
                assert verdict.rejection is not None
                reason, detail = verdict.rejection.reason, verdict.rejection.detail
                result.rejected.append(reason)
                self.emit("rejected", {"behaviour": draft.behaviour, "reason": reason,
                                       "detail": detail})  # fmt: skip
                self.flow.reject(self._problem(reason, detail))
            self._hunt()
            if self.options.rewrite and self.report.accepted:
                self.report.rewrite = rewrite_explored(
                    self.repo, self.runner, self.gates, self.emit, path=self.out_path,
                    text=self.merged, target=self.target, results=self.report.results,
                    on_replace=self._replaced,
                )  # fmt: skip
        except BudgetExhausted as exc:
            self.report.stopped = exc.what
        self._finish()
        return self.report

    def _hunt(self) -> None:
        """The symbol's mutants against its accepted tests; calls for the survivors."""
        opts = self.options
        if not (opts.mutation and opts.hunt and self.report.accepted):
            return
        self.runner.check_budget()
        left = opts.max_minutes * 60 - self.runner.elapsed if opts.max_minutes else 60.0
        hunt = SurvivorHunt(self.repo, self.sandbox, self.symbol, self.gates.config, self.out_path)
        outcome, result = hunt.run(
            {self.out_path: self.merged}, self.target, self.pythonpath, seconds=min(60.0, left),
            judge=self._judge, accept=self._accept, emit=self.emit,
        )  # fmt: skip
        self.report.mutants = outcome.as_dict()
        if result is not None:
            self.report.results.append(result)

    def _write_explored(
        self, picked: Sequence[Behaviour], results: dict[int, BehaviourResult]
    ) -> list[Behaviour]:
        """The tests of the picked explored behaviours, rendered from their calls (no model),
        through the gates at once; the behaviours left for the model (with their example call:
        the others, and the explored ones whose test did not pass)."""
        items = [self.explored[id(b)] for b in picked if id(b) in self.explored]
        code, owner = combined_test(items, self.module)
        if code is None:
            return list(picked)
        self.runner.check_budget()
        for item in items:
            self.emit("attempt", {"behaviour": item.behaviour, "attempt": 1, "explored": True})
        verdict = self._judge(code)
        if verdict.accepted and verdict.candidate is not None:
            by_name = {n: results[id(items[i].behaviour)] for n, i in owner.items()}
            self._accept(verdict, results[id(items[0].behaviour)], by_name)
        elif verdict.rejection is not None:
            reason, detail = verdict.rejection.reason, verdict.rejection.detail
            for item in items:
                results[id(item.behaviour)].rejected.append(f"explored: {reason}")
            self.emit("rejected", {"behaviour": items[0].behaviour, "reason": reason,
                                   "detail": detail})  # fmt: skip
        return [b for b in picked if not results[id(b)].accepted]

    def _replaced(self, text: str) -> None:  # a test rewritten in place
        self.merged = text
        if not self.options.dry_run:
            write_atomic(check_writable(self.repo, self.out_path), text)

    @property
    def _candidate_path(self) -> str:
        return candidate_beside(self._output_path())

    def _output_path(self) -> str:
        return test_path_for(self.repo, self.test_dir, self.symbol.path, self.module)

    def _problem(self, reason: str, detail: str) -> str:
        header = self.flow.target.header if self.flow else ""
        import_line = next((x for x in header.splitlines() if x.startswith("from ")), header)
        template = PROBLEMS.get(reason, "{detail}")
        return template.format(
            detail=detail, name=detail, import_line=import_line,
            missed=f"`{self.symbol.qualname}`", qualname=self.symbol.qualname,
        )  # fmt: skip

    def _judge(self, code: str) -> Verdict:
        from agents.cover.candidate import Rejection

        if not code.strip():
            return Verdict(candidate=None, rejection=Rejection("no-code"))
        code = rename_duplicate_tests(add_missing_imports(code, self.module, self.hints))
        static = check_static(code, self.target)
        if not isinstance(static, Candidate):
            return Verdict(candidate=None, rejection=static)
        self.emit("gates", {"tests": static.tests})
        self.gates.accepted = {self.out_path: self.merged} if self.merged else {}
        return self.gates.check(static, self.target, CoverageReport(), self._candidate_path)

    def _accept(
        self,
        verdict: Verdict,
        result: BehaviourResult,
        by_name: dict[str, BehaviourResult] | None = None,
    ) -> None:
        """Merge and write the accepted tests; each behaviour's (``by_name``: the candidate's
        test → its behaviour, else all ``result``'s) are announced at once."""
        assert verdict.candidate is not None
        before = set(test_names_of(self.merged))
        self.merged = merge_tests(self.merged, verdict.candidate.code, docstring=GENERATED_DOC)
        names = [n for n in test_names_of(self.merged) if n not in before]
        if not self.options.dry_run:
            write_atomic(check_writable(self.repo, self.out_path), self.merged)
            if self.out_path not in self.report.written:
                self.report.written.append(self.out_path)
        if self.report.first_seconds is None:
            self.report.first_seconds = time.monotonic() - self._started
        groups: dict[int, tuple[BehaviourResult, list[str]]] = {}
        for tested, name in zip(verdict.candidate.tests, names, strict=False):
            owner = (by_name or {}).get(tested, result)
            groups.setdefault(id(owner), (owner, []))[1].append(name)
        for owner, mine in groups.values():
            owner.accepted += mine
            owner.killed = verdict.killed
            owner.oracle_changes += [
                {"model": c.old, "observed": c.value} for c in verdict.oracle_changes
            ]
            self.emit("accepted", {"behaviour": owner.behaviour, "tests": mine,
                                   "path": self.out_path, "mutant": verdict.killed,
                                   "code": functions_of(self.merged, mine),
                                   "seconds": time.monotonic() - self._started})  # fmt: skip

    def _finish(self) -> None:
        if self.report.accepted:
            self._verify()
        if self.options.dry_run and self.merged != (self.original or ""):
            self.report.diff = unified_diff(self.out_path, self.original, self.merged)
        spent = self.runner.usage.total
        self.report.calls = spent.calls + spent.failed_calls
        self.report.tokens = spent.total_tokens
        self.report.seconds = time.monotonic() - self._started
        self.emit("done", {"report": self.report})

    def _verify(self) -> None:
        """The whole suite with the new tests; our tests that fail in it are taken out."""
        self.emit("verify", {"file": self.out_path})
        args = [f"--deselect={n}" if "::" in n else f"--ignore={n}" for n in self.failing]
        run = self._run_suite(args, {self.out_path: self.merged})
        mine = {n for r in self.report.results for n in r.accepted}
        bad = broken_tests(run, self.out_path, mine)
        if not bad:
            return
        self.merged = without_tests(self.merged, bad, self.original or "")
        for r in self.report.results:
            self.report.removed += [n for n in r.accepted if n in bad]
            r.accepted = [n for n in r.accepted if n not in bad]
        self.emit(
            "rolled-back", {"tests": self.report.removed, "output": trim(run.result.output, 600)}
        )
        if self.options.dry_run:
            return
        path = check_writable(self.repo, self.out_path)
        if self.merged.strip():
            write_atomic(path, self.merged)
        else:
            path.unlink(missing_ok=True)
            self.report.written.remove(self.out_path)
