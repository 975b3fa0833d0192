"""Mutants of a JS/TS source text made with tree-sitter: the Python pipeline's operators.

A flipped comparison (``<`` → ``>=``, ``===`` → ``!==``), a moved boundary (``<`` → ``<=``), a
negated condition, a swapped boolean operator (``&&`` → ``||``), a removed if-branch, a swapped
arithmetic operator, a changed constant, a changed parameter default, a returned value replaced
by ``undefined`` and a deleted statement.  Each edits one segment of the text and keeps the
line count (a removed block keeps its empty lines), so line numbers hold; a mutant that no
longer parses is dropped.  Mutated sources are only written into sandbox copies.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from agents.cover.js.symbols import parse
from agents.cover.mutants import PRIORITY, Mutant

FLIP = {"<": ">=", ">=": "<", ">": "<=", "<=": ">", "===": "!==", "!==": "===", "==": "!=",
        "!=": "=="}  # fmt: skip
BOUNDARY = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}
BOOLEAN = {"&&": "||", "||": "&&"}
ARITHMETIC = {"+": "-", "-": "+", "*": "/", "/": "*", "%": "*"}
SKIP_LITERALS_IN = frozenset(
    {"type_annotation", "literal_type", "import_statement", "assignment_pattern"}
    | {"optional_parameter", "required_parameter", "export_clause"}
)
CONDITIONS = ("if_statement", "while_statement", "ternary_expression", "do_statement")


@dataclass(frozen=True)
class _Site:
    line: int
    kind: str
    text: str
    start: int  # byte offsets of the replaced segment
    end: int
    replacement: str


def _t(node: Any) -> str:
    return node.text.decode(errors="replace")


def _line(node: Any) -> int:
    return int(node.start_point[0]) + 1


def _changed_literal(node: Any) -> str | None:
    text = _t(node)
    if node.type == "true":
        return "false"
    if node.type == "false":
        return "true"
    if node.type == "number":
        try:
            value = float(text.replace("_", ""))
        except ValueError:
            return None
        return str(int(value) + 1) if value.is_integer() else repr(value + 1)
    if node.type == "string" and len(text) >= 2:
        return text[:-1] + "X" + text[-1]
    return None


def _sites(node: Any) -> Iterator[_Site]:
    kind = node.type
    if kind == "binary_expression":
        op = node.child_by_field_name("operator")
        if op is not None:
            symbol = _t(op)
            for name, table in (("comparison", FLIP), ("boundary", BOUNDARY),
                                ("boolean", BOOLEAN), ("arithmetic", ARITHMETIC)):  # fmt: skip
                new = table.get(symbol)
                if new is not None:
                    yield _Site(_line(op), name, f"`{symbol}` → `{new}`", op.start_byte,
                                op.end_byte, new)  # fmt: skip
    if kind in CONDITIONS:
        cond = node.child_by_field_name("condition")
        if cond is not None:
            inner = cond.named_children[0] if cond.type == "parenthesized_expression" else cond
            if inner is not None:
                yield _Site(_line(inner), "condition", "condition negated", inner.start_byte,
                            inner.end_byte, f"!({_t(inner)})")  # fmt: skip
    if kind == "if_statement":
        body = node.child_by_field_name("consequence")
        if body is not None and _t(body).strip() not in ("{}", ";"):
            yield _Site(_line(body), "branch", "if-branch removed", body.start_byte,
                        body.end_byte, "{}" if body.type == "statement_block" else ";")  # fmt: skip
    if kind in ("number", "string", "true", "false") and not _in_type_or_default(node):
        new = _changed_literal(node)
        if new is not None and not _is_key(node):
            yield _Site(_line(node), "constant", f"`{_t(node)}` → `{new}`", node.start_byte,
                        node.end_byte, new)  # fmt: skip
    if kind in ("assignment_pattern", "optional_parameter", "required_parameter"):
        value = node.child_by_field_name("right") or node.child_by_field_name("value")
        if value is not None and value.type in ("number", "string", "true", "false"):
            new = _changed_literal(value)
            if new is not None:
                yield _Site(_line(value), "default", f"default `{_t(value)}` → `{new}`",
                            value.start_byte, value.end_byte, new)  # fmt: skip
    if kind == "return_statement" and node.named_children:
        value = node.named_children[0]
        if _t(value) not in ("undefined", "null"):
            yield _Site(_line(value), "return", "returns undefined", value.start_byte,
                        value.end_byte, "undefined")  # fmt: skip
    if kind in ("expression_statement", "throw_statement") and _in_function(node):
        yield _Site(_line(node), "statement", "statement deleted", node.start_byte,
                    node.end_byte, ";")  # fmt: skip


def _is_key(node: Any) -> bool:
    parent = node.parent
    return (
        parent is not None and parent.type == "pair" and parent.child_by_field_name("key") == node
    )


def _in_type_or_default(node: Any) -> bool:
    """Literals not to change as constants: in types, imports, ``require``, defaults, and a
    directive (``'use strict'``: changed, it is a string no one reads)."""
    parent = node.parent
    if parent is not None and parent.type == "expression_statement" and node.type == "string":
        return True
    while parent is not None:
        if parent.type in SKIP_LITERALS_IN:
            return True
        if parent.type == "call_expression" and _t(parent).startswith("require("):
            return True
        parent = parent.parent
    return False


def _in_function(node: Any) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in ("statement_block", "class_body") and parent.parent is not None:
            return parent.parent.type not in ("program",)
        parent = parent.parent
    return False


def _site_list(source: str, path: str, ranges: Iterable[tuple[int, int]],
               lines: set[int] | None) -> list[_Site]:  # fmt: skip
    spans = list(ranges)
    found = []
    stack = [parse(source, path).root_node]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        for site in _sites(node):
            if any(a <= site.line <= b for a, b in spans) and (lines is None or site.line in lines):
                found.append(site)
    found.sort(key=lambda s: (s.line, PRIORITY[s.kind], s.start))
    return found


def _make(data: bytes, path: str, site: _Site) -> Mutant | None:
    replacement = site.replacement
    pad = data[site.start : site.end].count(b"\n") - replacement.count("\n")
    if pad > 0:  # the lines below keep their numbers
        replacement = "{" + "\n" * pad + "}" if replacement == "{}" else replacement + "\n" * pad
    site = _Site(site.line, site.kind, site.text, site.start, site.end, replacement)
    mutated = data[: site.start] + site.replacement.encode() + data[site.end :]
    text = mutated.decode(errors="replace")
    if parse(text, path).root_node.has_error:
        return None
    first = data.rfind(b"\n", 0, site.start) + 1
    last_old = data.find(b"\n", site.end)
    last_new = mutated.find(b"\n", site.start + len(site.replacement.encode()))
    before = data[first : last_old if last_old >= 0 else len(data)].decode(errors="replace")
    after = mutated[first : last_new if last_new >= 0 else len(mutated)].decode(errors="replace")
    return Mutant(site.line, site.kind, f"line {site.line}: {site.text}", text, before, after)


def all_mutants(
    source: str, path: str, ranges: Iterable[tuple[int, int]], *,
    lines: Iterable[int] | None = None,
) -> list[Mutant]:  # fmt: skip
    """Every mutant of the code in ``ranges`` (inclusive line ranges), in source order."""
    data = source.encode()
    wanted = set(lines) if lines is not None else None
    out, seen = [], set()
    for site in _site_list(source, path, ranges, wanted):
        mutant = _make(data, path, site)
        if mutant is not None and mutant.source not in seen:
            seen.add(mutant.source)
            out.append(mutant)
    return out


def mutants_for(
    source: str, path: str, start: int, end: int, *, lines: Iterable[int] | None = None,
    limit: int = 4,
) -> list[Mutant]:  # fmt: skip
    """Up to ``limit`` mutants between ``start`` and ``end``, most telling kinds first, spread
    over lines (the gate that rejects a test asserting nothing)."""
    wanted = set(lines) if lines is not None else None
    sites = _site_list(source, path, [(start, end)], wanted)
    seen: set[tuple[int, str]] = set()
    ranked = []
    per_line: dict[int, int] = {}
    for site in sorted(sites, key=lambda s: (PRIORITY[s.kind], s.line)):
        if (site.line, site.kind) in seen:
            continue
        seen.add((site.line, site.kind))
        ranked.append((per_line.get(site.line, 0), PRIORITY[site.kind], site.line, site))
        per_line[site.line] = per_line.get(site.line, 0) + 1
    data = source.encode()
    out: list[Mutant] = []
    for *_key, site in sorted(ranked, key=lambda r: r[:3]):
        mutant = _make(data, path, site)
        if mutant is not None:
            out.append(mutant)
        if len(out) >= limit:
            break
    return out
