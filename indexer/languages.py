"""The tree-sitter grammars (one wheel per language, nothing downloaded at run time) and, per
language, which syntax nodes are functions, classes, imports and comments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import tree_sitter


@dataclass(frozen=True)
class LangSpec:
    """How :mod:`indexer.chunking` reads one language's syntax tree.

    ``functions``: chunks of their own (functions, methods, constructors).  ``containers``:
    class-like nodes, kept whole when small, else split into their members under a header with
    their signature.  ``units``: other definitions kept whole (interfaces, type declarations).
    ``wrappers``: nodes whose one definition child is the real thing (decorators, ``export``).
    ``transparent``: body nodes to look through when collecting members.
    """

    name: str
    grammar: Callable[[], Any]
    functions: frozenset[str]
    containers: frozenset[str]
    units: frozenset[str] = frozenset()
    wrappers: frozenset[str] = frozenset()
    transparent: frozenset[str] = frozenset()
    imports: frozenset[str] = frozenset()
    comments: frozenset[str] = frozenset({"comment"})
    variable_functions: frozenset[str] = frozenset()  # ``const f = () => …`` declarations


def _python() -> Any:
    import tree_sitter_python

    return tree_sitter_python.language()


def _javascript() -> Any:
    import tree_sitter_javascript

    return tree_sitter_javascript.language()


def _typescript() -> Any:
    import tree_sitter_typescript

    return tree_sitter_typescript.language_typescript()


def _tsx() -> Any:
    import tree_sitter_typescript

    return tree_sitter_typescript.language_tsx()


def _java() -> Any:
    import tree_sitter_java

    return tree_sitter_java.language()


def _go() -> Any:
    import tree_sitter_go

    return tree_sitter_go.language()


_JS_FUNCTIONS = frozenset(
    {"function_declaration", "generator_function_declaration", "method_definition"}
)
_JS_COMMON: dict[str, Any] = {
    "wrappers": frozenset({"export_statement"}),
    "transparent": frozenset({"class_body"}),
    "imports": frozenset({"import_statement"}),
    "variable_functions": frozenset({"lexical_declaration", "variable_declaration"}),
}
_TS_COMMON: dict[str, Any] = {
    **_JS_COMMON,
    "functions": _JS_FUNCTIONS | {"function_signature"},
    "containers": frozenset({"class_declaration", "abstract_class_declaration"})
    | {"internal_module", "module"},
    "units": frozenset({"interface_declaration", "type_alias_declaration", "enum_declaration"}),
    "transparent": frozenset({"class_body", "statement_block"}),
}

SPECS: dict[str, LangSpec] = {
    "python": LangSpec(
        "python",
        _python,
        functions=frozenset({"function_definition"}),
        containers=frozenset({"class_definition"}),
        wrappers=frozenset({"decorated_definition"}),
        transparent=frozenset({"block"}),
        imports=frozenset({"import_statement", "import_from_statement", "future_import_statement"}),
    ),
    "javascript": LangSpec(
        "javascript",
        _javascript,
        functions=_JS_FUNCTIONS,
        containers=frozenset({"class_declaration"}),
        **_JS_COMMON,
    ),
    "typescript": LangSpec("typescript", _typescript, **_TS_COMMON),
    "tsx": LangSpec("tsx", _tsx, **_TS_COMMON),
    "java": LangSpec(
        "java",
        _java,
        functions=frozenset(
            {"method_declaration", "constructor_declaration", "compact_constructor_declaration"}
        ),
        containers=frozenset(
            {"class_declaration", "interface_declaration", "enum_declaration"}
            | {"record_declaration", "annotation_type_declaration"}
        ),
        transparent=frozenset(
            {"class_body", "interface_body", "enum_body", "enum_body_declarations"}
            | {"annotation_type_body"}
        ),
        imports=frozenset({"import_declaration", "package_declaration"}),
        comments=frozenset({"line_comment", "block_comment"}),
    ),
    "go": LangSpec(
        "go",
        _go,
        functions=frozenset({"function_declaration", "method_declaration"}),
        containers=frozenset(),
        units=frozenset({"type_declaration", "const_declaration", "var_declaration"}),
        imports=frozenset({"import_declaration", "package_clause"}),
    ),
}


@cache
def parser_for(language: str) -> tree_sitter.Parser | None:
    """A parser for ``language``, or None when it has no grammar here (line windows then)."""
    spec = SPECS.get(language)
    if spec is None:
        return None
    return tree_sitter.Parser(tree_sitter.Language(spec.grammar()))
