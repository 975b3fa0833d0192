"""The engine in the server's own process: ``assay tests``' and ``assay cover``'s agents in dry
run, and the review agent, on the configured endpoint or the embedded model.

Each method runs in a worker thread.  The sandbox and the model are guarded by the job's cancel
token (:mod:`agents.lsp.jobs`), so a cancelled job unwinds from the next model call, streamed
chunk or sandbox run, and the ``with`` blocks stop what it started (the sandbox copy, a managed
model server).
"""

from __future__ import annotations

import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import cast

from agents.lsp.config import LspConfig
from agents.lsp.engine import CoverAsk, Outcome, ReviewAsk, ReviewOutcome, TestsAsk
from agents.lsp.jobs import Cancelled, GuardedLLM, Job
from agents.settings import Settings
from flows.llm import LLMClient
from flows.sandbox import Sandbox


class LocalEngine:
    def __init__(self, config: LspConfig) -> None:
        self.config = config

    def _open(self, stack: ExitStack, job: Job, root: Path, s: Settings) -> GuardedLLM:
        from agents.runtime import open_llm

        job.report(f"connecting to the model at {s.llm_base_url}" if s.llm_base_url
                   else "starting the embedded model (the first start takes a while)")  # fmt: skip
        llm = stack.enter_context(open_llm(s, trace_path=_trace(s, job.kind)))
        job.token.check()
        return GuardedLLM(llm, job.token)

    def _sandbox(self, stack: ExitStack, job: Job, root: Path, s: Settings) -> Sandbox:
        from agents.runtime import resolve_python

        memory = s.sandbox_memory_mb * 2**20 if s.sandbox_memory_mb else None
        sandbox = Sandbox(
            root, resolve_python(s.python), timeout=s.sandbox_timeout, memory_limit=memory,
            stop_check=job.token.check,  # a cancel kills the run under way
        )  # fmt: skip
        stack.enter_context(sandbox)
        return sandbox

    # -- tests for one symbol ----------------------------------------------------------------------

    def generate_tests(self, job: Job, ask: TestsAsk) -> Outcome:
        from agents.testgen.agent import TestgenAgent, TestgenOptions
        from agents.testgen.symbols import find_symbol
        from flows.runtime import FlowRunner

        s = self.config.settings(ask.root).settings
        symbol = find_symbol(ask.root, ask.root / ask.path, ask.symbol)
        options = TestgenOptions(
            repeat=s.cover_repeat, attempts=s.cover_attempts, mutation=s.cover_mutation,
            candidate_timeout=s.cover_candidate_timeout, suite_timeout=s.sandbox_timeout,
            test_command=s.test_command, dry_run=True, behaviours=self.config.behaviours,
        )  # fmt: skip
        with ExitStack() as stack:
            sandbox = self._sandbox(stack, job, ask.root, s)
            llm = self._open(stack, job, ask.root, s)
            runner = FlowRunner(llm, flow="tests", listener=job.listener)
            agent = TestgenAgent(ask.root, runner, sandbox, symbol, options, job.listener, s)
            found = agent.prepare()
            if not found:
                return Outcome("", f"the model listed no behaviour of {ask.symbol} to test")
            listed = [{"kind": b.kind, "description": b.description} for b in found]
            picked = job.host.pick(job, ask.symbol, listed)
            if not picked:
                raise Cancelled("no behaviour picked")
            job.total = len(picked)
            report = agent.write([found[i] for i in picked if 0 <= i < len(found)])
        tests = [name for r in report.results for name in r.accepted]
        details = [
            f"{r.behaviour.line}: "
            + (f"accepted {', '.join(r.accepted)}" if r.accepted else
               f"rejected ({', '.join(r.rejected) or 'no draft'})")
            for r in report.results
        ]  # fmt: skip
        if report.removed:
            details.append(f"taken out (they broke the suite): {', '.join(report.removed)}")
        if not tests:
            reasons = Counter(x for r in report.results for x in r.rejected)
            why = ", ".join(f"{k} ×{v}" if v > 1 else k for k, v in reasons.items()) or "none"
            return Outcome("", f"no test for {ask.symbol} passed the gates (rejected: {why})",
                           details=details)  # fmt: skip
        where = agent.out_path
        summary = f"{len(tests)} test(s) for {ask.symbol} passed every gate → {where}"
        return Outcome(report.diff, summary, tests, details)

    # -- coverage of one file ---------------------------------------------------------------------

    def raise_coverage(self, job: Job, ask: CoverAsk) -> Outcome:
        from agents.cover.engine import CoverAgent, CoverOptions

        s = self.config.settings(ask.root).settings
        options = CoverOptions(
            include=(ask.path,), exclude=tuple(s.cover_exclude), dry_run=True,
            repeat=s.cover_repeat, attempts=s.cover_attempts, mutation=s.cover_mutation,
            allow_failing=True, max_tests_per_target=s.cover_tests_per_target,
            candidate_timeout=s.cover_candidate_timeout, suite_timeout=s.sandbox_timeout,
            test_command=s.test_command, explore=s.cover_explore,
            explore_seconds=s.cover_explore_seconds,
        )  # fmt: skip
        with ExitStack() as stack:
            sandbox = self._sandbox(stack, job, ask.root, s)
            llm = self._open(stack, job, ask.root, s)
            # CoverAgent is typed for LLMClient; the guard has its interface (complete, usage).
            agent = CoverAgent(ask.root, cast(LLMClient, llm), sandbox, options, job.listener)
            report = agent.run()
        before, after = report.total_before, report.total_after
        change = (
            f"coverage {before.combined:.1f} % → {after.combined:.1f} %" if before and after else ""
        )
        details = [f"{t.target}: {t.accepted} accepted, rejected {t.rejected}"
                   for t in report.targets]  # fmt: skip
        if report.stopped not in ("done", ""):
            details.append(f"stopped: {report.stopped}")
        if not report.accepted:
            return Outcome("", f"no new test for {ask.path} passed the gates ({change})", [],
                           details)  # fmt: skip
        summary = f"{report.accepted} test(s) for {ask.path} passed every gate; {change}"
        return Outcome(report.diff, summary, [], details)

    # -- review of the changes ---------------------------------------------------------------------

    def review(self, job: Job, ask: ReviewAsk) -> ReviewOutcome:
        from agents.review.run import local_diff, run_review

        s = self.config.settings(ask.root).settings
        job.report(f"reading the changes since {ask.base}")
        diff, point = local_diff(ask.root, ask.base)
        if not diff.strip():
            return ReviewOutcome([], f"no changes since {ask.base} to review")
        with ExitStack() as stack:
            llm = self._open(stack, job, ask.root, s)
            report = run_review(
                s, cast(LLMClient, llm), diff=diff, head=point,
                repo_dir=ask.root, base=point, repo_name=ask.root.name, tests=False,
                listener=job.listener,
            )  # fmt: skip
        details = [f"skipped {k.path} {k.lines}: {k.reason}" for k in report.skipped]
        details += [f"note: {e}" for e in report.errors]
        counts = report.counts()
        by = ", ".join(f"{counts[k]} {k}" for k in ("high", "medium", "low") if counts[k])
        summary = (
            f"{len(report.findings)} finding(s) ({by}) in the changes since {ask.base}"
            if report.findings else f"no findings in the changes since {ask.base}"
        )  # fmt: skip
        if report.skipped:
            summary += f"; {len(report.skipped)} part(s) skipped (see the log)"
        return ReviewOutcome(report.findings, summary, details)


def _trace(s: Settings, kind: str) -> Path:
    return s.traces_dir / f"lsp-{kind}-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
