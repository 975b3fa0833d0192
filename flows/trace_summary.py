"""Reading traces back: calls, flow steps and per-stage totals, for ``assay trace show``.

Every model call assay makes goes through the flow runner, which writes one ``call`` record per
call and ``step`` records for a flow's own decisions: one schema for every trace.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StageTotals:
    calls: int = 0
    failed: int = 0  # no answer (LLM error) or an answer that did not parse
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0


@dataclass
class TraceSummary:
    calls: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    stages: dict[str, StageTotals] = field(default_factory=dict)
    start: float | None = None  # timestamp of the first record

    @property
    def total(self) -> StageTotals:
        out = StageTotals()
        for t in self.stages.values():
            out.calls += t.calls
            out.failed += t.failed
            out.prompt_tokens += t.prompt_tokens
            out.completion_tokens += t.completion_tokens
            out.seconds += t.seconds
        return out


def outcome(record: Mapping[str, Any]) -> str:
    """How a call went, in a word or a short phrase: ``ok``, ``error: …``, ``no answer``…"""
    return str(record.get("parse") or "ok")


def summarize(records: Iterable[Mapping[str, Any]]) -> TraceSummary:
    """Calls in order, flow steps, and totals per stage."""
    summary = TraceSummary()
    for record in records:
        if summary.start is None and "ts" in record:
            summary.start = float(record["ts"])
        event = record.get("event")
        if event == "call":
            call = dict(record)
            call["outcome"] = outcome(record)
            summary.calls.append(call)
            totals = summary.stages.setdefault(str(record.get("stage", "?")), StageTotals())
            totals.calls += 1
            totals.prompt_tokens += int(record.get("prompt_tokens") or 0)
            totals.completion_tokens += int(record.get("completion_tokens") or 0)
            totals.seconds += float(record.get("latency") or 0.0)
            if call["outcome"] not in ("ok", "read by the caller"):
                totals.failed += 1
        elif event == "step":
            summary.steps.append(dict(record))
    return summary


def describe_step(record: Mapping[str, Any]) -> str:
    """One line for a flow step record."""
    skip = {"ts", "event", "flow", "kind"}
    kind = str(record.get("kind", "step"))
    if kind == "stage":
        return f"stage {record.get('name', '')}"
    details = ", ".join(f"{k}={_short(v)}" for k, v in record.items() if k not in skip)
    return f"{kind}: {details}" if details else kind


def _short(value: Any, limit: int = 80) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
