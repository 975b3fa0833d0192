"""The mutation score: how many small bugs in the targeted code the test suite would catch.

Coverage says a line ran; a killed mutant says a bug on that line would fail a test.  The
mutants are :func:`agents.cover.mutants.all_mutants` of the targeted files' functions and methods
(a seeded sample when there are more than the budget runs).  One suite run under coverage with
per-test contexts says which tests execute which line; each mutant is then written into a
sandbox copy and only the tests that run its line are run against it (``pytest -x``), two at a
time where the cores allow.  A mutant is *killed* when a test fails or errors, or when the run
times out (a hang is a caught bug); it *survives* when the tests pass, or when no test runs its
line at all (*not covered*).  Survivors are listed so that a person can judge the equivalent
ones (edits that change nothing observable), the known limit of the measure.
"""

from __future__ import annotations

import ast
import os
import random
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agents.cover.mutant_runs import run_mutants
from agents.cover.mutants import Mutant, all_mutants
from flows import CoverageReport, Sandbox

Status = Literal["killed", "timeout", "survived", "not-covered"]
REPORT_SECONDS = 5.0  # a timed score ends this long before its time: the driver's reporting
MIN_MUTANT_SECONDS = 10.0  # a mutant's run may take this long at least before it counts as hung


@dataclass(frozen=True)
class MutantRef:
    """One mutant of one file, as the report shows it."""

    path: str
    line: int
    kind: str
    description: str
    diff: str
    id: str  # "path:line:n", stable for one source

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "file": self.path,
            "line": self.line,
            "operator": self.kind,
            "description": self.description,
            "diff": self.diff,
        }


@dataclass
class Sample:
    """The mutants a run measures: all of the targeted code's, or a seeded sample of them."""

    mutants: list[tuple[MutantRef, Mutant]] = field(default_factory=list)
    total: int = 0  # mutants of the targeted code before sampling
    rest: list[tuple[MutantRef, Mutant]] = field(default_factory=list)  # left out, seeded order

    @property
    def sampled(self) -> bool:
        return len(self.mutants) < self.total


@dataclass
class Score:
    """What the suite did to each mutant of a sample."""

    status: dict[str, Status] = field(default_factory=dict)  # mutant id → outcome
    refs: dict[str, MutantRef] = field(default_factory=dict)
    total: int = 0  # before sampling
    seconds: float = 0.0

    @property
    def measured(self) -> int:
        return len(self.status)

    @property
    def killed(self) -> int:
        return sum(1 for s in self.status.values() if s in ("killed", "timeout"))

    @property
    def percent(self) -> float | None:
        return round(100.0 * self.killed / self.measured, 2) if self.measured else None

    def survivors(self) -> list[MutantRef]:
        return [self.refs[i] for i, s in self.status.items() if s in ("survived", "not-covered")]

    def per_file(self) -> dict[str, tuple[int, int]]:
        """(killed, measured) per file."""
        out: dict[str, tuple[int, int]] = {}
        for mutant_id, status in self.status.items():
            path = self.refs[mutant_id].path
            killed, measured = out.get(path, (0, 0))
            out[path] = (killed + (status in ("killed", "timeout")), measured + 1)
        return out

    def updated(self, statuses: Mapping[str, Status]) -> Score:
        """A copy with some outcomes replaced (survivors measured again)."""
        return Score({**self.status, **statuses}, dict(self.refs), self.total, self.seconds)

    def as_dict(self) -> dict[str, Any]:
        outcomes = {k: sum(1 for s in self.status.values() if s == k) for k in _STATUSES}
        return {
            "score": self.percent,
            "killed": self.killed,
            "measured": self.measured,
            "total": self.total,
            "sampled": self.measured < self.total,
            "outcomes": outcomes,
            "seconds": round(self.seconds, 1),
            "files": {
                path: {"killed": k, "measured": m, "score": round(100.0 * k / m, 2) if m else None}
                for path, (k, m) in sorted(self.per_file().items())
            },
        }


_STATUSES: tuple[Status, ...] = ("killed", "timeout", "survived", "not-covered")


def function_ranges(source: str) -> list[tuple[int, int]]:
    """Line ranges of the bodies of a module's functions and methods (their code, not the
    ``def`` lines, which run at import)."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            out.append((node.lineno, node.end_lineno or node.lineno))
    return out


def sample_mutants(repo: Path, files: Sequence[str], limit: int | None, seed: int = 0) -> Sample:
    """The mutants of ``files``' functions; a seeded sample of ``limit`` when there are more."""
    found: list[tuple[MutantRef, Mutant]] = []
    for path in files:
        try:
            source = (repo / path).read_text(encoding="utf-8")
            mutants = all_mutants(source, function_ranges(source))
        except (OSError, UnicodeDecodeError, SyntaxError):
            continue
        for n, mutant in enumerate(mutants):
            ref = MutantRef(
                path, mutant.line, mutant.kind, mutant.description, mutant.diff,
                f"{path}:{mutant.line}:{n}",
            )  # fmt: skip
            found.append((ref, mutant))
    sample = Sample(found, len(found))
    if limit is not None and len(found) > limit:
        order = random.Random(seed).sample(range(len(found)), len(found))
        sample.mutants = [found[i] for i in sorted(order[:limit])]
        sample.rest = [found[i] for i in order[limit:]]
    return sample


@dataclass(frozen=True)
class MutationConfig:
    pythonpath: str = ""
    sources: tuple[str, ...] = (".",)
    omit: tuple[str, ...] = ()
    test_command: str = "pytest"
    suite_args: tuple[str, ...] = ()
    suite_timeout: float = 600.0
    workers: int = 0  # 0: as many as the cores, at most 2 (each run is a whole pytest)


class MutationRunner:
    """Scores a suite (the repository's tests plus ``extra_files``) against a sample."""

    def __init__(self, sandbox: Sandbox, config: MutationConfig) -> None:
        self.sandbox, self.config = sandbox, config
        self.workers = config.workers or max(1, min(2, os.cpu_count() or 1))

    @property
    def _env(self) -> dict[str, str]:
        return {"PYTHONPATH": self.config.pythonpath} if self.config.pythonpath else {}

    def who_runs(
        self, extra_files: Mapping[str, str]
    ) -> tuple[dict[str, dict[int, tuple[str, ...]]], dict[str, float]]:
        """Per file and line, the node ids of the tests that run it; and each test's seconds."""
        run = self.sandbox.run_tests(
            list(self.config.suite_args),
            test_command=self.config.test_command,
            extra_files=dict(extra_files),
            source=list(self.config.sources),
            omit=list(self.config.omit) or None,
            env=self._env,
            timeout=self.config.suite_timeout,
            contexts=True,
        )
        durations = {case.nodeid: case.duration for case in run.tests}
        return _contexts(run.coverage), durations

    def score(
        self,
        sample: Sample,
        extra_files: Mapping[str, str],
        *,
        only: set[str] | None = None,
        seconds: float | None = None,
    ) -> Score:
        """Run ``sample`` (only the ids in ``only``, when given) against the suite, in at most
        ``seconds`` (the mutants not started by then are left out of the score)."""
        started = time.monotonic()
        runs, durations = self.who_runs(extra_files)
        if seconds is not None:  # what is left for the mutants after the suite's run, with
            # time to report before the run's own deadline stops the sandbox
            seconds = max(0.0, seconds - (time.monotonic() - started) - REPORT_SECONDS)
        todo = [(ref, m) for ref, m in sample.mutants if only is None or ref.id in only]
        score = Score(refs={ref.id: ref for ref, _ in todo}, total=sample.total)
        batches: list[list[dict[str, Any]]] = [[] for _ in range(self.workers)]
        for n, (ref, mutant) in enumerate(todo):
            tests = runs.get(ref.path, {}).get(ref.line, ())
            if not tests:
                score.status[ref.id] = "not-covered"
                continue
            expected = sum(durations.get(t, 1.0) for t in tests)
            batches[n % self.workers].append({
                "id": ref.id, "path": ref.path, "source": mutant.source, "tests": list(tests),
                "timeout": max(MIN_MUTANT_SECONDS, 3 * expected + 5),
            })  # fmt: skip
        if seconds is not None and seconds < 1:
            batches = []  # no time left: nothing measured
        with ThreadPoolExecutor(self.workers, thread_name_prefix="assay-mutants") as pool:
            for found in pool.map(lambda batch: self._batch(batch, extra_files, seconds), batches):
                score.status.update(found)
        for mutant_id in [i for i in score.refs if i not in score.status]:
            del score.refs[mutant_id]  # not started within the time: not measured
        score.seconds = time.monotonic() - started
        return score

    def _batch(
        self, batch: list[dict[str, Any]], extra_files: Mapping[str, str], seconds: float | None
    ) -> dict[str, Status]:
        """One driver run over ``batch`` in its own copy: the outcome of each mutant it ran."""
        return dict(run_mutants(self.sandbox, batch, extra_files, self._env, seconds=seconds))


def _contexts(coverage: CoverageReport | None) -> dict[str, dict[int, tuple[str, ...]]]:
    if coverage is None:
        return {}
    out: dict[str, dict[int, tuple[str, ...]]] = {}
    for path, file_cov in coverage.files.items():
        out[path] = {
            line: tuple(sorted({c.split("|")[0] for c in contexts if c}))
            for line, contexts in file_cov.contexts.items()
        }
    return out
