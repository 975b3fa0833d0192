"""What sandboxed runs produce: the command's result, per-test JUnit records, branch coverage.

:mod:`flows.sandbox` runs the commands; this module holds the result types and the readers of
their artefacts: the combined output (head and tail kept), pytest's ``--junitxml`` file and the
JSON export of ``coverage json``.  Readers take the root of the repository copy a run used and
report paths relative to it, so they map back to the user's tree.  Nothing here parses
human-readable text.
"""

from __future__ import annotations

import json
import os
import threading
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Outcome = Literal["passed", "failed", "error", "skipped"]
Arc = tuple[int, int]

MAX_CASE_TEXT = 2000


@dataclass(frozen=True)
class CaseResult:
    """One test case from the JUnit report."""

    nodeid: str  # "tests/test_mod.py::TestClass::test_name[param]"
    outcome: Outcome
    message: str = ""  # the failure/skip message pytest put in the report
    text: str = ""  # the end of the traceback or skip reason, trimmed to MAX_CASE_TEXT
    duration: float = 0.0


@dataclass(frozen=True)
class FileCoverage:
    """Line and branch coverage of one file; lines are 1-based, a negative arc end is an exit."""

    path: str  # relative to the repository root, '/'-separated
    executed_lines: tuple[int, ...]
    missing_lines: tuple[int, ...]
    excluded_lines: tuple[int, ...]
    executed_branches: tuple[Arc, ...]
    missing_branches: tuple[Arc, ...]
    num_statements: int
    num_branches: int
    percent: float  # coverage.py's combined figure (statements and branches)
    # With per-test contexts: the node ids of the tests that ran each line.
    contexts: Mapping[int, tuple[str, ...]] = field(default_factory=dict)

    @property
    def line_percent(self) -> float:
        """Executed statements in percent (100 for a file without statements)."""
        return _percent(self.num_statements - len(self.missing_lines), self.num_statements)

    @property
    def branch_percent(self) -> float:
        """Taken branches in percent (100 for a file without branches)."""
        return _percent(self.num_branches - len(self.missing_branches), self.num_branches)


@dataclass(frozen=True)
class CoverageReport:
    """Coverage of every measured file inside the repository copy."""

    files: Mapping[str, FileCoverage] = field(default_factory=dict)
    coverage_version: str = ""

    def get(self, path: str | Path) -> FileCoverage | None:
        """The file at ``path`` (relative to the repository root), if it was measured."""
        return self.files.get(Path(path).as_posix())

    @property
    def line_percent(self) -> float:
        total = sum(f.num_statements for f in self.files.values())
        missing = sum(len(f.missing_lines) for f in self.files.values())
        return _percent(total - missing, total)

    @property
    def branch_percent(self) -> float:
        total = sum(f.num_branches for f in self.files.values())
        missing = sum(len(f.missing_branches) for f in self.files.values())
        return _percent(total - missing, total)


@dataclass(frozen=True)
class RunResult:
    """What one sandboxed command did.  A failing command is a result, not an error."""

    argv: tuple[str, ...]
    returncode: int | None  # None when the run timed out
    timed_out: bool
    output: str  # stdout and stderr interleaved; head and tail kept, see OutputBuffer
    duration: float  # seconds, wall clock
    isolation: str  # the level in force: "bwrap", "unshare" or "process"
    output_trimmed: bool = False
    leaked_pids: tuple[int, ...] = ()  # processes that survived SIGKILL (should stay empty)
    # Side effects seen (the run's processes were all killed afterwards in any case):
    left_behind: tuple[str, ...] = ()  # names of processes still running when the command ended
    memory_limit: int | None = None  # the run's memory cap (bytes) where a cgroup enforced it
    memory_peak: int | None = None  # bytes, the run as a whole, where a cgroup measured it
    memory_exceeded: bool = False  # the run reached its memory cap: a process was OOM-killed
    processes_capped: bool = False  # the run reached its cap on the number of processes
    supervisor_lost: bool = False  # the run killed the supervisor that watched its processes
    # Why the sandbox could not do its job ("" when it could): the command could not start,
    # or the run destroyed its copy.  Such a result says nothing about the code under test.
    broken: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and not self.broken

    @property
    def side_effects(self) -> tuple[str, ...]:
        """What the run did beyond its output, one sentence each (empty for a clean run)."""
        found = []
        if self.left_behind:
            names = ", ".join(sorted(set(self.left_behind)))
            found.append(f"left {len(self.left_behind)} process(es) running: {names}")
        if self.supervisor_lost:
            found.append("killed the sandbox's process supervisor")
        if self.memory_exceeded:
            cap = f" of {_size(self.memory_limit)}" if self.memory_limit else ""
            peak = f" (peak {_size(self.memory_peak)})" if self.memory_peak else ""
            found.append(f"passed the memory cap{cap}{peak}: a process was OOM-killed")
        if self.processes_capped:
            found.append("reached the cap on the number of processes")
        if self.leaked_pids:
            found.append(f"{len(self.leaked_pids)} process(es) survived SIGKILL")
        return tuple(found)


def _size(n: int | None) -> str:
    return f"{(n or 0) / 2**20:.0f} MiB"


@dataclass(frozen=True)
class TestRun:
    """A pytest run under coverage: the command's result, per-test records and coverage."""

    __test__ = False  # not a pytest test class

    result: RunResult
    tests: tuple[CaseResult, ...]
    coverage: CoverageReport | None  # None if coverage could not be exported
    coverage_error: str = ""  # why ``coverage`` is None

    @property
    def no_tests(self) -> bool:
        """pytest collected nothing (exit code 5): a baseline of zero, not a crash."""
        return self.result.returncode == 5 and not self.result.timed_out and not self.broken

    @property
    def broken(self) -> str:
        """Why the sandbox could not run the tests ("" when it could), see RunResult.broken."""
        return self.result.broken

    @property
    def passed(self) -> bool:
        return self.result.ok

    def with_outcome(self, outcome: Outcome) -> list[CaseResult]:
        return [case for case in self.tests if case.outcome == outcome]


class OutputBuffer(threading.Thread):
    """Reads a pipe to its end, keeping the first quarter and last three quarters of ``limit``.

    ``text()`` joins them, cut at line ends, with a ``[… N lines trimmed …]`` marker.
    """

    def __init__(self, fd: int, limit: int) -> None:
        super().__init__(daemon=True, name="sandbox-output")
        self.fd, self.head_limit, self.tail_limit = fd, limit // 4, limit - limit // 4
        self.head, self.tail = bytearray(), bytearray()
        self.dropped_lines = self.dropped_bytes = 0

    def run(self) -> None:
        try:
            while chunk := os.read(self.fd, 65536):
                take = max(0, self.head_limit - len(self.head))
                self.head += chunk[:take]
                self.tail += chunk[take:]
                if (excess := len(self.tail) - self.tail_limit) > 0:
                    self.dropped_lines += self.tail.count(b"\n", 0, excess)
                    self.dropped_bytes += excess
                    del self.tail[:excess]
        except OSError:
            pass
        finally:
            os.close(self.fd)

    @property
    def trimmed(self) -> bool:
        return self.dropped_bytes > 0

    def text(self) -> str:
        head, tail = bytes(self.head), bytes(self.tail)
        if self.trimmed:
            head = head[: head.rfind(b"\n") + 1] or head + b"\n"
            cut = tail.find(b"\n") + 1
            marker = f"[… {self.dropped_lines + (cut > 0)} lines trimmed …]\n"
            head, tail = head + marker.encode(), tail[cut:]
        return (head + tail).decode("utf-8", "replace")


def _percent(part: int, whole: int) -> float:
    return 100.0 if whole == 0 else 100.0 * part / whole


def parse_junit(path: Path, root: Path) -> tuple[CaseResult, ...]:
    """Read pytest's JUnit XML at ``path``; ``root`` is the copy the tests ran in (for paths).

    A missing or unreadable report gives no records (the run's output says why).
    """
    try:
        tree = ET.parse(path)
    except (OSError, ET.ParseError):
        return ()
    cases = []
    for case in tree.iter("testcase"):
        outcome: Outcome = "passed"
        message = text = ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = "failed" if child.tag == "failure" else child.tag  # type: ignore[assignment]
                message = child.get("message", "")[:MAX_CASE_TEXT]
                text = (child.text or "").strip()[-MAX_CASE_TEXT:]
                break
        try:
            duration = float(case.get("time", "0") or 0)
        except ValueError:
            duration = 0.0
        nodeid = _nodeid(case.get("classname", ""), case.get("name", ""), case.get("file"), root)
        cases.append(CaseResult(nodeid, outcome, message, text, duration))
    return tuple(cases)


def _nodeid(classname: str, name: str, file: str | None, root: Path) -> str:
    """Rebuild ``path::Class::test`` from JUnit's dotted ``classname`` (mangled by pytest)."""
    if not classname:  # a collection error: the name is the mangled module path
        classname, name = name, ""
    parts = classname.split(".")
    split = 0
    if file:
        module = file.removesuffix(".py").replace("/", ".")
        if classname == module or classname.startswith(module + "."):
            split = len(module.split("."))
    for i in range(len(parts), 0, -1):  # the longest dotted prefix that names a file wins
        if split:
            break
        if (root / Path(*parts[:i])).with_suffix(".py").is_file():
            split = i
    if not split:  # file gone: take the lower-case prefix as the module path
        split = next((i for i, p in enumerate(parts) if p[:1].isupper()), len(parts)) or 1
    segments = ["/".join(parts[:split]) + ".py", *parts[split:]]
    if name:
        segments.append(name)
    return "::".join(segments)


def load_coverage_json(path: Path, root: Path) -> CoverageReport:
    """Read the output of ``coverage json`` at ``path``; keep the files inside ``root``.

    Raises ``OSError`` or ``ValueError`` if the file is missing or not coverage JSON.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise ValueError(f"{path} is not a coverage.py JSON report")
    files = {}
    for name, entry in data["files"].items():
        rel = _relative(name, root)
        if rel is not None:
            files[rel] = _file_coverage(rel, entry)
    version = str(data.get("meta", {}).get("version", ""))
    return CoverageReport(dict(sorted(files.items())), version)


def _relative(name: str, root: Path) -> str | None:
    full = os.path.normpath(os.path.join(root, name))
    try:
        rel = Path(full).relative_to(root)
    except ValueError:
        return None
    return rel.as_posix()


def _file_coverage(rel: str, entry: dict[str, Any]) -> FileCoverage:
    summary = entry.get("summary", {})

    def lines(key: str) -> tuple[int, ...]:
        return tuple(sorted(int(n) for n in entry.get(key, ())))

    def arcs(key: str) -> tuple[Arc, ...]:
        return tuple(sorted((int(a), int(b)) for a, b in entry.get(key, ())))

    missing_branches = arcs("missing_branches")
    executed_branches = arcs("executed_branches")
    num_branches = int(summary.get("num_branches", len(missing_branches) + len(executed_branches)))
    return FileCoverage(
        path=rel,
        executed_lines=lines("executed_lines"),
        missing_lines=lines("missing_lines"),
        excluded_lines=lines("excluded_lines"),
        executed_branches=executed_branches,
        missing_branches=missing_branches,
        num_statements=int(summary.get("num_statements", 0)),
        num_branches=num_branches,
        percent=float(summary.get("percent_covered", 0.0)),
        contexts={
            int(line): tuple(sorted(c for c in names if c))
            for line, names in (entry.get("contexts") or {}).items()
            if any(names)
        },
    )
