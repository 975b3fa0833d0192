"""``assay cover`` on a JavaScript or TypeScript package: the Python pipeline's steps and promises.

Measure the project's own suite under coverage with its own runner; find the exported functions,
classes and methods with missed lines or branches; explore each file without a model (calls
kept as tests asserting what was observed); then ask the model for one test at a time for what
is still missed, the rejection fed back; every candidate through the same gates; accepted tests
written at once, atomically, into ``<name>.assay.test.{js,ts}``; at the end the whole suite runs
on the written tree and a file that breaks it is rolled back.  The report is the Python one
(:class:`agents.cover.report.CoverReport`), mutation score included.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from agents.cover.candidate import Rejection
from agents.cover.js.behaviours import group_behaviours
from agents.cover.js.differential import catching_calls
from agents.cover.js.drafting import JsDrafter, problem_text, prompt_for
from agents.cover.js.explore import explore_file
from agents.cover.js.gates import JsGates, Verdict
from agents.cover.js.mutation import JsMutation
from agents.cover.js.project import (
    SOURCE_EXTENSIONS,
    check_installed,
    detect_project,
    js_test_command,
)
from agents.cover.js.render import case_title, keep, render_tests
from agents.cover.js.runner import JsRunner, JsTestRun, baseline_failures, install
from agents.cover.js.targets import JsTarget, find_targets
from agents.cover.js.testfile import statics
from agents.cover.js.writing import JsTestFiles
from agents.cover.options import CoverOptions
from agents.cover.report import CoverReport, Percentages, TargetOutcome
from agents.errors import InputError
from agents.gitdiff import changed_lines
from flows import (
    Behaviour,
    Budget,
    BudgetExhausted,
    Completer,
    CoverageReport,
    FlowRunner,
    LLMError,
    LLMUnreachable,
    Sandbox,
    TraceWriter,
    repo_files,
)

Listener = Callable[[str, dict[str, Any]], None]
Chooser = Callable[[list[Behaviour]], list[int]]  # behaviours listed → the indexes picked
EXPLORE_REPEAT = 4  # explored tests pass this many times in a row


class _Stop(Exception):
    """The target coverage is reached."""


class JsCoverAgent:
    """One ``assay cover`` run over a JS/TS package with a model and a sandbox opened by the
    caller (the sandbox shares the package's ``node_modules`` with every run)."""

    def __init__(
        self,
        repo: Path,
        llm: Completer,
        sandbox: Sandbox,
        options: CoverOptions,
        *,
        install_command: str | None = None,
        listener: Listener | None = None,
        trace: TraceWriter | None = None,
        choose: Chooser | None = None,
    ) -> None:
        self.repo, self.sandbox, self.options = repo, sandbox, options
        self.choose = choose  # assay tests: a person picks among the explored behaviours
        self.model_picked = choose is None
        self.install_command = install_command
        seconds = options.max_minutes * 60 if options.max_minutes is not None else None
        budget = Budget(max_tokens=options.max_tokens, max_seconds=seconds)
        self.flow = FlowRunner(llm, budget=budget, trace=trace, flow="cover")
        self.emit: Listener = listener or (lambda kind, data: None)
        self.report = CoverReport(repo=str(repo), sandbox=sandbox.describe())
        self.files = JsTestFiles(repo, dry_run=options.dry_run)
        self.outcomes: dict[str, TargetOutcome] = {}
        self.changed: dict[str, set[int]] | None = None
        self.current = self.baseline_coverage = CoverageReport()
        self.known_failing: set[str] = set()
        self.mutation: JsMutation | None = None
        self._started = time.monotonic()

    # -- the run ------------------------------------------------------------------------------

    def run(self) -> CoverReport:
        opts = self.options
        command = js_test_command(opts.test_command)
        self.project = project = detect_project(
            self.repo, repo_files(self.repo), test_command=command, include=opts.include,
            exclude=opts.exclude,
        )  # fmt: skip
        check_installed(project, self.install_command)
        if opts.into != "new" or opts.strategy != "direct":
            raise InputError(
                "--into existing and --strategy flow are for Python projects",
                "drop them: JS/TS tests go to <name>.assay.test.{js,ts}, one prompt per target",
            )
        if not project.sources:
            raise InputError(
                f"No JavaScript or TypeScript source files to cover in {self.repo}",
                "pass the package's root directory, or fix --files / --exclude",
            )
        self.report.files = list(project.sources)
        self.js = JsRunner(self.sandbox, project, timeout=opts.suite_timeout)
        if self.install_command:
            self._install()
        if opts.diff_base:
            self.changed = changed_lines(self.repo, opts.diff_base, SOURCE_EXTENSIONS)
        baseline = self._baseline()
        assert baseline.coverage is not None
        self.current = self.baseline_coverage = baseline.coverage
        self.report.set_coverage("before", self.current)
        if opts.mutants != "off":
            self.mutation = JsMutation(
                self.repo, self.js, project.sources, budget=opts.mutation_budget,
                changed=self.changed, emit=self.emit, timeout=opts.candidate_timeout,
            )  # fmt: skip
            self.mutation.measure("before", self.current)
        targets, scan = find_targets(self.repo, self.current, project.sources, changed=self.changed)
        if opts.symbol:  # assay tests PATH::SYMBOL: a function, a class or one method
            name = opts.symbol
            targets = [t for t in targets if t.target.qualname in (name,) or
                       t.target.qualname.startswith(f"{name}.")]  # fmt: skip
        self.report.skipped.extend(scan.skipped)
        self.emit("targets", {"count": len(targets), "before": self.report.total_before})
        interrupted = False
        try:
            if opts.explore and targets:
                self._explore(targets)
            if self.choose is not None:  # not asked yet: nothing explored to pick from
                self._pick([])
            if self.model_picked:
                self._rounds(targets)
        except _Stop as stop:
            self.report.stopped = f"budget: {stop}"
        except BudgetExhausted as stop:
            self.report.stopped = f"budget: {stop.what}"
        except KeyboardInterrupt:
            self.report.stopped = "interrupted"
            interrupted = True
        except LLMUnreachable:
            self.report.stopped = "error"
            self._finish(verify=False)
            raise
        self._finish(verify=not interrupted)
        return self.report

    def _install(self) -> None:
        assert self.install_command
        self.emit("baseline", {"command": f"{self.install_command} (network allowed)"})
        install(self.sandbox, self.install_command, self.options.suite_timeout)

    def _baseline(self) -> JsTestRun:
        command = " ".join(self.js.argv(None, True)[:3])
        self.emit("baseline", {"command": command})
        run = self.js.run(None, files=self.project.placeholder_test())
        failing = baseline_failures(run, self.project.runner, self.options.allow_failing)
        self.known_failing = set(failing)
        if failing:
            self.emit("allow-failing", {"tests": failing})
        self.gates = JsGates(
            self.js, self.project, repeat=self.options.repeat, mutation=self.options.mutation,
            timeout=self.options.candidate_timeout, known_failing=set(failing),
        )  # fmt: skip
        coverage = Percentages.of_files(run.coverage, self.report.files)
        self.emit("baseline-done", {"coverage": coverage, "report": run.coverage})
        return run

    # -- accepting -----------------------------------------------------------------------------

    def _outcome(self, jt: JsTarget) -> TargetOutcome:
        key = jt.target.key
        if key not in self.outcomes:
            self.outcomes[key] = TargetOutcome(key)
            self.report.targets.append(self.outcomes[key])
        return self.outcomes[key]

    def _reject(self, targets: Sequence[JsTarget], rejection: Rejection) -> None:
        self.report.rejected[rejection.reason] += 1
        for jt in targets[:1]:
            self._outcome(jt).rejected.append(rejection.reason)
        self.emit("rejected", {"reason": rejection.reason, "detail": rejection.detail})

    def _accept(self, targets: Sequence[JsTarget], test_path: str, code: str,
                verdict: Verdict) -> None:  # fmt: skip
        self.files.accept(test_path, code)
        assert verdict.coverage is not None
        self.current = verdict.coverage
        tests = statics(code, test_path).tests
        self.report.accepted += tests
        for jt in targets:
            t, outcome = jt.target, self._outcome(jt)
            outcome.accepted += 1
            outcome.gained_lines += [n for n in verdict.gained_lines if t.start <= n <= t.end]
            outcome.gained_branches += [
                list(a) for a in verdict.gained_branches if t.start <= a[0] <= t.end
            ]
        self.report.written = list(self.files.written)
        self.emit("accepted", {
            "tests": [f"{tests} test(s)"], "target": targets[0].target,
            "coverage": Percentages.of_files(self.current, self.report.files),
            "lines": verdict.gained_lines, "branches": verdict.gained_branches,
            "mutant": verdict.killed or "no mutant (none on its lines)", "path": test_path,
        })  # fmt: skip

    def _check_budget(self) -> None:
        self.flow.check_budget()
        goal = self.options.target_coverage
        reached = Percentages.of_files(self.current, self.report.files).combined
        if goal is not None and reached >= goal:
            raise _Stop(f"target coverage {goal:g} % reached")

    # -- exploration ----------------------------------------------------------------------------

    def _explore(self, targets: list[JsTarget]) -> None:
        by_file: dict[str, list[JsTarget]] = {}
        for jt in targets:
            by_file.setdefault(jt.target.path, []).append(jt)
        seconds = self.options.explore_seconds
        if self.options.max_minutes is not None:
            seconds = min(seconds, self.options.max_minutes * 60 / 4 / max(1, len(by_file)))
        seconds = max(seconds, 30.0)  # a runner's start-up alone takes seconds
        for source, group in by_file.items():
            self._check_budget()
            self.emit("explore", {"path": source, "targets": len(group), "seconds": seconds})
            found = explore_file(self.js, self.project, source, group, seconds=seconds)
            kept, told = keep(found.observed), None
            if self.choose is not None:
                kept = self._pick(kept)
            elif kept and self.options.mutants == "raise":  # survivors become targets
                self.emit("telling-apart", {"path": source, "seconds": seconds})
                told = catching_calls(self.js, self.project, self.repo, source, found.observed,
                                      kept, seconds=seconds, changed=self.changed)  # fmt: skip
                self.emit("told-apart", told.record())
                kept = told.with_added(kept)
            record: dict[str, Any] = {
                "file": source, "calls_tried": found.tried, "calls_kept": len(kept),
                "accepted": 0, "hung": found.hung[:10], "error": found.error[:300],
                "mutants": told.record() if told else None,
            }  # fmt: skip
            self.report.explored.append(record)
            self.emit("explored", record)
            if kept:
                record["accepted"] = self._take_exploration(source, kept)

    def _pick(self, kept: list[Any]) -> list[Any]:
        """``assay tests``: the kept calls grouped into behaviours, picked by a person (once)."""
        assert self.choose is not None
        found = group_behaviours(kept)
        chosen = self.choose([b.behaviour for b in found])
        self.choose = None
        self.model_picked = any(not found[i].calls for i in chosen)
        return [o for i in chosen for o in found[i].calls]

    def _take_exploration(self, source: str, kept: list[Any]) -> int:
        """The kept calls as one candidate; failing cases dropped once.  Tests accepted."""
        test_path = self.project.test_path_for(source)
        for _ in range(2):
            code = render_tests(self.project, test_path, source, kept)
            targets = list({o.call.target.target.key: o.call.target for o in kept}.values())
            verdict = self.gates.judge(code, test_path, source, targets, self.current,
                                       self.files.accepted, repeat=EXPLORE_REPEAT)  # fmt: skip
            if verdict.accepted:
                self._accept(targets, test_path, code, verdict)
                return statics(code, test_path).tests
            assert verdict.rejection is not None
            failing = verdict.rejection.detail
            remaining = [o for o in kept if case_title(o) not in failing]
            if (
                verdict.rejection.reason not in ("fails", "flaky")
                or not remaining
                or (len(remaining) == len(kept))
            ):
                self._reject(targets, verdict.rejection)
                return 0
            kept = remaining
        return 0

    # -- the model ----------------------------------------------------------------------------

    def _rounds(self, targets: list[JsTarget]) -> None:
        pending = targets
        for round_ in range(self.options.rounds):
            accepted_before = self.report.accepted
            pending = self._still_missed(pending)
            if round_ and pending:
                self.emit("round", {"round": round_ + 1, "targets": len(pending)})
            for jt in pending:
                self._check_budget()
                fresh = self._still_missed([jt])
                if not fresh:
                    continue
                for sample in range(self.options.max_tests_per_target):
                    again = self._still_missed([jt]) if sample else fresh
                    if not again or not self._chain(again[0], round_ * 10 + sample):
                        break
            if self.report.accepted == accepted_before:
                return

    def _still_missed(self, targets: Sequence[JsTarget]) -> list[JsTarget]:
        wanted = {jt.target.key for jt in targets}
        paths = sorted({jt.target.path for jt in targets})
        found, _ = find_targets(self.repo, self.current, paths, changed=self.changed)
        return [jt for jt in found if jt.target.key in wanted]

    def _chain(self, jt: JsTarget, sample: int) -> bool:
        source = jt.target.path
        test_path = self.project.test_path_for(source)
        text = (self.repo / source).read_text(encoding="utf-8")
        prompted = prompt_for(self.project, jt, test_path, text)
        spec = self.project.import_path(test_path, source)
        opts = self.options
        drafter = JsDrafter(self.flow, prompted, spec, attempts=opts.attempts,
                            answer_tokens=opts.answer_tokens, sample=sample)  # fmt: skip
        self.emit("target", {"target": jt.target, "chain": sample})
        drafts = drafter.drafts()
        accepted = False
        attempt = 0
        while True:
            self._check_budget()
            attempt += 1
            self.emit("attempt", {"target": jt.target, "attempt": attempt})
            try:
                draft = next(drafts)
            except StopIteration:
                return accepted
            except LLMUnreachable:
                raise
            except LLMError as exc:
                self._reject([jt], Rejection("llm-error", str(exc)))
                return accepted
            if draft.code is None:
                verdict = Verdict(Rejection("no-code", ""))
            else:
                self.emit("gates", {"target": jt.target})
                verdict = self.gates.judge(draft.code, test_path, source, [jt], self.current,
                                           self.files.accepted, drop_failing=True)  # fmt: skip
            if verdict.accepted and draft.code is not None:
                self._accept([jt], test_path, verdict.code or draft.code, verdict)
                drafter.accept()
                accepted = True
                continue
            assert verdict.rejection is not None
            self._reject([jt], verdict.rejection)
            reason, detail = verdict.rejection.reason, verdict.rejection.detail
            drafter.reject(problem_text(reason, detail, prompted, jt))

    # -- the end ------------------------------------------------------------------------------

    def _finish(self, *, verify: bool) -> None:
        after = self.current
        if verify and self.files.accepted:
            self.emit("verify", {"files": sorted(self.files.accepted)})
            final = self._final_run()
            failing = {c.name for c in final.cases if c.status == "failed"} - self.known_failing
            if not failing and not final.error and final.coverage is not None:
                after = final.coverage
            else:
                culprits = [p for p in self.files.accepted if p in final.failing_files]
                culprits = culprits or list(self.files.accepted)
                self.files.roll_back(culprits)
                self.report.rolled_back += culprits
                self.report.written = list(self.files.written)
                self.emit("rolled-back", {"files": culprits, "output": final.failure(600)})
                after = self.baseline_coverage
                if self.files.accepted:  # what the tests left measure now
                    again = self._final_run()
                    after = again.coverage if again.coverage is not None else after
        self.report.set_coverage("after", after)
        if self.mutation is not None:
            if verify:
                files = dict(self.files.accepted) if self.options.dry_run else None
                self.mutation.measure("after", after, files)
            self.report.mutation = self.mutation.outcome.as_dict()
        if self.options.dry_run:
            self.report.diff = self.files.diff()
        usage = self.flow.usage.total
        self.report.tokens = usage.total_tokens
        self.report.llm_seconds = usage.seconds
        self.report.usage = self.flow.usage.as_dict()
        self.report.wall_seconds = time.monotonic() - self._started
        self.emit("done", {"report": self.report})

    def _final_run(self) -> JsTestRun:
        if self.options.dry_run:
            return self.js.run(None, files=dict(self.files.accepted))
        self.sandbox.close()  # re-stage from the user's tree, which now holds the written tests
        self.sandbox.open()
        if self.install_command:
            self._install()
        return self.js.run(None)
