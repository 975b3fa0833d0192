"""What exploration observed of one symbol, as the behaviours a person would name.

:func:`explore_target` makes every line and branch of the symbol a goal of the exploration
(:mod:`agents.cover.explore`), so the driver keeps one call per path it finds through the
symbol.  :func:`behaviours_of` groups the kept calls:

- each distinct exception (its type) is one ``error`` behaviour: ``raises ValueError ('negative
  step') when `by < 0```;
- a call that ends in a branch (the innermost ``if`` around the code it reached first) or
  returns an empty value (``None``, ``0``, ``''``, ``[]``, ``False``) is an ``edge`` case;
  the calls through the main path are the ``happy`` ones;
- calls that ended under the same condition with the same kind of outcome are one behaviour.

Each behaviour keeps its calls: its test is rendered from them
(:func:`agents.cover.explore.render_tests`), checking what held in every run, with no model.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from agents.cover.explore import Exploration, render_tests
from agents.cover.targets import Target
from agents.testgen.symbols import Symbol
from flows import Behaviour, CoverageReport

EMPTY = ("None", "0", "0.0", "''", '""', "[]", "{}", "()", "set()", "False", "b''")
MAX_SHOWN = 60  # characters of a value in a description
MAX_BEHAVIOURS = 12
ORDER = {"happy": 0, "edge": 1, "error": 2}


@dataclass
class Explored:
    """One behaviour found by exploration, with the calls that showed it."""

    behaviour: Behaviour
    calls: list[dict[str, Any]] = field(default_factory=list)

    def test_code(self, module: str) -> str | None:
        return render_tests(self.calls, module)


def summary(found: Exploration, explored: Sequence[Explored]) -> dict[str, Any]:
    """What the report says of an exploration."""
    return {"calls_tried": found.tries, "calls_kept": len(found.calls),
            "seconds": found.seconds, "behaviours": len(explored)}  # fmt: skip


def combined_test(items: Sequence[Explored], module: str) -> tuple[str | None, dict[str, int]]:
    """One test module for several explored behaviours (one gate run for all of them: the
    gates drop a failing test, not the others), and per test the index of its behaviour."""
    calls = [{**call, "kills": str(n)} for n, item in enumerate(items) for call in item.calls]
    owner: dict[str, str] = {}
    code = render_tests(calls, module, owner)
    return code, {name: int(value.split(",")[0]) for name, value in owner.items()}


def explore_targets(
    target: Target, symbol: Symbol, coverage: CoverageReport | None, source: str
) -> list[Target]:
    """What the driver calls for the symbol: the function or method itself, or each method of
    a class (the driver calls functions and methods, not classes), every line and branch of
    the symbol a goal (:func:`explore_target`)."""
    goal = explore_target(target, symbol, coverage)
    if symbol.kind != "class":
        return [goal]
    name = symbol.qualname
    methods = [
        replace(goal, qualname=f"{name}.{node.name}", start=node.lineno,
                end=node.end_lineno or node.lineno)
        for cls in ast.walk(ast.parse(source))
        if isinstance(cls, ast.ClassDef) and symbol.start <= cls.lineno <= symbol.body_start
        and cls.name == name.rsplit(".", 1)[-1]
        for node in cls.body
        if isinstance(node, ast.FunctionDef)
    ]  # fmt: skip
    return methods or [goal]


def explore_target(target: Target, symbol: Symbol, coverage: CoverageReport | None) -> Target:
    """``target`` (every statement of the symbol's body) with every branch of the symbol as a
    goal too: the arcs the baseline run saw, taken or not."""
    cov = coverage.get(symbol.path) if coverage is not None else None
    if cov is None:
        return target
    inside = range(symbol.body_start, symbol.end + 1)
    arcs = {a for a in (*cov.missing_branches, *cov.executed_branches) if a[0] in inside}
    lines = set(target.missing_lines) | {
        n for n in (*cov.missing_lines, *cov.executed_lines) if n in inside
    }
    return Target(
        target.path, target.module, target.import_root, target.qualname, target.start,
        target.end, tuple(sorted(lines)), tuple(sorted(arcs)), statements=target.statements,
    )  # fmt: skip


def _guards(tree: ast.AST, symbol: Symbol) -> dict[int, tuple[str, bool]]:
    """Per line of the symbol: the innermost ``if``/``while`` around it, as (its condition's
    source, whether the line is in its body rather than its ``else``)."""
    found: dict[int, tuple[str, bool]] = {}

    def visit(node: ast.AST, depth: int, depths: dict[int, int]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If | ast.While):
                test = ast.unparse(child.test)
                for part, in_body in ((child.body, True), (child.orelse, False)):
                    for stmt in part:
                        for n in range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1):
                            if depths.get(n, -1) < depth:
                                depths[n] = depth
                                found[n] = (test, in_body)
            visit(child, depth + 1, depths)

    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and (
            node.lineno <= symbol.end and (node.end_lineno or node.lineno) >= symbol.body_start
        ):
            visit(node, 0, {})
            break
    return found


def _condition(call: Mapping[str, Any], guards: Mapping[int, tuple[str, bool]]) -> str:
    """The condition under which the call's new lines ran ("" on the main path)."""
    lines = [int(n) for n in call.get("lines") or []]
    lines += [int(b) for _, b in call.get("arcs") or [] if int(b) > 0]
    lines += [int(a) for a, b in call.get("arcs") or [] if int(b) <= 0]
    guarded = [guards[n] for n in lines if n in guards]
    if not guarded:
        return ""
    test, in_body = guarded[-1]
    return f"`{test}`" if in_body else f"not `{test}`"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def _outcome(call: Mapping[str, Any]) -> tuple[str, str, str]:
    """(kind, what it did in words, the expected outcome as shown beside the call)."""
    if "raises" in call:
        name = str(call["raises"])
        message = str(call.get("message") or "")
        expected = f"raises {name}" + (f": {_short(message)}" if message else "")
        return "error", f"raises {name}", expected
    shown = str(call.get("repr") or call.get("type") or "")
    if " at 0x" in shown:  # an object without a repr of its own: its type says more
        shown = f"a {call.get('type') or 'value'}"
    if not call.get("stable"):
        kind = str(call.get("type") or "a value")
        return "happy", f"returns a {kind}", f"a {kind} (it varies)"
    kind = "edge" if shown in EMPTY else "happy"
    return kind, f"returns {_short(shown)}", _short(shown)


def behaviours_of(calls: Sequence[dict[str, Any]], source: str, symbol: Symbol) -> list[Explored]:
    """The kept calls of an exploration of ``symbol`` grouped into behaviours (see the module
    docstring): the main path first, then edge cases, then each exception."""
    try:
        guards = _guards(ast.parse(source), symbol)
    except SyntaxError:
        guards = {}
    groups: dict[tuple[str, str, str], Explored] = {}
    for call in calls:
        if call.get("outside") or not isinstance(call.get("expr"), str):
            continue
        if render_tests([call], "m") is None:  # nothing that held in every run to check
            continue
        kind, did, expected = _outcome(call)
        when = _condition(call, guards)
        if kind == "happy" and when:
            kind = "edge"
        key = (kind, did if kind == "error" else when, "" if when or kind == "error" else did)
        if key in groups:
            groups[key].calls.append(call)
            continue
        description = f"{did} when {when}" if when else did
        behaviour = Behaviour(
            kind=kind, description=description, call=str(call["expr"]), expected=expected,
            origin="explored",
        )  # fmt: skip
        groups[key] = Explored(behaviour, [call])
    found = sorted(groups.values(), key=lambda e: ORDER.get(e.behaviour.kind, 3))
    return found[:MAX_BEHAVIOURS]
