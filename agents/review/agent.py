"""``assay review``: findings on a diff, grounded in the repository, landing on changed lines.

The flow: parse the diff into hunks (:mod:`agents.review.diff`), pick what the token budget can
read (skipped parts are reported, never dropped in silence), ask the model per file with the
related code and the best practices from the index (:mod:`agents.review.context`), then keep
only findings that land on an added line (snapped by a few lines when the model miscounts),
deduplicate them and cap them by severity.  The tests section (diff coverage and generated
tests) is :mod:`agents.review.testsection`; rendering is :mod:`agents.review.report`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from agents.gitdiff import Hunk, parse_diff
from agents.review import prompts
from agents.review.checks import CheckOptions, FindingChecker
from agents.review.context import NoContext, ReviewContext
from agents.review.diff import Skipped, select_hunks
from agents.review.report import CATEGORIES, SEVERITIES, Finding, ReviewReport
from agents.settings import Settings
from flows import (
    Completer,
    FlowRunner,
    LLMUnreachable,
    RetryPolicy,
    Route,
    Stage,
    StageFailed,
    TraceWriter,
)

SNAP_LINES = 3  # a finding this close to an added line of the same hunk is moved onto it
SEVERITY_ALIASES = {
    "critical": "high",
    "blocker": "high",
    "error": "high",
    "major": "high",
    "warning": "medium",
    "moderate": "medium",
    "minor": "low",
    "info": "low",
    "nit": "low",
}
CATEGORY_ALIASES = {
    "correctness": "bug",
    "logic": "bug",
    "error handling": "error-handling",
    "errors": "error-handling",
    "exception": "error-handling",
    "perf": "performance",
    "style": "maintainability",
    "readability": "maintainability",
    "test": "tests",
    "documentation": "docs",
}

Listener = Callable[[str, dict[str, Any]], None]


class _RawFinding(BaseModel):
    model_config = ConfigDict(extra="ignore")

    line: int | str | None = None
    severity: str = "low"
    category: str = "bug"
    message: str = ""
    suggestion: str | None = None

    @field_validator("severity", "category", "message", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return "" if value is None else str(value)

    @field_validator("suggestion", mode="before")
    @classmethod
    def _suggestion(cls, value: Any) -> str | None:
        return None if value in (None, "") else str(value)


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    findings: list[_RawFinding] | None = None


# One model call per file's hunks: YAML findings, repaired once when the reply does not parse.
REVIEW_STAGE = Stage(
    name="review",
    template=prompts.REVIEW,
    system=prompts.SYSTEM,
    schema=_Answer,
    fmt="yaml",
    route=Route(temperature=0.1),
    retry=RetryPolicy(repairs=1),
    max_tokens=600,
    stop=("\n```\n",),
)


@dataclass(frozen=True)
class ReviewOptions:
    token_budget: int = 12000  # diff tokens read in total
    call_tokens: int = 1500  # diff tokens per model call
    max_findings: int = 20
    max_per_file: int = 5
    min_severity: str = "low"
    exclude: tuple[str, ...] = ()
    path_weight: Callable[[str], float] | None = None  # the quality policy's, per path
    context_hits: int = 3
    answer_tokens: int = 600
    max_seconds: float | None = None  # stop asking after this long (the rest is skipped)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> ReviewOptions:
        """The options the settings ask for (``review_*``), with ``overrides`` on top."""
        s = settings
        values: dict[str, Any] = dict(
            token_budget=s.review_token_budget, max_findings=s.review_max_findings,
            max_per_file=s.review_max_per_file, min_severity=s.review_min_severity,
            exclude=tuple(s.review_exclude), max_seconds=s.review_max_minutes * 60,
        )  # fmt: skip
        return cls(**{**values, **overrides})


def normalize_severity(value: str) -> str:
    value = value.strip().lower()
    value = SEVERITY_ALIASES.get(value, value)
    return value if value in SEVERITIES else "low"


def normalize_category(value: str) -> str:
    value = value.strip().lower()
    value = CATEGORY_ALIASES.get(value, value)
    return value if value in CATEGORIES else "maintainability"


def _first_int(value: int | str | None) -> int | None:
    if isinstance(value, int):
        return value
    found = re.search(r"\d+", value or "")
    return int(found.group(0)) if found else None


def _clean_suggestion(text: str | None, current: str) -> str | None:
    if not text:
        return None
    lines = [ln for ln in text.strip("\n").splitlines() if not ln.strip().startswith("```")]
    code = "\n".join(lines).rstrip()
    if not code.strip() or len(lines) > 10 or code.strip() == current.strip():
        return None
    return code


def land(raw: _RawFinding, hunks: list[Hunk]) -> tuple[int, str] | None:
    """The added line a finding lands on (and that line's text), or None when off the diff."""
    line = _first_int(raw.line)
    if line is None:
        return None
    added = {ln.new: ln.text for h in hunks for ln in h.lines if ln.kind == "+" and ln.new}
    if line in added:
        return line, added[line]
    for hunk in hunks:
        near = [n for n in hunk.added if abs(n - line) <= SNAP_LINES]
        if near:
            best = min(near, key=lambda n: abs(n - line))
            return best, added[best]
    return None


def dedupe(findings: list[Finding]) -> tuple[list[Finding], int]:
    """Findings without repeats (same place and the same or a very similar message)."""
    kept: list[Finding] = []
    dropped = 0
    for f in sorted(findings, key=lambda f: SEVERITIES.index(f.severity)):
        twin = next(
            (
                k
                for k in kept
                if k.path == f.path
                and abs(k.line - f.line) <= SNAP_LINES
                and SequenceMatcher(None, k.message.lower(), f.message.lower()).ratio() >= 0.8
            ),
            None,
        )
        if twin is None and f.fingerprint not in {k.fingerprint for k in kept}:
            kept.append(f)
        else:
            dropped += 1
    return kept, dropped


def backed(finding: Finding) -> bool:
    """Whether something assay ran backs the finding (the behaviour diff, a confirmed input)."""
    return finding.source != "model" or finding.confirmed


def cap(findings: list[Finding], total: int, per_file: int) -> tuple[list[Finding], int]:
    """The most severe findings within the limits (those with evidence first), in file and line
    order."""
    ranked = sorted(
        findings, key=lambda f: (not backed(f), SEVERITIES.index(f.severity), f.path, f.line)
    )
    kept: list[Finding] = []
    per: dict[str, int] = {}
    for f in ranked:
        if len(kept) < total and per.get(f.path, 0) < per_file:
            kept.append(f)
            per[f.path] = per.get(f.path, 0) + 1
    return sorted(kept, key=lambda f: (f.path, f.line)), len(findings) - len(kept)


def batches(hunks: list[Hunk], call_tokens: int) -> list[list[Hunk]]:
    """Hunks grouped per file, each group within ``call_tokens`` (one model call each)."""
    out: list[list[Hunk]] = []
    for hunk in hunks:
        last = out[-1] if out else None
        fits = last and last[0].path == hunk.path
        if fits and last is not None and sum(h.tokens for h in last) + hunk.tokens <= call_tokens:
            last.append(hunk)
        else:
            out.append([hunk])
    return out


class ReviewAgent:
    """Reviews one diff with a model (opened by the caller) and an optional index context."""

    def __init__(
        self,
        llm: Completer,
        options: ReviewOptions | None = None,
        *,
        context: ReviewContext | None = None,
        listener: Listener | None = None,
        trace: TraceWriter | None = None,
        check: CheckOptions | None = None,
    ) -> None:
        self.runner = FlowRunner(llm, trace=trace, flow="review")
        self.check = check  # None: model findings are not checked
        self.options = options or ReviewOptions()
        self.stage = replace(REVIEW_STAGE, max_tokens=self.options.answer_tokens)
        self.context: ReviewContext = context or NoContext()
        self.emit: Listener = listener or (lambda kind, data: None)

    def review(self, diff: str, *, head: str = "", extra: Sequence[Finding] = ()) -> ReviewReport:
        """Findings on ``diff``; ``extra`` findings (the behaviour diff's) join them before the
        duplicates and the limits."""
        started = time.monotonic()
        opts = self.options
        files = parse_diff(diff)
        selection = select_hunks(
            files, opts.token_budget, exclude=opts.exclude, path_weight=opts.path_weight
        )
        report = ReviewReport(
            skipped=list(selection.skipped),
            files=len({h.path for h in selection.chosen}),
            total_hunks=selection.total_hunks,
            head=head,
        )
        if not files:
            report.errors.append("the diff is empty or not a unified diff")
        groups = batches(selection.chosen, opts.call_tokens)
        self.emit("plan", {"calls": len(groups), "skipped": len(selection.skipped)})
        practices = self.context.best_practices()
        found: list[Finding] = []
        self.checker = (
            FindingChecker(self.runner, self.check, report.checks) if self.check else None
        )
        for i, group in enumerate(groups):
            if opts.max_seconds is not None and time.monotonic() - started > opts.max_seconds:
                report.skipped += [
                    Skipped(h.path, f"{h.new_start}-{h.new_end}", "over the time budget")
                    for rest in groups[i:]
                    for h in rest
                ]
                break
            self.emit("call", {"done": i, "total": len(groups), "path": group[0].path})
            found += self._review_group(group, practices, report)
        report.index = self.context.status
        kept, report.duplicates = dedupe([*extra, *found])
        min_rank = SEVERITIES.index(normalize_severity(opts.min_severity))
        kept = [f for f in kept if SEVERITIES.index(f.severity) <= min_rank]
        report.findings, report.capped = cap(kept, opts.max_findings, opts.max_per_file)
        spent = self.runner.usage.total
        report.calls = spent.calls + spent.failed_calls
        report.prompt_tokens, report.completion_tokens = (
            spent.prompt_tokens,
            spent.completion_tokens,
        )
        report.llm_seconds = spent.seconds
        report.wall_seconds = time.monotonic() - started
        self.emit("done", {"report": report})
        return report

    def _review_group(
        self, group: list[Hunk], practices: str, report: ReviewReport
    ) -> list[Finding]:
        path = group[0].path
        related = self.context.related(group, self.options.context_hits)
        variables = {
            "practices": prompts.PRACTICES.format(practices=practices) + "\n" if practices else "",
            "related": prompts.RELATED.format(related="\n\n".join(related)) + "\n"
            if related
            else "",
            "path": path,
            "status": "",
            "hunks": "\n".join(h.render() for h in group),
        }
        try:
            result = self.runner.run(self.stage, variables)
        except LLMUnreachable:
            raise
        except StageFailed as exc:
            reason = str(exc).splitlines()[0][:160]
            report.errors.append(f"could not review {path}: {reason}")
            report.skipped += [
                Skipped(h.path, f"{h.new_start}-{h.new_end}", "the model's answer was unusable")
                for h in group
            ]
            return []
        report.reviewed_hunks += len(group)
        out: list[Finding] = []
        for raw in result.value.findings or []:
            message = " ".join(raw.message.split())[:500]
            landed = land(raw, group) if message else None
            if landed is None:
                report.off_diff += 1
                continue
            line, text = landed
            out.append(
                Finding(
                    path=path,
                    line=line,
                    severity=normalize_severity(raw.severity),
                    category=normalize_category(raw.category),
                    message=message,
                    suggestion=_clean_suggestion(raw.suggestion, text),
                    anchor=text,
                )
            )
        if self.checker is not None and out:
            module = path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
            out = self.checker.check(out, group, module)
        return out
