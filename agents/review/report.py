"""What a review found, and how it reads: findings, what was skipped, the tests section.

:class:`ReviewReport` is plain data (``as_dict`` for JSON and job results); :func:`summary_markdown`
and :func:`finding_markdown` render it for a pull-request comment or a terminal.  A review always
says what it read and what it left out: an empty review never happens in silence.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from agents.review import prompts
from agents.review.diff import Skipped

SEVERITIES = ("high", "medium", "low")
CATEGORIES = (
    "bug",
    "security",
    "performance",
    "error-handling",
    "maintainability",
    "tests",
    "docs",
)
MAX_SKIPPED_SHOWN = 15
MAX_PATCH_CHARS = 30_000  # a PR comment holds 65,536 characters on GitHub


@dataclass(frozen=True)
class Finding:
    path: str
    line: int  # on the new side, an added line of the diff
    severity: str
    category: str
    message: str
    suggestion: str | None = None
    anchor: str = ""  # the code on that line: findings follow their code when lines shift

    @property
    def fingerprint(self) -> str:
        """Stable across pushes while the finding says the same thing about the same code."""
        text = re.sub(r"\s+", " ", self.message.lower()).strip()
        code = re.sub(r"\s+", " ", self.anchor).strip()
        raw = f"{self.path}|{self.category}|{text}|{code}"
        return hashlib.sha1(raw.encode()).hexdigest()[:12]


@dataclass
class TestsSection:
    """Diff coverage of the change and the tests assay wrote for what is not covered."""

    changed_lines: int = 0  # changed executable lines of Python files
    covered_lines: int = 0
    uncovered: dict[str, list[int]] = field(default_factory=dict)
    accepted: int = 0  # tests that passed every gate of the cover agent
    covered_after: int = 0  # changed lines covered with those tests
    patch: str = ""  # the tests as a unified diff
    written: list[str] = field(default_factory=list)  # test files the patch creates or changes
    note: str = ""  # why part of it could not be done
    tokens: int = 0

    @property
    def percent(self) -> float | None:
        return 100.0 * self.covered_lines / self.changed_lines if self.changed_lines else None

    @property
    def percent_after(self) -> float | None:
        return 100.0 * self.covered_after / self.changed_lines if self.changed_lines else None


@dataclass
class ReviewReport:
    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files: int = 0
    total_hunks: int = 0
    reviewed_hunks: int = 0
    off_diff: int = 0  # findings dropped: not on a changed line
    duplicates: int = 0
    capped: int = 0  # findings over the limit
    errors: list[str] = field(default_factory=list)
    index: str = "not used"
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    llm_seconds: float = 0.0
    wall_seconds: float = 0.0
    head: str = ""
    tests: TestsSection | None = None

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def counts(self) -> Counter[str]:
        return Counter(f.severity for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["findings"] = [{**asdict(f), "fingerprint": f.fingerprint} for f in self.findings]
        data["tokens"] = self.tokens
        data["wall_seconds"] = round(self.wall_seconds, 2)
        data["llm_seconds"] = round(self.llm_seconds, 2)
        if self.tests is not None:
            data["tests"]["percent"] = self.tests.percent
            data["tests"]["percent_after"] = self.tests.percent_after
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReviewReport:
        keep = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        keep["findings"] = [
            Finding(**{k: v for k, v in f.items() if k in Finding.__dataclass_fields__})
            for f in data.get("findings", [])
        ]
        keep["skipped"] = [Skipped(**s) for s in data.get("skipped", [])]
        tests = data.get("tests")
        if tests is not None:
            names = TestsSection.__dataclass_fields__
            keep["tests"] = TestsSection(**{k: v for k, v in tests.items() if k in names})
        return cls(**keep)


def finding_markdown(finding: Finding, *, suggestion_fence: str = "suggestion") -> str:
    """The body of one inline comment, with its fingerprint marker."""
    body = f"**{finding.severity} · {finding.category}** {finding.message}"
    if finding.suggestion:
        body += f"\n\n```{suggestion_fence}\n{finding.suggestion.rstrip()}\n```"
    return body + "\n\n" + prompts.MARKER_FINDING.format(fingerprint=finding.fingerprint)


def _ranges(lines: list[int]) -> str:
    out: list[str] = []
    for n in sorted(lines):
        if out and "-" not in out[-1] and int(out[-1]) == n - 1:
            out[-1] = f"{out[-1]}-{n}"
        elif out and "-" in out[-1] and int(out[-1].split("-")[1]) == n - 1:
            out[-1] = f"{out[-1].split('-')[0]}-{n}"
        else:
            out.append(str(n))
    return ", ".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def tests_markdown(tests: TestsSection, *, marker: bool = False) -> str:
    lines = [prompts.MARKER_TESTS] if marker else []
    lines.append("### Tests")
    if tests.percent is None:
        lines.append("No changed executable Python lines to measure.")
    else:
        lines.append(
            f"Diff coverage: **{tests.percent:.0f} %** ({tests.covered_lines} of "
            f"{tests.changed_lines} changed lines run by the tests)."
        )
        if tests.uncovered:
            where = "; ".join(f"`{p}` {_ranges(ls)}" for p, ls in sorted(tests.uncovered.items()))
            lines.append(f"Not covered: {where}.")
    if tests.accepted:
        after = tests.percent_after
        gain = f", diff coverage would be {after:.0f} %" if after is not None else ""
        lines.append(
            f"assay wrote {tests.accepted} test(s) for them that pass repeatedly, add coverage "
            f"and catch a mutant{gain}. Suggested patch ({', '.join(tests.written)}):"
        )
        patch = tests.patch.rstrip()
        if len(patch) > MAX_PATCH_CHARS:
            cut = patch[:MAX_PATCH_CHARS].rsplit("\n", 1)[0]
            patch = f"{cut}\n… (cut: run `assay review --patch FILE` for all of it)"
        lines += ["<details><summary>tests patch</summary>", "", "```diff", patch]
        lines += ["```", "</details>"]
    elif tests.uncovered and not tests.note:
        lines.append("assay could not write a test for them that passes every gate.")
    if tests.note:
        lines.append(f"_{tests.note}_")
    return "\n".join(lines)


def summary_markdown(report: ReviewReport, *, marker: bool = True) -> str:
    """The summary comment: counts, the findings table, what was skipped, the tests section."""
    counts = report.counts()
    head = f" at `{report.head[:7]}`" if report.head else ""
    found = ", ".join(f"{counts[s]} {s}" for s in SEVERITIES if counts[s]) or "none"
    lines = [prompts.MARKER_SUMMARY] if marker else []
    lines += [
        f"## {prompts.SUMMARY_TITLE}",
        f"Reviewed {report.reviewed_hunks} of {report.total_hunks} hunk(s) in {report.files} "
        f"file(s){head} · findings: {found} · {report.tokens:,} tokens · "
        f"{report.wall_seconds:.0f} s · index: {report.index}",
        "",
    ]
    if report.findings:
        lines += ["| severity | where | finding |", "|---|---|---|"]
        for f in report.findings:
            lines.append(f"| {f.severity} | `{f.path}:{f.line}` | {_cell(f.message)} |")
    elif report.reviewed_hunks:
        lines.append(f"No problems found in the {report.reviewed_hunks} hunk(s) reviewed.")
    else:
        lines.append("Nothing was reviewed: see below for why.")
    dropped = []
    if report.capped:
        dropped.append(f"{report.capped} over the limit of findings")
    if report.off_diff:
        dropped.append(f"{report.off_diff} not on a changed line")
    if report.duplicates:
        dropped.append(f"{report.duplicates} duplicate(s)")
    if dropped:
        lines += ["", "Findings left out: " + ", ".join(dropped) + "."]
    if report.skipped:
        lines += ["", f"**Not reviewed** ({len(report.skipped)}):"]
        for s in report.skipped[:MAX_SKIPPED_SHOWN]:
            where = f"{s.path}:{s.lines}" if s.lines else s.path
            lines.append(f"- `{where}`: {s.reason}")
        if len(report.skipped) > MAX_SKIPPED_SHOWN:
            lines.append(f"- … and {len(report.skipped) - MAX_SKIPPED_SHOWN} more")
    for error in report.errors:
        lines.append(f"- ⚠ {error}")
    if report.tests is not None:
        lines += ["", tests_markdown(report.tests)]
    return "\n".join(lines).rstrip() + "\n"
