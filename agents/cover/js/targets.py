"""Which exported functions, classes and methods of a JS/TS package to write tests for.

:func:`find_targets` maps the missed lines and branches of a coverage report onto the exports
:mod:`agents.cover.js.symbols` finds (a class's methods are targets of their own, named
``Class.method``); ``--diff`` keeps only changed lines.  Ranked by what they can gain.  The
targets are the Python pipeline's :class:`~agents.cover.targets.Target` (``module`` is the
source path without its extension), so reports and outcomes are shared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from agents.cover.js.readme import readme_calls
from agents.cover.js.reexports import reexported
from agents.cover.js.symbols import Export, read_module, syntax_error
from agents.cover.targets import Target, TargetScan
from flows import CoverageReport, FileCoverage


@dataclass(frozen=True)
class JsTarget:
    """A target with what exploring and drafting need of its export."""

    target: Target
    export: Export
    method: str | None = None  # a class's method; None for a function (or the class)

    @property
    def params(self) -> list[str]:
        if self.method is None:
            return self.export.params
        found = next((m for m in self.export.methods if m.name == self.method), None)
        return found.params if found else []


def _target(path: str, qualname: str, start: int, end: int, body_start: int,
            cov: FileCoverage, changed: set[int] | None,
            helpers: Sequence[tuple[int, int]] = ()) -> Target | None:  # fmt: skip
    """The target of the code from ``body_start`` to ``end`` and of the ``helpers`` ranges (the
    module's unexported functions it calls: their misses are reached through it)."""
    spans = [(body_start, end), *helpers]
    lines = [n for n in cov.missing_lines if any(a <= n <= b for a, b in spans)]
    branches = [arc for arc in cov.missing_branches if any(a <= arc[0] <= b for a, b in spans)]
    if changed is not None:
        lines = [n for n in lines if n in changed]
        branches = [a for a in branches if a[0] in changed]
    if not lines and not branches:
        return None
    statements = sum(1 for n in (*cov.missing_lines, *cov.executed_lines) if start <= n <= end)
    module = path.rsplit(".", 1)[0]
    return Target(path, module, "", qualname, start, end, tuple(lines), tuple(branches),
                  statements=statements)  # fmt: skip


def file_targets(
    path: str, text: str, cov: FileCoverage, changed: set[int] | None = None
) -> list[JsTarget]:
    out: list[JsTarget] = []
    for export in read_module(text, path):
        if export.kind == "function":
            t = _target(path, export.binding, export.start, export.end, export.body_start, cov,
                        changed, export.helpers)  # fmt: skip
            if t is not None:
                out.append(JsTarget(t, export))
            continue
        for method in export.methods:
            qualname = f"{export.binding}.{method.name}"
            t = _target(path, qualname, method.start, method.end, method.body_start, cov,
                        changed)  # fmt: skip
            if t is not None:
                out.append(JsTarget(t, export, method.name))
    return out


def find_targets(
    repo: Path,
    report: CoverageReport,
    files: Sequence[str],
    *,
    changed: Mapping[str, set[int]] | None = None,
) -> tuple[list[JsTarget], TargetScan]:
    """Targets in ``files``, most to gain first; the scan holds the files skipped and why."""
    scan = TargetScan()
    found: list[JsTarget] = []
    for path in files:
        if changed is not None and path not in changed:
            continue
        try:
            text = (repo / path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            scan.skipped.append((path, f"unreadable: {exc}"))
            continue
        if problem := syntax_error(text, path):
            scan.skipped.append((path, f"does not parse: {problem}"))
            continue
        cov = report.get(path)
        if cov is None:
            scan.skipped.append((path, "not measured by coverage"))
            continue
        changed_here = changed.get(path) if changed else None
        found.extend(file_targets(path, text, cov, changed_here))
        passed = reexported(repo, path, text) if cov.missing_lines else []
        for export in passed:  # an entry no test loads: called through it
            t = _target(path, export.name, export.start, export.end, export.body_start, cov,
                        changed_here)  # fmt: skip
            if t is not None:
                found.append(JsTarget(t, export))
    found.sort(key=lambda t: (-t.target.gain, t.target.path, t.target.start))
    with_readme_examples(repo, found)
    scan.targets = [t.target for t in found]
    return found, scan


def with_readme_examples(repo: Path, targets: Sequence[JsTarget]) -> None:
    """The calls the README at ``repo`` shows of each exported function (by its exported or
    its own name: ``qs.parse('a[b]=c')`` for ``lib/parse.js``'s default export) join its
    examples, after its JSDoc ones."""
    functions = [t.export for t in targets if t.method is None]
    names = {n for e in functions for n in (e.name, e.local) if n != "default"}
    calls = readme_calls(repo, names) if names else {}
    for export in functions:
        for name in dict.fromkeys(n for n in (export.name, export.local) if n != "default"):
            for call in calls.get(name, ()):
                written = export.local + call[len(name) :]
                if written not in export.examples:
                    export.examples.append(written)
