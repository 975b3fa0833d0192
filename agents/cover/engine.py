"""``assay cover``: measure, pick targets, ask for tests, keep only what passes every gate.

The loop per target: build a compact context, ask the model for one test function, run the static
gates (:mod:`agents.cover.candidate`) and the sandbox gates (:mod:`agents.cover.gates`); on a
rejection send the trimmed reason back, up to ``attempts`` times.  Accepted tests are merged into
the target's test file and written at once (atomically), so Ctrl-C keeps them; at the end the whole
suite runs once more on the written tree, and a file that breaks it is rolled back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from agents.cover import cover_prompts as prompts
from agents.cover.acceptance import Acceptance, TestFiles
from agents.cover.baseline import check_baseline, pick_test_dir
from agents.cover.candidate import Rejection
from agents.cover.context import TargetContext, build_context, summarize_missed
from agents.cover.drafting import DirectDrafter, Drafter, FlowDrafter
from agents.cover.explore import explore
from agents.cover.gates import Gatekeeper
from agents.cover.hunt import Chain, Hunt
from agents.cover.mutant_gate import NamedMutant
from agents.cover.mutation_step import MutationStep
from agents.cover.options import OMIT, CoverOptions
from agents.cover.report import CoverReport, Percentages, TargetOutcome
from agents.cover.rewriting import Rewriter, held_for_rewrite
from agents.cover.targets import Target, find_targets, source_files
from agents.errors import InputError
from agents.gitdiff import changed_lines
from agents.runtime import past_the_deadline
from flows import (
    Budget,
    BudgetExhausted,
    Completer,
    CoverageReport,
    FlowRunner,
    LLMError,
    LLMUnreachable,
    Sandbox,
    TestRun,
    TraceWriter,
    repo_files,
)

__all__ = ["OMIT", "CoverAgent", "CoverOptions"]

FATAL_LLM = (LLMUnreachable,)
MAX_LLM_ERRORS_IN_A_ROW = 3

Listener = Callable[[str, dict[str, Any]], None]


class _Stop(Exception):
    """A budget ran out: stop asking, finish cleanly."""


@dataclass
class _State:
    current: CoverageReport
    llm_errors: int = 0


class CoverAgent:
    """One ``assay cover`` run over ``repo`` with a model and a sandbox (both opened by the
    caller, :func:`agents.runtime.open_run`); every model call goes through one runner, with the
    run's budget (``max_tokens``, ``max_minutes``) and its trace."""

    def __init__(
        self,
        repo: Path,
        llm: Completer,
        sandbox: Sandbox,
        options: CoverOptions,
        listener: Listener | None = None,
        trace: TraceWriter | None = None,
        started: float | None = None,
    ) -> None:
        """``started``: when the run's time budget began (``time.monotonic``; default: now)."""
        self.repo = repo
        self.sandbox = sandbox
        self.options = options
        seconds = options.max_minutes * 60 if options.max_minutes is not None else None
        budget = Budget(max_tokens=options.max_tokens, max_seconds=seconds)
        self.runner = FlowRunner(llm, budget=budget, trace=trace, flow="cover", started=started)
        self.emit: Listener = listener or (lambda kind, data: None)
        self.report = CoverReport(repo=str(repo), sandbox=sandbox.describe())
        self._started = time.monotonic() if started is None else started
        self._changed: dict[str, set[int]] | None = None
        self.files = TestFiles(repo, dry_run=options.dry_run)

    # -- the run ------------------------------------------------------------------------------

    def run(self) -> CoverReport:
        opts = self.options
        files = source_files(repo_files(self.repo), opts.include, opts.exclude)
        if not files:
            raise InputError(
                f"No Python source files to cover in {self.repo}",
                "pass the project's root directory, or fix --files / --exclude",
            )
        self.report.files = files
        self.config = opts.gate_config(self.repo, files)
        if opts.diff_base:
            self._changed = changed_lines(self.repo, opts.diff_base)
        baseline = self._baseline()
        assert baseline.coverage is not None
        state = self._state = _State(current=baseline.coverage)
        self.acceptance = Acceptance(
            self.repo, Gatekeeper(self.sandbox, self.config, self.files.accepted), self.files,
            self.report, test_dir=pick_test_dir(self.repo, baseline), into=opts.into,
            emit=self.emit,
        )  # fmt: skip
        self.report.set_coverage("before", baseline.coverage)
        self.mutation: MutationStep | None = None
        if opts.mutants != "off":
            self.mutation = MutationStep.for_run(
                self.repo, self.sandbox, self.config, opts.mutation_budget, self._changed, self.emit
            )
        scan = find_targets(self.repo, baseline.coverage, files, changed=self._changed)
        self.report.skipped.extend(scan.skipped)
        self.emit("targets", {"count": len(scan.targets), "before": self.report.total_before})

        hunt = self._hunt(state) if self.mutation and opts.mutants == "raise" else None

        def stages() -> None:
            if self.mutation is not None:  # within the budget: a slow suite may spend it here
                self.mutation.measure_before(files, self.runner.seconds_left)
            if opts.explore and scan.targets:
                self._explore(scan.targets, state)
            if opts.rewrite and self.acceptance.explored and opts.max_minutes is not None:
                self.runner.held = held_for_rewrite(opts.max_minutes * 60)  # it comes last
            if hunt is not None:  # no model: before the model rounds take the budget
                state.current = hunt.explore(state.current, self.files.accepted)
            self._rounds(scan.targets, state)
            if opts.explore:
                # What neither reached: one more exploration, other random choices (seed 1).
                left = find_targets(self.repo, state.current, files, changed=self._changed).targets
                if left:
                    self._explore(left, state, seed=1)
            if hunt is not None:
                hunt.ask_model(self.files.accepted, self._mutant_chain(state))

        def rewrite() -> None:
            self.runner.held = 0.0
            if opts.rewrite and self.acceptance.explored:
                self._rewrite(state)

        interrupted = self._stage(stages, state) or self._stage(rewrite, state)
        self._finish(state, verify=not interrupted)
        return self.report

    def _stage(self, work: Callable[[], None], state: _State) -> bool:
        """``work`` until done or a budget stops it (the report says which); whether it was
        interrupted (Ctrl-C)."""
        try:
            work()
        except _Stop as stop:
            self.report.stopped = f"budget: {stop}"
        except BudgetExhausted as stop:
            self.report.stopped = f"budget: {stop.what}"
        except KeyboardInterrupt:
            self.report.stopped = "interrupted"
            return True
        except FATAL_LLM:
            self.report.stopped = "error"
            self._finish(state, verify=False)
            raise
        return False

    def _finish(self, state: _State, *, verify: bool) -> None:
        after = state.current
        if verify and self.files.accepted:
            self.emit("verify", {"files": sorted(self.files.accepted)})
            final = past_the_deadline(self._final_run)
            if final.passed and final.coverage is not None:
                after = final.coverage
            elif not self.options.dry_run:
                self.acceptance.roll_back(final)
                after = final.coverage if final.coverage and not self.files.accepted else after
        self.report.set_coverage("after", after)
        if self.mutation is not None:
            if verify:
                if self.report.rolled_back and not self.options.dry_run:
                    self.sandbox.close()  # the copy still holds what was rolled back
                    self.sandbox.open()
                step, accepted = self.mutation, dict(self.files.accepted)
                past_the_deadline(lambda: step.measure_after(accepted, self.runner.seconds_left))
            self.mutation.outcome.kept_for = dict(self.acceptance.kept_for)
            self.report.mutation = self.mutation.outcome.as_dict()
        if self.options.dry_run:
            self.report.diff = self.files.diff()
        usage = self.runner.usage.total
        self.report.tokens = usage.total_tokens
        self.report.llm_seconds = usage.seconds
        self.report.usage = self.runner.usage.as_dict()
        self.report.wall_seconds = time.monotonic() - self._started
        self.emit("done", {"report": self.report})

    # -- baseline ---------------------------------------------------------------------------

    def _run_suite(self, args: list[str], files: dict[str, str] | None = None) -> TestRun:
        cfg = self.config
        return self.sandbox.run_tests(
            args,
            test_command=cfg.test_command,
            extra_files=files,
            source=list(cfg.sources),
            omit=list(cfg.omit),
            env={"PYTHONPATH": cfg.pythonpath} if cfg.pythonpath else None,
            timeout=cfg.suite_timeout,
        )

    def _baseline(self) -> TestRun:
        self.emit("baseline", {"command": self.options.test_command})
        run = self._run_suite([])
        skip = check_baseline(
            run,
            command=self.options.test_command,
            timeout=self.config.suite_timeout,
            repo=self.repo,
            allow_failing=self.options.allow_failing,
        )
        if skip:
            self.config = replace(self.config, suite_args=skip)
            self.emit("allow-failing", {"tests": [arg.split("=", 1)[1] for arg in skip]})
        baseline = Percentages.of_files(run.coverage, self.report.files)
        self.emit("baseline-done", {"coverage": baseline, "report": run.coverage})
        return run

    # -- mutants ----------------------------------------------------------------------------

    def _hunt(self, state: _State) -> Hunt:
        assert self.mutation is not None
        return Hunt(
            self.repo, self.sandbox, self.runner, self.mutation, self.acceptance, self.options,
            self.config.pythonpath, self.emit, lambda: self._check_budget(state),
        )  # fmt: skip

    def _mutant_chain(self, state: _State) -> Chain:
        """The drafts-through-the-gates loop for a mutant's test (the model's)."""

        def chain(target: Target, drafter: Drafter, must_kill: Sequence[NamedMutant],
                  outcome: TargetOutcome) -> bool:  # fmt: skip
            ctx = build_context(self.repo, target, self.acceptance.style_file(target))
            return self._chain(target, 0, state, outcome, drafter=drafter, must_kill=must_kill,
                               ctx=ctx)  # fmt: skip

        return chain

    def _rewrite(self, state: _State) -> None:
        rewriter = Rewriter(
            self.repo, self.runner, self.acceptance, self.acceptance.gates, self.emit,
            lambda: self._check_budget(state),
        )  # fmt: skip
        try:
            rewriter.run(state.current)
        finally:
            self.report.rewrite = rewriter.outcome.as_dict()

    # -- per target -------------------------------------------------------------------------

    def _check_budget(self, state: _State) -> None:
        """Stop (``BudgetExhausted``) when time or tokens are spent, or the target reached."""
        opts = self.options
        self.runner.check_budget()
        if opts.target_coverage is not None:
            reached = Percentages.of_files(state.current, self.report.files).combined
            if reached >= opts.target_coverage:
                raise _Stop(f"target coverage {opts.target_coverage:g} % reached")

    def _refresh(self, target: Target, state: _State) -> Target | None:
        scan = find_targets(self.repo, state.current, [target.path], changed=self._changed)
        return next((t for t in scan.targets if t.qualname == target.qualname), None)

    def _rounds(self, targets: list[Target], state: _State) -> None:
        """Visit every target once per round; a later round retries what is still missed with
        fresh samples.  Stops after ``rounds`` rounds or a round that accepted nothing."""
        outcomes: dict[str, TargetOutcome] = {}
        pending = targets
        for round_ in range(self.options.rounds):
            accepted_before = self.report.accepted
            for target in pending:
                self._check_budget(state)
                if target.key not in outcomes:
                    outcomes[target.key] = TargetOutcome(target.key)
                    self.report.targets.append(outcomes[target.key])
                # Refreshed: a test accepted for an earlier target may have covered this one.
                fresh = self._refresh(target, state) if self.report.accepted else target
                if fresh is not None:
                    self._cover_target(fresh, state, outcomes[target.key], round_)
            if self.report.accepted == accepted_before:
                return
            pending = [t for t in pending if self._refresh(t, state) is not None]
            if round_ + 1 < self.options.rounds and pending:
                self.emit("round", {"round": round_ + 2, "targets": len(pending)})

    def _cover_target(
        self, target: Target, state: _State, outcome: TargetOutcome, round_: int
    ) -> None:
        for chain in range(self.options.max_tests_per_target):
            fresh = self._refresh(target, state) if chain else target
            if fresh is None:
                return
            self.emit("target", {"target": fresh, "chain": chain})
            if not self._chain(fresh, round_ * 10 + chain, state, outcome):
                return

    def _explore_seconds(self, files: int) -> float:
        seconds = self.options.explore_seconds
        if self.options.max_minutes is not None:
            seconds = min(seconds, self.options.max_minutes * 60 / 4 / max(1, files))
        return max(2.0, seconds)

    def _explore(self, targets: list[Target], state: _State, seed: int = 0) -> None:
        """Exploration first (:mod:`agents.cover.explore`): per file, the calls that reach
        missed code, as one candidate through the usual gates."""
        by_file: dict[str, list[Target]] = {}
        for target in targets:
            by_file.setdefault(target.path, []).append(target)
        seconds = self._explore_seconds(len(by_file))
        for path, group in by_file.items():
            self._check_budget(state)
            self.emit("explore", {"path": path, "targets": len(group), "seconds": seconds})
            found = explore(
                self.sandbox, self.repo, group, seconds=seconds,
                pythonpath=self.config.pythonpath, seed=seed,
            )  # fmt: skip
            state.current, _ = self.acceptance.take_exploration(
                found, group, state.current, seed + 1
            )

    def _drafter(self, target: Target, ctx: TargetContext, sample: int) -> Drafter:
        opts = self.options
        if opts.strategy == "flow":
            return FlowDrafter(
                self.runner, target, ctx, attempts=opts.attempts, tokens=opts.answer_tokens
            )
        return DirectDrafter(
            self.runner, target, ctx, attempts=opts.attempts, answer_tokens=opts.answer_tokens,
            sample=sample,
        )  # fmt: skip

    def _chain(
        self,
        target: Target,
        chain: int,
        state: _State,
        outcome: TargetOutcome,
        *,
        drafter: Drafter | None = None,
        must_kill: Sequence[NamedMutant] = (),
        ctx: TargetContext | None = None,
    ) -> bool:
        """Drafts for ``target`` (the strategy's drafter unless given) through the gates until
        the drafter is done; True when at least one was accepted."""
        ctx = ctx or build_context(self.repo, target, self.acceptance.style_file(target))
        drafter = drafter or self._drafter(target, ctx, chain)
        drafts = drafter.drafts()
        accepted = False
        attempt = 0
        while True:
            self._check_budget(state)
            attempt += 1
            self.emit("attempt", {"target": target, "attempt": attempt})
            try:
                draft = next(drafts)
            except StopIteration:
                return accepted
            except FATAL_LLM:
                raise
            except LLMError as exc:
                state.llm_errors += 1
                self.acceptance.reject(outcome, Rejection("llm-error", str(exc)))
                if state.llm_errors >= MAX_LLM_ERRORS_IN_A_ROW:
                    raise
                return accepted
            state.llm_errors = 0
            verdict = self.acceptance.judge(draft.code, target, state.current, must_kill=must_kill)
            if verdict.accepted and verdict.candidate is not None:
                state.current = self.acceptance.accept(target, verdict, outcome)
                drafter.accept()
                accepted = True
                continue
            assert verdict.rejection is not None
            self.acceptance.reject(outcome, verdict.rejection)
            drafter.reject(
                prompts.PROBLEMS.get(verdict.rejection.reason, "{detail}").format(
                    detail=verdict.rejection.detail,
                    name=verdict.rejection.detail,
                    import_line=ctx.header.splitlines()[1] if "\n" in ctx.header else ctx.header,
                    missed=summarize_missed(target),
                )
            )

    # -- the end ----------------------------------------------------------------------------

    def _final_run(self) -> TestRun:
        args = list(self.config.suite_args)
        if self.options.dry_run:
            return self._run_suite(args, dict(self.files.accepted))
        self.sandbox.close()  # re-stage from the user's tree, which now holds the written tests
        self.sandbox.open()
        return self._run_suite(args)
