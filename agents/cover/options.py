"""What one ``assay cover`` run is asked to do: targets, gates, budgets, where tests go."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.cover.gates import GateConfig
from agents.cover.targets import coverage_sources, tests_pythonpath
from agents.settings import Settings

# Test and build files never count as code to cover.
OMIT = ("*/tests/*", "*/test/*", "*/test_*.py", "*_test.py", "*/conftest.py", "*/setup.py")


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
    strategy: str = "direct"  # "direct" prompting or the test-writing "flow"
    max_tests_per_target: int = 2
    rounds: int = 3  # passes over the targets still missed; stops early when one adds nothing
    candidate_timeout: float = 60.0
    suite_timeout: float = 600.0
    test_command: str = "pytest"
    into: str = "new"  # "new": tests/test_<module>_assay.py; "existing": tests/test_<module>.py
    answer_tokens: int = 600
    explore: bool = True  # call the code with generated arguments first, no model (explore.py)
    explore_seconds: float = 20.0  # per file; at most a quarter of --max-minutes over all files
    # Mutants: "off"; "report": the score before → after; "raise": survivors become targets.
    mutants: str = "raise"
    mutation_budget: int | None = 150  # mutants measured at most (a seeded sample beyond)
    mutant_model_targets: int = 5  # functions whose survivors go to the model, at most
    rewrite: bool = True  # the model rewrites explored tests for readability (kept if no loss)
    symbol: str | None = None  # only this function, class or Class.method (assay tests, JS/TS)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> CoverOptions:
        """The options the settings ask for (``test_command``, ``cover_*``, the sandbox's
        timeout), with ``overrides`` on top (``exclude`` adds to ``cover_exclude``)."""
        s = settings
        values: dict[str, Any] = dict(
            exclude=tuple(s.cover_exclude), repeat=s.cover_repeat, attempts=s.cover_attempts,
            mutation=s.cover_mutation, max_tests_per_target=s.cover_tests_per_target,
            candidate_timeout=s.cover_candidate_timeout, suite_timeout=s.sandbox_timeout,
            test_command=s.test_command, explore=s.cover_explore,
            explore_seconds=s.cover_explore_seconds, mutants=s.cover_mutants,
            mutation_budget=s.cover_mutation_budget or None,
        )  # fmt: skip
        extra = tuple(overrides.pop("exclude", ()) or ())
        values["exclude"] = (*values["exclude"], *extra)
        return cls(**{**values, **overrides})

    def gate_config(self, repo: Path, files: list[str]) -> GateConfig:
        """How the gates judge candidates for ``files`` of ``repo`` in this run."""
        return GateConfig(
            test_command=self.test_command,
            sources=tuple(coverage_sources(repo, files)),
            omit=OMIT,
            # Relative to the copy's root, where every sandboxed run starts; run_tests puts the
            # root and src/ first itself, plain runs (repeats, mutants, oracles) need them here.
            pythonpath=tests_pythonpath(repo, files),
            repeat=self.repeat,
            mutation=self.mutation,
            observed_oracles=self.observed_oracles,
            timeout=self.candidate_timeout,
            suite_timeout=self.suite_timeout,
        )
