"""Shared pieces of the review benchmark (stdlib only): paths, the pinned PR manifests, git,
and turning a manifest into a local repository with ``base`` and ``head`` branches.

Everything generated goes under ``benchmarks/work/review/`` (gitignored); the manifests and
diffs under ``benchmarks/review/prs/`` are committed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
WORK = Path(os.environ.get("REVIEW_BENCH_WORK", REPO_ROOT / "benchmarks" / "work" / "review"))
SELECTION = HERE / "selection.json"
PRS_DIR = HERE / "prs"
MIRROR = Path("/work/.mirror/mahmoud+boltons/repo")  # what the `fetch` tool brings here
SOURCE_GIT = WORK / "boltons.git"  # a bare clone of it, the source of every materialised PR

# the head commit: same author, date and a neutral message for every PR, so that nothing but
# the code tells a reviewer what the change is (no "revert", no "fix" in the log)
HEAD_AUTHOR = ("PR author", "author@example.invalid")
HEAD_DATE = "2026-09-01T12:00:00+00:00"
EXCLUDES = ["__pycache__/", "*.py[cod]", ".pytest_cache/", ".assay/", ".mypy_cache/", ".coverage"]

GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": HEAD_AUTHOR[0],
    "GIT_AUTHOR_EMAIL": HEAD_AUTHOR[1],
    "GIT_COMMITTER_NAME": HEAD_AUTHOR[0],
    "GIT_COMMITTER_EMAIL": HEAD_AUTHOR[1],
    "GIT_AUTHOR_DATE": HEAD_DATE,
    "GIT_COMMITTER_DATE": HEAD_DATE,
}


def git(cwd: Path | str, *args: str, check: bool = True, input: str | None = None) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        input=input,
        env={**os.environ, **GIT_ENV},
    )
    if check and done.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed in {cwd}: {done.stderr.strip()}")
    return done.stdout


def load_selection() -> dict[str, Any]:
    return json.loads(SELECTION.read_text())


def manifest_path(pr_id: str) -> Path:
    return PRS_DIR / pr_id / "manifest.json"


def load_manifest(pr_id: str) -> dict[str, Any]:
    path = manifest_path(pr_id)
    if not path.is_file():
        known = ", ".join(all_pr_ids()) or "none (run build.py)"
        raise SystemExit(f"no PR '{pr_id}' ({path} missing); known: {known}")
    return json.loads(path.read_text())


def all_pr_ids(kind: str | None = None) -> list[str]:
    ids = []
    for entry in load_selection()["prs"]:
        if kind is None or entry["kind"] == kind:
            ids.append(entry["id"])
    return ids


def pr_diff(pr_id: str) -> str:
    return (PRS_DIR / pr_id / "pr.diff").read_text()


def ensure_source(mirror: Path = MIRROR) -> Path:
    """The bare clone every PR is built from (made once from the fetched mirror)."""
    if (SOURCE_GIT / "HEAD").is_file():
        return SOURCE_GIT
    if not (mirror / "HEAD").is_file():
        raise SystemExit(
            f"{mirror} missing: bring mahmoud/boltons here first (the search tool's fetch, "
            "github:mahmoud/boltons), or `git clone --bare https://github.com/mahmoud/boltons "
            f"{SOURCE_GIT}` where GitHub is reachable"
        )
    SOURCE_GIT.parent.mkdir(parents=True, exist_ok=True)
    git(SOURCE_GIT.parent, "clone", "-q", "--bare", str(mirror), str(SOURCE_GIT))
    return SOURCE_GIT


def _prepare_source() -> Path:
    src = ensure_source()
    # lets a fresh repository fetch exactly one commit by SHA
    git(src, "config", "uploadpack.allowAnySHA1InWant", "true")
    return src


def materialise(pr_id: str, dest: Path, *, force: bool = False) -> dict[str, Any]:
    """``dest``: a git repository with branch ``base`` (one root commit: the tree of the PR's
    base, no history), branch ``head`` = base + the PR's diff (one commit), ``head`` checked
    out, clean tree.  ``git diff base head`` is byte for byte the stored ``pr.diff``."""
    m = load_manifest(pr_id)
    src = _prepare_source()
    if dest.exists():
        if not force:
            raise SystemExit(f"{dest} exists (pass --force to replace it)")
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    git(dest, "init", "-q", "-b", "base")
    # base: one root commit with the tree of the pinned base commit and no history, so that no
    # tool can read the fix's own commit message (it names the bug) in the log
    git(dest, "fetch", "-q", "--no-tags", "--depth", "1", str(src), m["base"]["sha"])
    tree = git(dest, "rev-parse", "FETCH_HEAD^{tree}").strip()
    root = git(dest, "commit-tree", tree, "-m", "boltons").strip()
    git(dest, "reset", "-q", "--hard", root)
    for leftover in ("FETCH_HEAD", "shallow"):
        (dest / ".git" / leftover).unlink(missing_ok=True)
    git(dest, "reflog", "expire", "--expire=now", "--all")
    git(dest, "gc", "-q", "--prune=now")
    (dest / ".git" / "info").mkdir(exist_ok=True)
    (dest / ".git" / "info" / "exclude").write_text("\n".join(EXCLUDES) + "\n")
    git(dest, "checkout", "-q", "-b", "head")
    diff = pr_diff(pr_id)
    git(dest, "apply", "--index", "--whitespace=nowarn", "-", input=diff)
    changed = m["changed_files"]
    message = "Update " + (changed[0] if len(changed) == 1 else f"{len(changed)} files")
    git(dest, "commit", "-q", "--no-verify", "-m", message)
    again = git(dest, "diff", "--no-color", "--no-ext-diff", "--find-renames", "base", "head")
    if again != diff:
        raise SystemExit(f"{pr_id}: git diff base head differs from pr.diff (rebuild the PR)")
    return m


HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def diff_changed_lines(diff: str) -> dict[str, dict[str, list[int]]]:
    """Per file (new path): ``added`` new-side line numbers, and ``around_removed``: for each
    run of removed lines not replaced by added ones, the new-side lines just before and after
    where they were."""
    out: dict[str, dict[str, list[int]]] = {}
    path = None
    new = 0
    run = False  # inside a run of removed lines
    for line in [*diff.splitlines(), ""]:
        if line.startswith("+++ "):
            path = line[6:] if line.startswith("+++ b/") else None
            if path:
                out.setdefault(path, {"added": [], "around_removed": []})
            continue
        if line.startswith("--- ") or line.startswith("diff --git") or path is None:
            continue
        m = HUNK.match(line)
        if m:
            if run:
                out[path]["around_removed"].extend([max(new - 1, 1), new])
            new, run = int(m.group(3)), False
            continue
        entry = out[path]
        if line.startswith("\\"):  # "\ No newline at end of file"
            continue
        if line.startswith("-"):
            run = True
            continue
        if run and not line.startswith("+"):  # a pure deletion ends here
            entry["around_removed"].extend([max(new - 1, 1), new])
        run = False
        if line.startswith("+"):
            entry["added"].append(new)
        new += 1
    for entry in out.values():
        entry["around_removed"] = sorted(set(entry["around_removed"]))
    return out
