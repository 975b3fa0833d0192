"""The mutation score of a JS/TS package's suite, as for Python (:mod:`agents.cover.mutation`).

The mutants are :func:`agents.cover.js.mutants.all_mutants` of the exported functions and
methods of the files covered (changed lines only with ``--diff``), a seeded sample beyond the
budget.  A mutant on a line no test runs is *not covered* without a run; every other one is
written into a sandbox copy and the whole suite runs against it (no coverage): *killed* when a
test fails, *timeout* when the run hangs (a caught bug too), else *survived*.  The score before
is the project's own suite; after, with assay's tests.  Shared with the Python report:
:class:`~agents.cover.mutation.Score` and :class:`~agents.cover.mutation_step.MutationOutcome`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from agents.cover.js.mutants import all_mutants
from agents.cover.js.runner import JsRunner
from agents.cover.js.symbols import read_module
from agents.cover.mutants import Mutant
from agents.cover.mutation import MutantRef, Score, Status
from agents.cover.mutation_step import MutationOutcome
from flows import CoverageReport

Listener = Callable[[str, dict[str, Any]], None]


def _ranges(text: str, path: str) -> list[tuple[int, int]]:
    out = []
    for export in read_module(text, path):
        if export.kind == "function":
            out.append((export.body_start, export.end))
        out += [(m.body_start, m.end) for m in export.methods]
    return out


class JsMutation:
    """Measures one run's mutation score before and after."""

    def __init__(
        self,
        repo: Path,
        runner: JsRunner,
        files: Sequence[str],
        *,
        budget: int | None,
        changed: Mapping[str, set[int]] | None = None,
        emit: Listener | None = None,
        timeout: float = 120.0,
    ) -> None:
        self.runner, self.timeout = runner, timeout
        self.emit: Listener = emit or (lambda kind, data: None)
        self.outcome = MutationOutcome()
        self.sample: list[tuple[MutantRef, Mutant]] = []
        found: list[tuple[MutantRef, Mutant]] = []
        for path in files:
            text = (repo / path).read_text(encoding="utf-8")
            lines = changed.get(path) if changed is not None else None
            if changed is not None and not lines:
                continue
            for n, mutant in enumerate(all_mutants(text, path, _ranges(text, path), lines=lines)):
                ref = MutantRef(path, mutant.line, mutant.kind, mutant.description, mutant.diff,
                                f"{path}:{mutant.line}:{n}")  # fmt: skip
                found.append((ref, mutant))
        self.total = len(found)
        if budget and len(found) > budget:
            found = random.Random(0).sample(found, budget)
            found.sort(key=lambda pair: (pair[0].path, pair[0].line, pair[0].id))
        self.sample = found

    def measure(
        self, which: str, coverage: CoverageReport | None, files: Mapping[str, str] | None = None
    ) -> Score:
        """Run the suite (plus ``files``) against every mutant of the sample."""
        self.emit("mutants", {"measuring": len(self.sample), "total": self.total})
        started = time.monotonic()
        status: dict[str, Status] = {}
        for ref, mutant in self.sample:
            cov = coverage.get(ref.path) if coverage else None
            if cov is None or ref.line in cov.missing_lines:
                status[ref.id] = "not-covered"
                continue
            run = self.runner.run(None, files={**(files or {}), ref.path: mutant.source},
                                  coverage=False, timeout=self.timeout)  # fmt: skip
            if run.result.timed_out:
                status[ref.id] = "timeout"
            else:
                status[ref.id] = "survived" if run.passed else "killed"
        refs = {ref.id: ref for ref, _ in self.sample}
        score = Score(status, refs, self.total, time.monotonic() - started)
        if which == "before":
            self.outcome.before = score
        else:
            self.outcome.after = score
        self.emit("mutation", {"which": which, "score": score})
        return score
