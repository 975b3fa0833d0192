"""A candidate test file from a model's reply, and the static gates it must pass.

Static gates, in order: it parses; it has a test function; it does not define anything named
like the code it tests; it imports the module under test.  The runtime gates live in
:mod:`agents.cover.gates`.
"""

from __future__ import annotations

import ast
import builtins
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from agents.cover.targets import Target
from flows import (
    MAX_TESTS_PER_ANSWER,
    answer_complete,
    answer_end,
    extract_test_module,
    trim_to_parse,
)

__all__ = [
    "MAX_TESTS_PER_ANSWER",
    "Candidate",
    "Rejection",
    "add_missing_imports",
    "answer_complete",
    "answer_end",
    "check_static",
    "cut_at_failures",
    "extract_code",
    "hints_for",
    "import_hints",
    "keep_tests",
    "module_names",
    "rename_duplicate_tests",
    "trim_to_parse",
    "unchecked_tests",
]

_STDLIB = frozenset(sys.stdlib_module_names)


@dataclass(frozen=True)
class Rejection:
    reason: str  # a key of cover_prompts.PROBLEMS
    detail: str = ""


@dataclass(frozen=True)
class Candidate:
    code: str  # a whole test module: our header's imports plus the model's code
    tests: tuple[str, ...]  # names of its test functions (and Class::method for test classes)


def extract_code(reply: str, header: str, *, stem: str = "", truncated: bool = False) -> str | None:
    """The candidate test module in a reply (see :func:`flows.pycode.extract_test_module`)."""
    return extract_test_module(reply, header, stem=stem, truncated=truncated)


def _bound_names(tree: ast.Module) -> set[str]:
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            bound.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
            bound.add(node.name)
    return bound


_MOCK_NAMES = frozenset({"Mock", "MagicMock", "AsyncMock", "patch", "call", "ANY", "PropertyMock"})


def add_missing_imports(code: str, module: str, hints: Mapping[str, str] | set[str]) -> str:
    """Import names the test uses but never binds.  ``hints`` maps a name to the import that
    binds it (:func:`import_hints`: the module under test's own names, the imports it makes
    anywhere, even inside a function, and what its sibling modules define); a plain set is
    names of the module under test.  Standard-library modules (``math``, ``os``) and
    ``unittest.mock``'s helpers are imported too."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    if not isinstance(hints, Mapping):
        hints = {name: f"from {module} import {name}" for name in hints}
    bound = _bound_names(tree) | set(dir(builtins))
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    lines: list[str] = []
    grouped: dict[str, list[str]] = {}
    for name in sorted(used - bound):
        line = hints.get(name)
        if line is None and name in _MOCK_NAMES:
            line = f"from unittest.mock import {name}"
        if line is None and name in _STDLIB:
            line = f"import {name}"
        if line is None:
            continue
        found = re.fullmatch(r"from (\S+) import (\w+)", line)
        if found and found.group(2) == name:
            grouped.setdefault(found.group(1), []).append(name)
        elif line not in lines:
            lines.append(line)
    froms = [f"from {source} import {', '.join(names)}" for source, names in grouped.items()]
    added = froms + lines
    return "\n".join(added) + "\n" + code if added else code


def rename_duplicate_tests(code: str) -> str:
    """Give repeated test names a suffix: a second ``def test_x`` would silently replace the
    first (small models often reuse the name for each scenario)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    lines = code.splitlines(keepends=True)
    seen: set[str] = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    taken = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if node.name not in seen:
            seen.add(node.name)
            continue
        number = 2
        while f"{node.name}_{number}" in taken:
            number += 1
        fresh = f"{node.name}_{number}"
        taken.add(fresh)
        row = node.lineno - 1
        lines[row] = re.sub(rf"\bdef {re.escape(node.name)}\b", f"def {fresh}", lines[row], count=1)
    return "".join(lines)


def module_names(source: str) -> set[str]:
    """Top-level names a module defines or imports (what a test may import from it)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.Import | ast.ImportFrom):
            names |= _bound_names(ast.Module(body=[node], type_ignores=[]))
    return {n for n in names if not n.startswith("__")}


def import_hints(
    source: str,
    module: str,
    siblings: Mapping[str, str] | None = None,
    *,
    package: str | None = None,
) -> dict[str, str]:
    """Where a test can import each name the code under test works with: name → import line.

    In order of preference: what ``module`` defines (``from module import X``); what it
    imports, at top level or inside its functions (``from pymonet.either import Right`` in a
    method that converts to ``Either``: the test needs it too, from where the code gets it); what
    its sibling modules (``siblings``: module name → source) define at top level, when only
    one of them defines the name.  ``package`` resolves relative imports (default: the
    module's parent; a package's ``__init__`` is its own package)."""
    hints: dict[str, str] = {}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return hints
    if package is None:
        package = module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            origin = _absolute(node, package)
            for alias in node.names:
                if origin and alias.name != "*":
                    line = f"from {origin} import {alias.name}"
                    if alias.asname:
                        line += f" as {alias.asname}"
                    hints.setdefault(alias.asname or alias.name, line)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                line = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
                hints.setdefault(bound, line)
    defined: dict[str, list[str]] = {}
    for other, text in (siblings or {}).items():
        if other == module:
            continue
        try:
            body = ast.parse(text).body
        except SyntaxError:
            continue
        for item in body:
            if isinstance(
                item, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
            ) and not item.name.startswith("_"):
                defined.setdefault(item.name, []).append(other)
    for name, where in defined.items():
        if len(where) == 1:
            hints.setdefault(name, f"from {where[0]} import {name}")
    for name in _defined_names(tree):  # the module's own names win
        hints[name] = f"from {module} import {name}"
    return hints


def hints_for(repo: Path, path: str, module: str) -> dict[str, str]:
    """:func:`import_hints` for the module at ``path`` (repository-relative), its siblings
    being the other modules of its package directory."""
    file = repo / path
    source = file.read_text(encoding="utf-8", errors="replace")
    package = module if file.name == "__init__.py" else module.rpartition(".")[0]
    siblings: dict[str, str] = {}
    if package and (file.parent / "__init__.py").is_file():
        for other in sorted(file.parent.glob("*.py"))[:200]:
            if other == file or other.stem == "__init__" or other.is_symlink():
                continue
            try:  # a sibling that vanished, cannot be read or is no file: no hints from it
                if other.is_file() and other.stat().st_size < 500_000:
                    text = other.read_text(encoding="utf-8", errors="replace")
                    siblings[f"{package}.{other.stem}"] = text
            except OSError:
                continue
    return import_hints(source, module, siblings, package=package)


def _absolute(node: ast.ImportFrom, package: str) -> str | None:
    if node.level == 0:
        return node.module
    parts = package.split(".") if package else []
    if node.level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base) or None


def test_names(tree: ast.Module) -> tuple[str, ...]:
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            names.append(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            names += [
                f"{node.name}::{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                and item.name.startswith("test")
            ]
    return tuple(names)


def _defined_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def imports_module(tree: ast.Module, module: str) -> bool:
    """Whether the test imports ``module`` (or a name from it) anywhere."""
    package, _, leaf = module.rpartition(".")
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            if node.module == module:
                return True
            if node.module == package and any(a.name == leaf for a in node.names):
                return True
        if isinstance(node, ast.Import) and any(
            a.name == module or a.name.startswith(module + ".") for a in node.names
        ):
            return True
    return False


def check_static(code: str, target: Target) -> Candidate | Rejection:
    """Parse and inspect a candidate; a :class:`Rejection` says which static gate failed."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return Rejection("syntax", f"{exc.msg} at line {exc.lineno}")
    tests = test_names(tree)
    if not tests:
        return Rejection("no-test")
    own = {target.name, target.import_name}
    redefined = sorted(own & _defined_names(tree))
    if redefined:
        return Rejection("redefines", redefined[0])
    if not imports_module(tree, target.module):
        return Rejection("no-import", target.module)
    return Candidate(code=code, tests=tests)


def keep_tests(code: str, keep: set[str]) -> str:
    """``code`` without the test functions (or test-class methods) not named in ``keep``;
    used to salvage the passing tests of a candidate whose other tests fail."""
    tree = ast.parse(code)
    lines = code.splitlines()
    drop: list[tuple[int, int]] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name.startswith("test") and node.name not in keep:
                drop.append(_span(node))
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            methods = [
                m
                for m in node.body
                if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef)
                and m.name.startswith("test")
            ]
            kept = [m for m in methods if f"{node.name}::{m.name}" in keep]
            if methods and not kept:
                drop.append(_span(node))
            else:
                drop += [_span(m) for m in methods if m not in kept]
    for start, end in sorted(drop, reverse=True):
        del lines[start - 1 : end]
    return re.sub(r"\n{3,}(?=\S)", "\n\n\n", "\n".join(lines)).rstrip() + "\n"


def cut_at_failures(code: str, failures: dict[str, int], *, keep_unchecked: bool = False) -> str:
    """``code`` with each failing test (name → line of the failing statement) ending just
    before that statement: what ran before it passed and still checks something.  A test with
    no assert left before that statement is removed instead.  A failing ``assert`` (a wrong
    guess about the result: an attribute that does not exist, a value the observed-oracle
    repair could not rewrite) is only dropped when the test checks something else, so the
    checks after it still run.  ``keep_unchecked`` keeps what ran before the failing statement
    even when it checks nothing (for :func:`agents.cover.oracle.add_observed_checks`)."""
    tree = ast.parse(code)
    lines = code.splitlines()
    cuts: list[tuple[int, int]] = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        line = failures.get(node.name)
        if line is None:
            continue
        failing = next(
            (i for i, st in enumerate(node.body) if st.lineno <= line <= (st.end_lineno or 0)),
            None,
        )
        if failing is None:
            continue
        statement = node.body[failing]
        others = [st for st in node.body if st is not statement and not _is_docstring(st)]
        if isinstance(statement, ast.Assert) and any(map(_checks, others)):
            cuts.append((statement.lineno, statement.end_lineno or statement.lineno))
            continue
        kept = [st for st in node.body[:failing] if not _is_docstring(st)]
        enough = any(map(_checks, kept)) or (keep_unchecked and bool(kept))
        start = statement.lineno if enough else _span(node)[0]
        cuts.append((start, node.end_lineno or node.lineno))
    for start, end in sorted(cuts, reverse=True):
        del lines[start - 1 : end]
    return re.sub(r"\n{3,}(?=\S)", "\n\n\n", "\n".join(lines)).rstrip() + "\n"


def unchecked_tests(code: str) -> set[str]:
    """Top-level test functions that assert nothing."""
    tree = ast.parse(code)
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test")
        and not any(map(_checks, node.body))
    }


def _checks(node: ast.stmt) -> bool:
    """Whether a statement asserts something (an ``assert`` or a ``pytest.raises`` block)."""
    return any(
        isinstance(n, ast.Assert) or (isinstance(n, ast.Attribute) and n.attr == "raises")
        for n in ast.walk(node)
    )


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)


def _span(node: ast.AST) -> tuple[int, int]:
    decorators = getattr(node, "decorator_list", [])
    start = min([getattr(node, "lineno", 1), *(d.lineno for d in decorators)])
    return start, getattr(node, "end_lineno", start) or start
