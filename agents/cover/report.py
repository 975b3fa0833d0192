"""What a cover run did: coverage before → after per file, tests by outcome, cost."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from flows import CoverageReport, FileCoverage


@dataclass(frozen=True)
class Percentages:
    line: float
    branch: float
    combined: float  # coverage.py's line+branch figure

    @classmethod
    def of_file(cls, cov: FileCoverage | None) -> Percentages:
        if cov is None:
            return cls(0.0, 0.0, 0.0)
        return cls(round(cov.line_percent, 2), round(cov.branch_percent, 2), round(cov.percent, 2))

    @classmethod
    def of_files(cls, report: CoverageReport | None, paths: list[str]) -> Percentages:
        files = [report.get(p) for p in paths] if report else []
        present = [f for f in files if f is not None]
        statements = sum(f.num_statements for f in present)
        missing = sum(len(f.missing_lines) for f in present)
        branches = sum(f.num_branches for f in present)
        missing_b = sum(len(f.missing_branches) for f in present)
        return cls(
            _pct(statements - missing, statements),
            _pct(branches - missing_b, branches),
            _pct(statements - missing + branches - missing_b, statements + branches),
        )


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 100.0


@dataclass
class TargetOutcome:
    target: str
    accepted: int = 0
    rejected: list[str] = field(default_factory=list)
    gained_lines: list[int] = field(default_factory=list)
    gained_branches: list[list[int]] = field(default_factory=list)


@dataclass
class CoverReport:
    repo: str
    files: list[str] = field(default_factory=list)
    before: dict[str, Percentages] = field(default_factory=dict)
    after: dict[str, Percentages] = field(default_factory=dict)
    total_before: Percentages | None = None
    total_after: Percentages | None = None
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    targets: list[TargetOutcome] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    # Expected values the model got wrong and we took from the code's behaviour: review them,
    # a disagreement can be a bug in the code.
    oracle_repairs: list[dict[str, Any]] = field(default_factory=list)
    rolled_back: list[str] = field(default_factory=list)
    # Exploration, per file: calls tried and kept, tests accepted (or why the module was not).
    explored: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    diff: str = ""  # --dry-run: what would have been written
    stopped: str = "done"  # or budget: minutes / tokens / target coverage, interrupted, error
    usage: dict[str, Any] = field(default_factory=dict)
    llm_seconds: float = 0.0
    tokens: int = 0
    wall_seconds: float = 0.0
    sandbox: str = ""
    # The mutation score before → after, survivors, tests kept for mutants (mutation_step).
    mutation: dict[str, Any] = field(default_factory=dict)
    # Explored tests the model rewrote for readability: tried, kept, why not, tokens, examples.
    rewrite: dict[str, Any] = field(default_factory=dict)

    def set_coverage(self, which: str, report: CoverageReport | None) -> None:
        per_file = {p: Percentages.of_file(report.get(p) if report else None) for p in self.files}
        total = Percentages.of_files(report, self.files)
        if which == "before":
            self.before, self.total_before = per_file, total
        else:
            self.after, self.total_after = per_file, total

    def as_dict(self) -> dict[str, Any]:
        def pct(p: Percentages | None) -> dict[str, float] | None:
            return asdict(p) if p else None

        return {
            "repo": self.repo,
            "stopped": self.stopped,
            "coverage": {
                "total": {"before": pct(self.total_before), "after": pct(self.total_after)},
                "files": {
                    path: {"before": pct(self.before.get(path)), "after": pct(self.after.get(path))}
                    for path in self.files
                },
            },
            "tests": {
                "accepted": self.accepted,
                "rejected": dict(sorted(self.rejected.items())),
            },
            "mutation": self.mutation,
            "rewrite": self.rewrite,
            "targets": [asdict(t) for t in self.targets],
            "written": self.written,
            "observed_oracles": self.oracle_repairs,
            "rolled_back": self.rolled_back,
            "explored": self.explored,
            "skipped": [{"path": p, "why": w} for p, w in self.skipped],
            "llm": {"tokens": self.tokens, "seconds": round(self.llm_seconds, 1), **self.usage},
            "wall_seconds": round(self.wall_seconds, 1),
            "sandbox": self.sandbox,
        }
