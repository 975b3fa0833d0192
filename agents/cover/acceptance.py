"""What happens to a candidate test: the gates judge it; an accepted one is merged into its
test file, written at once (atomically, so Ctrl-C keeps it) and counted; a rejected one is
counted with its reason.  The test files remember what they held before the run, so a file that
breaks the suite at the end is rolled back and a dry run is a diff."""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from agents.cover.candidate import (
    Candidate,
    Rejection,
    add_missing_imports,
    check_static,
    hints_for,
    rename_duplicate_tests,
)
from agents.cover.explore import Exploration, file_target, render_tests
from agents.cover.gates import Gatekeeper, Verdict, trim
from agents.cover.mutant_gate import NamedMutant
from agents.cover.report import CoverReport, Percentages, TargetOutcome
from agents.cover.targets import Target
from agents.cover.writer import (
    candidate_beside,
    check_writable,
    merge_tests,
    style_file_for,
    test_path_for,
    unified_diff,
    write_atomic,
)
from flows import CoverageReport, TestRun

GENERATED_DOC = "Tests written by `assay cover`, kept because they pass and catch bugs."

Listener = Callable[[str, dict[str, Any]], None]


class TestFiles:
    """The test files a run writes: merged as tests are accepted and written at once unless
    it is a dry run; what each held before the run, to roll back or to diff against."""

    __test__ = False

    def __init__(self, repo: Path, *, dry_run: bool) -> None:
        self.repo, self.dry_run = repo, dry_run
        self.accepted: dict[str, str] = {}  # test path → merged content
        self.originals: dict[str, str | None] = {}  # before our first write (None: no file)
        self.written: list[str] = []

    def add(self, path: str, code: str) -> list[str]:
        """Merge ``code``'s tests into ``path``; the names they got there (a clash is renamed)."""
        if path not in self.originals:
            on_disk = self.repo / path
            self.originals[path] = (
                on_disk.read_text(encoding="utf-8") if on_disk.is_file() else None
            )
        base = self.accepted.get(path, self.originals[path] or "")
        self.replace(path, merge_tests(base, code, docstring=GENERATED_DOC))
        before = set(_tests_of(base))
        return [name for name in _tests_of(self.accepted[path]) if name not in before]

    def replace(self, path: str, text: str) -> None:
        """The test file's new content, written at once (unless a dry run)."""
        self.accepted[path] = text
        if not self.dry_run:
            write_atomic(check_writable(self.repo, path), text)
            if path not in self.written:
                self.written.append(path)

    def roll_back(self, paths: list[str]) -> None:
        """Put ``paths`` back as they were before the run."""
        for path in paths:
            original = self.originals.get(path)
            target = check_writable(self.repo, path)
            if original is None:
                target.unlink(missing_ok=True)
            else:
                write_atomic(target, original)
            self.accepted.pop(path, None)
            if path in self.written:
                self.written.remove(path)

    def diff(self) -> str:
        return "".join(
            unified_diff(path, self.originals.get(path), text)
            for path, text in sorted(self.accepted.items())
        )


class Acceptance:
    """Judges candidates for a run's targets and keeps the accepted ones (see the module)."""

    def __init__(
        self,
        repo: Path,
        gates: Gatekeeper,
        files: TestFiles,
        report: CoverReport,
        *,
        test_dir: str,
        into: str,
        emit: Listener,
    ) -> None:
        self.repo, self.gates, self.files, self.report = repo, gates, files, report
        self.test_dir, self.into, self.emit = test_dir, into, emit
        self._hints: dict[str, dict[str, str]] = {}  # target path → name → import line
        self.kept_for: dict[str, str] = {}  # "test file::test" → the surviving mutant it kills
        self.explored: list[tuple[str, str, Target]] = []  # (test file, test, target) kept
        self.known_calls: dict[str, list[str]] = {}  # source file → the explored calls kept
        self.last_names: list[str] = []  # the names the last accepted tests got in their file

    def judge(
        self,
        code: str | None,
        target: Target,
        current: CoverageReport,
        *,
        must_kill: Sequence[NamedMutant] = (),
        kills: Mapping[str, str] | None = None,
    ) -> Verdict:
        """Static gates (with the imports it forgot added), then the sandbox's gates (with
        ``must_kill``: the named mutants, see :mod:`agents.cover.mutant_gate`)."""
        if code is None:
            return Verdict(candidate=None, rejection=Rejection("no-code"))
        if target.path not in self._hints:
            self._hints[target.path] = hints_for(self.repo, target.path, target.module)
        code = rename_duplicate_tests(
            add_missing_imports(code, target.module, self._hints[target.path])
        )
        static = check_static(code, target)
        if not isinstance(static, Candidate):
            return Verdict(candidate=None, rejection=static)
        self.emit("gates", {"target": target, "tests": static.tests})
        path = candidate_beside(self.output_path(target))
        return self.gates.check(static, target, current, path, must_kill=must_kill, kills=kills)

    def reject(self, outcome: TargetOutcome, rejection: Rejection) -> None:
        self.report.rejected[rejection.reason] += 1
        outcome.rejected.append(rejection.reason)
        self.emit("rejected", {"reason": rejection.reason, "detail": rejection.detail})

    def accept(self, target: Target, verdict: Verdict, outcome: TargetOutcome) -> CoverageReport:
        """Write the accepted tests and count them; the coverage with them."""
        assert verdict.candidate is not None and verdict.coverage is not None
        path = self.output_path(target)
        names = self.last_names = self.files.add(path, verdict.candidate.code)
        renamed = dict(zip(verdict.candidate.tests, names, strict=False))
        if verdict.kept_for:
            verdict.kept_for = {
                f"{path}::{renamed.get(k.split('::')[-1], k.split('::')[-1])}": v
                for k, v in verdict.kept_for.items()
            }
        if verdict.killed_ids:  # written for surviving mutants: which test for which
            self.kept_for.update(
                verdict.kept_for
                or {
                    f"{path}::{name}": ", ".join(verdict.killed_ids)
                    for name in verdict.candidate.tests
                }
            )
        self.report.written = list(self.files.written)
        if verdict.oracle_changes:
            changes = [{"model": c.old, "observed": c.value} for c in verdict.oracle_changes]
            self.report.oracle_repairs.append(
                {"target": target.key, "file": path, "changes": changes}
            )
        count = len(verdict.candidate.tests)
        self.report.accepted += count
        outcome.accepted += count
        outcome.gained_lines += list(verdict.gained_lines)
        outcome.gained_branches += [list(arc) for arc in verdict.gained_branches]
        self.emit(
            "accepted",
            {
                "target": target,
                "tests": verdict.candidate.tests,
                "path": path,
                "lines": verdict.gained_lines,
                "branches": verdict.gained_branches,
                "mutant": verdict.killed,
                "coverage": Percentages.of_files(verdict.coverage, self.report.files),
                "notes": list(verdict.notes),  # what the gates changed: tests dropped, cut
            },
        )
        return verdict.coverage

    def take_exploration(
        self,
        found: Exploration,
        targets: Sequence[Target],
        current: CoverageReport,
        label: object,
        *,
        must_kill: Sequence[NamedMutant] = (),
    ) -> tuple[CoverageReport, Verdict | None]:
        """An exploration's kept calls as one candidate for their file, judged and kept or
        rejected; the coverage after, and the verdict (None when no call makes a test).  The
        report gets a line for the exploration (``label``: which pass)."""
        kills: dict[str, str] = {}
        written = self.files.accepted.get(self.output_path(targets[0]), "")
        code = render_tests(found.calls, targets[0].module, kills, written)
        entry: dict[str, Any] = {
            "file": found.path, "pass": label, "calls_tried": found.tries,
            "calls_kept": len(found.calls), "seconds": found.seconds, "accepted": 0,
        }  # fmt: skip
        if found.error:
            entry["error"] = found.error
        if found.caught:
            entry["beyond_sample_caught"] = found.caught
        self.report.explored.append(entry)
        if code is None:
            self.emit("explored", entry)
            return current, None
        target = file_target(targets, (self.repo / found.path).read_text(encoding="utf-8"))
        outcome = TargetOutcome(target.key + (" (mutants)" if must_kill else ""))
        self.report.targets.append(outcome)
        self.emit("gates", {"target": target, "tests": ()})
        verdict = self.judge(code, target, current, must_kill=must_kill, kills=kills or None)
        if verdict.accepted and verdict.candidate is not None:
            test_file = self.output_path(target)
            killed = set(verdict.killed_ids)
            for name in verdict.candidate.tests:
                mine = [i for i in kills.get(name, "").split(", ") if i in killed]
                mine += [i for i in verdict.also_killed.get(name, []) if i not in mine]
                if mine:
                    verdict.kept_for[f"{test_file}::{name}"] = ", ".join(mine)
            before = len(self.files.accepted.get(test_file, ""))
            current = self.accept(target, verdict, outcome)
            entry["accepted"] = len(verdict.candidate.tests)
            self.known_calls.setdefault(found.path, []).extend(c["expr"] for c in found.calls)
            new = _tests_of(self.files.accepted[test_file]) if before >= 0 else []
            self.explored += [(test_file, n, target) for n in new[-len(verdict.candidate.tests) :]]
        else:
            assert verdict.rejection is not None
            self.reject(outcome, verdict.rejection)
            entry["rejected"] = verdict.rejection.reason
        self.emit("explored", entry)
        return current, verdict

    def roll_back(self, final: TestRun) -> None:
        """The test files the final suite run failed in (all written, when it does not say)
        back to what they were."""
        failing = {c.nodeid.split("::")[0] for c in final.tests if c.outcome in ("failed", "error")}
        culprits = [p for p in self.files.accepted if p in failing] or list(self.files.accepted)
        self.files.roll_back(culprits)
        self.report.written = list(self.files.written)
        self.report.rolled_back += culprits
        self.emit("rolled-back", {"files": culprits, "output": trim(final.result.output, 600)})

    def rename(self, path: str, old: str, new: str) -> None:
        """A test was renamed in its file (a rewrite): what the report says of it follows."""
        key = f"{path}::{old}"
        if key in self.kept_for:
            self.kept_for[f"{path}::{new}"] = self.kept_for.pop(key)
        self.explored = [(p, new if (p, n) == (path, old) else n, t) for p, n, t in self.explored]

    def output_path(self, target: Target) -> str:
        clashes = {PurePosixPath(p).stem for p in self.report.files if p != target.path}
        return test_path_for(
            self.repo, self.test_dir, target.path, target.module, clashes=clashes, into=self.into
        )

    def style_file(self, target: Target) -> Path | None:
        return style_file_for(self.repo, self.test_dir, target.path)


def _tests_of(code: str) -> list[str]:
    """Names of a module's top-level test functions, in order."""
    if not code.strip():
        return []
    return [
        node.name
        for node in ast.parse(code).body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    ]
