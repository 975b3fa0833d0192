"""The benchmark's table for benchmarks/RESULTS.md, from results/ (run_assay.sh, measure.sh):
the latest measurement of each package and suite.

python3 benchmarks/cover-js/summarize.py
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def main() -> None:
    lines = (RESULTS / "measure.jsonl").read_text().splitlines()
    latest = {}  # measure.jsonl is a log: the latest row of each package and suite
    for row in (json.loads(line) for line in lines if line.strip()):
        latest[row["name"], row["suite"]] = row
    measured = list(latest.values())
    walls = {}
    wall_file = RESULTS / "wall.jsonl"
    if wall_file.exists():
        lines = [ln for ln in wall_file.read_text().splitlines() if ln.strip()]
        walls = {d["name"]: d["seconds"] for d in map(json.loads, lines)}
    print(
        "| package | suite | statements % | branches % | mutation score % (Stryker) | "
        "accepted | rejected (by reason) | tokens | wall s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in measured:
        name, suite = row["name"], row["suite"]
        accepted = rejected = tokens = wall = ""
        report = RESULTS / f"{name}.json"
        if suite == "assay" and report.exists():
            data = json.loads(report.read_text())
            accepted = str(data["tests"]["accepted"])
            rejected = ", ".join(f"{k} {v}" for k, v in data["tests"]["rejected"].items()) or "-"
            tokens = f"{data['llm']['tokens']:,}"
            wall = str(walls.get(name, round(data["wall_seconds"])))
        print(
            f"| {name} | {suite} | {row.get('statements', '-')} | {row.get('branches', '-')} | "
            f"{row.get('mutation_score', '-')} | {accepted} | {rejected} | {tokens} | {wall} |"
        )


if __name__ == "__main__":
    main()
