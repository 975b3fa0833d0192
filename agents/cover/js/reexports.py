"""The functions a package's entry module passes on from its other modules.

An entry such as qs's ``lib/index.js`` (``var parse = require('./parse'); module.exports = {
parse: parse, … }``, or ``export { default as parse } from './parse.js'``) has no code of its own
to cover, and it is what the package's users call (``qs.parse``).  When no test loads it,
:func:`reexported` gives its re-exported functions as exports of the entry — the function's own
parameters, literals and examples, the entry's name and lines — so exploration calls them through
the entry on the calls their README and JSDoc show: tests of the package as its users call it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from agents.cover.js.jstext import node_text
from agents.cover.js.project import resolve_import
from agents.cover.js.symbols import Export, cjs_exports, parse, read_module

__all__ = ["reexported"]


@dataclass(frozen=True)
class _Passed:
    name: str  # as the entry exports it
    spec: str  # the module it comes from, as written ("./parse")
    there: str  # its name there ("default": a CommonJS module's own exports)
    start: int  # the entry's lines that pass it on
    end: int


def _string(node: Any) -> str:
    return node_text(node)[1:-1] if node is not None and node.type == "string" else ""


def _required(value: Any) -> tuple[str, str] | None:
    """``require('./x')`` → ("./x", "default"); ``require('./x').y`` → ("./x", "y")."""
    if value is None:
        return None
    member = ""
    if value.type == "member_expression":
        member = node_text(value.child_by_field_name("property"))
        value = value.child_by_field_name("object")
    if value is None or value.type != "call_expression":
        return None
    fn, args = value.child_by_field_name("function"), value.child_by_field_name("arguments")
    if fn is None or node_text(fn) != "require" or args is None or len(args.named_children) != 1:
        return None
    spec = _string(args.named_children[0])
    return (spec, member or "default") if spec.startswith(".") else None


def _bindings(root: Any) -> dict[str, tuple[str, str]]:
    """Top-level names bound to another module's export: ``var x = require('./x')``,
    ``import x from './x'``, ``import { y as x } from './x'`` → x: (spec, name there)."""
    found: dict[str, tuple[str, str]] = {}
    for stmt in root.named_children:
        if stmt.type in ("lexical_declaration", "variable_declaration"):
            for decl in stmt.named_children:
                name = decl.child_by_field_name("name")
                got = _required(decl.child_by_field_name("value"))
                if got and name is not None and name.type == "identifier":
                    found[node_text(name)] = got
        elif stmt.type == "import_statement":
            spec = _string(stmt.child_by_field_name("source"))
            clause = next((c for c in stmt.named_children if c.type == "import_clause"), None)
            if not spec.startswith(".") or clause is None:
                continue
            for part in clause.named_children:
                if part.type == "identifier":
                    found[node_text(part)] = (spec, "default")
                for item in part.named_children if part.type == "named_imports" else ():
                    there = node_text(item.child_by_field_name("name"))
                    alias = item.child_by_field_name("alias")
                    found[node_text(alias) if alias is not None else there] = (spec, there)
    return found


def _passed(root: Any) -> list[_Passed]:
    bindings, out = _bindings(root), []
    for stmt in root.named_children:
        start, end = stmt.start_point[0] + 1, stmt.end_point[0] + 1
        if stmt.type == "expression_statement":
            for name, value in cjs_exports(stmt):
                got = bindings.get(node_text(value)) if value is not None else None
                got = got or _required(value)
                if got and name != "default":
                    out.append(_Passed(name, got[0], got[1], start, end))
        elif stmt.type == "export_statement":
            spec = _string(stmt.child_by_field_name("source"))
            for clause in (c for c in stmt.named_children if c.type == "export_clause"):
                for item in clause.named_children:
                    local = node_text(item.child_by_field_name("name"))
                    alias = item.child_by_field_name("alias")
                    name = node_text(alias) if alias is not None else local
                    got = (spec, local) if spec.startswith(".") else bindings.get(local)
                    if got and name != "default":
                        out.append(_Passed(name, got[0], got[1], start, end))
    return out


def reexported(repo: Path, path: str, text: str) -> list[Export]:
    """The functions the module at ``path`` (in ``repo``) re-exports from the package's other
    modules, as its own exports (``reexported_from`` naming the file that defines each)."""
    out: list[Export] = []
    for passed in _passed(parse(text, path).root_node):
        origin = resolve_import(repo, path, passed.spec)
        if origin is None or origin == path or origin.startswith(".."):
            continue
        try:
            exports = read_module((repo / origin).read_text(encoding="utf-8"), origin)
        except (OSError, UnicodeDecodeError):
            continue
        found = next((e for e in exports if e.name == passed.there), None)
        if found is None or found.kind != "function":
            continue
        out.append(replace(
            found, name=passed.name, local=passed.name, start=passed.start, end=passed.end,
            body_start=passed.start, examples=list(found.examples), reexported_from=origin,
            helpers=[],
        ))  # fmt: skip
    return out
