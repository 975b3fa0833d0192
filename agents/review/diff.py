"""What a review reads of a diff (parsed by :mod:`agents.gitdiff`) within its budget.

:func:`select_hunks` splits large hunks, skips what is not worth a model's time (binary files,
deletions, lock files, generated or vendored code, paths the ``review_exclude`` setting names)
and ranks the rest by priority (source code first, risky words, the quality policy's path
weights; a weight of 0 skips the path) within a token budget; everything left out is listed with
the reason, so a review never drops code in silence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from fnmatch import fnmatch
from pathlib import PurePosixPath

from agents.gitdiff import FileDiff, Hunk

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
        return "excluded by the review_exclude setting"
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
