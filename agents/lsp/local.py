"""The engine in the server's own process: ``assay tests``' and ``assay cover``'s agents in dry
run, and the review agent, on the configured endpoint or the embedded model.

Each method runs in a worker thread.  The sandbox and the model are guarded by the job's cancel
token (:mod:`agents.lsp.jobs`), so a cancelled job unwinds from the next model call, streamed
chunk or sandbox run, and the ``with`` blocks stop what it started (the sandbox copy, a managed
model server).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agents.cover.js.project import SOURCE_EXTENSIONS
from agents.cover.report import CoverReport
from agents.lsp.config import LspConfig
from agents.lsp.engine import CoverAsk, Outcome, ReviewAsk, ReviewOutcome, TestsAsk
from agents.lsp.jobs import Cancelled, GuardedLLM, Job
from agents.runtime import Run
from agents.settings import Settings
from flows import mask_url


def _cover_outcome(report: CoverReport, what: str) -> Outcome:
    """What a dry cover run on ``what`` (a file, or a JS/TS symbol) offers the editor."""
    before, after = report.total_before, report.total_after
    change = (
        f"coverage {before.combined:.1f} % → {after.combined:.1f} %" if before and after else ""
    )
    details = [f"{t.target}: {t.accepted} accepted, rejected {t.rejected}"
               for t in report.targets]  # fmt: skip
    if report.stopped not in ("done", ""):
        details.append(f"stopped: {report.stopped}")
    if not report.accepted:
        return Outcome("", f"no new test for {what} passed the gates ({change})", [], details)
    summary = f"{report.accepted} test(s) for {what} passed every gate; {change}"
    return Outcome(report.diff, summary, [], details)


class LocalEngine:
    def __init__(self, config: LspConfig) -> None:
        self.config = config

    @contextmanager
    def _run(
        self, job: Job, s: Settings, repo: Path | None, language: str = "python"
    ) -> Iterator[Run]:
        """The run of ``job``: the sandbox over ``repo`` (when given; node's for
        ``language="javascript"``) and the model, both guarded by the job's cancel token."""
        from agents.runtime import open_run

        job.report(f"connecting to the model at {mask_url(s.llm_base_url)}" if s.llm_base_url
                   else "starting the embedded model (the first start takes a while)")  # fmt: skip
        with open_run(
            s, f"lsp-{job.kind}", repo=repo, stop_check=job.token.check,  # a cancel kills a run
            wrap_llm=lambda client: GuardedLLM(client, job.token), language=language,
        ) as run:  # fmt: skip
            job.token.check()
            yield run

    # -- tests for one symbol ----------------------------------------------------------------------

    def generate_tests(self, job: Job, ask: TestsAsk) -> Outcome:
        from agents.testgen.agent import TestgenAgent, TestgenOptions
        from agents.testgen.symbols import find_symbol

        if ask.path.endswith(SOURCE_EXTENSIONS):
            return self._cover_js(job, ask.root, ask.path, ask.symbol)
        s = self.config.settings(ask.root).settings
        symbol = find_symbol(ask.root, ask.root / ask.path, ask.symbol)
        options = TestgenOptions.from_settings(s, dry_run=True, behaviours=self.config.behaviours)
        with self._run(job, s, ask.root) as run:
            assert run.sandbox is not None and run.llm is not None
            agent = TestgenAgent(
                ask.root, run.llm, run.sandbox, symbol, options, job.listener, s, run.trace
            )
            # Nobody picks: the docstring's model call waits until the explored tests are in.
            found = agent.prepare(docstring_later=not self.config.pick_behaviours)
            if not found:
                return Outcome("", f"the model listed no behaviour of {ask.symbol} to test")
            listed = [{"kind": b.kind, "description": b.description, "call": b.call,
                       "expected": b.expected, "origin": b.origin} for b in found]  # fmt: skip
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
        details += [
            f"possible bug: the docstring says {b['call']} gives {b['docstring']}; "
            f"the code gives {b['code']}"
            for b in report.possible_bugs
        ]
        bugs = (
            f"; possible bug: {report.possible_bugs[0]['call']} disagrees with the docstring"
            if report.possible_bugs else ""
        )  # fmt: skip
        if not tests:
            reasons = Counter(x for r in report.results for x in r.rejected)
            why = ", ".join(f"{k} ×{v}" if v > 1 else k for k, v in reasons.items()) or "none"
            return Outcome("", f"no test for {ask.symbol} passed the gates (rejected: {why}){bugs}",
                           details=details)  # fmt: skip
        where = agent.out_path
        summary = f"{len(tests)} test(s) for {ask.symbol} passed every gate → {where}{bugs}"
        return Outcome(report.diff, summary, tests, details)

    # -- coverage of one file ---------------------------------------------------------------------

    def raise_coverage(self, job: Job, ask: CoverAsk) -> Outcome:
        from agents.cover.engine import CoverAgent, CoverOptions

        if ask.path.endswith(SOURCE_EXTENSIONS):
            return self._cover_js(job, ask.root, ask.path, None)
        s = self.config.settings(ask.root).settings
        # In the editor a person waits: no mutation score (it runs the tests once per mutant).
        options = CoverOptions.from_settings(
            s, include=(ask.path,), dry_run=True, allow_failing=True, mutants="off"
        )
        with self._run(job, s, ask.root) as run:
            assert run.sandbox is not None and run.llm is not None
            agent = CoverAgent(
                ask.root, run.llm, run.sandbox, options, job.listener, trace=run.trace
            )
            report = agent.run()
        return _cover_outcome(report, ask.path)

    def _cover_js(self, job: Job, root: Path, path: str, symbol: str | None) -> Outcome:
        """A JavaScript/TypeScript file, or one of its symbols: ``assay cover``'s JS pipeline
        in dry run (exploration, the model, the same gates; no behaviour list for JS yet)."""
        from agents.cover.js.engine import JsCoverAgent
        from agents.cover.options import CoverOptions

        s = self.config.settings(root).settings
        options = CoverOptions.from_settings(
            s, include=(path,), dry_run=True, allow_failing=True, mutants="off", symbol=symbol
        )
        with self._run(job, s, root, language="javascript") as run:
            assert run.sandbox is not None and run.llm is not None
            agent = JsCoverAgent(
                root, run.llm, run.sandbox, options, listener=job.listener, trace=run.trace
            )
            report = agent.run()
        return _cover_outcome(report, symbol or path)

    # -- review of the changes ---------------------------------------------------------------------

    def review(self, job: Job, ask: ReviewAsk) -> ReviewOutcome:
        from agents.gitdiff import local_diff
        from agents.review.run import run_review

        s = self.config.settings(ask.root).settings
        job.report(f"reading the changes since {ask.base}")
        diff, point = local_diff(ask.root, ask.base)
        if not diff.strip():
            return ReviewOutcome([], f"no changes since {ask.base} to review")
        with self._run(job, s, None) as run:
            assert run.llm is not None
            report = run_review(
                s, run.llm, trace=run.trace, diff=diff, head=point,
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
