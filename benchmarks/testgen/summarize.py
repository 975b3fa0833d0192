"""Summarize ``run.py``'s JSON lines: one row per symbol, then the issue's goals.

    python3.11 benchmarks/testgen/summarize.py RESULTS.jsonl [--markdown]

Goals (issue 21): a test accepted for >= 18 of 20 symbols, median >= 90 % branch coverage and
>= 80 % mutation score of the symbol from its accepted tests alone, first accepted test in
<= 20 s median with a warm embedded model.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path


def fmt(value: object, suffix: str = "") -> str:
    return "–" if value is None else f"{value}{suffix}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path)
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.results.read_text().splitlines() if line.strip()]
    print(
        "| symbol | behaviours (explored/docstring/model) | tested | tests | line+branch | branch "
        "| mutation | calls | tokens | first s | all s | bugs |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        origins = r.get("behaviour_origins") or []
        split = "/".join(str(origins.count(k)) for k in ("explored", "docstring", "model"))
        cov, mut = r.get("coverage") or {}, r.get("mutation") or {}
        killed = f"{mut['killed']}/{mut['mutants']}" if mut.get("mutants") else ""
        print(
            f"| {r['symbol']} | {r['behaviours']} ({split}) | {fmt(r.get('behaviours_tested'))} "
            f"| {r['accepted']} "
            f"| {fmt(cov.get('line_branch'), ' %')} | {fmt(cov.get('branch'), ' %')} "
            f"| {fmt(mut.get('score'), ' %')} {killed} | {fmt(r.get('calls'))} "
            f"| {fmt(r.get('tokens'))} | {fmt(r.get('first_seconds'))} | {r['wall_seconds']} "
            f"| {len(r.get('possible_bugs') or [])} |"
        )
    n = len(rows)
    with_test = sum(1 for r in rows if r["accepted"])

    def median(values: list[float]) -> str:
        return f"{statistics.median(values):.1f}" if values else "–"

    # A symbol without an accepted test counts as 0 % (it is not left out of the median).
    branch = [(r.get("coverage") or {}).get("branch") or 0.0 for r in rows]
    branch_known = [
        (r.get("coverage") or {}).get("branch") or 0.0
        for r in rows
        if (r.get("coverage") or {}).get("branches", 1)
    ]
    mutation = [(r.get("mutation") or {}).get("score") or 0.0 for r in rows]
    first = [r["first_seconds"] for r in rows if r.get("first_seconds") is not None]
    print()
    print(f"- symbols with an accepted test: {with_test} of {n} (goal: >= 18 of 20)")
    print(f"- median branch coverage: {median(branch_known)} % over symbols with branches; "
          f"{median(branch)} % over all (goal: >= 90 %)")  # fmt: skip
    print(f"- median mutation score: {median(mutation)} % (goal: >= 80 %)")
    print(f"- median seconds to the first accepted test: {median(first)} over {len(first)} "
          f"symbols with one (goal: <= 20 s)")  # fmt: skip
    print(f"- median seconds in all: {median([r['wall_seconds'] for r in rows])}")


if __name__ == "__main__":
    main()
