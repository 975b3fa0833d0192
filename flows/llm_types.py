"""What a model call returns (:class:`Completion`) and what a run's calls cost (:class:`Usage`:
tokens, calls and time per stage, counted by :class:`flows.runtime.FlowRunner`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Completion:
    """One answer from the model."""

    text: str
    model: str
    stage: str
    prompt_tokens: int
    completion_tokens: int
    latency: float
    cached: bool = False
    finish_reason: str | None = None
    retries: int = 0  # answers of 429/5xx/garbage/transport errors retried before this one

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class StageUsage:
    calls: int = 0
    cached_calls: int = 0
    failed_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, other: StageUsage) -> None:
        self.calls += other.calls
        self.cached_calls += other.cached_calls
        self.failed_calls += other.failed_calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.seconds += other.seconds


@dataclass
class Usage:
    """Tokens, calls and model time of one run, in total and per stage.

    Cached answers count as calls but cost no tokens and no time: that is the point of the cache.
    """

    stages: dict[str, StageUsage] = field(default_factory=dict)

    def stage(self, name: str) -> StageUsage:
        return self.stages.setdefault(name, StageUsage())

    @property
    def total(self) -> StageUsage:
        out = StageUsage()
        for usage in self.stages.values():
            out.add(usage)
        return out

    def as_dict(self) -> dict[str, Any]:
        def one(u: StageUsage) -> dict[str, Any]:
            return {
                "calls": u.calls,
                "cached_calls": u.cached_calls,
                "failed_calls": u.failed_calls,
                "prompt_tokens": u.prompt_tokens,
                "completion_tokens": u.completion_tokens,
                "seconds": round(u.seconds, 3),
            }

        return {"total": one(self.total), "stages": {k: one(v) for k, v in self.stages.items()}}
