"""Materialises one pinned PR as a local git repository.

    python3.11 benchmarks/review/materialise.py PR_ID DEST [--force]
    python3.11 benchmarks/review/materialise.py --list

DEST gets branch ``base`` (one root commit holding the library's tree at the PR's base, no
history: the fix's own commit message would name the bug), branch ``head`` = base + the PR
(one commit with a neutral message), ``head`` checked out and a clean tree, so
that ``assay review DEST --base base`` reviews exactly the PR and ``git -C DEST diff base head``
is byte for byte ``prs/PR_ID/pr.diff`` (what pr-agent's ``--diff-file`` gets).  Name DEST
neutrally (the runners use ``<tmp>/boltons``): a reviewer may read the directory name.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pr", nargs="?", help="PR id (see --list)")
    ap.add_argument("dest", nargs="?", type=Path, help="directory to create")
    ap.add_argument("--force", action="store_true", help="replace DEST if it exists")
    ap.add_argument("--list", action="store_true", help="list the PR ids")
    args = ap.parse_args()
    if args.list:
        for pr_id in common.all_pr_ids():
            m = common.load_manifest(pr_id)
            print(f"{pr_id:34} {m['kind']:8} {m['commit'][:12]} {m['title']}")
        return 0
    if not args.pr or not args.dest:
        ap.error("PR_ID and DEST are required (or --list)")
    m = common.materialise(args.pr, args.dest.resolve(), force=args.force)
    print(f"{args.dest}: base {m['base']['sha'][:12]}, head = base + prs/{args.pr}/pr.diff")
    print(f"  assay review {args.dest} --base base --json review.json --no-tests")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
