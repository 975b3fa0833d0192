"""The behaviour diff's calls: how two outcomes compare, how they read, simpler variants of a
call, and the regression test that pins the old outcome.

An outcome is what the driver (:mod:`agents.review.behaviour_driver`) printed for one call: the
value returned (``repr``, ``str``, ``type``, ``attrs``) or the exception raised (``raises``,
``message``), the ``state`` of its receiver and mutable arguments afterwards, or ``timeout`` /
``unloadable``.  Pure functions: nothing here runs code.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agents.cover.explore import render_tests
from agents.cover.explore_shrink import edited
from agents.review.report import BehaviourSection, Finding

SIMPLE_VALUES = ("0", "1", "-1", "2", "''", "'a'", "None", "True", "False", "[]", "{}", "0.5")
MAX_VARIANTS = 30
MAX_SHOWN = 80
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
# Exceptions that mean the call could not be made on this side at all, not a behaviour.
NOT_COMPARABLE = ("NameError", "ImportError", "ModuleNotFoundError")
# What a new function raising on a plausible input looks like (not a wrong argument's TypeError).
CRASHES = ("ZeroDivisionError", "IndexError", "KeyError", "UnboundLocalError", "RecursionError")


def comparable(outcome: dict[str, Any]) -> bool:
    """Whether an outcome says something about behaviour (the call ran to an end)."""
    if "timeout" in outcome or "unloadable" in outcome:
        return False
    return outcome.get("raises") not in NOT_COMPARABLE


def _key(outcome: dict[str, Any], part: str) -> str:
    if part == "state":
        return json.dumps(outcome.get("state", {}), sort_keys=True)
    keep = {k: v for k, v in outcome.items() if k not in ("deliberate", "state", "type_module")}
    return _ADDRESS.sub("", json.dumps(keep, sort_keys=True))


def same(one: dict[str, Any], other: dict[str, Any]) -> bool:
    """Whether two runs of a call on one side did exactly the same (value, exception, state)."""
    return all(_key(one, part) == _key(other, part) for part in ("result", "state"))


def difference(before: dict[str, Any], after: dict[str, Any]) -> str | None:
    """``"result"`` (value or exception), ``"state"`` (receiver or arguments) or None.

    Generated arguments are often of a wrong type, and code then fails by accident (a
    ``TypeError`` deep in an expression, not a ``raise`` of its own): such failures are the
    same failure whatever the message, and a call the old code failed on by accident that the
    new code accepts is not reported (the input was not one the old code took)."""
    raised_b, raised_a = "raises" in before, "raises" in after
    accident_b = raised_b and not before.get("deliberate")
    accident_a = raised_a and not after.get("deliberate")
    if accident_b and not raised_a:
        return None  # the old code failed on this input by accident; the new one takes it
    if accident_b and accident_a:
        if before["raises"] == after["raises"]:
            return _state_difference(before, after)
        return "result" if _specific(before) and _specific(after) else None
    same_type = raised_b and raised_a and before["raises"] == after["raises"]
    if same_type and (accident_b or accident_a):
        return _state_difference(before, after)
    if _key(before, "result") != _key(after, "result"):
        return "result"
    return _state_difference(before, after)


def _specific(outcome: dict[str, Any]) -> bool:
    """An accidental failure that is not the usual wrong-argument one."""
    return outcome.get("raises") not in ("TypeError", "AttributeError", "ValueError")


def _state_difference(before: dict[str, Any], after: dict[str, Any]) -> str | None:
    return "state" if _key(before, "state") != _key(after, "state") else None


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def result_text(outcome: dict[str, Any]) -> str:
    """``returned [1, 2]`` / ``raises ValueError: bad`` / ``returned a Point``."""
    if "raises" in outcome:
        message = outcome.get("message")
        return f"raises `{outcome['raises']}" + (f": {_clip(message)}`" if message else "`")
    shown = outcome.get("repr")
    if shown is not None and not _ADDRESS.search(shown):
        return f"returned `{_clip(shown)}`"
    attrs = outcome.get("attrs") or {}
    fields = ", ".join(f"{k}={v}" for k, v in sorted(attrs.items()))
    shown = f"returned a `{outcome.get('type', 'value')}`"
    return shown + (f" ({_clip(fields)})" if fields else "")


def state_text(outcome: dict[str, Any]) -> str:
    parts = []
    for name, seen in sorted((outcome.get("state") or {}).items()):
        where = "the receiver" if name == "receiver" else f"argument `{name}`"
        shown = seen.get("repr") or json.dumps(seen.get("attrs", {}))
        parts.append(f"{where} as `{_clip(shown)}`")
    return "left " + ", ".join(parts) if parts else "left its arguments unchanged"


def change_message(expr: str, before: dict[str, Any], after: dict[str, Any], kind: str) -> str:
    """``behaviour change: `f([], 2)` returned `[]` before, raises `ValueError` now``."""
    if kind == "state":
        then, now = state_text(before), state_text(after)
    else:
        then, now = result_text(before), result_text(after)
    if now.startswith("returned"):
        now = "returns" + now[len("returned") :]
    elif now.startswith("left"):
        now = "leaves" + now[len("left") :]
    return f"behaviour change: `{_clip(expr)}` {then} before, {now} now"


def variants(expr: str, limit: int = MAX_VARIANTS) -> list[str]:
    """Simpler versions of a call, one step each: an optional keyword argument left out, an
    argument replaced by a shorter simple value.  Shortest first."""
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        return []
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    found: list[str] = []
    for index, call in enumerate(calls):
        options: list[tuple[Any, ...]] = [("drop", i) for i in range(len(call.keywords))]
        parts = [*call.args, *(k.value for k in call.keywords)]
        for i, part in enumerate(parts):
            if isinstance(part, ast.Starred):
                continue
            text = ast.unparse(part)
            options += [("set", i, v) for v in SIMPLE_VALUES if len(v) < len(text)]
        for option in options:
            changed = edited(tree, index, option)
            if changed is not None and changed != expr:
                found.append(changed)
    return sorted(dict.fromkeys(found), key=len)[:limit]


def _state_test(expr: str, before: dict[str, Any], name: str, module: str) -> str | None:
    """A test pinning the receiver's state after the call (``obj = X(); obj.m(1); assert
    repr(obj) == '...'``), when the receiver can be written on its own."""
    state = (before.get("state") or {}).get("receiver")
    if not state or not state.get("repr") or _ADDRESS.search(state["repr"]):
        return None
    try:
        call = ast.parse(expr, mode="eval").body
    except SyntaxError:
        return None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
        return None
    receiver = ast.unparse(call.func.value)
    method = ast.unparse(ast.Call(ast.Attribute(ast.Name("obj"), call.func.attr), call.args,
                                  call.keywords))  # fmt: skip
    names = sorted({n.id for n in ast.walk(call.func.value) if isinstance(n, ast.Name)})
    lines = [f"from {module} import {', '.join(names)}"] if names else []
    stem = re.sub(r"\W+", "_", name).strip("_").lower()
    lines += ["", "", f"def test_{stem}_state_kept():"]
    lines += [f"    obj = {receiver}", f"    {method}"]
    lines.append(f"    assert repr(obj) == {state['repr']!r}")
    return "\n".join(lines) + "\n"


def regression_test(
    expr: str, before: dict[str, Any], kind: str, qualname: str, module: str
) -> str | None:
    """A pytest module pinning what ``expr`` did on the base (the old behaviour)."""
    if kind == "state":
        return _state_test(expr, before, qualname, module)
    call = {"target": qualname, "expr": expr, "stable": True, **before}
    return render_tests([call], module)


def parseable(exprs: Sequence[str]) -> list[str]:
    """The calls that parse (a replay only sends those)."""
    out = []
    for expr in exprs:
        try:
            ast.parse(expr, mode="eval")
        except SyntaxError:
            continue
        out.append(expr)
    return out


def _line_text(root: Path, path: str, line: int) -> str:
    try:
        lines = (root / path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return lines[line - 1] if 0 < line <= len(lines) else ""


def behaviour_findings(section: BehaviourSection, root: Path) -> list[Finding]:
    """One finding per change (on the changed function's changed line) and per crash."""
    out = []
    for change in [*section.changes, *section.crashes]:
        crash = change.kind == "crash"
        raised_now = "raises" in change.after and not change.after.get("deliberate")
        severity = "high" if raised_now and "raises" not in change.before else "medium"
        if crash:
            evidence = f"Ran `{change.expr}` on the head: it {result_text(change.after)}."
        else:
            evidence = (
                f"Ran the same calls on the base and the head: {change.differing} of "
                f"{change.compared} call(s) of `{change.qualname}` differ, e.g. `{change.expr}`."
            )
            if change.test:
                evidence += " The regression test below passes on the base and fails here."
        finding = Finding(
            path=change.path, line=change.line, severity="low" if crash else severity,
            category="bug", message=change.message,
            anchor=_line_text(root, change.path, change.line),
            source="crash" if crash else "behaviour", evidence=evidence, test=change.test or None,
        )  # fmt: skip
        out.append(finding)
    return out
