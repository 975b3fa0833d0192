"""Which explored tests the readable rewrite goes to first.

The model has time for a few tests a run, one short call each.  A test that calls the code as
its docstring's example does (``naturalsize(3000000) == '3.0 MB'``) already reads as its author
wrote it: a rewrite can only rename it, or worse (semver's ``is_compatible`` example came back
with its check turned around).  So those are never sent, and the others go in order of how
little they read like a person's test: arguments no one passes (bytes, a frozenset, a lambda,
an error message as a value), weak checks (``isinstance``, a ``repr`` matched by a pattern),
many checks in one test, a long name.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

__all__ = ["machine_likeness", "rewrite_order"]

ODD_CALLS = {"frozenset", "set", "bytearray", "object", "complex", "memoryview", "range"}
WEAK_CALLS = {"isinstance", "fullmatch", "match", "search", "len", "type", "hasattr", "callable"}
# The test's own machinery: the message ``pytest.raises(…, match=re.escape(…))`` checks is the
# code's, not an argument anyone passed.
MACHINERY = {"escape", "raises", "warns", "approx"}
LONG_TEXT = 24  # characters of a string argument that read like a message, not a value
LONG_NAME = 60
USUAL_CHECKS = 2


def machine_likeness(test: str, examples: Iterable[str] = ()) -> int | None:
    """How much ``test`` (one test function's source) reads like machine output: 0 for a test
    with nothing odd, more for each odd argument, weak check, extra check or a long name; None
    for one that calls the code as one of ``examples`` (the docstring's calls) does."""
    try:
        fn = ast.parse(test).body[0]
    except (SyntaxError, IndexError):
        return None
    if not isinstance(fn, ast.FunctionDef):
        return None
    shown = {n for e in examples for n in _normal(e)}
    calls = [n for n in ast.walk(fn) if isinstance(n, ast.Call)]
    if shown and any(ast.unparse(c) in shown for c in calls):
        return None
    score = 0
    for call in calls:
        if _name(call.func) not in WEAK_CALLS | MACHINERY:
            score += sum(_odd_argument(a) for a in [*call.args, *(k.value for k in call.keywords)])
    asserts = [n for n in ast.walk(fn) if isinstance(n, ast.Assert)]
    for check in asserts:
        if any(_name(c.func) in WEAK_CALLS for c in ast.walk(check) if isinstance(c, ast.Call)):
            score += 2
    score += max(0, len(asserts) - USUAL_CHECKS)
    score += 1 if len(fn.name) > LONG_NAME else 0
    return score


def rewrite_order(tests: list[tuple[str, list[str]]]) -> list[int]:
    """The indexes of ``tests`` ((source, the docstring calls of its code)) to rewrite, most
    machine-like first, in their order among equals; those of a docstring's call left out."""
    scored = [(machine_likeness(src, ex), i) for i, (src, ex) in enumerate(tests)]
    return [i for score, i in sorted(((s, i) for s, i in scored if s is not None),
                                     key=lambda pair: (-pair[0], pair[1]))]  # fmt: skip


def _odd_argument(arg: ast.expr) -> int:
    """2 for a value no person passes to a function like this: bytes, a lambda, a set, an
    ``object()``, a long message; else 0."""
    if isinstance(arg, ast.Constant):
        text = arg.value
        if isinstance(text, bytes):
            return 2
        if isinstance(text, str) and (len(text) > LONG_TEXT or re.search(r"\w: ", text)):
            return 2
    if isinstance(arg, ast.Lambda | ast.Set | ast.SetComp):
        return 2
    if isinstance(arg, ast.Call) and _name(arg.func) in ODD_CALLS:
        return 2
    return 0


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _normal(example: str) -> list[str]:
    """An example call as :func:`ast.unparse` writes it (quotes, spacing), and without the
    package it names first (``semver.Version.parse(…)`` is ``Version.parse(…)`` in a test)."""
    try:
        text = ast.unparse(ast.parse(example, mode="eval").body)
    except (SyntaxError, ValueError):
        return []
    bare = re.sub(r"^[A-Za-z_]\w*\.(?=[A-Za-z_])", "", text)
    return [text, bare] if bare != text else [text]
