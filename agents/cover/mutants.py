"""AST mutants of a module: small, behaviour-changing edits a good test suite notices.

Each mutant changes one place of the source text and keeps everything else as written (the
edit replaces the source segment of one node with its mutated form), so line numbers hold and
the diff is one or two lines.  Operators: a flipped comparison (``<`` → ``>=``), a moved
boundary (``<`` → ``<=``), a negated condition, a swapped boolean operator (``and`` → ``or``), a
removed if-branch, a swapped arithmetic operator, a changed constant, a changed argument default,
a returned value replaced by ``None``, and a deleted statement.

:func:`all_mutants` lists every mutant of some line ranges (the mutation score);
:func:`mutants_for` picks a few, most telling first (the gate that rejects a test asserting
nothing).  A mutated source is only ever written into a sandbox copy.
"""

from __future__ import annotations

import ast
import copy
import difflib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

_FLIP_COMPARE: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt, ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}  # fmt: skip
_BOUNDARY: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
}  # fmt: skip
_SWAP_BINOP: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult, ast.Mod: ast.FloorDiv,
}  # fmt: skip
_SYMBOL = {
    ast.Lt: "<", ast.GtE: ">=", ast.Gt: ">", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!=",
    ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not", ast.Add: "+",
    ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
    ast.And: "and", ast.Or: "or",
}  # fmt: skip
# Gate order: the kinds that expose a test asserting nothing best come first.
PRIORITY = {
    "comparison": 0, "condition": 1, "boolean": 2, "arithmetic": 3, "branch": 4, "boundary": 5,
    "constant": 6, "return": 7, "default": 8, "statement": 9,
}  # fmt: skip
KINDS = tuple(PRIORITY)


@dataclass(frozen=True)
class Mutant:
    line: int
    kind: str
    description: str
    source: str  # the whole mutated module
    before: str = ""  # the changed lines as they were
    after: str = ""  # and as the mutant has them

    @property
    def diff(self) -> str:
        """The change as a small unified diff (``-`` before, ``+`` after)."""
        old, new = self.before.splitlines(), self.after.splitlines()
        lines = difflib.unified_diff(old, new, lineterm="", n=0)
        return "\n".join(line for line in lines if not line.startswith(("---", "+++", "@@")))


Span = tuple[int, int, int, int]  # first line, its byte column, last line, its end column


def _span(node: ast.AST, last: ast.AST | None = None) -> Span:
    last = last or node
    return (
        node.lineno,  # type: ignore[attr-defined]
        node.col_offset,  # type: ignore[attr-defined]
        last.end_lineno or last.lineno,  # type: ignore[attr-defined]
        last.end_col_offset or 0,  # type: ignore[attr-defined]
    )


@dataclass(frozen=True)
class _Site:
    line: int
    kind: str
    text: str  # what changes, e.g. "`<` → `<=`"
    span: Span  # the source segment replaced
    replacement: str  # by this text


def _unparsed(node: ast.AST, edit: Callable[[ast.AST], None]) -> str:
    mutated = copy.deepcopy(node)
    edit(mutated)
    return ast.unparse(ast.fix_missing_locations(mutated))


def _set_op(index: int, op: type[ast.cmpop]) -> Callable[[ast.AST], None]:
    def edit(n: ast.AST) -> None:
        assert isinstance(n, ast.Compare)
        n.ops[index] = op()

    return edit


def _compare_sites(node: ast.Compare) -> Iterator[_Site]:
    old = type(node.ops[0])
    for kind, table in (("comparison", _FLIP_COMPARE), ("boundary", _BOUNDARY)):
        new = table.get(old)
        if new is not None:
            text = f"`{_SYMBOL[old]}` → `{_SYMBOL[new]}`"
            yield _Site(node.lineno, kind, text, _span(node), _unparsed(node, _set_op(0, new)))


def _sites(node: ast.AST, docstrings: set[int], defaults: set[int]) -> Iterator[_Site]:
    line = getattr(node, "lineno", 0)
    if isinstance(node, ast.Compare):
        yield from _compare_sites(node)
    if isinstance(node, ast.If | ast.While | ast.IfExp):
        negated = ast.unparse(ast.UnaryOp(op=ast.Not(), operand=copy.deepcopy(node.test)))
        yield _Site(node.test.lineno, "condition", "condition negated", _span(node.test), negated)
    if isinstance(node, ast.BoolOp):
        old_b = type(node.op)
        new_b: type[ast.boolop] = ast.Or if old_b is ast.And else ast.And

        def swap_bool(n: ast.AST, new_b: type[ast.boolop] = new_b) -> None:
            assert isinstance(n, ast.BoolOp)
            n.op = new_b()

        text = f"`{_SYMBOL[old_b]}` → `{_SYMBOL[new_b]}`"
        yield _Site(line, "boolean", text, _span(node), _unparsed(node, swap_bool))
    if isinstance(node, ast.BinOp) and type(node.op) in _SWAP_BINOP:
        old_o, new_o = type(node.op), _SWAP_BINOP[type(node.op)]

        def swap_op(n: ast.AST, new_o: type[ast.operator] = new_o) -> None:
            assert isinstance(n, ast.BinOp)
            n.op = new_o()

        text = f"`{_SYMBOL[old_o]}` → `{_SYMBOL[new_o]}`"
        yield _Site(line, "arithmetic", text, _span(node), _unparsed(node, swap_op))
    if isinstance(node, ast.If) and not isinstance(node.body[0], ast.Pass):
        body = _span(node.body[0], node.body[-1])
        yield _Site(node.body[0].lineno, "branch", "if-branch removed", body, "pass")
    if isinstance(node, ast.Constant) and line not in docstrings and id(node) not in defaults:
        changed = _changed_constant(node.value)
        if changed is not None:
            text = f"`{node.value!r}` → `{changed!r}`"
            yield _Site(line, "constant", text, _span(node), repr(changed))
    if isinstance(node, ast.Return) and node.value is not None and not _is_none(node.value):
        yield _Site(line, "return", "returns None", _span(node.value), "None")
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        for default in [*node.args.defaults, *filter(None, node.args.kw_defaults)]:
            if not isinstance(default, ast.Constant):
                continue
            changed = 0 if default.value is None else _changed_constant(default.value)
            if changed is not None:
                text = f"default `{default.value!r}` → `{changed!r}`"
                yield _Site(default.lineno, "default", text, _span(default), repr(changed))
    statement = isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Expr | ast.Raise)
    if statement and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
        yield _Site(line, "statement", "statement deleted", _span(node), "pass")


def _changed_constant(value: object) -> object | None:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str) and value:
        return value + "X"
    return None


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


def _apply(lines: list[bytes], site: _Site) -> tuple[str, str, str] | None:
    """(the mutated module, the changed lines before, after) or None when the edit breaks it."""
    first_line, start, last_line, end = site.span
    first, last = first_line - 1, last_line - 1
    head, tail = lines[first][:start], lines[last][end:]
    new = head + site.replacement.encode() + tail
    mutated = [*lines[:first], new, *lines[last + 1 :]]
    text = b"".join(mutated).decode()
    try:
        ast.parse(text)
    except SyntaxError:
        return None
    before = b"".join(lines[first : last + 1]).decode()
    return text, before, new.decode()


def _site_list(
    source: str, ranges: Iterable[tuple[int, int]], lines: set[int] | None
) -> list[_Site]:
    tree = ast.parse(source)
    docstrings = _docstring_lines(tree)
    defaults = {  # changed as defaults, not twice as constants
        id(d)
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        for d in [*n.args.defaults, *n.args.kw_defaults]
    }
    spans = list(ranges)
    found: list[_Site] = []
    for node in ast.walk(tree):
        for site in _sites(node, docstrings, defaults):
            if not any(a <= site.line <= b for a, b in spans):
                continue
            if lines is not None and site.line not in lines:
                continue
            found.append(site)
    found.sort(key=lambda s: (s.line, PRIORITY[s.kind], s.span[1]))
    return found


def _make(source_lines: list[bytes], site: _Site) -> Mutant | None:
    applied = _apply(source_lines, site)
    if applied is None:
        return None
    text, before, after = applied
    return Mutant(site.line, site.kind, f"line {site.line}: {site.text}", text, before, after)


def all_mutants(
    source: str, ranges: Iterable[tuple[int, int]], *, lines: Iterable[int] | None = None
) -> list[Mutant]:
    """Every mutant of the code in ``ranges`` (inclusive line ranges), in source order; with
    ``lines``, only those on these lines."""
    source_lines = source.encode().splitlines(keepends=True)
    wanted = set(lines) if lines is not None else None
    out = []
    seen: set[str] = set()  # two edits with the same result (a branch that is one statement)
    for site in _site_list(source, ranges, wanted):
        mutant = _make(source_lines, site)
        if mutant is not None and mutant.source not in seen:
            seen.add(mutant.source)
            out.append(mutant)
    return out


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
    wanted = set(lines) if lines is not None else None
    sites = _site_list(source, [(start, end)], wanted)
    seen: set[tuple[int, str]] = set()
    first_per_kind = []
    for site in sorted(sites, key=lambda s: (PRIORITY[s.kind], s.line)):
        if (site.line, site.kind) not in seen:
            seen.add((site.line, site.kind))
            first_per_kind.append(site)
    per_line: dict[int, int] = {}
    ranked = []
    for site in first_per_kind:
        ranked.append((per_line.get(site.line, 0), PRIORITY[site.kind], site.line, site))
        per_line[site.line] = per_line.get(site.line, 0) + 1
    source_lines = source.encode().splitlines(keepends=True)
    out: list[Mutant] = []
    for *_key, site in sorted(ranked, key=lambda r: r[:3]):
        mutant = _make(source_lines, site)
        if mutant is not None:
            out.append(mutant)
        if len(out) >= limit:
            break
    return out
