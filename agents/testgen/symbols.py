"""Finding the symbol ``assay tests PATH::SYMBOL`` names, outlining it, and retrieval of the
repository's own tests as style examples (from the code index, when the repository is indexed)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from agents import indexing
from agents.errors import InputError
from agents.settings import Settings

ROOT_MARKERS = (".git", "pyproject.toml", "setup.py", "setup.cfg")
MAX_EXAMPLE_LINES = 25


@dataclass(frozen=True)
class Symbol:
    path: str  # repository-relative, '/'-separated
    qualname: str  # "apply_discount", "Cart", "Cart.add"
    kind: Literal["function", "method", "class"]
    start: int  # first line, decorators included
    body_start: int  # first line of the body (the def/class line runs at import)
    end: int


def find_repo(path: Path) -> Path:
    """The repository holding ``path``: the nearest parent with .git or a project file; with
    none, the directory above the package ``path`` is in (``pkg/mod.py`` imports as
    ``pkg.mod`` from there, not as ``mod``)."""
    start = path.resolve().parent if path.is_file() else path.resolve()
    for candidate in (start, *start.parents):
        if any((candidate / marker).exists() for marker in ROOT_MARKERS):
            return candidate
    while (start / "__init__.py").is_file() and start.parent != start:
        start = start.parent
    return start


def parse_spec(spec: str) -> tuple[Path, str]:
    """``PATH::SYMBOL`` → (path, qualified name)."""
    path, sep, name = spec.partition("::")
    if not sep or not path or not name:
        raise InputError(
            f"'{spec}' is not PATH::SYMBOL", "name a symbol, e.g. shop/pricing.py::apply_discount"
        )
    return Path(path).expanduser(), name.strip()


def find_symbol(repo: Path, file: Path, qualname: str) -> Symbol:
    """The function, method (``Class.method``) or class ``qualname`` defined in ``file``."""
    full = file if file.is_absolute() else (Path.cwd() / file)
    full = full.resolve()
    if not full.is_file():
        raise InputError(f"Source file {file} does not exist", "pass an existing .py file")
    try:
        rel = full.relative_to(repo.resolve()).as_posix()
    except ValueError as exc:
        raise InputError(f"{file} is not inside the repository {repo}", "pass --repo") from exc
    try:
        tree = ast.parse(full.read_text(encoding="utf-8"))
    except SyntaxError as exc:
        raise InputError(f"{rel} does not parse: {exc.msg} at line {exc.lineno}", "fix it") from exc
    found: list[str] = []
    for prefix, node, parent_is_class in _walk(tree):
        name = prefix + node.name
        found.append(name)
        if name != qualname:
            continue
        kind: Literal["function", "method", "class"] = (
            "class"
            if isinstance(node, ast.ClassDef)
            else "method"
            if parent_is_class
            else "function"
        )
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        return Symbol(rel, qualname, kind, start, node.body[0].lineno, node.end_lineno or start)
    near = ", ".join(sorted(found)[:8]) or "none"
    raise InputError(f"No function, method or class '{qualname}' in {rel}", f"pick one of: {near}")


def _walk(tree: ast.Module) -> list[tuple[str, Any, bool]]:
    out: list[tuple[str, Any, bool]] = []
    stack: list[tuple[str, ast.AST, bool]] = [("", tree, False)]
    while stack:
        prefix, node, is_class = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                out.append((prefix, child, is_class))
            elif isinstance(child, ast.ClassDef):
                out.append((prefix, child, is_class))
                stack.append((prefix + child.name + ".", child, True))
    return out


def outline(source: str, symbol: Symbol) -> str:
    """A long class as its header, fields and method signatures (numbered like the excerpt)."""
    lines = source.splitlines()
    tree = ast.parse(source)
    cls = next(
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.ClassDef) and symbol.start <= n.lineno < symbol.body_start
    )
    keep = list(range(symbol.start, symbol.body_start))
    for node in cls.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            keep += [d.lineno for d in node.decorator_list]
            keep += list(range(node.lineno, node.body[0].lineno))
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            keep += list(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    width = len(str(symbol.end))
    return "\n".join(f"{n:>{width}}| {lines[n - 1].rstrip()}" for n in sorted(set(keep)))


def retrieve_examples(repo: Path, query: str, settings: Settings, k: int = 8) -> tuple[str, str]:
    """Test code of ``repo`` from the code index, to show the repository's testing style, and
    a warning when the index could not be read ("" otherwise).  A repository that is not
    indexed has no examples and no warning; the store opens only for an indexed one and is
    closed again (embedded Qdrant serves one process at a time)."""
    try:
        service = indexing.shared_service(settings)
        records = service.registry.load()
        location = str(repo.resolve())
        name = next((n for n, r in records.items() if r.location == location), None)
        if name is None:
            return "", ""
        hits = indexing.retrieve(query, k, repo=name, lang="python", settings=settings)
    except indexing.INDEX_FAILURES as exc:
        what = f"{exc.__class__.__name__}: {str(exc)[:160]}"
        return "", f"the code index could not be read ({what}); no style examples from it"
    finally:
        indexing.close_shared()
    chunks: list[str] = []
    for hit in hits:
        if hit.text and ("test" in hit.path.lower() or "def test" in hit.text):
            chunks.append(f"# {hit.path}\n{hit.text.strip()}" if hit.path else hit.text.strip())
        if len(chunks) >= 2:
            break
    lines = "\n\n".join(chunks).splitlines()
    return "\n".join(lines[:MAX_EXAMPLE_LINES]), ""
