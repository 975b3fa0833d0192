"""What the server reads in a document: its language, its functions, methods and classes (the
code lenses), the symbol around a position, and whether the engine can work on it at all.

Pure functions over text, tested without a server.  Lines and characters are 0-based as in LSP;
characters are counted in code points (identical to UTF-16 units outside the astral planes).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal
from urllib.parse import unquote, urlparse

from agents.cover.js.project import SOURCE_EXTENSIONS, is_js_test
from agents.cover.targets import is_test_file
from agents.errors import InputError

Kind = Literal["function", "method", "class"]

LANGUAGE_NAMES = {
    "javascript": "JavaScript", "javascriptreact": "JavaScript", "typescript": "TypeScript",
    "typescriptreact": "TypeScript", "java": "Java", "go": "Go", "rust": "Rust", "c": "C",
    "cpp": "C++", "csharp": "C#", "ruby": "Ruby", "php": "PHP", "kotlin": "Kotlin",
    "swift": "Swift", "scala": "Scala", "shellscript": "Shell", "markdown": "Markdown",
    "json": "JSON", "yaml": "YAML", "toml": "TOML", "plaintext": "plain text",
}  # fmt: skip
SUFFIX_LANGUAGES = {
    ".js": "javascript", ".jsx": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".ts": "typescript", ".tsx": "typescript", ".mts": "typescript", ".cts": "typescript",
    ".java": "java", ".go": "go", ".rs": "rust", ".c": "c", ".h": "c", ".cpp": "cpp",
    ".cs": "csharp", ".rb": "ruby", ".php": "php", ".kt": "kotlin", ".swift": "swift",
    ".md": "markdown", ".json": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml",
    ".sh": "shellscript", ".txt": "plaintext",
}  # fmt: skip
ROOT_MARKERS = (".git", "pyproject.toml", "setup.py", "setup.cfg", "package.json")
# What the engine writes tests for: Python, and JavaScript/TypeScript packages (assay cover's JS
# pipeline, limited to the symbol).
JS_LANGUAGES = frozenset({"javascript", "javascriptreact", "typescript", "typescriptreact"})
SUPPORTED = frozenset({"python", *JS_LANGUAGES})


@dataclass(frozen=True)
class SymbolInfo:
    """A function, method or class of a document, as a code lens shows it."""

    qualname: str  # "clamp", "Counter", "Counter.bump"
    kind: Kind
    line: int  # 0-based: the first line (its first decorator, or the def/class line)
    column: int  # where that line's code starts (after the indentation)
    width: int  # that line's length
    def_line: int  # 0-based def/class line
    end_line: int  # 0-based last line

    def contains(self, line: int) -> bool:
        return self.line <= line <= self.end_line


def language_of(uri: str, language_id: str | None) -> str:
    """The document's language id (the editor's, else guessed from the file name)."""
    if language_id:
        return language_id
    suffix = PurePosixPath(urlparse(uri).path).suffix.lower()
    return "python" if suffix in (".py", ".pyi") else SUFFIX_LANGUAGES.get(suffix, suffix or "?")


def unsupported_message(language: str) -> str:
    name = LANGUAGE_NAMES.get(language, language.lstrip(".") or "this kind of file")
    name = "this kind of file" if name == "?" else name
    return (
        f"assay generates tests for Python, JavaScript and TypeScript files; {name} is not "
        "supported yet"
    )


def path_of(uri: str) -> Path:
    """The local file of a ``file:`` URI; anything else (unsaved, remote) is an InputError."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        raise InputError(
            f"{uri} is not a file on disk", "save it into the project first: assay runs the tests"
        )
    return Path(unquote(parsed.path))


def find_root(path: Path, folders: list[Path]) -> Path:
    """The project holding ``path``: the nearest parent with .git or a project file, but not
    above the (innermost) workspace folder holding it, which is the answer when none is found."""
    inside = [f for f in folders if f in path.parents]
    folder = max(inside, key=lambda f: len(f.parts)) if inside else None
    for candidate in path.parents:
        if any((candidate / marker).exists() for marker in ROOT_MARKERS) or candidate == folder:
            return candidate
    return path.parent


def symbols_of(source: str, language: str, path: str) -> list[SymbolInfo]:
    """The lenses' symbols of a document in ``language`` (one of :data:`SUPPORTED`); raises
    SyntaxError for a document that does not parse."""
    if language not in JS_LANGUAGES:
        return symbols(source)
    if not path.endswith(SOURCE_EXTENSIONS):
        path = {"typescript": "module.ts", "typescriptreact": "module.tsx"}.get(language, "m.js")
    return js_symbols(source, path)


def js_symbols(source: str, path: str) -> list[SymbolInfo]:
    """The exported functions and classes of a JS/TS module, and the classes' methods (what
    ``assay cover`` on the package writes tests for)."""
    from agents.cover.js.symbols import read_module, syntax_error

    if problem := syntax_error(source, path):
        raise SyntaxError(problem)
    lines = source.splitlines()
    out: list[SymbolInfo] = []

    def add(qualname: str, kind: Kind, start: int, end: int) -> None:
        text = lines[start - 1] if start <= len(lines) else ""
        column = len(text) - len(text.lstrip())
        out.append(SymbolInfo(qualname, kind, start - 1, column, len(text), start - 1, end - 1))

    for export in read_module(source, path):
        if export.kind == "function":
            add(export.binding, "function", export.start, export.end)
            continue
        add(export.binding, "class", export.start, export.end)
        for method in export.methods:
            add(f"{export.binding}.{method.name}", "method", method.start, method.end)
    return sorted(out, key=lambda s: (s.line, s.qualname))


def symbols(source: str) -> list[SymbolInfo]:
    """Functions, classes and methods (nested classes too; not functions inside functions), in
    the order they appear.  Raises SyntaxError for a document that does not parse."""
    tree = ast.parse(source)
    lines = source.splitlines()
    out: list[SymbolInfo] = []
    stack: list[tuple[str, ast.AST, bool]] = [("", tree, False)]
    while stack:
        prefix, node, in_class = stack.pop()
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            kind: Kind = (
                "class" if isinstance(child, ast.ClassDef) else "method" if in_class else "function"
            )
            first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
            text = lines[first - 1] if first <= len(lines) else ""
            out.append(
                SymbolInfo(prefix + child.name, kind, first - 1, len(text) - len(text.lstrip()),
                           len(text), child.lineno - 1, (child.end_lineno or child.lineno) - 1)
            )  # fmt: skip
            if kind == "class":
                stack.append((prefix + child.name + ".", child, True))
    return sorted(out, key=lambda s: (s.line, s.def_line, s.qualname))


def symbol_at(found: list[SymbolInfo], line: int) -> SymbolInfo | None:
    """The innermost symbol around ``line`` (a method rather than its class)."""
    around = [s for s in found if s.contains(line)]
    return max(around, key=lambda s: (s.line, s.qualname.count("."))) if around else None


def is_test_path(root: Path, path: Path) -> bool:
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = path.name
    return is_js_test(rel) if rel.endswith(SOURCE_EXTENSIONS) else is_test_file(rel)


def parse_problem(source: str, rel: str, language: str = "python") -> str | None:
    """Why ``source`` cannot be worked on, in one line, or None."""
    if language in JS_LANGUAGES:
        from agents.cover.js.symbols import syntax_error

        problem = syntax_error(source, rel)
        return f"{rel} does not parse ({problem}): fix it, then try again" if problem else None
    try:
        ast.parse(source)
    except SyntaxError as exc:
        return f"{rel} does not parse ({exc.msg} at line {exc.lineno}): fix it, then try again"
    except ValueError as exc:  # null bytes
        return f"{rel} is not Python source ({exc}): assay works on Python files"
    return None
