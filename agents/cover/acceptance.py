"""What happens to a candidate test: the gates judge it; an accepted one is merged into its
test file, written at once (atomically, so Ctrl-C keeps it) and counted; a rejected one is
counted with its reason.  The test files remember what they held before the run, so a file that
breaks the suite at the end is rolled back and a dry run is a diff."""

from __future__ import annotations

from collections.abc import Callable
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
from agents.cover.gates import Gatekeeper, Verdict
from agents.cover.report import CoverReport, Percentages, TargetOutcome
from agents.cover.targets import Target
from agents.cover.writer import (
    check_writable,
    merge_tests,
    style_file_for,
    test_path_for,
    unified_diff,
    write_atomic,
)
from flows import CoverageReport

GENERATED_DOC = "Tests written by `assay cover`, kept because they pass and catch bugs."
CANDIDATE_FILE = "test_assay_candidate.py"

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

    def add(self, path: str, code: str) -> None:
        if path not in self.originals:
            on_disk = self.repo / path
            self.originals[path] = (
                on_disk.read_text(encoding="utf-8") if on_disk.is_file() else None
            )
        base = self.accepted.get(path, self.originals[path] or "")
        self.accepted[path] = merge_tests(base, code, docstring=GENERATED_DOC)
        if not self.dry_run:
            write_atomic(check_writable(self.repo, path), self.accepted[path])
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

    def judge(self, code: str | None, target: Target, current: CoverageReport) -> Verdict:
        """Static gates (with the imports it forgot added), then the sandbox's gates."""
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
        return self.gates.check(static, target, current, f"{self.test_dir}/{CANDIDATE_FILE}")

    def reject(self, outcome: TargetOutcome, rejection: Rejection) -> None:
        self.report.rejected[rejection.reason] += 1
        outcome.rejected.append(rejection.reason)
        self.emit("rejected", {"reason": rejection.reason, "detail": rejection.detail})

    def accept(self, target: Target, verdict: Verdict, outcome: TargetOutcome) -> CoverageReport:
        """Write the accepted tests and count them; the coverage with them."""
        assert verdict.candidate is not None and verdict.coverage is not None
        path = self.output_path(target)
        self.files.add(path, verdict.candidate.code)
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
            },
        )
        return verdict.coverage

    def output_path(self, target: Target) -> str:
        clashes = {PurePosixPath(p).stem for p in self.report.files if p != target.path}
        return test_path_for(
            self.repo, self.test_dir, target.path, target.module, clashes=clashes, into=self.into
        )

    def style_file(self, target: Target) -> Path | None:
        return style_file_for(self.repo, self.test_dir, target.path)
