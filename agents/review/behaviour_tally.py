"""The behaviour diff's bookkeeping: the calls seen on both sides, how each compares, and
what the compared calls add up to per changed function (:mod:`agents.review.behaviour`)."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from agents.review import behaviour_calls as bc
from agents.review.changes import ChangedFunction
from agents.review.report import BehaviourSection, Change
from agents.review.sides import Side
from flows import STAGE_PREFIX


@dataclass
class Call:
    module: str
    target: str
    expr: str
    base: tuple[dict[str, Any], bool] | None = None
    head: tuple[dict[str, Any], bool] | None = None


IGNORED = "ignored"


def compare(call: Call) -> str:
    """How a call seen on both sides differs: ``""`` (the same), ``"result"``, ``"state"``, or
    ``"ignored"`` (not stable on a side, or not callable there)."""
    if call.base is None or call.head is None:
        return IGNORED
    (before, stable_b), (after, stable_h) = call.base, call.head
    if not (stable_b and stable_h and bc.comparable(before) and bc.comparable(after)):
        return IGNORED
    return bc.difference(before, after) or ""


def tally(
    section: BehaviourSection,
    by_name: dict[tuple[str, str], ChangedFunction],
    seeds: dict[str, Any],
    per_fn: dict[tuple[str, str], list[Call]],
    compared_per_fn: dict[tuple[str, str], int],
    calls: Iterable[Call],
) -> None:
    """Counts ``calls`` (seen on both sides) into ``section``: the same, differing (by
    function, into ``per_fn``), ignored; a new function's calls are looked at for crashes."""
    for call in calls:
        fn = by_name.get((call.module, call.target))
        if fn is None:
            continue
        if fn.base is None:
            _crash(section, fn, call, seeds.get("plausible", set()))
            continue
        # A call built from an earlier result that held one side's sandbox path (``where(
        # '/tmp/assay-sandbox-…')``) asks each side about the other's directory: ignored.
        verdict = IGNORED if STAGE_PREFIX in call.expr else compare(call)
        if verdict == IGNORED:
            section.ignored += 1
            continue
        section.calls += 1
        key = (call.module, call.target)
        compared_per_fn[key] = compared_per_fn.get(key, 0) + 1
        if not verdict:
            section.same += 1
        else:
            per_fn.setdefault(key, []).append(call)


def timings(
    calls: Iterable[Call], by_name: dict[tuple[str, str], ChangedFunction], sides: dict[str, Side]
) -> list[list[Any]]:
    """[path, start, end (head lines), calls, base seconds, head seconds] per changed function:
    the time its calls that did the same on both sides took on each (the fastest run of each)."""
    sums: dict[tuple[str, str], list[float]] = {}
    for call in calls:
        fn, key = by_name.get((call.module, call.target)), (call.module, call.expr)
        if fn is None or fn.head is None or fn.base is None or STAGE_PREFIX in call.expr:
            continue
        if compare(call) != "" or key not in sides["base"].seconds:
            continue
        if key not in sides["head"].seconds:
            continue
        total = sums.setdefault((call.module, call.target), [0, 0.0, 0.0])
        total[0] += 1
        total[1] += sides["base"].seconds[key]
        total[2] += sides["head"].seconds[key]
    out = []
    for (module, target), (n, base_s, head_s) in sums.items():
        fn = by_name[(module, target)]
        assert fn.head is not None
        out.append([fn.path, fn.head.start, fn.head.end, int(n), base_s, head_s])
    return out


def _plausible(expr: str, values: set[str]) -> bool:
    """Whether every constant of a call is one its module, docs or tests use."""
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        return False
    return all(repr(n.value) in values for n in ast.walk(tree) if isinstance(n, ast.Constant))


def _crash(section: BehaviourSection, fn: ChangedFunction, call: Call, plausible: set[str]) -> None:
    """A new function's call that crashes (not a raise of its own) on plausible inputs."""
    if call.head is None or not _plausible(call.expr, plausible):
        return
    outcome, stable = call.head
    if not stable or outcome.get("raises") not in bc.CRASHES or outcome.get("deliberate"):
        return
    if any(c.qualname == fn.qualname and c.path == fn.path for c in section.crashes):
        return
    message = f"possible crash: `{bc._clip(call.expr)}` {bc.result_text(outcome)}"
    section.crashes.append(
        Change(fn.path, fn.qualname, fn.anchor, call.expr, {}, outcome, "crash", message=message)
    )
