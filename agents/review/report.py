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
    source: str = "model"  # "model" | "behaviour" (the behaviour diff) | "crash" (a new function)
    evidence: str = ""  # what assay ran that backs the finding
    test: str | None = None  # a regression test: passes on the base, fails on the head
    confirmed: bool = False  # the failing input the finding claims was run and failed
    score: int | None = None  # the second look's score (0-10) of a model finding
    verified: bool = False  # the suggestion was applied and the tests passed with it
    suggestion_start: int | None = None  # a suggestion replacing lines start..line (a function)
    call: str = ""  # the failing call a confirmed finding claimed

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
class Change:
    """A function whose behaviour differs between base and head (or a new one that crashes)."""

    path: str
    qualname: str
    line: int  # on the head side: where the finding lands
    expr: str
    before: dict[str, Any]  # {} for a new function's crash
    after: dict[str, Any]
    kind: str  # "result" | "state" | "crash"
    differing: int = 1  # calls of this function that differ
    compared: int = 1
    test: str = ""  # a regression test that passes on the base and fails on the head
    message: str = ""


@dataclass
class BehaviourSection:
    """The behaviour diff: the same calls on base and head, what differed."""

    functions: int = 0  # changed functions with a base and a head
    new_functions: int = 0
    calls: int = 0  # calls compared (stable on both sides)
    same: int = 0
    ignored: int = 0  # not the same twice on one side, or not callable on one side
    searched: int = 0  # functions whose calls behaved the same, searched for a differing call
    found: int = 0  # of those, where the search found one (the replay on both sides agreeing)
    changes: list[Change] = field(default_factory=list)
    crashes: list[Change] = field(default_factory=list)
    seconds: float = 0.0
    note: str = ""
    # Changed functions whose compared calls all behaved the same: [path, start, end, calls]
    # (head lines), for the check of model findings that point into them.
    unchanged: list[list[Any]] = field(default_factory=list)
    # Per changed function, [path, start, end, calls, base seconds, head seconds]: the time its
    # calls that behaved the same took on each side, for the check of claims of a slowdown.
    timings: list[list[Any]] = field(default_factory=list)

    def summary(self) -> str:
        """The one line a review shows: a refactor signal, or what changed."""
        fns = f"{self.functions} changed function(s)"
        ignored = (
            f"; {self.ignored} nondeterministic or uncallable call(s) ignored"
            if self.ignored
            else ""
        )
        if self.note and not self.calls:
            return f"Behaviour diff: {self.note}."
        searched = (
            f"; a search for a call that tells base and head apart found {self.found} "
            f"in {self.searched} function(s) whose calls behaved the same"
            if self.searched
            else ""
        )
        if not self.changes:
            return (
                f"Behaviour diff: no behaviour change in {self.calls} call(s) of {fns}"
                f"{searched}{ignored}."
            )
        differ = sum(c.differing for c in self.changes)
        return (
            f"Behaviour diff: behaviour changed in {len(self.changes)} of {fns} "
            f"({differ} of {self.calls} call(s) differ){searched}{ignored}."
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BehaviourSection:
        names = Change.__dataclass_fields__
        keep = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("changes", "crashes"):
            keep[key] = [
                Change(**{k: v for k, v in c.items() if k in names}) for c in keep.get(key, [])
            ]
        return cls(**keep)


@dataclass
class Checks:
    """What the checks of model findings and suggestions did (counts for the summary)."""

    scored: int = 0  # model findings the second look scored
    low_score: int = 0  # dropped: scored below the threshold
    confirmed: int = 0  # a claimed failing input failed when run
    refuted: int = 0  # dropped: a claimed failing call ran fine or did not fit
    suggestions_verified: int = 0
    suggestions_dropped: int = 0  # a suggested change the tests did not pass with
    suggestions_fixed: int = 0  # … of the verified: repaired by the solve flow first
    suppressed: int = 0  # findings a person marked wrong before
    no_change: int = 0  # dropped: in a function the behaviour diff saw behave the same
    not_slower: int = 0  # dropped: a claimed slowdown the head's calls did not show
    unmeasured: int = 0  # dropped: a claimed slowdown where no call could be timed
    threshold: int = 0
    notes: list[str] = field(default_factory=list)


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
    behaviour: BehaviourSection | None = None
    checks: Checks = field(default_factory=Checks)

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
        if data.get("behaviour") is not None:
            keep["behaviour"] = BehaviourSection.from_dict(data["behaviour"])
        checks = data.get("checks") or {}
        keep["checks"] = Checks(
            **{k: v for k, v in checks.items() if k in Checks.__dataclass_fields__}
        )
        return cls(**keep)


def evidence_label(finding: Finding) -> str:
    """How a finding is backed, in a few words ("" for a model finding nothing checked)."""
    if finding.source == "behaviour":
        return "behaviour diff"
    if finding.source == "crash":
        return "ran it"
    if finding.confirmed:
        return "confirmed by running it"
    return ""


def finding_markdown(finding: Finding, *, suggestion_fence: str = "suggestion") -> str:
    """The body of one inline comment, with its fingerprint marker."""
    label = evidence_label(finding)
    body = f"**{finding.severity} · {finding.category}**" + (f" · _{label}_" if label else "")
    body += f" {finding.message}"
    if finding.evidence:
        body += f"\n\n{finding.evidence}"
    if finding.suggestion:
        note = "Suggested change, verified: the repository's tests pass with it." * finding.verified
        body += f"\n\n{note}\n```{suggestion_fence}\n{finding.suggestion.rstrip()}\n```"
    if finding.test:
        body += (
            "\n\n<details><summary>regression test (if the change was not intended, this test "
            "fails on this PR)</summary>\n\n```python\n"
            + finding.test.rstrip()
            + "\n```\n</details>"
        )
    return body + "\n\n" + prompts.MARKER_FINDING.format(fingerprint=finding.fingerprint)


def checks_line(report: ReviewReport) -> str:
    """What the checks dropped and why, in one sentence ("" when they did nothing)."""
    c = report.checks
    parts = []
    if c.low_score:
        parts.append(f"{c.low_score} scored below {c.threshold}/10 by a second look")
    if c.refuted:
        parts.append(
            f"{c.refuted} whose claimed failing call did not fail (or did not fit the function)"
        )
    if c.suppressed:
        parts.append(f"{c.suppressed} marked wrong before")
    if c.no_change:
        parts.append(f"{c.no_change} pointing where the behaviour diff saw no change")
    if c.not_slower:
        parts.append(f"{c.not_slower} claiming a slowdown the head's timed calls did not show")
    if c.unmeasured:
        parts.append(f"{c.unmeasured} claiming a slowdown where no call could be timed")
    if c.suggestions_dropped:
        parts.append(f"{c.suggestions_dropped} suggestion(s) the tests failed with")
    done = []
    if c.confirmed:
        done.append(f"{c.confirmed} confirmed by running it")
    if c.suggestions_verified:
        done.append(f"{c.suggestions_verified} suggestion(s) verified by the tests")
    text = ("Checks dropped " + ", ".join(parts) + ".") if parts else ""
    if done:
        text += (" " if text else "") + "Checks: " + ", ".join(done) + "."
    return text


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
    if report.behaviour is not None:
        lines += [report.behaviour.summary(), ""]
    if report.findings:
        lines += ["| severity | where | finding | evidence |", "|---|---|---|---|"]
        for f in report.findings:
            where = f"`{f.path}:{f.line}`"
            lines.append(f"| {f.severity} | {where} | {_cell(f.message)} | {evidence_label(f)} |")
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
    if checks_line(report):
        lines += ["", checks_line(report)]
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
