"""Unified diffs for review: parse them into hunks, then pick what a budget can read.

:func:`parse_diff` reads ``git diff`` / GitHub / GitLab unified diffs into :class:`FileDiff` and
:class:`Hunk` with line numbers on both sides.  :func:`select_hunks` splits large hunks, skips
what is not worth a model's time (binary files, deletions, lock files, generated or vendored
code, paths excluded by the repository's config) and ranks the rest by priority (source code
first, risky words, the quality policy's path weights; a weight of 0 skips the path) within a
token budget; everything left
out is listed with the reason, so a review never drops code in silence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from fnmatch import fnmatch
from pathlib import PurePosixPath
from typing import Literal

LineKind = Literal["+", "-", " "]

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")
_GIT_HEADER = re.compile(r"^diff --git a/(.*) b/(.*)$")
CHARS_PER_TOKEN = 3.5
MAX_HUNK_LINES = 80  # longer hunks are split so that a budget can take part of them

LOCKFILES = {
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "poetry.lock",
    "Pipfile.lock",
    "uv.lock",
    "Cargo.lock",
    "go.sum",
    "composer.lock",
    "Gemfile.lock",
}
GENERATED = ("*.min.js", "*.min.css", "*_pb2.py", "*_pb2_grpc.py", "*.pb.go", "*.map", "*.svg")
VENDORED = ("vendor/*", "*/vendor/*", "third_party/*", "node_modules/*", "*/node_modules/*")
SOURCE_EXT = {
    ".py", ".js", ".ts", ".tsx", ".jsx", ".go", ".rs", ".java", ".kt", ".c", ".h", ".cc",
    ".cpp", ".hpp", ".cs", ".rb", ".php", ".swift", ".scala", ".sh", ".sql",
}  # fmt: skip
CONFIG_EXT = {".toml", ".yaml", ".yml", ".json", ".ini", ".cfg", ".xml", ".tf", ".dockerfile"}
RISKY = re.compile(
    r"password|secret|token|auth|crypt|sql|exec|eval|subprocess|shell|pickle|yaml\.load|"
    r"deserial|permission|sudo|chmod|rm -rf|unsafe|lock|thread|async|except|raise|timeout",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DiffLine:
    kind: LineKind
    text: str
    old: int | None  # line number on the old side (None for an added line)
    new: int | None  # line number on the new side (None for a removed line)


@dataclass(frozen=True)
class Hunk:
    path: str  # on the new side
    header: str  # the text after the second @@ (often the enclosing function)
    old_start: int
    new_start: int
    lines: tuple[DiffLine, ...]

    @property
    def added(self) -> list[int]:
        """New-side numbers of the added lines: where a finding may land."""
        return [ln.new for ln in self.lines if ln.kind == "+" and ln.new is not None]

    @property
    def new_end(self) -> int:
        news = [ln.new for ln in self.lines if ln.new is not None]
        return max(news) if news else self.new_start

    @property
    def span(self) -> str:
        return f"{self.path}:{self.new_start}-{self.new_end}"

    def render(self) -> str:
        """The hunk with new-side line numbers, as the model sees it."""
        out = [f"@@ {self.header.strip()}".rstrip()]
        for ln in self.lines:
            number = f"{ln.new:>5}" if ln.new is not None else "     "
            out.append(f"{number} {ln.kind} {ln.text}")
        return "\n".join(out)

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.render())

    def text(self) -> str:
        """The added and context lines (the new code), for retrieval queries."""
        return "\n".join(ln.text for ln in self.lines if ln.kind != "-")


@dataclass
class FileDiff:
    path: str  # new side ("/dev/null" side resolved: the old path for a deleted file)
    old_path: str
    status: Literal["added", "modified", "deleted", "renamed"] = "modified"
    binary: bool = False
    hunks: list[Hunk] = field(default_factory=list)

    @property
    def added_lines(self) -> int:
        return sum(len(h.added) for h in self.hunks)


@dataclass(frozen=True)
class Skipped:
    path: str
    lines: str  # "12-40" on the new side, or "" for a whole file
    reason: str


@dataclass
class Selection:
    chosen: list[Hunk] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    total_hunks: int = 0

    @property
    def tokens(self) -> int:
        return sum(h.tokens for h in self.chosen)


def estimate_tokens(text: str) -> int:
    return int(len(text) / CHARS_PER_TOKEN) + 1


def _strip_prefix(name: str) -> str:
    name = name.strip().split("\t", 1)[0]
    if name.startswith('"') and name.endswith('"'):
        name = name[1:-1]
    return name[2:] if name[:2] in ("a/", "b/") else name


def parse_diff(text: str) -> list[FileDiff]:
    """The files and hunks of a unified diff (git's extended headers understood)."""
    files: list[FileDiff] = []
    current: FileDiff | None = None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        git_header = _GIT_HEADER.match(line)
        if git_header:
            current = FileDiff(path=git_header.group(2), old_path=git_header.group(1))
            files.append(current)
        elif line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            old, new = _strip_prefix(line[4:]), _strip_prefix(lines[i + 1][4:])
            if current is None or current.hunks:
                current = FileDiff(path=new, old_path=old)
                files.append(current)
            if old == "/dev/null":
                current.status, current.old_path = "added", new
            elif new == "/dev/null":
                current.status, current.path = "deleted", old
            else:
                current.path, current.old_path = new, old
            i += 2
            continue
        elif current is not None and line.startswith("new file mode"):
            current.status = "added"
        elif current is not None and line.startswith("deleted file mode"):
            current.status = "deleted"
        elif current is not None and line.startswith("rename to "):
            current.status, current.path = "renamed", line[len("rename to ") :]
        elif current is not None and line.startswith("Binary files"):
            current.binary = True
        elif current is not None and (match := _HUNK.match(line)):
            hunk, i = _read_hunk(lines, i + 1, current.path, match)
            if current.status == "modified" and current.path != current.old_path:
                current.status = "renamed"
            current.hunks.append(hunk)
            continue
        i += 1
    return files


def _read_hunk(lines: list[str], i: int, path: str, match: re.Match[str]) -> tuple[Hunk, int]:
    old_no, new_no = int(match.group(1)), int(match.group(3))
    old_left = int(match.group(2)) if match.group(2) is not None else 1
    new_left = int(match.group(4)) if match.group(4) is not None else 1
    body: list[DiffLine] = []
    while i < len(lines) and (old_left > 0 or new_left > 0):
        line = lines[i]
        if line.startswith("\\"):  # "\ No newline at end of file"
            i += 1
            continue
        kind, text = (line[:1] or " "), line[1:]
        if kind == "+":
            body.append(DiffLine("+", text, None, new_no))
            new_no, new_left = new_no + 1, new_left - 1
        elif kind == "-":
            body.append(DiffLine("-", text, old_no, None))
            old_no, old_left = old_no + 1, old_left - 1
        elif kind == " ":
            body.append(DiffLine(" ", text, old_no, new_no))
            old_no, new_no = old_no + 1, new_no + 1
            old_left, new_left = old_left - 1, new_left - 1
        else:
            break
        i += 1
    while i < len(lines) and lines[i].startswith("\\"):
        i += 1
    hunk = Hunk(path, match.group(5), int(match.group(1)), int(match.group(3)), tuple(body))
    return hunk, i


def changed_lines(files: Iterable[FileDiff]) -> dict[str, set[int]]:
    """New-side numbers of the added lines, per file."""
    out: dict[str, set[int]] = {}
    for f in files:
        for hunk in f.hunks:
            if hunk.added:
                out.setdefault(f.path, set()).update(hunk.added)
    return out


def split_hunk(hunk: Hunk, max_lines: int = MAX_HUNK_LINES) -> list[Hunk]:
    """A long hunk as consecutive pieces of at most ``max_lines`` lines."""
    if len(hunk.lines) <= max_lines:
        return [hunk]
    pieces = []
    for start in range(0, len(hunk.lines), max_lines):
        part = hunk.lines[start : start + max_lines]
        first_new = next((ln.new for ln in part if ln.new is not None), hunk.new_start)
        first_old = next((ln.old for ln in part if ln.old is not None), hunk.old_start)
        pieces.append(replace(hunk, lines=part, new_start=first_new, old_start=first_old))
    return [p for p in pieces if p.added]


def skip_reason(f: FileDiff, exclude: Iterable[str] = ()) -> str | None:
    """Why a whole file is not reviewed, or None."""
    name = PurePosixPath(f.path).name
    if f.binary:
        return "binary file"
    if f.status == "deleted":
        return "deleted file (nothing on the new side to comment on)"
    if any(fnmatch(f.path, pattern) for pattern in exclude):
        return "excluded by the repository's .assay.toml"
    if name in LOCKFILES:
        return "lock file"
    if any(fnmatch(f.path, p) or fnmatch(name, p) for p in GENERATED):
        return "generated file"
    if any(fnmatch(f.path, p) for p in VENDORED):
        return "vendored code"
    if not f.added_lines:
        return "only removed lines"
    return None


def _kind_weight(path: str) -> float:
    p = PurePosixPath(path)
    name, suffix = p.name.lower(), p.suffix.lower()
    is_test = name.startswith("test_") or name.endswith(("_test.py", ".test.ts", ".spec.ts"))
    if is_test or "tests" in p.parts or "test" in p.parts:
        return 2.0
    if suffix in SOURCE_EXT:
        return 3.0
    if suffix in CONFIG_EXT or name in ("dockerfile", "makefile"):
        return 1.5
    return 1.0


PathWeight = Callable[[str], float]


def priority(hunk: Hunk, path_weight: PathWeight | None = None) -> float:
    """Higher is reviewed first: source over tests over config over docs, risky words, size,
    times the quality policy's weight of the path."""
    score = _kind_weight(hunk.path)
    added = "\n".join(ln.text for ln in hunk.lines if ln.kind == "+")
    score += min(2.0, 0.5 * len(RISKY.findall(added)))
    score += min(1.0, len(hunk.added) / 40)
    return score * (path_weight(hunk.path) if path_weight else 1.0)


def _lines(h: Hunk) -> str:
    return f"{h.new_start}-{h.new_end}"


def select_hunks(
    files: list[FileDiff],
    budget_tokens: int,
    *,
    exclude: Iterable[str] = (),
    path_weight: PathWeight | None = None,
) -> Selection:
    """The hunks to review within ``budget_tokens``, in file order; the rest as skipped."""
    selection = Selection()
    candidates: list[Hunk] = []
    exclude = tuple(exclude)
    for f in files:
        reason = skip_reason(f, exclude)
        pieces = [piece for hunk in f.hunks for piece in split_hunk(hunk)]
        selection.total_hunks += max(1, len(pieces))
        if reason:
            selection.skipped.append(Skipped(f.path, "", reason))
            continue
        if path_weight is not None and path_weight(f.path) <= 0:
            selection.skipped.append(Skipped(f.path, "", "weight 0 in the quality policy"))
            continue
        for piece in pieces:
            if piece.added:
                candidates.append(piece)
    ranked = sorted(candidates, key=lambda h: -priority(h, path_weight))
    used, chosen = 0, set()
    for hunk in ranked:
        if used + hunk.tokens <= budget_tokens:
            chosen.add(id(hunk))
            used += hunk.tokens
    for hunk in candidates:
        if id(hunk) in chosen:
            selection.chosen.append(hunk)
        else:
            selection.skipped.append(Skipped(hunk.path, _lines(hunk), "over the token budget"))
    return selection
