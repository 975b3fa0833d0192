"""What the server asks of an engine and what comes back, whether the engine runs here
(:mod:`agents.lsp.local`) or in an assay service (:mod:`agents.lsp.remote`).

Tests come back as a unified diff against the files on disk (the engine's dry run); the server
turns it into a workspace edit (:mod:`agents.lsp.edits`).  A review comes back as findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from agents.lsp.jobs import Job
from agents.review.report import Finding


@dataclass(frozen=True)
class TestsAsk:
    __test__ = False

    root: Path  # the project
    path: str  # the source file, relative to root
    symbol: str  # "clamp", "Counter", "Counter.bump"
    source: str  # the file's text (saved: the engine reads the disk)


@dataclass(frozen=True)
class CoverAsk:
    root: Path
    path: str
    source: str


@dataclass(frozen=True)
class ReviewAsk:
    root: Path
    base: str


@dataclass
class Outcome:
    """Tests an engine wrote: a patch (empty when none passed the gates) and what to say."""

    patch: str
    summary: str  # one line: what was accepted, what was not
    tests: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # lines for the log


@dataclass
class ReviewOutcome:
    findings: list[Finding]
    summary: str
    details: list[str] = field(default_factory=list)


class Engine(Protocol):
    """Runs in a worker thread; checks ``job.token`` and reports through ``job``."""

    def generate_tests(self, job: Job, ask: TestsAsk) -> Outcome: ...

    def raise_coverage(self, job: Job, ask: CoverAsk) -> Outcome: ...

    def review(self, job: Job, ask: ReviewAsk) -> ReviewOutcome: ...
