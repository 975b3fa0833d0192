"""Reading traces back: calls, flow steps and per-stage totals, for ``assay trace show``.

Understands the flow runner's ``call`` and ``step`` records and the LLM client's ``llm_call``
and ``parse`` records (``assay cover`` traces), so every trace assay writes reads the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

CALL_EVENTS = ("call", "llm_call")


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
    """How a call went, in a word or a short phrase: ``ok``, ``parse error: …``, ``retry``…"""
    if record.get("event") == "call":
        return str(record.get("parse") or "ok")
    return str(record.get("outcome") or "ok")


def summarize(records: Iterable[Mapping[str, Any]]) -> TraceSummary:
    """Calls in order, flow steps, and totals per stage; a ``parse`` record (the client's
    structured-output event) marks the call before it."""
    summary = TraceSummary()
    for record in records:
        if summary.start is None and "ts" in record:
            summary.start = float(record["ts"])
        event = record.get("event")
        if event in CALL_EVENTS:
            call = dict(record)
            call["outcome"] = outcome(record)
            summary.calls.append(call)
            totals = summary.stages.setdefault(str(record.get("stage", "?")), StageTotals())
            if call["outcome"] == "retry":
                continue
            totals.calls += 1
            totals.prompt_tokens += int(record.get("prompt_tokens") or 0)
            totals.completion_tokens += int(record.get("completion_tokens") or 0)
            totals.seconds += float(record.get("latency") or 0.0)
            if call["outcome"] != "ok":
                totals.failed += 1
        elif event == "parse" and not record.get("ok", True) and summary.calls:
            last = summary.calls[-1]
            if last["outcome"] == "ok":
                last["outcome"] = f"parse error: {record.get('error', '')}"
                summary.stages[str(last.get("stage", "?"))].failed += 1
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
