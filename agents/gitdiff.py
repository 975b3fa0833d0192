"""git and unified diffs, in one place: run git, read a diff into hunks, the changes since a ref.

:func:`parse_diff` reads ``git diff`` / GitHub / GitLab unified diffs into :class:`FileDiff` and
:class:`Hunk` with line numbers on both sides (the review reads them; :func:`changed_lines` turns
them into the lines ``assay cover --diff`` targets).  :func:`git` runs git with no prompt and a
clear error; :func:`local_diff`, :func:`checkout` and :func:`fetch_base` are what a review needs
of a repository.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from agents.errors import AssayError, InputError

LineKind = Literal["+", "-", " "]

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")
_GIT_HEADER = re.compile(r"^diff --git a/(.*) b/(.*)$")
CHARS_PER_TOKEN = 3.5


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


def added_lines(files: Iterable[FileDiff]) -> dict[str, set[int]]:
    """New-side numbers of the added lines, per file."""
    out: dict[str, set[int]] = {}
    for f in files:
        for hunk in f.hunks:
            if hunk.added:
                out.setdefault(f.path, set()).update(hunk.added)
    return out


def changed_lines(
    repo: Path, base: str, suffixes: tuple[str, ...] = (".py",)
) -> dict[str, set[int]]:
    """Lines of source files (Python unless ``suffixes`` says) added or changed since ``base``
    (working tree vs the ref, plus untracked files), keyed by path relative to ``repo`` (which
    may be below the git root)."""
    try:
        top = Path(git(repo, "rev-parse", "--show-toplevel").strip()).resolve()
    except AssayError as exc:
        raise InputError(
            f"--diff needs a git repository, and {repo} is not in one",
            "drop --diff or run git init",
        ) from exc
    prefix = repo.resolve().relative_to(top).as_posix()
    prefix = "" if prefix == "." else prefix + "/"
    try:
        git(top, "rev-parse", "--verify", f"{base}^{{commit}}")
    except AssayError as exc:
        raise InputError(
            f"--diff base '{base}' is not a commit in {top}", "pass a branch, tag or commit"
        ) from exc
    diff = git(top, "diff", base, "-U0", "--no-color", "--no-ext-diff", "--", ".")
    out = added_lines(parse_diff(diff))
    for name in git(top, "ls-files", "--others", "--exclude-standard").splitlines():
        path = top / name
        if name.endswith(suffixes) and path.is_file():
            n = len(path.read_text(encoding="utf-8", errors="replace").splitlines())
            out.setdefault(name, set()).update(range(1, n + 1))
    return {
        name[len(prefix) :]: lines
        for name, lines in out.items()
        if name.endswith(suffixes) and name.startswith(prefix)
    }


MAX_UNTRACKED = 200
GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "LC_ALL": "C"}


def git(repo: Path, *args: str, timeout: float = 300, header: str | None = None) -> str:
    """Run git in ``repo``; a failure is an :class:`AssayError`.  ``header`` (an HTTP header
    for the remote, e.g. credentials) goes through the environment, never the command line."""
    env = {**os.environ, **GIT_ENV}
    if header:
        env.update(
            GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="http.extraHeader", GIT_CONFIG_VALUE_0=header
        )
    try:
        done = subprocess.run(
            ["git", *args], cwd=repo, capture_output=True, text=True, timeout=timeout, env=env
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AssayError(
            f"git {args[0]} failed in {repo}: {exc}", "check git and the repository"
        ) from exc
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        text = (message[-1] if message else f"exit code {done.returncode}")[:300]
        raise AssayError(f"git {args[0]} failed in {repo}: {text}", "check the ref and the remote")
    return done.stdout


def merge_base(repo: Path, base: str) -> str:
    try:
        git(repo, "rev-parse", "--verify", f"{base}^{{commit}}")
    except AssayError as exc:
        raise InputError(
            f"--base '{base}' is not a commit in {repo}", "pass a branch, tag or commit"
        ) from exc
    try:
        return git(repo, "merge-base", base, "HEAD").strip()
    except AssayError:
        return git(repo, "rev-parse", base).strip()


def local_diff(repo: Path, base: str) -> tuple[str, str]:
    """(diff of the working tree and new untracked files since the merge base, merge base)."""
    point = merge_base(repo, base)
    diff = git(repo, "diff", point, "--no-color", "--no-ext-diff", "--find-renames")
    untracked = git(repo, "ls-files", "--others", "--exclude-standard").splitlines()
    for name in untracked[:MAX_UNTRACKED]:
        done = subprocess.run(
            ["git", "diff", "--no-index", "--no-color", "/dev/null", name],
            cwd=repo, capture_output=True, text=True, env={**os.environ, **GIT_ENV},
        )  # fmt: skip
        diff += done.stdout
    return diff, point


def checkout(
    url: str, fetch_ref: str, head_sha: str, dest: Path, *, header: str | None = None
) -> Path:
    """A working tree of ``head_sha`` from ``url`` (the PR's head fetched by ``fetch_ref``)."""
    dest.mkdir(parents=True, exist_ok=True)
    git(dest, "init", "-q")
    git(dest, "fetch", "-q", "--no-tags", url, fetch_ref or head_sha, header=header, timeout=900)
    try:
        git(dest, "cat-file", "-e", f"{head_sha}^{{commit}}")
    except AssayError:
        git(dest, "fetch", "-q", "--no-tags", url, head_sha, header=header, timeout=900)
    git(dest, "checkout", "-q", "--detach", head_sha)
    return dest


def fetch_base(dest: Path, url: str, base_sha: str, *, header: str | None = None) -> str:
    """The merge base of HEAD and ``base_sha`` in a checkout (fetching the base if needed)."""
    try:
        git(dest, "cat-file", "-e", f"{base_sha}^{{commit}}")
    except AssayError:
        git(dest, "fetch", "-q", "--no-tags", url, base_sha, header=header, timeout=900)
    try:
        return git(dest, "merge-base", base_sha, "HEAD").strip()
    except AssayError:
        return base_sha
