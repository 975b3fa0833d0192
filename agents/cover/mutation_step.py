"""Mutants in a cover run: the score before → after, and surviving mutants as targets.

Before the model is asked anything, the suite is scored against a sample of mutants of the
targeted code (:mod:`agents.cover.mutation`).  After the coverage rounds, with ``--mutants
raise``, each surviving mutant becomes a target (Meta's ACH idea, done locally): first
*differential exploration* (:func:`agents.cover.explore.explore_mutants`) looks for a call whose
outcome differs between the original and the mutant, which becomes a test asserting the
original's behaviour; what it cannot tell apart goes to the model with the mutant's diff ("this
change must make your test fail").  Either way the candidate passes every gate, the mutant gate
asking for that very mutant.  At the end the survivors are measured again with the final suite.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.cover.gates import GateConfig
from agents.cover.mutant_gate import NamedMutant
from agents.cover.mutants import Mutant
from agents.cover.mutation import MutantRef, MutationConfig, MutationRunner, Sample, Score
from agents.cover.mutation import sample_mutants as sample_of
from agents.cover.targets import Target, module_of
from flows import Sandbox

Listener = Callable[[str, dict[str, Any]], None]
# The mutation score after the run is measured within what is left of the time budget, or in
# this many seconds when less is left (survivors not measured again by then count as alive).
AFTER_SCORE_SECONDS = 20.0


@dataclass
class MutationOutcome:
    """What the report shows: the scores, the survivors, and which test was kept for which
    mutant."""

    before: Score | None = None
    after: Score | None = None
    kept_for: dict[str, str] = field(default_factory=dict)  # "test file::test" → mutant id
    not_rerun: int = 0  # survivors the time budget left no time to measure again: still alive
    # Mutants the sample left out that the hunt searched too: how many, how many a call of the
    # explored tests already told apart, and which ones a new test kills.
    beyond: dict[str, Any] = field(default_factory=lambda: {"searched": 0, "caught": 0})
    beyond_killed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        after = self.after or self.before
        return {
            "before": self.before.as_dict() if self.before else None,
            "after": self.after.as_dict() if self.after else None,
            "survivors": [ref.as_dict() for ref in after.survivors()] if after else [],
            "tests_for_mutants": self.kept_for,
            "not_rerun": self.not_rerun,
            "beyond_sample": {**self.beyond, "killed": list(self.beyond_killed)},
        }


class MutationStep:
    """Scores the suite of one cover run and hands its survivors out as targets."""

    def __init__(
        self,
        repo: Path,
        sandbox: Sandbox,
        config: MutationConfig,
        *,
        budget: int | None,
        changed: Mapping[str, set[int]] | None = None,
        emit: Listener | None = None,
    ) -> None:
        self.repo, self.budget, self.changed = repo, budget, changed
        self.runner = MutationRunner(sandbox, config)
        self.emit: Listener = emit or (lambda kind, data: None)
        self.sample = Sample()
        self.outcome = MutationOutcome()
        self._current: Score | None = None

    @classmethod
    def for_run(
        cls,
        repo: Path,
        sandbox: Sandbox,
        gates: GateConfig,
        budget: int | None,
        changed: Mapping[str, set[int]] | None,
        emit: Listener,
    ) -> MutationStep:
        """The step for a cover run whose gates are configured as ``gates``."""
        config = MutationConfig(
            pythonpath=gates.pythonpath, sources=gates.sources, omit=gates.omit,
            test_command=gates.test_command, suite_args=gates.suite_args,
            suite_timeout=gates.suite_timeout,
        )  # fmt: skip
        return cls(repo, sandbox, config, budget=budget, changed=changed, emit=emit)

    def measure_before(self, files: Sequence[str], seconds: float | None = None) -> Score:
        sample = sample_of(self.repo, files, self.budget)
        if self.changed is not None:  # --diff: the mutants of the changed lines only
            sample.mutants = [
                (ref, m) for ref, m in sample.mutants if ref.line in self.changed.get(ref.path, ())
            ]
            sample.rest = [
                (ref, m) for ref, m in sample.rest if ref.line in self.changed.get(ref.path, ())
            ]
            sample.total = len(sample.mutants) + len(sample.rest)
        self.sample = sample
        self.emit("mutants", {"measuring": len(sample.mutants), "total": sample.total})
        score = self.runner.score(sample, {}, seconds=seconds)
        self.outcome.before = self._current = score
        self.emit("mutation", {"which": "before", "score": score})
        return score

    def survivors(
        self, extra_files: Mapping[str, str], seconds: float | None = None
    ) -> list[tuple[MutantRef, Mutant]]:
        """The mutants the suite (with ``extra_files``, the tests accepted so far) lets live,
        measured again for at most ``seconds`` (those not rerun by then keep their outcome)."""
        assert self._current is not None, "measure_before first"
        alive = {ref.id for ref in self._current.survivors()}
        if not alive:
            return []
        again = self.runner.score(self.sample, extra_files, only=alive, seconds=seconds)
        self.outcome.not_rerun = len(alive - set(again.status))
        self._current = self._current.updated(again.status)
        left = {ref.id for ref in self._current.survivors()}
        return [(ref, m) for ref, m in self.sample.mutants if ref.id in left]

    def beyond(self, path: str, limit: int) -> list[tuple[MutantRef, Mutant]]:
        """At most ``limit`` mutants of ``path`` that the sample left out (in the seeded
        order): the hunt searches them too where its time allows.  Their tests count for the
        score only through the sampled mutants they happen to kill as well."""
        return [(ref, m) for ref, m in self.sample.rest if ref.path == path][:limit]

    def measure_after(
        self, extra_files: Mapping[str, str], seconds_left: float | None = None
    ) -> Score | None:
        """The score at the end, in what is left of the run's time (``seconds_left``; None: no
        limit) or :data:`AFTER_SCORE_SECONDS` when less is left."""
        if self._current is None:
            return None
        seconds = None if seconds_left is None else max(seconds_left, AFTER_SCORE_SECONDS)
        self.survivors(extra_files, seconds)
        self.outcome.after = self._current
        self.emit("mutation", {"which": "after", "score": self._current})
        return self._current


def named(items: Sequence[tuple[MutantRef, Mutant]]) -> list[NamedMutant]:
    return [NamedMutant(ref.id, ref.path, m.source, ref.description) for ref, m in items]


def target_of(
    repo: Path, path: str, lines: Sequence[int], functions: list[Span] | None = None
) -> Target:
    """The target standing for mutants of ``path`` on ``lines``: the innermost function that
    holds them all (the module when none does).  ``functions``: the file's
    :func:`spans`, when the caller has them already."""
    source = (repo / path).read_text(encoding="utf-8")
    module, root = module_of(repo, path)
    best: tuple[int, int, str] = (1, max(1, len(source.splitlines())), "<module>")
    for start, end, qualname in spans(source) if functions is None else functions:
        # ``<=``: a function as long as the file (its only one) stands for it, not the module.
        if all(start <= n <= end for n in lines) and end - start <= best[1] - best[0]:
            best = (start, end, qualname)
    start, end, qualname = best
    return Target(path, module, root, qualname, start, end, tuple(sorted(set(lines))), ())


Function = ast.FunctionDef | ast.AsyncFunctionDef
Span = tuple[int, int, str]  # first line, last line, qualified name


def spans(source: str) -> list[Span]:
    """Where each function and method of ``source`` starts and ends, with its name."""
    return [
        (node.lineno, node.end_lineno or node.lineno, qualname)
        for node, qualname in _functions(ast.parse(source))
    ]


def _functions(tree: ast.AST, prefix: str = "") -> list[tuple[Function, str]]:
    out: list[tuple[Function, str]] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            out.append((node, prefix + node.name))
            out += _functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            out += _functions(node, f"{prefix}{node.name}.")
    return out


def by_target(
    repo: Path, survivors: Sequence[tuple[MutantRef, Mutant]]
) -> list[tuple[Target, list[tuple[MutantRef, Mutant]]]]:
    """Survivors grouped by the function they are in (most survivors first)."""
    groups: dict[tuple[str, str], tuple[Target, list[tuple[MutantRef, Mutant]]]] = {}
    parsed: dict[str, list[Span]] = {}
    for item in survivors:
        ref = item[0]
        if ref.path not in parsed:
            parsed[ref.path] = spans((repo / ref.path).read_text(encoding="utf-8"))
        target = target_of(repo, ref.path, [ref.line], parsed[ref.path])
        key = (ref.path, target.qualname)
        if key not in groups:
            groups[key] = (target, [])
        groups[key][1].append(item)
    out = []
    for target, items in groups.values():
        lines = [ref.line for ref, _ in items]
        out.append((target_of(repo, target.path, lines, parsed[target.path]), items))
    return sorted(out, key=lambda g: (-len(g[1]), g[0].path, g[0].start))
