"""``assay cover``: measure, pick targets, ask for tests, keep only what passes every gate.

The loop per target: build a compact context, ask the model for one test function, run the static
gates (:mod:`agents.cover.candidate`) and the sandbox gates (:mod:`agents.cover.gates`); on a
rejection send the trimmed reason back, up to ``attempts`` times.  Accepted tests are merged into
the target's test file and written at once (atomically), so Ctrl-C keeps them; at the end the whole
suite runs once more on the written tree, and a file that breaks it is rolled back.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from agents.cover import cover_prompts as prompts
from agents.cover.candidate import (
    MAX_TESTS_PER_ANSWER,
    Candidate,
    Rejection,
    add_missing_imports,
    answer_complete,
    answer_end,
    check_static,
    extract_code,
    module_names,
)
from agents.cover.context import build_context, summarize_missed
from agents.cover.gates import GateConfig, Gatekeeper, Verdict, trim
from agents.cover.report import CoverReport, Percentages, TargetOutcome
from agents.cover.targets import (
    Target,
    changed_lines,
    coverage_sources,
    find_targets,
    is_test_file,
    module_of,
    source_files,
)
from agents.cover.writer import check_writable, merge_tests, unified_diff, write_atomic
from agents.errors import AssayError, InputError
from flows.coverage_data import CoverageReport, TestRun
from flows.errors import LLMError, LLMUnreachable
from flows.llm import LLMClient
from flows.sandbox import Sandbox, repo_files

OMIT = ("*/tests/*", "*/test/*", "*/test_*.py", "*_test.py", "*/conftest.py", "*/setup.py")
FATAL_LLM = (LLMUnreachable,)
MAX_LLM_ERRORS_IN_A_ROW = 3
GENERATED_DOC = "Tests written by `assay cover`, kept because they pass and catch bugs."

Listener = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class CoverOptions:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    diff_base: str | None = None
    dry_run: bool = False
    repeat: int = 3
    attempts: int = 2
    mutation: bool = True
    observed_oracles: bool = True
    allow_failing: bool = False
    max_minutes: float | None = None
    max_tokens: int | None = None
    target_coverage: float | None = None
    max_tests_per_target: int = 2
    rounds: int = 3  # passes over the targets still missed; stops early when one adds nothing
    candidate_timeout: float = 60.0
    suite_timeout: float = 600.0
    test_command: str = "pytest"
    into: str = "new"  # "new": tests/test_<module>_assay.py; "existing": tests/test_<module>.py
    answer_tokens: int = 600


class _Stop(Exception):
    """A budget ran out: stop asking, finish cleanly."""


@dataclass
class _State:
    current: CoverageReport
    accepted: dict[str, str] = field(default_factory=dict)  # test path -> merged content
    originals: dict[str, str | None] = field(default_factory=dict)  # before our first write
    llm_errors: int = 0


class CoverAgent:
    """One ``assay cover`` run over ``repo`` with a model and a sandbox (both opened by the
    caller)."""

    def __init__(
        self,
        repo: Path,
        llm: LLMClient,
        sandbox: Sandbox,
        options: CoverOptions,
        listener: Listener | None = None,
    ) -> None:
        self.repo = repo
        self.llm = llm
        self.sandbox = sandbox
        self.options = options
        self.emit: Listener = listener or (lambda kind, data: None)
        self.report = CoverReport(repo=str(repo), sandbox=sandbox.describe())
        self._started = time.monotonic()
        self._changed: dict[str, set[int]] | None = None

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
        roots = {module_of(self.repo, path)[1] for path in files}
        self.config = GateConfig(
            test_command=opts.test_command,
            sources=tuple(coverage_sources(self.repo, files)),
            omit=OMIT,
            # Relative to the copy's root, where every sandboxed run starts; run_tests puts the
            # root and src/ first itself, plain runs (repeats, mutants, oracles) need them here.
            pythonpath=os.pathsep.join([".", *sorted(r for r in roots if r), "src"]),
            repeat=opts.repeat,
            mutation=opts.mutation,
            observed_oracles=opts.observed_oracles,
            timeout=opts.candidate_timeout,
            suite_timeout=opts.suite_timeout,
        )
        if opts.diff_base:
            self._changed = changed_lines(self.repo, opts.diff_base)
        baseline = self._baseline()
        assert baseline.coverage is not None
        state = self._state = _State(current=baseline.coverage)
        self.gates = Gatekeeper(self.sandbox, self.config, state.accepted)
        self._test_dir = self._pick_test_dir(baseline)
        self.report.set_coverage("before", baseline.coverage)
        scan = find_targets(self.repo, baseline.coverage, files, changed=self._changed)
        self.report.skipped.extend(scan.skipped)
        self.emit("targets", {"count": len(scan.targets), "before": self.report.total_before})

        interrupted = False
        try:
            self._rounds(scan.targets, state)
        except _Stop as stop:
            self.report.stopped = f"budget: {stop}"
        except KeyboardInterrupt:
            self.report.stopped = "interrupted"
            interrupted = True
        except FATAL_LLM:
            self.report.stopped = "error"
            self._finish(state, verify=False)
            raise
        self._finish(state, verify=not interrupted)
        return self.report

    def _finish(self, state: _State, *, verify: bool) -> None:
        after = state.current
        if verify and state.accepted:
            self.emit("verify", {"files": sorted(state.accepted)})
            final = self._final_run(state)
            if final.passed and final.coverage is not None:
                after = final.coverage
            elif not self.options.dry_run:
                self._roll_back(state, final)
                after = final.coverage if final.coverage and not state.accepted else after
        self.report.set_coverage("after", after)
        if self.options.dry_run:
            self.report.diff = "".join(
                unified_diff(path, state.originals.get(path), text)
                for path, text in sorted(state.accepted.items())
            )
        usage = self.llm.usage.total
        self.report.tokens = usage.total_tokens
        self.report.llm_seconds = usage.seconds
        self.report.usage = self.llm.usage.as_dict()
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
        command = self.options.test_command
        if run.result.timed_out:
            raise AssayError(
                f"The baseline run of '{command}' timed out after {self.config.suite_timeout:g} s",
                "fix the hanging test or raise --sandbox-timeout",
            )
        failing = [c for c in run.tests if c.outcome in ("failed", "error")]
        if failing and not self.options.allow_failing:
            names = ", ".join(c.nodeid for c in failing[:5])
            more = f" and {len(failing) - 5} more" if len(failing) > 5 else ""
            raise AssayError(
                f"The test suite fails before assay adds anything ({len(failing)} failing: "
                f"{names}{more})",
                "fix those tests, or pass --allow-failing to continue on the passing ones",
            )
        if failing:
            # Later suite runs skip them: failing tests by node id, broken files entirely.
            args = tuple(
                f"--deselect={c.nodeid}" if "::" in c.nodeid else f"--ignore={c.nodeid}"
                for c in failing
            )
            self.config = replace(self.config, suite_args=args)
            self.emit("allow-failing", {"tests": [c.nodeid for c in failing]})
        elif run.result.returncode not in (0, 5):
            tail = trim(run.result.output, 400).replace("\n", " | ")
            raise AssayError(
                f"'{command}' exited with code {run.result.returncode} on the baseline: {tail}",
                f"check that '{command}' runs in {self.repo}, or set --test-command",
            )
        if run.coverage is None:
            raise AssayError(
                f"Coverage could not be measured on the baseline: {run.coverage_error[-300:]}",
                "check that coverage is installed in the project's Python",
            )
        baseline = Percentages.of_files(run.coverage, self.report.files)
        self.emit("baseline-done", {"coverage": baseline, "report": run.coverage})
        return run

    def _pick_test_dir(self, baseline: TestRun) -> str:
        dirs = Counter(
            PurePosixPath(case.nodeid.split("::")[0]).parts[0]
            for case in baseline.tests
            if "/" in case.nodeid.split("::")[0]
        )
        if dirs:
            return dirs.most_common(1)[0][0]
        for name in ("tests", "test"):
            if (self.repo / name).is_dir():
                return name
        return "tests"

    # -- per target -------------------------------------------------------------------------

    def _check_budget(self, state: _State) -> None:
        opts = self.options
        if (
            opts.max_minutes is not None
            and time.monotonic() - self._started > opts.max_minutes * 60
        ):
            raise _Stop(f"{opts.max_minutes:g} minutes")
        if opts.max_tokens is not None and self.llm.usage.total.total_tokens >= opts.max_tokens:
            raise _Stop(f"{opts.max_tokens} tokens")
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
                fresh = self._refresh(target, state) if round_ else target
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

    def _chain(self, target: Target, chain: int, state: _State, outcome: TargetOutcome) -> bool:
        """Up to ``attempts`` tries for one accepted test; True when one was accepted."""
        style = self._style_file(target)
        ctx = build_context(self.repo, target, style)
        stem = target.qualname.replace(".", "_").lower().strip("_")
        prompt = prompts.WRITE_TEST.format(
            path=target.path,
            module=target.module,
            code=ctx.code,
            style=prompts.STYLE.format(style=ctx.style) if ctx.style else "",
            qualname=target.qualname,
            missed=ctx.missed_summary,
            header=ctx.header.rstrip(),
            test_stem=stem,
            max_tests=MAX_TESTS_PER_ANSWER,
        )
        messages = [
            {"role": "system", "content": prompts.SYSTEM},
            {"role": "user", "content": prompt},
        ]
        for attempt in range(self.options.attempts):
            self._check_budget(state)
            self.emit("attempt", {"target": target, "attempt": attempt + 1})
            try:
                completion = self.llm.complete(
                    messages,
                    stage="write_test",
                    max_tokens=self.options.answer_tokens,
                    temperature=0.2 if attempt == 0 and chain == 0 else 0.7,
                    stop=["\n```\n"],
                    stop_when=answer_complete,
                    seed=chain * 100 + attempt if chain or attempt else None,
                )
            except FATAL_LLM:
                raise
            except LLMError as exc:
                state.llm_errors += 1
                self._rejected(outcome, Rejection("llm-error", str(exc)))
                if state.llm_errors >= MAX_LLM_ERRORS_IN_A_ROW:
                    raise
                continue
            state.llm_errors = 0
            reply, truncated = completion.text, completion.finish_reason == "length"
            if completion.finish_reason == "stop_when":
                end = answer_end(reply)
                if end is not None:
                    reply, truncated = reply[: end[0]], end[1] == "loop"
            verdict = self._judge(reply, ctx.header, stem, target, truncated)
            if verdict.accepted and verdict.candidate is not None:
                self._accept(target, verdict, state, outcome)
                return True
            assert verdict.rejection is not None
            self._rejected(outcome, verdict.rejection)
            problem = prompts.PROBLEMS.get(verdict.rejection.reason, "{detail}").format(
                detail=verdict.rejection.detail,
                name=verdict.rejection.detail,
                import_line=ctx.header.splitlines()[1] if "\n" in ctx.header else ctx.header,
                missed=summarize_missed(target),
            )
            messages += [
                {"role": "assistant", "content": completion.text},
                {"role": "user", "content": prompts.RETRY.format(problem=problem)},
            ]
        return False

    def _judge(
        self, reply: str, header: str, stem: str, target: Target, truncated: bool
    ) -> Verdict:
        code = extract_code(reply, header, stem=stem, truncated=truncated)
        if code is None:
            return Verdict(candidate=None, rejection=Rejection("no-code"))
        source = (self.repo / target.path).read_text(encoding="utf-8")
        code = add_missing_imports(code, target.module, module_names(source))
        static = check_static(code, target)
        if not isinstance(static, Candidate):
            return Verdict(candidate=None, rejection=static)
        path = f"{self._test_dir}/test_assay_candidate.py"
        self.emit("gates", {"target": target, "tests": static.tests})
        return self.gates.check(static, target, self._state.current, path)

    def _rejected(self, outcome: TargetOutcome, rejection: Rejection) -> None:
        self.report.rejected[rejection.reason] += 1
        outcome.rejected.append(rejection.reason)
        self.emit("rejected", {"reason": rejection.reason, "detail": rejection.detail})

    def _output_path(self, target: Target) -> str:
        stem = PurePosixPath(target.path).stem
        if stem == "__init__":
            stem = target.module.rsplit(".", 1)[-1] or "package"
        clashes = {PurePosixPath(p).stem for p in self.report.files if p != target.path}
        if stem in clashes:
            stem = target.module.replace(".", "_")
        if self.options.into == "existing":
            existing = f"{self._test_dir}/test_{stem}.py"
            if (self.repo / existing).is_file():
                return existing
        return f"{self._test_dir}/test_{stem}_assay.py"

    def _style_file(self, target: Target) -> Path | None:
        stem = PurePosixPath(target.path).stem
        preferred = self.repo / self._test_dir / f"test_{stem}.py"
        if preferred.is_file():
            return preferred
        tests = [p for p in repo_files(self.repo) if is_test_file(p) and p.endswith(".py")]
        tests = [p for p in tests if PurePosixPath(p).name.startswith("test_")]
        return self.repo / tests[0] if tests else None

    def _accept(
        self, target: Target, verdict: Verdict, state: _State, outcome: TargetOutcome
    ) -> None:
        assert verdict.candidate is not None and verdict.coverage is not None
        path = self._output_path(target)
        on_disk = self.repo / path
        if path not in state.originals:
            state.originals[path] = (
                on_disk.read_text(encoding="utf-8") if on_disk.is_file() else None
            )
        base = state.accepted.get(path, state.originals[path] or "")
        merged = merge_tests(base, verdict.candidate.code, docstring=GENERATED_DOC)
        state.accepted[path] = merged
        state.current = verdict.coverage
        if not self.options.dry_run:
            write_atomic(check_writable(self.repo, path), merged)
            if path not in self.report.written:
                self.report.written.append(path)
        if verdict.oracle_changes:
            self.report.oracle_repairs.append(
                {
                    "target": target.key,
                    "file": path,
                    "changes": [
                        {"model": c.old, "observed": c.value} for c in verdict.oracle_changes
                    ],
                }
            )
        count = len(verdict.candidate.tests)
        self.report.accepted += count
        outcome.accepted += count
        outcome.gained_lines += list(verdict.gained_lines)
        outcome.gained_branches += [list(arc) for arc in verdict.gained_branches]
        self.emit(
            "accepted",
            {
                "target": target,
                "tests": verdict.candidate.tests,
                "path": path,
                "lines": verdict.gained_lines,
                "branches": verdict.gained_branches,
                "mutant": verdict.killed,
                "coverage": Percentages.of_files(state.current, self.report.files),
            },
        )

    # -- the end ----------------------------------------------------------------------------

    def _final_run(self, state: _State) -> TestRun:
        args = list(self.config.suite_args)
        if self.options.dry_run:
            return self._run_suite(args, dict(state.accepted))
        self.sandbox.close()  # re-stage from the user's tree, which now holds the written tests
        self.sandbox.open()
        return self._run_suite(args)

    def _roll_back(self, state: _State, final: TestRun) -> None:
        failing = {c.nodeid.split("::")[0] for c in final.tests if c.outcome in ("failed", "error")}
        culprits = [p for p in state.accepted if p in failing] or list(state.accepted)
        for path in culprits:
            original = state.originals.get(path)
            target = check_writable(self.repo, path)
            if original is None:
                target.unlink(missing_ok=True)
            else:
                write_atomic(target, original)
            state.accepted.pop(path, None)
            if path in self.report.written:
                self.report.written.remove(path)
            self.report.rolled_back.append(path)
        self.emit("rolled-back", {"files": culprits, "output": trim(final.result.output, 600)})
