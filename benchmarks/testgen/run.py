"""Run ``assay tests`` on the benchmark's symbols and measure what its accepted tests alone do.

Per symbol, in a throwaway copy of its prepared package (under ``/tmp``):

1. ``assay tests PATH::SYMBOL --all`` against ``--endpoint`` with the time budget ``--minutes``
   (the editor's default, 2, unless told), its JSON report kept;
2. the test file it wrote, alone, under coverage: the symbol's line+branch coverage (its
   statements and branches as coverage.py counts them);
3. the symbol's mutation score from that test file alone: every mutant of the symbol's body
   (:func:`agents.cover.mutants.all_mutants`, at most ``--max-mutants``, spread evenly), each
   written into the copy in turn, the test file run once (killed: it fails or times out).

One JSON line per symbol is appended to ``--out``: behaviours listed (and where from), tests
accepted, possible bugs, coverage, mutation score, model calls and tokens, seconds to the first
accepted test and in all.  ``summarize.py`` turns the lines into a table.

    .venv/bin/python benchmarks/testgen/run.py --endpoint http://127.0.0.1:8111/v1 \\
        --model MODEL [--work DIR] [--only N] [--minutes 2] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

from agents.cover.mutants import all_mutants  # noqa: E402
from agents.testgen.symbols import find_symbol  # noqa: E402

DEFAULT_WORK = HERE.parent / "work" / "testgen"
PYTEST_ARGS = ["-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-p", "no:randomly"]
# The projects' interpreter (--python): pytest and coverage, none of assay's own test plugins.
PROJECT = {"python": sys.executable}


def run_assay(copy: Path, item: dict, args: argparse.Namespace, report: Path) -> tuple[int, str]:
    cmd = [
        sys.executable, "-m", "agents.cli", "tests", f"{item['path']}::{item['qualname']}",
        "--all", "--report", str(report), "--max-minutes", str(args.minutes),
        "--llm-base-url", args.endpoint, "--llm-model", args.model,
        "--python", PROJECT["python"], "--no-cache",  # every call measured, none replayed
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    done = subprocess.run(cmd, cwd=copy, env=env, capture_output=True, text=True,
                          timeout=args.minutes * 60 + 600)  # fmt: skip
    return done.returncode, (done.stdout + done.stderr)[-4000:]


def source_env(copy: Path, item: dict) -> dict[str, str]:
    root = copy / item["source_root"] if item["source_root"] else copy
    return {**os.environ, "PYTHONPATH": str(root)}


def coverage_of(copy: Path, item: dict, test_file: str, symbol: object) -> dict:
    """Line and branch coverage of the symbol's body by ``test_file`` alone."""
    data = copy / ".bench-coverage.json"
    env = source_env(copy, item)
    python = PROJECT["python"]
    run = [python, "-m", "coverage", "run", "--branch", "--data-file=.bench-cov",
           "--include", item["path"], *PYTEST_ARGS, test_file]  # fmt: skip
    subprocess.run(run, cwd=copy, env=env, capture_output=True, timeout=300)
    report = [python, "-m", "coverage", "json", "--data-file=.bench-cov", "-o", str(data)]
    subprocess.run(report, cwd=copy, env=env, capture_output=True, timeout=120)
    if not data.exists():
        return {}
    files = json.loads(data.read_text())["files"]
    entry = next((v for k, v in files.items() if k.endswith(item["path"])), None)
    if entry is None:
        return {}
    body = range(symbol.body_start, symbol.end + 1)  # type: ignore[attr-defined]
    lines_run = [n for n in entry["executed_lines"] if n in body]
    lines_missed = [n for n in entry["missing_lines"] if n in body]
    arcs_run = [a for a in entry.get("executed_branches", []) if a[0] in body]
    arcs_missed = [a for a in entry.get("missing_branches", []) if a[0] in body]
    total = len(lines_run) + len(lines_missed) + len(arcs_run) + len(arcs_missed)
    branches = len(arcs_run) + len(arcs_missed)
    return {
        "statements": len(lines_run) + len(lines_missed), "branches": branches,
        "line_branch": round(100 * (len(lines_run) + len(arcs_run)) / total, 1) if total else None,
        "branch": round(100 * len(arcs_run) / branches, 1) if branches else None,
    }  # fmt: skip


def mutation_of(copy: Path, item: dict, test_file: str, symbol: object, limit: int) -> dict:
    """The symbol's mutants killed by ``test_file`` alone."""
    path = copy / item["path"]
    original = path.read_text(encoding="utf-8")
    start, end = symbol.body_start, symbol.end  # type: ignore[attr-defined]
    mutants = all_mutants(original, [(start, end)])
    if len(mutants) > limit:  # spread evenly over the body
        step = len(mutants) / limit
        mutants = [mutants[int(i * step)] for i in range(limit)]
    killed = 0
    env = source_env(copy, item)
    try:
        for mutant in mutants:
            path.write_text(mutant.source, encoding="utf-8")
            try:
                argv = [PROJECT["python"], *PYTEST_ARGS, test_file]
                done = subprocess.run(argv, cwd=copy, env=env, capture_output=True, timeout=60)
                killed += done.returncode != 0
            except subprocess.TimeoutExpired:
                killed += 1
    finally:
        path.write_text(original, encoding="utf-8")
    return {"mutants": len(mutants), "killed": killed,
            "score": round(100 * killed / len(mutants), 1) if mutants else None}  # fmt: skip


def bench_one(item: dict, args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-testgen-") as tmp:
        copy = Path(tmp) / item["dist"]
        shutil.copytree(item["root"], copy)
        (copy / "tests").mkdir(exist_ok=True)
        report_path = Path(tmp) / "report.json"
        started = time.monotonic()
        code, tail = run_assay(copy, item, args, report_path)
        wall = time.monotonic() - started
        report = json.loads(report_path.read_text()) if report_path.exists() else {}
        symbol = find_symbol(copy, copy / item["path"], item["qualname"])
        written = report.get("written") or []
        listed = report.get("behaviours") or []
        row: dict = {
            "symbol": f"{item['dist']}:{item['path']}::{item['qualname']}",
            "exit": code, "wall_seconds": round(wall, 1),
            "behaviours": len(listed),
            "behaviour_origins": [b.get("origin") or "model" for b in listed],
            "accepted": report.get("accepted", 0),  # tests
            "behaviours_tested": sum(1 for r in report.get("results") or [] if r.get("accepted")),
            "possible_bugs": report.get("possible_bugs", []),
            "calls": report.get("calls"), "tokens": report.get("tokens"),
            "first_seconds": report.get("first_seconds"), "seconds": report.get("seconds"),
            "stopped": report.get("stopped", ""),
        }  # fmt: skip
        if written:
            row["coverage"] = coverage_of(copy, item, written[0], symbol)
            row["mutation"] = mutation_of(copy, item, written[0], symbol, args.max_mutants)
        if code not in (0, 1):
            row["error"] = tail
        return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", required=True, help="OpenAI-compatible base URL (…/v1)")
    parser.add_argument("--model", default="local")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--only", type=int, default=0, help="the first N symbols only")
    parser.add_argument("--dist", default="", help="this package's symbols only (e.g. isodate)")
    parser.add_argument(
        "--python", default=sys.executable,
        help="the projects' interpreter: a venv with pytest and coverage only (assay's own venv "
        "has test plugins whose warnings fail a project with filterwarnings = error)",
    )  # fmt: skip
    parser.add_argument("--minutes", type=float, default=2.0, help="time budget per symbol")
    parser.add_argument("--max-mutants", type=int, default=30)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    symbols = json.loads((args.work / "symbols.json").read_text())
    if args.dist:
        symbols = [s for s in symbols if s["dist"] == args.dist]
    if args.only:
        symbols = symbols[: args.only]
    PROJECT["python"] = args.python
    out = args.out or args.work / f"results-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()  # fmt: skip
    for i, item in enumerate(symbols, 1):
        print(f"[{i}/{len(symbols)}] {item['dist']} {item['path']}::{item['qualname']}", flush=True)
        row = bench_one(item, args)
        row.update(commit=commit, endpoint=args.endpoint, minutes=args.minutes, python=args.python,
                   date=time.strftime("%Y-%m-%d %H:%M"))  # fmt: skip
        with out.open("a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
        cov = (row.get("coverage") or {}).get("line_branch")
        mut = (row.get("mutation") or {}).get("score")
        print(f"  {row['accepted']} test(s) accepted, for {row['behaviours_tested']} of "
              f"{row['behaviours']} behaviour(s); line+branch {cov} %; "
              f"mutation {mut} %; first {row['first_seconds']} s; all {row['wall_seconds']} s",
              flush=True)  # fmt: skip
    print(f"results → {out}")


if __name__ == "__main__":
    main()
