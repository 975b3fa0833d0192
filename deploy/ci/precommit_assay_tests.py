#!/usr/bin/env python3
"""pre-commit hook ``assay-tests`` (.pre-commit-hooks.yaml): ``assay tests --all`` for every
function, method or class whose lines the staged change touches, in the Python files pre-commit
passes.  Uses the ``assay`` on PATH (or $ASSAY); settings come from the environment and
assay.toml as usual (ASSAY_LLM_BASE_URL, …).

Exit codes: 0 nothing written, 1 tests were written (review them and ``git add`` them, like a
formatter's changes), 2 an assay error.  ``ASSAY_TESTS_ARGS`` adds arguments (e.g.
``--no-mutation``); ``ASSAY_TESTS_MAX`` caps the symbols per run (default 5).
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.MULTILINE)


def changed_lines(path: str) -> set[int]:
    """New-side line numbers the staged change adds or modifies in ``path`` (all lines of a
    new file; the working tree against HEAD when nothing is staged)."""
    lines: set[int] = set()
    for cached in (["--cached"], []):
        diff = subprocess.run(
            ["git", "diff", *cached, "--unified=0", "--no-color", "--", path],
            capture_output=True, text=True,
        ).stdout  # fmt: skip
        for start, count in HUNK.findall(diff):
            first, n = int(start), int(count) if count else 1
            lines.update(range(first, first + max(n, 1)))
        if lines:
            break
    return lines


def symbols(path: str, lines: set[int]) -> list[str]:
    """Top-level functions and classes (methods as Class.method) that contain changed lines."""
    try:
        tree = ast.parse(Path(path).read_text(), filename=path)
    except (OSError, SyntaxError, ValueError):
        return []
    found: list[str] = []

    def touched(node: ast.AST) -> bool:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        return any(start <= n <= (node.end_lineno or start) for n in lines)

    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and touched(node):
            if not node.name.startswith("_"):
                found.append(node.name)
        elif isinstance(node, ast.ClassDef) and touched(node):
            methods = [
                f"{node.name}.{m.name}"
                for m in node.body
                if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef)
                and touched(m)
                and not (m.name.startswith("_") and m.name != "__init__")
            ]
            found.extend(methods or [node.name])
    return found


def main(argv: list[str]) -> int:
    assay = os.environ.get("ASSAY") or shutil.which("assay")
    if not assay:
        print("assay-tests: no 'assay' on PATH (install it, or set ASSAY)", file=sys.stderr)
        return 2
    limit = int(os.environ.get("ASSAY_TESTS_MAX", "5"))
    extra = shlex.split(os.environ.get("ASSAY_TESTS_ARGS", ""))
    targets = [f"{p}::{s}" for p in argv if p.endswith(".py") for s in symbols(p, changed_lines(p))]
    if not targets:
        return 0
    if len(targets) > limit:
        print(f"assay-tests: {len(targets)} changed symbols, testing the first {limit} "
              "(ASSAY_TESTS_MAX)", file=sys.stderr)  # fmt: skip
    before = _status()
    for target in targets[:limit]:
        print(f"assay-tests: {target}", file=sys.stderr, flush=True)
        code = subprocess.run([assay, "tests", target, "--all", *extra]).returncode
        if code not in (0, 1):  # 1: no test accepted for this one
            return 2
    written = sorted(_status() - before)
    if written:
        print("assay-tests: wrote " + ", ".join(written) + ": review them and git add them")
        return 1
    return 0


def _status() -> set[str]:
    out = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], capture_output=True, text=True
    ).stdout
    return {line[3:] for line in out.splitlines() if line[3:].endswith(".py")}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
