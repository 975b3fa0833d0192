"""Builds the pinned PRs of the review benchmark from ``selection.json``: per PR a directory
``prs/<id>/`` with ``pr.diff`` (``git diff base head``) and ``manifest.json``.

    python3.11 benchmarks/review/build.py [--check]

- bug PR: base = the fix commit; head = base with the fix's changes to the library source
  (``boltons/``) reverted, tests untouched: the PR re-introduces the bug.  The diff is
  ``git diff FIX FIX^ -- <source files of the fix>``.
- refactor PR: base = the refactor commit's parent; head = the commit (the PR is the commit).

Computed per PR: the changed files, the lines the bug lives on (new side of the diff; a hand
override in the selection wins), and for a bug PR the fix's own tests (the test functions the
fix commit added or changed).  ``--check`` rebuilds in memory and fails when a stored file
differs (the pinned inputs did not move).  Needs the boltons clone (see common.ensure_source).
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common


def _files(src: Path, a: str, b: str, prefix: str) -> list[str]:
    out = common.git(src, "diff", "--name-only", a, b, "--", prefix)
    return [p for p in out.splitlines() if p.endswith(".py")]


def fix_tests(src: Path, sha: str, test_prefix: str) -> list[str]:
    """Node ids of the test functions the commit added or changed (new-side lines)."""
    diff = common.git(src, "diff", "--no-color", "-U0", f"{sha}^", sha, "--", test_prefix)
    changed = common.diff_changed_lines(diff)
    ids: list[str] = []
    for path, lines in changed.items():
        touched = set(lines["added"]) | set(lines["around_removed"])
        text = common.git(src, "show", f"{sha}:{path}")
        tree = ast.parse(text)
        for node in tree.body:
            funcs: list[tuple[str, ast.AST]] = []
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                funcs.append((node.name, node))
            elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                for sub in node.body:
                    if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        funcs.append((f"{node.name}::{sub.name}", sub))
            for name, fn in funcs:
                if not name.split("::")[-1].startswith("test"):
                    continue
                first = min([fn.lineno] + [d.lineno for d in fn.decorator_list])  # type: ignore[attr-defined]
                if touched & set(range(first, fn.end_lineno + 1)):  # type: ignore[attr-defined]
                    ids.append(f"{path}::{name}")
    return ids


def build_one(src: Path, sel: dict[str, Any], entry: dict[str, Any]) -> tuple[dict, str]:
    sha = common.git(src, "rev-parse", f"{entry['commit']}^{{commit}}").strip()
    parent = common.git(src, "rev-parse", f"{sha}^").strip()
    lib, tests = sel["source_prefix"], sel["test_prefix"]
    subject = common.git(src, "log", "-1", "--format=%s", sha).strip()
    date = common.git(src, "log", "-1", "--format=%cs", sha).strip()
    if entry["kind"] == "bug":
        files = _files(src, parent, sha, lib)
        diff = common.git(
            src, "diff", "--no-color", "--no-ext-diff", "--find-renames", sha, parent, "--", *files
        )
        base = {"sha": sha, "what": "the fix commit"}
        head = {
            "what": f"base with the fix reverted in {', '.join(files)} (tests untouched)",
            "diff": f"git diff {sha[:12]} {sha[:12]}^ -- {' '.join(files)}",
        }
    else:
        other = [
            p
            for p in common.git(src, "diff", "--name-only", parent, sha).splitlines()
            if not (p.startswith(lib) and p.endswith(".py"))
        ]
        if other:
            raise SystemExit(f"{entry['id']}: refactor commit touches more than {lib}: {other}")
        diff = common.git(src, "diff", "--no-color", "--no-ext-diff", "--find-renames", parent, sha)
        base = {"sha": parent, "what": "the refactor commit's parent"}
        head = {
            "what": "the refactor commit applied on its parent",
            "diff": f"git diff {sha[:12]}^ {sha[:12]}",
            "sha": sha,
        }
    changed = common.diff_changed_lines(diff)
    if entry.get("bug_lines"):
        bug_lines = entry["bug_lines"]
    else:
        bug_lines = {
            p: sorted(set(v["added"]) | set(v["around_removed"])) for p, v in changed.items()
        }
    manifest: dict[str, Any] = {
        "id": entry["id"],
        "kind": entry["kind"],
        "repo": sel["repo"],
        "commit": sha,
        "commit_subject": subject,
        "commit_date": date,
        "title": entry.get("title", ""),
        "base": base,
        "head": head,
        "changed_files": sorted(changed),
        "changed_lines": changed,
    }
    if entry["kind"] == "bug":
        manifest.update(
            bug_lines=bug_lines,
            bug=entry.get("bug", ""),
            about=entry.get("about", []),
            fix_tests=entry.get("fix_tests") or fix_tests(src, sha, tests),
        )
    else:
        manifest.update(note=entry.get("note", ""), valid_remarks=entry.get("valid_remarks", ""))
    return manifest, diff


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="fail if a stored file would change")
    ap.add_argument("--only", action="append", default=[], help="build this PR id only")
    args = ap.parse_args()
    sel = common.load_selection()
    src = common.ensure_source()
    drift = []
    for entry in sel["prs"]:
        if args.only and entry["id"] not in args.only:
            continue
        manifest, diff = build_one(src, sel, entry)
        d = common.PRS_DIR / entry["id"]
        text = json.dumps(manifest, indent=2) + "\n"
        if args.check:
            for name, want in (("manifest.json", text), ("pr.diff", diff)):
                have = (d / name).read_text() if (d / name).is_file() else None
                if have != want:
                    drift.append(f"{entry['id']}/{name}")
            continue
        d.mkdir(parents=True, exist_ok=True)
        (d / "pr.diff").write_text(diff)
        (d / "manifest.json").write_text(text)
        n = sum(len(v["added"]) for v in manifest["changed_lines"].values())
        print(
            f"{entry['id']:28} {entry['kind']:8} {manifest['commit'][:12]} "
            f"{','.join(manifest['changed_files'])} +{n} "
            f"tests={len(manifest.get('fix_tests', []))}"
        )
    if drift:
        print("differs from the stored PRs: " + ", ".join(drift), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
