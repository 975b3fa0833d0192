"""Which functions to write tests for: those with missed lines or branches, public ones first,
ranked by gain.

A :class:`Target` is one function or method of a source file with the lines and branches the
current tests miss.  :func:`find_targets` reads the coverage of a baseline run, maps missed lines
and branches onto the functions that hold them (AST), applies ``--files``/``--exclude`` globs
and, with ``--diff BASE``, keeps only what changed since that git ref.
"""

from __future__ import annotations

import ast
import fnmatch
import functools
import os
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from flows import Arc, CoverageReport, FileCoverage

TEST_FILE_GLOBS = ("test_*.py", "*_test.py", "conftest.py")
TEST_DIR_NAMES = frozenset({"tests", "test", "testing"})
NEVER_SOURCE = ("setup.py", "noxfile.py", "docs/*", "doc/*", "benchmarks/*", "examples/*")


@dataclass(frozen=True)
class Target:
    """One function or method with code the tests never ran."""

    path: str  # repository-relative, '/'-separated
    module: str  # import name, e.g. "shop.pricing"
    import_root: str  # directory to put on sys.path ("" for the repository root, "src", …)
    qualname: str  # "apply_discount" or "Cart.add"
    start: int  # first line (decorators included)
    end: int
    missing_lines: tuple[int, ...]
    missing_branches: tuple[Arc, ...]
    statements: int = 0  # statements measured inside the function

    @property
    def name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]

    @property
    def class_name(self) -> str | None:
        return self.qualname.split(".")[0] if "." in self.qualname else None

    @property
    def import_name(self) -> str:
        """What a test imports: the class for a method, else the function."""
        return self.class_name or self.name

    @property
    def gain(self) -> int:
        return len(self.missing_lines) + len(self.missing_branches)

    @property
    def key(self) -> str:
        return f"{self.path}::{self.qualname}"

    @property
    def private(self) -> bool:
        """``_helper``, ``_Cls.m`` or ``Cls._m`` (dunders like ``__init__`` are public): code
        the tests reach through the public API, and that a model tests badly directly."""
        return any(p.startswith("_") and not p.endswith("__") for p in self.qualname.split("."))


@dataclass
class TargetScan:
    targets: list[Target] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)


def is_test_file(path: str) -> bool:
    p = PurePosixPath(path)
    if any(part in TEST_DIR_NAMES for part in p.parts[:-1]):
        return True
    return any(fnmatch.fnmatch(p.name, pattern) for pattern in TEST_FILE_GLOBS)


def matches(path: str, patterns: Iterable[str]) -> bool:
    """fnmatch on the repository-relative path, or on any trailing part of it."""
    parts = PurePosixPath(path).parts
    tails = ["/".join(parts[i:]) for i in range(len(parts))]
    return any(fnmatch.fnmatch(tail, pat) for pat in patterns for tail in tails)


def source_files(
    files: Iterable[str], include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> list[str]:
    """The Python source files (not tests, not excluded) among repository-relative ``files``."""
    out = []
    for path in files:
        if not path.endswith(".py") or is_test_file(path) or matches(path, NEVER_SOURCE):
            continue
        if include and not matches(path, include):
            continue
        if exclude and matches(path, exclude):
            continue
        out.append(path)
    return sorted(out)


def module_of(repo: Path, path: str) -> tuple[str, str]:
    """(import name, import root) of a repository-relative file: walk up while packages last."""
    rel = PurePosixPath(path)
    parts = [rel.stem] if rel.stem != "__init__" else []
    parent = rel.parent
    while str(parent) not in ("", ".") and (repo / parent / "__init__.py").is_file():
        parts.insert(0, parent.name)
        parent = parent.parent
    root = "" if str(parent) in ("", ".") else parent.as_posix()
    return ".".join(parts), root


def tests_pythonpath(repo: Path, files: Iterable[str]) -> str:
    """``PYTHONPATH`` for running tests of ``files`` in a copy of ``repo``: the copy's root, the
    files' import roots and ``src/`` (relative to the copy, where every sandboxed run starts)."""
    roots = {module_of(repo, path)[1] for path in files}
    return os.pathsep.join([".", *sorted(r for r in roots if r), "src"])


def coverage_sources(repo: Path, files: Iterable[str]) -> list[str]:
    """``coverage run --source`` entries that cover every file (import roots, "." for the top)."""
    roots = {module_of(repo, path)[1] or "." for path in files}
    return sorted(roots)


def _functions(tree: ast.Module) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Top-level functions and methods (of classes at any depth), with qualified names.
    Functions nested in functions belong to their enclosing function."""
    stack: list[tuple[str, ast.AST]] = [("", tree)]
    while stack:
        prefix, node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                yield prefix + child.name, child
            elif isinstance(child, ast.ClassDef):
                stack.append((prefix + child.name + ".", child))


class _Lines:
    """Sorted line numbers, counted or listed in a range by bisection: finding every
    function's missed lines is then O((functions + lines) · log lines), not their product (a
    5 MB module has ~60,000 functions and as many missed lines)."""

    def __init__(self, lines: Iterable[int]) -> None:
        self.lines = sorted(set(lines))

    def between(self, low: int, high: int) -> list[int]:
        return self.lines[bisect_left(self.lines, low) : bisect_right(self.lines, high)]

    def count(self, low: int, high: int) -> int:
        return bisect_right(self.lines, high) - bisect_left(self.lines, low)


@dataclass(frozen=True)
class _Span:
    qualname: str
    start: int  # first line, decorators included
    body_start: int  # the def line itself runs at import time
    end: int


@functools.lru_cache(maxsize=16)
def _spans(file: Path, mtime_ns: int, size: int) -> tuple[_Span, ...]:
    """The functions of a source file, parsed once per version of it (a 5 MB module takes
    seconds to parse; the engine asks again after every accepted test)."""
    tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
    return tuple(
        _Span(
            qualname,
            min([fn.lineno, *(d.lineno for d in fn.decorator_list)]),
            fn.body[0].lineno,
            fn.end_lineno or fn.lineno,
        )
        for qualname, fn in _functions(tree)
    )


def _function_targets(
    repo: Path, path: str, spans: Sequence[_Span], cov: FileCoverage, changed: set[int] | None
) -> list[Target]:
    module, root = module_of(repo, path)
    missing = _Lines(cov.missing_lines)
    statements = _Lines([*cov.executed_lines, *cov.missing_lines])
    arcs = sorted(cov.missing_branches)
    starts = [arc[0] for arc in arcs]
    out = []
    for span in spans:
        low, end = span.body_start, span.end
        lines = tuple(missing.between(low, end))
        branches = tuple(arcs[bisect_left(starts, low) : bisect_right(starts, end)])
        if changed is not None:
            lines = tuple(n for n in lines if n in changed)
            branches = tuple(arc for arc in branches if arc[0] in changed)
        if not lines and not branches:
            continue
        count = statements.count(low, end)
        out.append(
            Target(path, module, root, span.qualname, span.start, end, lines, branches, count)
        )
    return out


def unusable_sources(repo: Path, files: Iterable[str]) -> list[tuple[str, str]]:
    """``.py`` entries beside the sources (and at the top) that cannot be covered, with why: a
    symbolic link (dangling, or pointing anywhere: a sandbox copy holds no links), something
    that is not a regular file, a file that cannot be read.  They are skipped, never fatal."""
    dirs = {"", *(str(PurePosixPath(f).parent) for f in files)}
    out: list[tuple[str, str]] = []
    for rel in sorted(d for d in dirs if d != "."):
        try:
            entries = sorted(os.scandir(repo / rel), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if not entry.name.endswith(".py"):
                continue
            name = f"{rel}/{entry.name}" if rel else entry.name
            if is_test_file(name) or matches(name, NEVER_SOURCE):
                continue
            try:
                if entry.is_symlink():
                    target = os.readlink(entry.path)
                    alive = os.path.exists(entry.path)
                    why = "a symbolic link" if alive else "a dangling symbolic link"
                    out.append((name, f"{why} (to {target}): not copied into the sandbox"))
                elif not entry.is_file():
                    out.append((name, "not a regular file"))
                elif not os.access(entry.path, os.R_OK):
                    out.append((name, "unreadable: permission denied"))
            except OSError as exc:
                out.append((name, f"unreadable: {exc.strerror}"))
    return out


def find_targets(
    repo: Path,
    report: CoverageReport,
    files: Sequence[str],
    *,
    changed: Mapping[str, set[int]] | None = None,
) -> TargetScan:
    """Targets in ``files`` (source files, repository-relative) ranked by what they can gain.

    ``changed`` (from :func:`agents.gitdiff.changed_lines`) limits targets to lines changed since
    a git ref.
    Files that do not parse are skipped and reported, never fatal.
    """
    scan = TargetScan()
    for path in files:
        if changed is not None and path not in changed:
            continue
        try:
            stat = (repo / path).stat()
            spans = _spans(repo / path, stat.st_mtime_ns, stat.st_size)
        except SyntaxError as exc:
            scan.skipped.append((path, f"syntax error at line {exc.lineno}: {exc.msg}"))
            continue
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            scan.skipped.append((path, f"unreadable: {exc}"))
            continue
        cov = report.get(path)
        if cov is None:
            scan.skipped.append((path, "not measured by coverage (not importable?)"))
            continue
        wanted = changed.get(path) if changed is not None else None
        scan.targets.extend(_function_targets(repo, path, spans, cov, wanted))
    scan.targets.sort(key=lambda t: (t.private, -t.gain, t.statements, t.path, t.start))
    return scan


def runs_target(coverage: CoverageReport | None, target: Target) -> bool:
    """Whether a run executed any line of the target's body (its def line runs at import)."""
    file_cov = coverage.get(target.path) if coverage else None
    if file_cov is None:
        return False
    body = set(target.missing_lines) or set(range(target.start + 1, target.end + 1))
    return bool(body & set(file_cov.executed_lines))


def coverage_gain(
    before: CoverageReport, after: CoverageReport | None, target: Target
) -> tuple[tuple[int, ...], tuple[Arc, ...]]:
    """Lines and branches of ``target`` missed ``before`` and executed ``after``."""
    if after is None:
        return (), ()
    new = after.get(target.path)
    old = before.get(target.path)
    if new is None:
        return (), ()
    was_missing = set(old.missing_lines) if old else set(target.missing_lines)
    was_missing_arcs = set(old.missing_branches) if old else set(target.missing_branches)
    executed = set(new.executed_lines)
    lines = tuple(sorted(n for n in target.missing_lines if n in was_missing and n in executed))
    executed_arcs = set(new.executed_branches)
    branches = tuple(
        sorted(a for a in target.missing_branches if a in was_missing_arcs and a in executed_arcs)
    )
    return lines, branches
