"""Putting accepted JS/TS tests into ``<name>.assay.test.{js,ts}`` files: atomically, undoably.

:class:`JsTestFiles` keeps one :class:`~agents.cover.js.testfile.TestFile` per test path (started
from the file already there, if assay wrote one before), writes it at once after each accepted
test (unless ``--dry-run``), remembers the original text to roll a file back, and gives the
unified diff of everything for ``--dry-run``.  Only ``*.assay.test.*``/``*.assay.spec.*`` files
inside the repository are ever written: never the code under test.
"""

from __future__ import annotations

import re
from pathlib import Path

from agents.cover.js.testfile import TestFile
from agents.cover.writer import unified_diff, write_atomic
from agents.errors import AssayError

ASSAY_TEST = re.compile(r"\.assay\.(test|spec)\.[cm]?[jt]sx?$")


def check_writable(repo: Path, path: str) -> Path:
    target = (repo / path).resolve()
    if not target.is_relative_to(repo.resolve()) or not ASSAY_TEST.search(path):
        raise AssayError(f"Refusing to write {path}: it is not an assay test file inside {repo}")
    return target


class JsTestFiles:
    def __init__(self, repo: Path, *, dry_run: bool) -> None:
        self.repo, self.dry_run = repo, dry_run
        self.files: dict[str, TestFile] = {}
        self.accepted: dict[str, str] = {}  # path -> the text written (or to be written)
        self.originals: dict[str, str | None] = {}
        self.written: list[str] = []

    def current(self, path: str) -> str | None:
        """What the file holds now (assay's accepted tests included), None when new."""
        if path in self.accepted:
            return self.accepted[path]
        target = self.repo / path
        return target.read_text(encoding="utf-8") if target.is_file() else None

    def with_candidate(self, path: str, code: str) -> str:
        """The file's text if ``code`` (a whole candidate file) were merged into it."""
        merged = TestFile(path)
        existing = self.current(path)
        if existing:
            merged.add(existing)
        merged.add(code)
        return merged.render()

    def accept(self, path: str, code: str) -> None:
        """Merge ``code`` into ``path`` and write it (atomically; not with ``--dry-run``)."""
        target = check_writable(self.repo, path)
        if path not in self.originals:
            self.originals[path] = target.read_text(encoding="utf-8") if target.is_file() else None
        text = self.with_candidate(path, code)
        self.accepted[path] = text
        if not self.dry_run:
            write_atomic(target, text)
            if path not in self.written:
                self.written.append(path)

    def roll_back(self, paths: list[str]) -> None:
        for path in paths:
            original = self.originals.get(path)
            target = self.repo / path
            if not self.dry_run:
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
