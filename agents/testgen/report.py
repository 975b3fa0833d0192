"""What an ``assay tests`` run found and did: behaviours, per behaviour the tests accepted and
the rejections, what was written, and the model's cost."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flows import Behaviour


@dataclass
class BehaviourResult:
    behaviour: Behaviour
    accepted: list[str] = field(default_factory=list)  # test names
    rejected: list[str] = field(default_factory=list)  # reasons, in order
    killed: str = ""
    oracle_changes: list[dict[str, str]] = field(default_factory=list)


@dataclass
class TestgenReport:
    __test__ = False

    symbol: str
    behaviours: list[Behaviour] = field(default_factory=list)
    results: list[BehaviourResult] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # accepted, then broke the whole suite
    rewrite: dict[str, Any] = field(default_factory=dict)  # the readable rewrite's outcome
    mutants: dict[str, Any] = field(default_factory=dict)  # the symbol's score, survivors
    possible_bugs: list[dict[str, str]] = field(default_factory=list)  # docstring vs code
    explored: dict[str, Any] = field(default_factory=dict)  # what exploration tried and kept
    examples: str = ""  # where the style examples came from
    warnings: list[str] = field(default_factory=list)  # e.g. the index could not be read
    diff: str = ""
    stopped: str = ""
    empty_replies: int = 0  # model replies that added nothing: asked again, never judged
    first_seconds: float | None = None  # to the first accepted test
    calls: int = 0
    tokens: int = 0
    seconds: float = 0.0

    @property
    def accepted(self) -> int:
        return sum(len(r.accepted) for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "behaviours": [b.model_dump() for b in self.behaviours],
            "results": [
                {
                    "behaviour": r.behaviour.line,
                    "accepted": r.accepted,
                    "rejected": r.rejected,
                    "killed": r.killed,
                    "oracle_changes": r.oracle_changes,
                }
                for r in self.results
            ],
            "accepted": self.accepted,
            "written": self.written,
            "removed": self.removed,
            "mutants": self.mutants,
            "rewrite": self.rewrite,
            "possible_bugs": self.possible_bugs,
            "explored": self.explored,
            "examples": self.examples,
            "warnings": self.warnings,
            "stopped": self.stopped,
            "empty_replies": self.empty_replies,
            "first_seconds": None if self.first_seconds is None else round(self.first_seconds, 1),
            "calls": self.calls,
            "tokens": self.tokens,
            "seconds": round(self.seconds, 1),
        }
