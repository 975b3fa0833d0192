"""Which Python functions a diff changes, on both sides, and what to call them with.

:func:`changed_functions` maps a diff's hunks onto the definitions of the base and the head
(top-level functions and methods of top-level classes: what the exploration engine can call),
deletions included: a function that only lost lines is changed too, and its finding lands on the
head line where the lines went missing.  :func:`test_examples` reads the repository's existing
tests for calls of those functions with literal arguments: seeds for the behaviour diff.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from agents.cover.targets import is_test_file, matches, module_of
from agents.gitdiff import FileDiff, Hunk

MAX_TEST_FILES = 200
MAX_TEST_EXAMPLES = 40
MAX_EXAMPLE_CHARS = 160
NEVER = ("setup.py", "noxfile.py", "conftest.py", "docs/*", "doc/*", "examples/*")


@dataclass(frozen=True)
class Span:
    start: int  # the first line (decorators included)
    end: int


@dataclass
class ChangedFunction:
    path: str  # on the head side
    old_path: str
    module: str  # import name
    qualname: str
    base: Span | None  # None: a new function
    head: Span | None  # None: the function was removed
    added: list[int] = field(default_factory=list)  # head lines added in it
    removed: list[int] = field(default_factory=list)  # base lines removed from it
    anchor: int = 0  # the head line a finding about it lands on

    @property
    def key(self) -> str:
        return f"{self.path}::{self.qualname}"


def definitions(source: str) -> dict[str, Span]:
    """Top-level functions and the methods of top-level classes, by qualified name."""
    tree = ast.parse(source)
    found: dict[str, Span] = {}

    def span(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> Span:
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        return Span(start, node.end_lineno or node.lineno)

    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found[node.name] = span(node)
        elif isinstance(node, ast.ClassDef):
            for child in node.body:
                if isinstance(child, ast.FunctionDef):
                    found[f"{node.name}.{child.name}"] = span(child)
    return found


def _new_side_of_removed(hunks: Iterable[Hunk]) -> dict[int, int]:
    """For each removed base line, the head line where it was: the next line of the hunk that
    exists on the head (or the previous one at the end of a hunk)."""
    where: dict[int, int] = {}
    for hunk in hunks:
        lines = hunk.lines
        for i, line in enumerate(lines):
            if line.kind != "-" or line.old is None:
                continue
            after = next((x.new for x in lines[i + 1 :] if x.new is not None), None)
            before = next((x.new for x in reversed(lines[:i]) if x.new is not None), None)
            spot = after if after is not None else before
            where[line.old] = spot if spot is not None else hunk.new_start
    return where


def reviewable(path: str, exclude: Iterable[str] = ()) -> bool:
    """A Python source file whose functions a behaviour diff calls (not tests, not setup)."""
    excluded = tuple(exclude)
    return (
        path.endswith(".py")
        and not is_test_file(path)
        and not matches(path, NEVER)
        and not (excluded and matches(path, excluded))
    )


def changed_functions(
    files: Iterable[FileDiff],
    base_source: Callable[[str], str | None],
    head_source: Callable[[str], str | None],
    head_root: Path,
    *,
    exclude: Iterable[str] = (),
) -> tuple[list[ChangedFunction], list[tuple[str, str]]]:
    """(the functions the diff changes, (path, why) of Python files it could not read)."""
    out: list[ChangedFunction] = []
    problems: list[tuple[str, str]] = []
    for f in files:
        if f.binary or f.status == "deleted" or not reviewable(f.path, exclude):
            continue
        added = {n for h in f.hunks for n in h.added}
        removed = {ln.old for h in f.hunks for ln in h.lines if ln.kind == "-" and ln.old}
        if not added and not removed:
            continue
        try:
            head_text = head_source(f.path)
            base_text = None if f.status == "added" else base_source(f.old_path)
            head_defs = definitions(head_text) if head_text is not None else {}
            base_defs = definitions(base_text) if base_text is not None else {}
        except (SyntaxError, ValueError) as exc:
            problems.append((f.path, f"does not parse: {exc}"[:200]))
            continue
        where = _new_side_of_removed(f.hunks)
        module = module_of(head_root, f.path)[0]
        for name in sorted(set(head_defs) | set(base_defs)):
            head, base = head_defs.get(name), base_defs.get(name)
            mine_added = sorted(n for n in added if head and head.start <= n <= head.end)
            mine_removed = sorted(n for n in removed if base and base.start <= n <= base.end)
            if not mine_added and not mine_removed:
                continue
            if mine_added:
                anchor = mine_added[0]
            else:
                anchor = where.get(mine_removed[0], head.start if head else 1)
                if head is not None:
                    anchor = min(max(anchor, head.start), head.end)
            found = ChangedFunction(f.path, f.old_path, module, name, base, head)
            found.added, found.removed, found.anchor = mine_added, mine_removed, anchor
            out.append(found)
    return out, problems


def _literal_args(call: ast.Call) -> bool:
    parts = [*call.args, *(k.value for k in call.keywords)]
    if any(isinstance(a, ast.Starred) for a in call.args) or any(
        k.arg is None for k in call.keywords
    ):
        return False
    try:
        for part in parts:
            ast.literal_eval(part)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def examples_from_tests(repo: Path, names: Iterable[str]) -> tuple[list[str], list[str]]:
    """(calls, literals) from the repository's tests: calls of a function named in ``names``
    with literal arguments (``slugify('A b')``, written with the bare name), and the constant
    arguments of any call of those names (methods too: ``obj.push(3)`` gives ``3``)."""
    wanted = {n.rsplit(".", 1)[-1] for n in names}
    calls: list[str] = []
    literals: list[str] = []
    paths = [p for p in sorted(repo.rglob("*.py")) if ".git" not in p.parts]
    tests = [p for p in paths if is_test_file(p.relative_to(repo).as_posix())]
    for path in tests[:MAX_TEST_FILES]:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except (SyntaxError, ValueError, OSError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = (
                func.id
                if isinstance(func, ast.Name)
                else func.attr
                if isinstance(func, ast.Attribute)
                else ""
            )
            if name not in wanted or not _literal_args(node):
                continue
            for part in [*node.args, *(k.value for k in node.keywords)]:
                text = ast.unparse(part)
                if len(text) <= 60:
                    literals.append(text)
            if isinstance(func, ast.Name):
                text = ast.unparse(node)
                if len(text) <= MAX_EXAMPLE_CHARS:
                    calls.append(text)
    unique_calls = list(dict.fromkeys(calls))[:MAX_TEST_EXAMPLES]
    return unique_calls, list(dict.fromkeys(literals))[: MAX_TEST_EXAMPLES * 3]
