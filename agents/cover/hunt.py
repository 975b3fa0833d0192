"""Surviving mutants as targets: differential exploration first, then the model.

For each file with survivors, the explorer searches calls that the original and a mutant answer
differently (:func:`agents.cover.explore.explore_mutants`); the calls become one candidate whose
every test is checked against its own mutant (a test that does not kill it goes).  When the
score measured a sample, the search goes on, in a smaller share of its time, to the mutants the
sample left out that no call of the explored tests tells apart already.  What no call
told apart goes to the model, a few functions at most: the function with the mutant's diff,
"this change must make your test fail".  Every candidate passes every gate; the mutant gate
asks for the named mutants (:mod:`agents.cover.mutant_gate`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.cover.acceptance import Acceptance
from agents.cover.context import build_context
from agents.cover.drafting import KILL_MUTANT, DirectDrafter, Drafter
from agents.cover.explore import explore_mutants
from agents.cover.mutant_gate import NamedMutant
from agents.cover.mutants import Mutant
from agents.cover.mutation import MutantRef
from agents.cover.mutation_step import MutationStep, by_target, named
from agents.cover.options import CoverOptions
from agents.cover.report import TargetOutcome
from agents.cover.targets import Target
from flows import CoverageReport, FlowRunner, Sandbox

Listener = Callable[[str, dict[str, Any]], None]
# The engine's drafts-through-the-gates loop: (target, drafter, must_kill, outcome) → accepted?
Chain = Callable[[Target, Drafter, Sequence[NamedMutant], TargetOutcome], bool]
Survivor = tuple[MutantRef, Mutant]
SECONDS_PER_MUTANT = 2.0  # differential exploration's time per surviving mutant…
SECONDS_BEYOND = 0.5  # …and per mutant the sample left out (searched after the survivors)…
HUNT_FILE_FACTOR = 6.0  # …at most this many times --explore-seconds for one file…
HUNT_SHARE = 0.45  # …and at most this share of the time left (the model's part comes after it)
MAX_BEYOND = 300  # mutants beyond the sample handed to the search, per file


@dataclass
class Hunt:
    repo: Path
    sandbox: Sandbox
    runner: FlowRunner
    step: MutationStep
    acceptance: Acceptance
    options: CoverOptions
    pythonpath: str
    emit: Listener
    check_budget: Callable[[], None]

    def explore(self, current: CoverageReport, accepted: dict[str, str]) -> CoverageReport:
        """Differential exploration for the survivors of the suite with the tests
        ``accepted`` so far (no model: run early, before the budget goes to the model)."""
        self.check_budget()
        survivors = self.step.survivors(dict(accepted), self.runner.seconds_left)
        paths = sorted({ref.path for ref, _ in survivors})
        beyond = {path: self.step.beyond(path, MAX_BEYOND) for path in paths}
        self.emit("survivors", {"count": len(survivors), "beyond": sum(map(len, beyond.values()))})
        for path in paths:
            self.check_budget()
            mine = [s for s in survivors if s[0].path == path]
            current, _killed = self._explore(path, mine, beyond[path], current)
        return current

    def ask_model(self, accepted: dict[str, str], chain: Chain) -> None:
        """The model for the survivors no call told apart, a few functions at most."""
        self.check_budget()
        left = self.step.survivors(dict(accepted), self.runner.seconds_left)
        if left:
            self.emit("survivors", {"count": len(left), "model": True})
        for target, items in by_target(self.repo, left)[: self.options.mutant_model_targets]:
            self.check_budget()
            ref, mutant = items[0]  # one mutant a function: the model's time is dear
            outcome = TargetOutcome(f"{target.key} (mutant {ref.id})")
            self.acceptance.report.targets.append(outcome)
            self.emit("target", {"target": target, "chain": 0, "mutant": ref.description})
            drafter = self._model(target, ref)
            chain(target, drafter, named([(ref, mutant)]), outcome)

    def _explore(
        self,
        path: str,
        survivors: Sequence[Survivor],
        beyond: Sequence[Survivor],
        current: CoverageReport,
    ) -> tuple[CoverageReport, set[str]]:
        """The search for ``survivors`` of ``path`` and, after them, the mutants ``beyond`` the
        sample; its calls through the gates."""
        targets = [t for t, _ in by_target(self.repo, [*survivors, *beyond])]
        seconds = self._seconds(len(survivors), len(beyond))
        self.emit("explore", {"path": path, "targets": len(targets), "seconds": seconds})
        found = explore_mutants(
            self.sandbox, self.repo, targets, [(r.id, r.line, m.source) for r, m in survivors],
            seconds=seconds, pythonpath=self.pythonpath,
            beyond=[(r.id, r.line, m.source) for r, m in beyond],
            known=self.acceptance.known_calls.get(path, ()),
        )  # fmt: skip
        # The gate asks for the sampled survivors, and for the mutants beyond the sample that
        # a call claims to kill (the others may well be killed by the suite already).
        claimed = {call.get("kills") for call in found.calls}
        wanted = [*survivors, *(item for item in beyond if item[0].id in claimed)]
        current, verdict = self.acceptance.take_exploration(
            found, targets, current, "mutants", must_kill=named(wanted)
        )
        outcome = self.step.outcome
        outcome.beyond["searched"] += len(beyond)
        outcome.beyond["caught"] += found.caught
        if verdict is None or not verdict.accepted:
            return current, set()
        outside = {ref.id for ref, _ in beyond}
        outcome.beyond_killed += [i for i in verdict.killed_ids if i in outside]
        return current, set(verdict.killed_ids)

    def _seconds(self, survivors: int, beyond: int = 0) -> float:
        """The search's time for one file: ``SECONDS_PER_MUTANT`` a survivor and
        ``SECONDS_BEYOND`` a mutant beyond the sample, at most ``HUNT_FILE_FACTOR`` times the
        exploration's seconds per file, and ``HUNT_SHARE`` of the time left.  It is the
        cheapest way to a killed mutant there is (tens of them a minute, where a model round
        gets one test at best), so it gets the larger part."""
        cap = HUNT_FILE_FACTOR * self.options.explore_seconds
        left = self.runner.seconds_left
        if left is not None:
            cap = min(cap, left * HUNT_SHARE)
        wanted = SECONDS_PER_MUTANT * survivors + SECONDS_BEYOND * beyond
        return max(2.0, min(wanted, cap))

    def _model(self, target: Target, ref: MutantRef) -> DirectDrafter:
        ctx = build_context(self.repo, target, self.acceptance.style_file(target))
        return DirectDrafter(
            self.runner, target, ctx, attempts=self.options.attempts,
            answer_tokens=self.options.answer_tokens, sample=0, stage=KILL_MUTANT,
            extra={"diff": ref.diff, "line": ref.line},
        )  # fmt: skip
