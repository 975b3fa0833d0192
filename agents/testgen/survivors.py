"""The symbol's surviving mutants, after its behaviour tests: measured, then hunted.

The mutants of the symbol's body (:func:`agents.cover.mutants.all_mutants`, a seeded sample of
:data:`MAX_MUTANTS`) are run against the accepted tests alone (the written test file, the
cover engine's :class:`agents.cover.mutation.MutationRunner`): the symbol's mutation score.
For the survivors, differential exploration (:func:`agents.cover.explore.explore_mutants`, the
hunt of ``assay cover``) looks for calls that the original and a mutant answer differently;
the calls become one candidate (checking what the original did) that goes through the gates
like every other test.  No model: the hunt's model round is ``assay cover``'s.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.cover.explore import explore_mutants, render_tests
from agents.cover.gates import GateConfig, Verdict
from agents.cover.mutants import Mutant, all_mutants
from agents.cover.mutation import MutantRef, MutationConfig, MutationRunner, Sample, Score
from agents.cover.targets import Target
from agents.testgen.report import BehaviourResult
from agents.testgen.symbols import Symbol
from flows import Behaviour, Sandbox

Listener = Callable[[str, dict[str, Any]], None]

MAX_MUTANTS = 24


@dataclass
class MutantOutcome:
    """The symbol's mutation score from its accepted tests, before and after the hunt."""

    measured: int = 0
    killed_before: int = 0
    killed_after: int = 0
    survivors: list[dict[str, Any]] = field(default_factory=list)  # after the hunt

    def as_dict(self) -> dict[str, Any]:
        return {"measured": self.measured, "killed_before": self.killed_before,
                "killed_after": self.killed_after, "survivors": self.survivors}  # fmt: skip


def symbol_mutants(repo: Path, symbol: Symbol, seed: int = 0) -> Sample:
    source = (repo / symbol.path).read_text(encoding="utf-8")
    found = []
    for n, mutant in enumerate(all_mutants(source, [(symbol.body_start, symbol.end)])):
        ref = MutantRef(
            symbol.path, mutant.line, mutant.kind, mutant.description, mutant.diff,
            f"{symbol.path}:{mutant.line}:{n}",
        )  # fmt: skip
        found.append((ref, mutant))
    sample = Sample(found, len(found))
    if len(found) > MAX_MUTANTS:
        chosen = sorted(random.Random(seed).sample(range(len(found)), MAX_MUTANTS))
        sample.mutants = [found[i] for i in chosen]
    return sample


class SurvivorHunt:
    """Scores the symbol's mutants against the accepted tests; finds calls for survivors."""

    def __init__(
        self, repo: Path, sandbox: Sandbox, symbol: Symbol, gates: GateConfig, test_file: str
    ) -> None:
        self.repo, self.sandbox, self.symbol, self.test_file = repo, sandbox, symbol, test_file
        config = MutationConfig(
            pythonpath=gates.pythonpath, sources=gates.sources, omit=gates.omit,
            test_command=gates.test_command, suite_args=(test_file,),
            suite_timeout=gates.suite_timeout,
        )  # fmt: skip
        self.runner = MutationRunner(sandbox, config)
        self.sample = symbol_mutants(repo, symbol)
        self.outcome = MutantOutcome()

    def score(self, tests: Mapping[str, str], seconds: float) -> Score:
        """The sample against the accepted tests alone (``tests``: path → text)."""
        return self.runner.score(self.sample, dict(tests), seconds=seconds)

    def survivors(self, score: Score) -> list[tuple[MutantRef, Mutant]]:
        alive = {ref.id for ref in score.survivors()}
        return [(ref, m) for ref, m in self.sample.mutants if ref.id in alive]

    def candidate(
        self, target: Target, survivors: list[tuple[MutantRef, Mutant]], *, seconds: float,
        pythonpath: str,
    ) -> tuple[str | None, dict[str, str]]:  # fmt: skip
        """A test module of calls that tell survivors apart from the original (None: none
        found), and per test the mutants its call told apart."""
        found = explore_mutants(
            self.sandbox, self.repo, [target],
            [(ref.id, ref.line, mutant.source) for ref, mutant in survivors],
            seconds=seconds, pythonpath=pythonpath,
        )  # fmt: skip
        kills: dict[str, str] = {}
        return render_tests(found.calls, target.module, kills), kills

    def run(
        self,
        tests: Mapping[str, str],
        target: Target,
        pythonpath: str,
        *,
        seconds: float,
        judge: Callable[[str], Verdict],
        accept: Callable[[Verdict, BehaviourResult], None],
        emit: Listener,
    ) -> tuple[MutantOutcome, BehaviourResult | None]:
        """Score, then hunt the survivors in about ``seconds``: the outcome, and the result of
        the hunt's candidate (None when there was none)."""
        out = self.outcome
        if not self.sample.mutants:
            return out, None
        emit("mutants", {"measuring": len(self.sample.mutants), "symbol": self.symbol.qualname})
        score = self.score(tests, seconds=seconds / 2)
        out.measured, out.killed_before = score.measured, score.killed
        out.killed_after = score.killed
        survivors = self.survivors(score)
        out.survivors = [ref.as_dict() for ref, _ in survivors]
        emit("survivors", {"count": len(survivors), "measured": score.measured})
        if not survivors:
            return out, None
        code, kills = self.candidate(
            target, survivors, seconds=max(2.0, seconds / 4), pythonpath=pythonpath
        )
        if code is None:
            return out, None
        behaviour = Behaviour(
            kind="edge", origin="mutants",
            description=f"tells apart {len(survivors)} surviving mutant(s) from the original",
        )  # fmt: skip
        result = BehaviourResult(behaviour)
        emit("attempt", {"behaviour": behaviour, "attempt": 1, "explored": True})
        verdict = judge(code)
        if not verdict.accepted or verdict.candidate is None:
            assert verdict.rejection is not None
            result.rejected.append(f"explored: {verdict.rejection.reason}")
            emit("rejected", {"behaviour": behaviour, "reason": verdict.rejection.reason,
                              "detail": verdict.rejection.detail})  # fmt: skip
            return out, result
        accept(verdict, result)
        told = {i for name in verdict.candidate.tests for i in kills.get(name, "").split(", ")}
        out.killed_after += sum(1 for ref, _ in survivors if ref.id in told)
        out.survivors = [ref.as_dict() for ref, _ in survivors if ref.id not in told]
        return out, result
