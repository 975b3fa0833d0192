"""One JS/TS test file of assay's, put together from candidates: imports merged, tests appended.

:class:`TestFile` reads code (an existing ``*.assay.test.*`` file, then each accepted
candidate): top-level ``import … from "x"`` and ``const { … } = require("x")`` lines become one
import per module with the union of their names (a second import of the same name is a syntax
error in ESM); everything else is the file's body, appended in order.  :meth:`TestFile.render`
writes it back.  Statics of a candidate (names it declares, what it imports) are read here too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from agents.cover.js.symbols import parse

DECLARATIONS = frozenset(
    {"function_declaration", "generator_function_declaration", "class_declaration"}
)


def _t(node: Any) -> str:
    return node.text.decode(errors="replace") if node is not None else ""


def _string(node: Any) -> str:
    text = _t(node)
    return text[1:-1] if len(text) >= 2 and text[0] in "'\"`" else text


@dataclass
class _Import:
    spec: str
    names: list[str] = field(default_factory=list)  # named bindings ("a" or "a as b")
    default: str = ""
    namespace: str = ""
    require: bool = False
    type_only: bool = False


def _require_spec(node: Any) -> tuple[str, Any] | None:
    """``const X = require("spec")``: (spec, the declarator's name node)."""
    if node.type not in ("lexical_declaration", "variable_declaration"):
        return None
    decls = [c for c in node.named_children if c.type == "variable_declarator"]
    if len(decls) != 1:
        return None
    value = decls[0].child_by_field_name("value")
    if value is None or value.type != "call_expression":
        return None
    if _t(value.child_by_field_name("function")) != "require":
        return None
    args = value.child_by_field_name("arguments")
    strings = [c for c in args.named_children if c.type == "string"] if args else []
    if len(strings) != 1:
        return None
    return _string(strings[0]), decls[0].child_by_field_name("name")


def _read_import(node: Any) -> _Import | None:
    if node.type == "import_statement":
        source = node.child_by_field_name("source")
        imp = _Import(_string(source), type_only=_t(node).startswith("import type"))
        for clause in (c for c in node.named_children if c.type == "import_clause"):
            for part in clause.named_children:
                if part.type == "identifier":
                    imp.default = _t(part)
                elif part.type == "namespace_import":
                    imp.namespace = _t(part)
                elif part.type == "named_imports":
                    imp.names += [
                        _t(s) for s in part.named_children if s.type == "import_specifier"
                    ]
        return imp
    found = _require_spec(node)
    if found is None:
        return None
    spec, name = found
    imp = _Import(spec, require=True)
    if name is not None and name.type == "object_pattern":
        imp.names = [re.sub(r"\s*:\s*", " as ", _t(c)) for c in name.named_children]
    elif name is not None:
        imp.default = _t(name)
    return imp


def _render(imp: _Import) -> list[str]:
    spec = json.dumps(imp.spec)
    names = ", ".join(dict.fromkeys(imp.names))
    if imp.require:
        out = [f"const {imp.default} = require({spec});"] if imp.default else []
        if names:
            shown = names.replace(" as ", ": ")
            out.append(f"const {{ {shown} }} = require({spec});")
        return out
    head = "import type" if imp.type_only else "import"
    parts = [p for p in (imp.default, imp.namespace) if p]
    if names:
        parts.append(f"{{ {names} }}")
    return [f"{head} {', '.join(parts)} from {spec};"] if parts else [f"import {spec};"]


class TestFile:
    """An assay test file being put together (see the module)."""

    __test__ = False  # not a pytest class

    def __init__(self, path: str) -> None:
        self.path = path
        self.imports: dict[tuple[str, bool, bool], _Import] = {}
        self.body: list[str] = []

    def add(self, code: str) -> None:
        root = parse(code, self.path).root_node
        for stmt in root.named_children:
            imp = _read_import(stmt)
            text = _t(stmt).rstrip()
            if imp is None:
                if not (stmt.type == "comment" and text.startswith(("// @ts-", "/* eslint"))):
                    self.body.append(text)
                continue
            if imp.namespace:  # `import * as x`: kept once as written
                self.imports.setdefault((f"{imp.spec} * {imp.namespace}", False, False), imp)
                continue
            key = (imp.spec, imp.require, imp.type_only)
            fresh = _Import(imp.spec, require=imp.require, type_only=imp.type_only)
            have = self.imports.setdefault(key, fresh)
            have.names += [n for n in imp.names if n not in have.names]
            if imp.default and not have.default:
                have.default = imp.default
            elif imp.default and have.default != imp.default:
                self.body.append(text)  # another binding of the same default: kept as written

    def render(self) -> str:
        lines = [line for imp in self.imports.values() for line in _render(imp)]
        chunks = ["\n".join(lines)] if lines else []
        return "\n\n".join(chunks + _join(self.body)).rstrip() + "\n"


def _join(body: list[str]) -> list[str]:
    """Body statements with a blank line between top-level blocks."""
    return [chunk for chunk in body if chunk.strip()]


@dataclass(frozen=True)
class Statics:
    """What a candidate declares and imports (for the redefinition and import gates)."""

    declared: frozenset[str]
    specs: tuple[str, ...]  # every module it imports or requires
    bindings: dict[str, list[str]]  # spec -> names imported from it (named and default)
    tests: int  # calls of it()/test()


def statics(code: str, path: str) -> Statics:
    root = parse(code, path).root_node
    declared: set[str] = set()
    specs: list[str] = []
    bindings: dict[str, list[str]] = {}
    tests = 0
    stack = [root]
    while stack:
        node = stack.pop()
        stack.extend(node.named_children)
        if node.type in DECLARATIONS:
            declared.add(_t(node.child_by_field_name("name")))
        elif node.type == "variable_declarator":
            name = node.child_by_field_name("name")
            value = node.child_by_field_name("value")
            is_require = value is not None and _t(value).startswith("require(")
            if name is not None and name.type == "identifier" and not is_require:
                declared.add(_t(name))
        elif node.type == "call_expression":
            callee = _t(node.child_by_field_name("function"))
            if re.fullmatch(r"(it|test)(\.(only|concurrent|each\(.*\)))?", callee, re.DOTALL):
                tests += 1
        imp = _read_import(node) if node.type in ("import_statement", "lexical_declaration",
                                                  "variable_declaration") else None  # fmt: skip
        if imp is not None:
            specs.append(imp.spec)
            names = [n.split(" as ")[0].strip() for n in imp.names]
            default = ["default"] if imp.default and not imp.require else []
            bindings.setdefault(imp.spec, []).extend(names + default)
    return Statics(frozenset(declared), tuple(specs), bindings, tests)


TEST_CALLS = frozenset({"it", "test"})


def _tests(code: str, path: str) -> list[tuple[str, Any]]:
    """(title, statement node) of each ``it``/``test`` call with a literal title, in order."""
    found: list[tuple[str, Any]] = []
    stack = [parse(code, path).root_node]
    while stack:
        node = stack.pop()
        stack.extend(reversed(node.named_children))
        if (
            node.type != "call_expression"
            or _t(node.child_by_field_name("function")) not in TEST_CALLS
        ):
            continue
        args = node.child_by_field_name("arguments")
        first = args.named_children[0] if args is not None and args.named_children else None
        if first is None or first.type not in ("string", "template_string"):
            continue
        parent = node.parent
        found.append((_string(first), parent if parent.type == "expression_statement" else node))
    return found


def drop_tests(code: str, path: str, failing: set[str]) -> str | None:
    """``code`` without its tests (``it``/``test`` calls) whose full name is in ``failing``
    (a runner's full name ends with the test's own title); None when none is left or none
    was dropped."""
    tests = _tests(code, path)
    spans = [
        (node.start_byte, node.end_byte)
        for title, node in tests
        if any(name == title or name.endswith(f" {title}") for name in failing)
    ]
    if not spans or len(spans) >= len(tests):
        return None
    return _cut(code, spans)


def drop_repeats(code: str, path: str) -> str:
    """``code`` without a test that repeats an earlier one word for word (a small model
    writes the same test twice in one draft)."""
    seen: set[str] = set()
    spans = []
    for _, node in _tests(code, path):
        text = " ".join(_t(node).split())
        if text in seen:
            spans.append((node.start_byte, node.end_byte))
        seen.add(text)
    return _cut(code, spans) if spans else code


def _cut(code: str, spans: list[tuple[int, int]]) -> str:
    data = code.encode()
    for start, end in sorted(spans, reverse=True):
        line_start = data.rfind(b"\n", 0, start) + 1
        if not data[line_start:start].strip():
            start = line_start  # the test's indentation
        if data[end : end + 1] == b"\n":
            end += 1
        data = data[:start] + data[end:]
    return re.sub(r"\n{3,}", "\n\n", data.decode())
