"""Markdown tables for RESULTS.md from benchmarks/work/mutation/results/ (stdlib only).

    python3.11 benchmarks/mutation/summarize.py [--work DIR]

The newest scoring run of each (suite, package) from ``scores.jsonl``; generation records
(``<tag>-generation.jsonl``) add the suite's generation time and tests.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_WORK = HERE.parent / "work" / "mutation"
ORDER = {"own": 0, "assay": 1, "pynguin": 2}


def _passed(summary: str) -> str:
    """'N passed (+ M xfailed)' over every pytest run of the summary (one per directory)."""
    passed = sum(int(n) for n in re.findall(r"(\d+) passed", summary))
    xfailed = sum(int(n) for n in re.findall(r"(\d+) xfailed", summary))
    return f"{passed}" + (f" + {xfailed} xfailed" if xfailed else "")


def _killed(session: Path) -> dict[str, bool]:
    """job id -> killed (a timeout counts as killed) for every mutant run in the session."""
    con = sqlite3.connect(session)
    rows = con.execute("select job_id, worker_outcome, test_outcome from work_results").fetchall()
    con.close()
    return {j: (w or "").lower() == "normal" and (t or "").lower() == "killed" for j, w, t in rows}


def _overlap(res: Path, dist: str, tags: list[str]) -> None:
    """Mutant by mutant (same job ids in every session): each suite beside 'own'."""
    if "own" not in tags:
        return
    own = _killed(res / "scores" / "own" / dist / "session.sqlite")
    for tag in tags:
        if tag == "own":
            continue
        other = _killed(res / "scores" / tag / dist / "session.sqlite")
        common = own.keys() & other.keys()
        both = sum(own[j] and other[j] for j in common)
        only_own = sum(own[j] and not other[j] for j in common)
        only_other = sum(other[j] and not own[j] for j in common)
        neither = sum(not own[j] and not other[j] for j in common)
        print(
            f"\nSame mutants, {tag} vs own ({len(common)}): killed by both {both}, by own only "
            f"{only_own}, by {tag} only {only_other}, by neither {neither}."
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", type=Path, default=DEFAULT_WORK)
    args = ap.parse_args(argv)
    res = args.work / "results"
    latest: dict[tuple[str, str], dict] = {}
    for line in (res / "scores.jsonl").read_text().splitlines():
        r = json.loads(line)
        latest[(r["dist"], r["tag"])] = r
    gen: dict[tuple[str, str], list[dict]] = {}
    for f in res.glob("*-generation.jsonl"):
        for line in f.read_text().splitlines():
            r = json.loads(line)
            gen.setdefault((r["dist"], r["tool"]), []).append(r)

    for dist in sorted({d for d, _ in latest}):
        rows = sorted((t for d, t in latest if d == dist), key=lambda t: (ORDER.get(t, 9), t))
        print(f"\n#### {dist}\n")
        print(
            "| suite | tests run (dropped) | line+branch % | line % | branch % | mutants | killed "
            "| timeout | survived | incompetent | **mutation score %** | scoring wall s |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for tag in rows:
            r = latest[(dist, tag)]
            c, m = r["coverage"]["total"], r["mutation"]["total"]
            b = r["baseline"]
            dropped = len(b["dropped_tests"]) + len(b["ignored_files"])
            cov = (
                f"{c['percent_covered']:.1f} | {c['line_percent']:.1f} | {c['branch_percent']:.1f}"
            )
            mut = f"{m['total']} | {m['killed']} | {m['timeout']} | {m['survived']}"
            print(
                f"| {tag} | {_passed(b['runs'][-1]['summary'])} ({dropped}) | {cov} | {mut} "
                f"| {m['incompetent']} | **{m['mutation_score']:.1f}** "
                f"| {r['mutation']['wall_s']:.0f} |"
            )
        mods = latest[(dist, rows[0])]["mutation"]["modules"]
        print("\nPer module, mutation score % (killed+timeout / scored) · line+branch %:\n")
        print("| module | mutants | " + " | ".join(rows) + " |")
        print("|---|---:|" + "---:|" * len(rows))
        for mod in mods:
            cells = []
            for tag in rows:
                r = latest[(dist, tag)]
                mm = r["mutation"]["modules"].get(mod, {})
                cc = r["coverage"]["modules"].get(mod, {})
                k = mm.get("killed", 0) + mm.get("timeout", 0)
                s = mm.get("mutation_score")
                cells.append(
                    f"{s:.1f} ({k}) · {cc.get('percent_covered', 0):.1f}" if s is not None else "—"
                )
            print(f"| {mod} | {mods[mod]['total']} | " + " | ".join(cells) + " |")
        _overlap(res, dist, rows)
        for tag in rows:
            g = gen.get((dist, tag))
            if g:
                wall = sum(x["wall_seconds"] for x in g)
                tests = sum(x.get("tests_generated", 0) for x in g)
                cut = sum(1 for x in g if x.get("cut"))
                print(
                    f"\n{tag} generation: {len(g)} modules, {wall:.0f} s wall in all, "
                    f"{tests} test functions written, {cut} cut; per module: "
                    + ", ".join(f"{x['module']} {x['wall_seconds']:.0f} s" for x in g)
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
