"""What a JS/TS module exports, read with tree-sitter (the indexer's grammars).

:func:`read_module` lists the exported functions and classes of a source text — ESM
(``export function``, ``export const f = () =>``, ``export class``, ``export { a as b }``,
``export default``) and CommonJS (``module.exports = { a, b }``, ``module.exports = f``,
``exports.a = …``) — with their lines, parameters, the JSDoc ``@example`` calls above them and
the literals they use (the exploration's argument pool), and each class's methods.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agents.cover.js.jstext import node_text
from agents.cover.js.option_sweep import LITERALS, option_objects
from indexer import parser_for

FUNCTION_VALUES = frozenset(
    {"arrow_function", "function_expression", "function", "generator_function"}
)
FUNCTION_DECLS = frozenset({"function_declaration", "generator_function_declaration"})
CLASS_DECLS = frozenset({"class_declaration", "abstract_class_declaration", "class"})
LONGEST = 100_000  # a whole number up to this long gives a string as long (module_values)
LENGTHS = 2


def language_of(path: str) -> str:
    if path.endswith((".ts", ".mts", ".cts")):
        return "typescript"
    if path.endswith(".tsx"):
        return "tsx"
    return "javascript"


def parse(text: str, path: str) -> Any:
    parser = parser_for(language_of(path))
    assert parser is not None
    return parser.parse(text.encode())


def syntax_error(text: str, path: str) -> str:
    """Where ``text`` does not parse (``line N``), or ""."""
    root = parse(text, path).root_node
    if not root.has_error:
        return ""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            return f"line {node.start_point[0] + 1}: cannot parse {node_text(node)[:60]!r}"
        stack.extend(c for c in reversed(node.children) if c.has_error or c.is_missing)
    return "it does not parse"


@dataclass
class Method:
    name: str
    params: list[str]
    start: int  # 1-based lines
    end: int
    body_start: int
    is_static: bool = False
    literals: list[str] = field(default_factory=list)


@dataclass
class Export:
    """One exported function or class; ``name`` is how a test imports it."""

    name: str  # exported name ("default" for a default export)
    local: str  # the declaration's own name
    kind: str  # "function" or "class"
    start: int
    end: int
    body_start: int
    params: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)  # JSDoc @example calls
    literals: list[str] = field(default_factory=list)
    methods: list[Method] = field(default_factory=list)
    is_async: bool = False
    module_values: list[str] = field(default_factory=list)  # see module_values()
    option_objects: list[str] = field(default_factory=list)  # see option_sweep
    tag: bool = False  # a template tag: its first parameter is a TemplateStringsArray
    reexported_from: str = ""  # the module defining it, when an entry passes it on (reexports)
    # the lines of the module's own functions it calls (directly or through each other) that
    # are not exported themselves: their missed code is its to reach
    helpers: list[tuple[int, int]] = field(default_factory=list)

    @property
    def binding(self) -> str:
        """The name a test binds it to."""
        return self.local if self.name == "default" else self.name


def _line(node: Any) -> int:
    return int(node.start_point[0]) + 1


def _end(node: Any) -> int:
    return int(node.end_point[0]) + 1


def _params(node: Any) -> list[str]:
    params = node.child_by_field_name("parameters")
    if params is None:  # `x => x + 1`
        single = node.child_by_field_name("parameter")
        return [node_text(single)] if single is not None else []
    out = []
    for child in params.named_children:
        if child.type == "comment":
            continue
        pattern = child.child_by_field_name("pattern") or child
        name = node_text(pattern).split("=")[0].split(":")[0].strip()
        out.append(name)
    return out


def _body_start(node: Any) -> int:
    body = node.child_by_field_name("body")
    if body is None:
        return _line(node)
    inner = [c for c in body.named_children if c.type != "comment"]
    if body.type in ("statement_block", "class_body") and inner:
        return _line(inner[0])
    return _line(body)


def _literals(node: Any, limit: int = 24) -> list[str]:
    found: list[str] = []
    stack = [node]
    while stack and len(found) < limit:
        n = stack.pop()
        if n.type in LITERALS:
            text = node_text(n)
            if len(text) <= 40 and "\n" not in text and text not in found:
                found.append(text)
            continue
        if n.type in ("template_string", "type_annotation", "literal_type", "predefined_type"):
            continue
        stack.extend(reversed(n.children))
    return found


def _examples(comment: str, name: str) -> list[str]:
    """Calls of ``name`` in a JSDoc block's ``@example`` sections."""
    out = []
    for line in comment.splitlines():
        line = line.strip().lstrip("/*").strip()
        line = re.sub(r"^@example\s*", "", line)
        line = re.sub(r"\s*(//|=>|→).*$", "", line).rstrip(";")
        if re.match(rf"^{re.escape(name)}\s*\(.*\)$", line) and len(line) < 200:
            out.append(line)
    return out


def _is_tag(node: Any, comment: str) -> bool:
    """Whether a function is a template tag: its first parameter's TypeScript type or its
    first JSDoc ``@param`` says ``TemplateStringsArray``."""
    params = node.child_by_field_name("parameters")
    named = params.named_children if params is not None else []
    first = next((c for c in named if c.type != "comment"), None)
    annotation = first.child_by_field_name("type") if first is not None else None
    if annotation is not None:
        return "TemplateStringsArray" in node_text(annotation)
    found = re.search(r"@param\s*\{([^}]*)\}", comment)
    return found is not None and "TemplateStringsArray" in found.group(1)


def _comment_before(node: Any) -> str:
    prev = node.prev_named_sibling
    if prev is not None and prev.type == "comment" and _end(prev) >= _line(node) - 1:
        return node_text(prev)
    return ""


def _methods(cls: Any) -> list[Method]:
    body = cls.child_by_field_name("body")
    out = []
    for child in body.named_children if body is not None else []:
        if child.type != "method_definition":
            continue
        name = node_text(child.child_by_field_name("name"))
        if name.startswith("#"):
            continue
        static = any(c.type == "static" for c in child.children)
        out.append(
            Method(name, _params(child), _line(child), _end(child), _body_start(child),
                   static, _literals(child))
        )  # fmt: skip
    return out


def _declared(root: Any) -> dict[str, tuple[Any, Any]]:
    """Top-level functions and classes by name: (the declaration node, the node its comment
    is attached to)."""
    found: dict[str, tuple[Any, Any]] = {}
    for stmt in root.named_children:
        outer = stmt
        node = stmt.child_by_field_name("declaration") if stmt.type == "export_statement" else stmt
        if node is None:
            continue
        if node.type in FUNCTION_DECLS | CLASS_DECLS:
            found[node_text(node.child_by_field_name("name"))] = (node, outer)
        elif node.type in ("lexical_declaration", "variable_declaration"):
            for decl in node.named_children:
                value = decl.child_by_field_name("value")
                is_function = value is not None and value.type in FUNCTION_VALUES | CLASS_DECLS
                if decl.type == "variable_declarator" and is_function:
                    found[node_text(decl.child_by_field_name("name"))] = (value, outer)
    return found


def _export(name: str, local: str, node: Any, outer: Any) -> Export:
    kind = "class" if node.type in CLASS_DECLS else "function"
    is_async = any(c.type == "async" for c in node.children)
    comment = _comment_before(outer)
    return Export(
        name=name, local=local, kind=kind, start=_line(outer), end=_end(node),
        body_start=_body_start(node), params=_params(node) if kind == "function" else [],
        examples=_examples(comment, local), literals=_literals(node),
        methods=_methods(node) if kind == "class" else [], is_async=is_async,
        tag=kind == "function" and _is_tag(node, comment),
    )  # fmt: skip


def cjs_exports(stmt: Any) -> list[tuple[str, Any]]:
    """(exported name, value node) of ``module.exports = …`` / ``exports.x = …``."""
    expr = stmt.named_children[0] if stmt.named_children else None
    if expr is None or expr.type != "assignment_expression":
        return []
    left, right = node_text(expr.child_by_field_name("left")), expr.child_by_field_name("right")
    if left == "module.exports":
        if right.type == "object":
            out = []
            for prop in right.named_children:
                if prop.type == "shorthand_property_identifier":
                    out.append((node_text(prop), prop))
                elif prop.type == "pair":
                    out.append((node_text(prop.child_by_field_name("key")),
                                prop.child_by_field_name("value")))  # fmt: skip
            return out
        return [("default", right)]
    found = re.fullmatch(r"(?:module\.)?exports\.(\w+)", left)
    return [(found.group(1), right)] if found else []


def _names(node: Any) -> set[str]:
    found: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "identifier":
            found.add(node_text(n))
        stack.extend(n.children)
    return found


def _helpers(
    node: Any, declared: dict[str, tuple[Any, Any]], exported: set[str]
) -> list[tuple[int, int]]:
    """The line ranges of the module's unexported functions ``node`` reaches by name."""
    seen: set[str] = set()
    todo = [n for n in _names(node) if n in declared and n not in exported]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += [n for n in _names(declared[name][0]) if n in declared and n not in exported]
    return sorted((_line(declared[n][1]), _end(declared[n][0])) for n in seen)


def default_name(path: str) -> str:
    """What a test calls an anonymous default export: the file's name (``parse-url.js`` →
    ``parseUrl``; ``index.js`` → its directory's name)."""
    parts = path.split("/")
    stem = parts[-1].split(".")[0]
    if stem == "index" and len(parts) > 1:
        stem = parts[-2]
    words = [w for w in re.split(r"[^A-Za-z0-9]+", stem) if w]
    name = "".join([words[0], *(w[:1].upper() + w[1:] for w in words[1:])]) if words else ""
    return name if name.isidentifier() and not name[0].isdigit() else "subject"


def read_module(text: str, path: str) -> list[Export]:
    """The exported functions and classes of a module, in source order."""
    root = parse(text, path).root_node
    declared = _declared(root)
    exports: dict[str, Export] = {}
    nodes: dict[str, Any] = {}

    def add(name: str, local: str, node: Any, outer: Any) -> None:
        if node.type in FUNCTION_DECLS | FUNCTION_VALUES | CLASS_DECLS and name not in exports:
            exports[name], nodes[name] = _export(name, local, node, outer), node

    for stmt in root.named_children:
        if stmt.type == "export_statement":
            default = any(c.type == "default" for c in stmt.children)
            decl = stmt.child_by_field_name("declaration")
            value = stmt.child_by_field_name("value")
            if decl is not None:
                for name, (node, outer) in declared.items():
                    if outer is stmt:
                        add("default" if default else name, name, node, outer)
            elif value is not None and value.type == "identifier" and node_text(value) in declared:
                node, outer = declared[node_text(value)]
                add("default", node_text(value), node, outer)
            elif value is not None:
                add("default", default_name(path), value, stmt)
            for clause in (c for c in stmt.named_children if c.type == "export_clause"):
                for spec in clause.named_children:
                    local = node_text(spec.child_by_field_name("name"))
                    alias = node_text(spec.child_by_field_name("alias")) or local
                    if local in declared:
                        add(alias, local, *declared[local])
        elif stmt.type == "expression_statement":
            for name, value in cjs_exports(stmt):
                plain = value.type in ("identifier", "shorthand_property_identifier")
                ref = node_text(value) if plain else ""
                if ref and ref in declared:
                    node, outer = declared[ref]
                    add(name, ref if name == "default" else name, node, outer)
                elif value is not None:
                    add(name, default_name(path) if name == "default" else name, value, stmt)
    spans = {(n.start_byte, n.end_byte) for n in nodes.values()}
    exported = {k for k, (n, _) in declared.items() if (n.start_byte, n.end_byte) in spans}
    for name, export in exports.items():
        export.helpers = _helpers(nodes[name], declared, exported)
    objects = option_objects(root)
    shared = module_values(root, objects)
    for export in exports.values():
        export.module_values, export.option_objects = shared, objects
    return sorted(exports.values(), key=lambda e: e.start)


def module_values(root: Any, objects: list[str], options: int = 30, strings: int = 16) -> list[str]:
    """Arguments the whole module suggests, beyond one function's literals: its options
    ``objects`` (:func:`~agents.cover.js.option_sweep.option_objects`: ``opts.allowDots`` →
    ``{ allowDots: true }``, ``opts.charset === 'utf-8'`` → ``{ charset: 'utf-8' }``); and
    strings made of its short punctuation literals (a parser's ``'['``, ``'='``, ``'&'`` →
    ``'a[b]=c'``); strings as long as its larger whole numbers (``var limit = 1024`` →
    ``'a'.repeat(1024)``: where code cuts long input into pieces)."""
    marks: list[str] = []
    lengths: list[str] = []
    stack = [root]
    while stack:
        n = stack.pop()
        stack.extend(reversed(n.children))
        if n.type == "number" and node_text(n).isdigit() and 100 <= int(node_text(n)) <= LONGEST:
            if (text := f"'a'.repeat({int(node_text(n))})") not in lengths:
                lengths.append(text)
        elif n.type == "string":
            inner = node_text(n)[1:-1]
            plain = "\\" not in inner and "'" not in inner and not inner.isalnum()
            if 1 <= len(inner) <= 2 and plain and inner not in marks:
                marks.append(inner)
    texts: list[str] = []
    for i, first in enumerate(marks[:8]):
        texts.append(f"'a{first}b'")
        texts += [f"'a{first}b{second}c'" for second in marks[i + 1 : i + 3]]
    return objects[:options] + texts[:strings] + lengths[:LENGTHS]
