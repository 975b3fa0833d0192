"""Findings that survive a check: a second short model call scores each model finding against
the code, a failing input the finding claims is run on the head, and a claimed slowdown is
measured against the base (:func:`measure_slowdowns`).

Small models write plausible findings about things that are not wrong.  Each model finding gets
one more short call (``check``): a score from 0 to 10 with a reason, and optionally a concrete
call that shows the problem and what should happen.  A finding scored below the threshold
(``review_min_score``) is dropped and counted.  A claimed call is run on the head in the sandbox
(the behaviour diff's replay, :class:`agents.review.behaviour.CallRunner`): when it fails as
claimed the finding is marked confirmed; when it runs fine the finding is dropped (refuted); a
call that cannot be made (an unknown name, a syntax error) leaves the finding as scored.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from agents.gitdiff import Hunk
from agents.review import prompts
from agents.review.behaviour_calls import comparable, result_text
from agents.review.report import BehaviourSection, Checks, Finding
from flows import FlowRunner, LLMUnreachable, RetryPolicy, Route, Stage, StageFailed

# (path, [call texts], files to put in place or None) → {call text: (outcome, stable)}: runs calls
# in a file's module on the head.
RunCalls = Callable[
    [str, list[str], dict[str, str | bytes] | None], dict[str, tuple[dict[str, Any], bool]]
]


class _Score(BaseModel):
    model_config = ConfigDict(extra="ignore")

    score: int  # required: an answer without one is not a verdict (the finding stays)
    reason: str = ""
    call: str | None = None
    expect: str | None = None

    @field_validator("score", mode="before")
    @classmethod
    def _score(cls, value: Any) -> int:
        digits = "".join(ch for ch in str(value).split("/")[0] if ch.isdigit())
        if not digits:
            raise ValueError("give score as a number from 0 to 10")
        return max(0, min(10, int(digits)))

    @field_validator("reason", mode="before")
    @classmethod
    def _reason(cls, value: Any) -> str:
        return "" if value is None else " ".join(str(value).split())[:300]

    @field_validator("call", "expect", mode="before")
    @classmethod
    def _code(cls, value: Any) -> str | None:
        text = "" if value is None else str(value).strip().strip("`").strip()
        return text or None


CHECK_STAGE = Stage(
    name="check",
    template=prompts.CHECK,
    system=prompts.CHECK_SYSTEM,
    schema=_Score,
    fmt="yaml",
    route=Route(temperature=0.0),
    retry=RetryPolicy(repairs=1),
    max_tokens=160,
    stop=("\n```\n",),
)


@dataclass(frozen=True)
class CheckOptions:
    min_score: int = 5  # findings scored lower are dropped
    run_calls: RunCalls | None = None  # None: claimed calls are not run


def _call_text(text: str | None) -> str | None:
    """A claimed call that can be run: one call expression, nothing else."""
    if not text or len(text) > 200:
        return None
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None
    return text if isinstance(node, ast.Call) else None


# An error of the call itself, not of the code: arity or keywords (TypeError), or an instance's
# attribute reached through its class (``Cls._slot.method()``: AttributeError of a descriptor).
MISCALL = re.compile(
    r"missing \d+ required (positional|keyword-only) argument|takes (from )?\d+ (to \d+ )?"
    r"positional arguments? but \d+ (were|was) given|unexpected keyword argument|"
    r"got multiple values for argument|"
    r"'(member_descriptor|getset_descriptor|property|method_descriptor)' object has no attribute"
)
MISCALL_TYPES = frozenset({"TypeError", "AttributeError"})


def _fails(outcome: dict[str, Any], expect: str | None) -> bool | None:
    """Whether a claimed call failed as claimed (None: it says nothing)."""
    if not comparable(outcome):
        return None
    if "raises" in outcome:  # raising where a value (or nothing in particular) was expected,
        # unless the claimed call does not fit the function (then it shows nothing)
        miscall = MISCALL.search(str(outcome.get("message", "")))
        return not (outcome["raises"] in MISCALL_TYPES and miscall)
    wants_raise = expect is None or expect.lower().startswith(("raise", "exception", "error"))
    if wants_raise:
        return False
    try:
        expected = ast.literal_eval(expect)  # type: ignore[arg-type]
        got = ast.literal_eval(outcome.get("repr") or "")
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return bool(got != expected)


MISSING_ATTRIBUTE = re.compile(r"has no attribute '(\w+)'")


def _invented_attribute(outcome: dict[str, Any], hunks: str) -> bool:
    """An AttributeError for a name the changed code never uses (``AtomicSaver(…).close()``:
    the model's invention); a misspelt name the change does use (``issupserset``) is the bug."""
    found = MISSING_ATTRIBUTE.search(str(outcome.get("message", "")))
    return (
        outcome.get("raises") == "AttributeError"
        and found is not None
        and f".{found.group(1)}" not in hunks
    )


class FindingChecker:
    """Scores and runs the claims of model findings (one short call per finding)."""

    def __init__(self, runner: FlowRunner, options: CheckOptions, checks: Checks) -> None:
        self.runner, self.options, self.checks = runner, options, checks
        self.checks.threshold = options.min_score

    def check(self, findings: list[Finding], group: list[Hunk], module: str) -> list[Finding]:
        kept: list[Finding] = []
        claims: list[tuple[Finding, str, str | None]] = []
        hunks = "\n".join(h.render() for h in group)
        for finding in findings:
            variables = {"path": finding.path, "module": module, "hunks": hunks,
                         "line": finding.line, "message": finding.message}  # fmt: skip
            try:
                verdict = self.runner.run(CHECK_STAGE, variables).value
            except LLMUnreachable:
                raise
            except StageFailed:
                self.checks.notes.append(f"{finding.path}:{finding.line} could not be scored")
                kept.append(finding)
                continue
            self.checks.scored += 1
            if verdict.score < self.options.min_score:
                self.checks.low_score += 1
                continue
            scored = replace(finding, score=verdict.score)
            call = _call_text(verdict.call)
            if call is not None and self.options.run_calls is not None:
                claims.append((scored, call, verdict.expect))
            else:
                kept.append(scored)
        if claims and self.options.run_calls is not None:
            seen: dict[str, tuple[dict[str, Any], bool]] = {}
            for path in dict.fromkeys(f.path for f, _, _ in claims):
                mine = [c for f, c, _ in claims if f.path == path]
                seen.update(self.options.run_calls(path, mine, None))
            for finding, call, expect in claims:
                outcome, stable = seen.get(call, ({"unloadable": "not run"}, False))
                failed = _fails(outcome, expect) if stable else None
                if failed and _invented_attribute(outcome, hunks):
                    failed = False  # the call reached for a name the change never uses
                if failed is True:
                    self.checks.confirmed += 1
                    evidence = f"Ran `{call}` on the head: it {result_text(outcome)}."
                    kept.append(replace(finding, confirmed=True, evidence=evidence, call=call))
                elif failed is False:
                    self.checks.refuted += 1
                else:
                    kept.append(finding)
        return kept


def set_aside_unchanged(findings: list[Finding], section: BehaviourSection | None,
                        min_calls: int, checks: Checks) -> list[Finding]:  # fmt: skip
    """Model findings that point into a changed function whose calls (``min_calls`` at least)
    all behaved the same on the base and the head: what they claim was so before the PR too,
    or is not there; dropped and counted, unless running their own call confirmed them.  A
    claimed slowdown is no claim about behaviour: :func:`measure_slowdowns` measures it."""
    if section is None or min_calls <= 0:
        return findings
    quiet = [(p, a, b) for p, a, b, n in section.unchanged if n >= min_calls]
    kept = []
    for f in findings:
        inside = any(f.path == p and a <= f.line <= b for p, a, b in quiet)
        if f.source == "model" and not f.confirmed and inside and f.category != "performance":
            checks.no_change += 1
            checks.notes.append(f"{f.path}:{f.line} set aside (no behaviour change there): "
                                f"{f.message[:120]}")  # fmt: skip
            continue
        kept.append(f)
    return kept


MIN_TIMED_CALLS = 5  # calls of a function that did the same on both sides, to measure by
MIN_SLOWDOWN = 2e-6  # seconds per call: a slowdown below this is no slowdown (nor measurable)


def measure_slowdowns(
    findings: list[Finding],
    section: BehaviourSection | None,
    slower: float,
    checks: Checks,
    min_calls: int = MIN_TIMED_CALLS,
) -> list[Finding]:
    """Model findings that claim a slowdown (category ``performance``), measured: kept, with
    the measure as evidence, when the calls of the changed function they point into that
    behaved the same on both sides (``min_calls`` at least) took ``slower`` times the base's
    time or more on the head, and ``MIN_SLOWDOWN`` more per call; else dropped and counted —
    as not slower, or as unmeasured when no call of it could be timed (a module-level line, a
    function nothing could call).  A 1.5B model's "this can lead to performance issues" is
    almost never a measured slowdown."""
    if section is None or slower <= 0:
        return findings
    kept = []
    for f in findings:
        if f.source != "model" or f.confirmed or f.category != "performance":
            kept.append(f)
            continue
        timed = [(n, b, h) for p, a, e, n, b, h in section.timings
                 if p == f.path and a <= f.line <= e and n >= min_calls]  # fmt: skip
        if not timed:
            checks.unmeasured += 1
            checks.notes.append(f"{f.path}:{f.line} set aside (a slowdown no call of the "
                                f"change could measure): {f.message[:120]}")  # fmt: skip
            continue
        n, base_s, head_s = timed[0]
        ratio = head_s / base_s if base_s > 0 else 1.0
        measure = f"{n} calls of the function took {ratio:.2f}× the base's time on the head"
        if ratio < slower or (head_s - base_s) / n < MIN_SLOWDOWN:
            checks.not_slower += 1
            checks.notes.append(f"{f.path}:{f.line} set aside (measured: {measure}): "
                                f"{f.message[:120]}")  # fmt: skip
            continue
        checks.confirmed += 1
        kept.append(replace(f, confirmed=True, evidence=f"Measured: {measure}."))
    return kept
