"""Test code helpers of ``assay tests``: the test names in a module, the source of some tests."""

from __future__ import annotations

import ast
from collections.abc import Sequence, Set

from agents.cover.candidate import keep_tests
from flows import TestRun


def test_names_of(code: str) -> list[str]:
    from agents.cover.candidate import test_names

    try:
        return list(test_names(ast.parse(code))) if code.strip() else []
    except SyntaxError:
        return []


def functions_of(code: str, names: Sequence[str]) -> str:
    """The source of the test functions ``names`` in ``code``."""
    tree = ast.parse(code)
    wanted = set(names)
    return "\n\n\n".join(
        ast.get_source_segment(code, node) or ""
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in wanted
    )


def broken_tests(run: TestRun, path: str, mine: Set[str]) -> set[str]:
    """Our tests (``mine``, in the file ``path``) that failed in the whole suite's ``run``:
    all of them when the file itself broke (a collection error)."""
    if any(c.nodeid == path and c.outcome == "error" for c in run.tests):
        return set(mine)
    return {
        c.nodeid.split("::", 1)[1]
        for c in run.tests
        if c.nodeid.startswith(path + "::") and c.outcome in ("failed", "error")
    }


def without_tests(code: str, bad: Set[str], empty: str) -> str:
    """``code`` without the tests ``bad`` (``empty`` when none is left)."""
    keep = {n for n in test_names_of(code) if n not in bad}
    return keep_tests(code, keep) if keep else empty
