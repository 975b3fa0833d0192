"""Simple AST mutants of one function, to reject tests that assert nothing.

A test that executes a function but checks nothing about its result passes against every mutant
too.  :func:`mutants_for` makes a few small, behaviour-changing edits inside a line range (a
flipped comparison, a negated condition, a removed branch, a swapped operator, a changed constant,
``return None``) and returns each as a whole mutated module source.  The mutated source is only
ever written into a sandbox copy.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass

_FLIP_COMPARE: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.GtE,
    ast.GtE: ast.Lt,
    ast.Gt: ast.LtE,
    ast.LtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_SWAP_BINOP: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.Mod: ast.FloorDiv,
}
_SYMBOL = {
    ast.Lt: "<", ast.GtE: ">=", ast.Gt: ">", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!=",
    ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not", ast.Add: "+",
    ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
    ast.And: "and", ast.Or: "or",
}  # fmt: skip


@dataclass(frozen=True)
class Mutant:
    line: int
    kind: str
    description: str
    source: str  # the whole mutated module


# A mutation site: (priority, line, kind, description, edit applied to the copied node).
_Edit = Callable[[ast.AST], ast.AST | None]


def _sites(node: ast.AST, docstrings: set[int]) -> Iterable[tuple[int, str, str, _Edit]]:
    line = getattr(node, "lineno", 0)
    if isinstance(node, ast.Compare) and type(node.ops[0]) in _FLIP_COMPARE:
        old = type(node.ops[0])
        new = _FLIP_COMPARE[old]

        def flip(n: ast.AST, new: type[ast.cmpop] = new) -> ast.AST:
            assert isinstance(n, ast.Compare)
            n.ops[0] = new()
            return n

        yield 0, "comparison", f"`{_SYMBOL[old]}` → `{_SYMBOL[new]}`", flip
    if isinstance(node, ast.If | ast.While | ast.IfExp):

        def negate(n: ast.AST) -> ast.AST:
            assert isinstance(n, ast.If | ast.While | ast.IfExp)
            n.test = ast.UnaryOp(op=ast.Not(), operand=n.test)
            return n

        yield 1, "condition", "condition negated", negate
    if isinstance(node, ast.BoolOp):
        old_b = type(node.op)
        new_b: type[ast.boolop] = ast.Or if old_b is ast.And else ast.And

        def swap_bool(n: ast.AST, new_b: type[ast.boolop] = new_b) -> ast.AST:
            assert isinstance(n, ast.BoolOp)
            n.op = new_b()
            return n

        yield 2, "boolean", f"`{_SYMBOL[old_b]}` → `{_SYMBOL[new_b]}`", swap_bool
    if isinstance(node, ast.BinOp) and type(node.op) in _SWAP_BINOP:
        old_o = type(node.op)
        new_o = _SWAP_BINOP[old_o]

        def swap_op(n: ast.AST, new_o: type[ast.operator] = new_o) -> ast.AST:
            assert isinstance(n, ast.BinOp)
            n.op = new_o()
            return n

        yield 3, "arithmetic", f"`{_SYMBOL[old_o]}` → `{_SYMBOL[new_o]}`", swap_op
    if isinstance(node, ast.If) and not (
        len(node.body) == 1 and isinstance(node.body[0], ast.Pass)
    ):

        def remove_body(n: ast.AST) -> ast.AST:
            assert isinstance(n, ast.If)
            n.body = [ast.Pass()]
            return n

        yield 4, "branch", "if-branch removed", remove_body
    if isinstance(node, ast.Constant) and line not in docstrings:
        value = node.value
        new_value: object
        if isinstance(value, bool):
            new_value = not value
        elif isinstance(value, int | float):
            new_value = value + 1
        elif isinstance(value, str) and value:
            new_value = value + "X"
        else:
            return
        text = f"`{value!r}` → `{new_value!r}`"

        def change(n: ast.AST, new_value: object = new_value) -> ast.AST:
            assert isinstance(n, ast.Constant)
            n.value = new_value  # type: ignore[assignment]
            return n

        yield 5 if not isinstance(value, str) else 7, "constant", text, change
    returns_value = isinstance(node, ast.Return) and node.value is not None
    if returns_value and not _is_none(getattr(node, "value", None)):

        def return_none(n: ast.AST) -> ast.AST:
            assert isinstance(n, ast.Return)
            n.value = ast.Constant(value=None)
            return n

        yield 6, "return", "returns None", return_none


def _is_none(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _docstring_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = node.body[0] if node.body else None
            value = first.value if isinstance(first, ast.Expr) else None
            if (
                first is not None
                and isinstance(value, ast.Constant)
                and isinstance(value.value, str)
            ):
                lines.update(range(first.lineno, (first.end_lineno or 0) + 1))
    return lines


def mutants_for(
    source: str,
    start: int,
    end: int,
    *,
    lines: Iterable[int] | None = None,
    limit: int = 6,
) -> list[Mutant]:
    """Up to ``limit`` mutants of the code between lines ``start`` and ``end`` (inclusive).

    With ``lines``, only sites on those lines (e.g. the lines the test executes: a mutant on a
    line the test never runs cannot be killed by it).  Ordered by kind (comparisons and
    conditions first: they kill empty tests best), at most one per (line, kind), and spread over
    lines before a second one on the same line.
    """
    tree = ast.parse(source)
    wanted = set(lines) if lines is not None else None
    docstrings = _docstring_lines(tree)
    found: list[tuple[int, int, int, str, str, _Edit]] = []
    for index, node in enumerate(ast.walk(tree)):
        line = getattr(node, "lineno", None)
        if line is None or not start <= line <= end:
            continue
        if wanted is not None and line not in wanted:
            continue
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for priority, kind, text, edit in _sites(node, docstrings):
            found.append((priority, line, index, kind, text, edit))

    seen: set[tuple[int, str]] = set()
    per_line: dict[int, int] = {}
    ordered = []
    for item in sorted(found, key=lambda f: (f[0], f[1])):
        _priority, line, _index, kind, _text, _edit = item
        if (line, kind) in seen:
            continue
        seen.add((line, kind))
        ordered.append(item)
    ordered.sort(key=lambda f: (_rank(per_line, f[1]), f[0], f[1]))

    out: list[Mutant] = []
    for _priority, line, index, kind, text, edit in ordered:
        mutated = copy.deepcopy(tree)
        target = next(n for i, n in enumerate(ast.walk(mutated)) if i == index)
        edit(target)
        try:
            new_source = ast.unparse(ast.fix_missing_locations(mutated))
        except Exception:  # a mutation ast cannot print is skipped, never fatal
            continue
        out.append(
            Mutant(line=line, kind=kind, description=f"line {line}: {text}", source=new_source)
        )
        if len(out) >= limit:
            break
    return out


def _rank(per_line: dict[int, int], line: int) -> int:
    """0 for the first mutation site kept on a line, 1 for the second…: spreads over lines."""
    rank = per_line.get(line, 0)
    per_line[line] = rank + 1
    return rank
