"""Print the results of the coverage benchmark as Markdown tables (stdlib only).

    python3.11 benchmarks/cover/summarize.py [benchmarks/work/results/*.jsonl]

Reads the JSON lines the run_*.sh scripts append (the last line wins for a tool/dist/module),
prints one table per package: line+branch % per module and per tool, then per tool the wall
time, tests and tokens.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DEFAULT = sorted((Path(__file__).resolve().parent.parent / "work" / "results").glob("*.jsonl"))


def pct(r: dict | None) -> str:
    if not r or r.get("percent_covered") is None:
        return "—"
    s = f"{r['percent_covered']:.1f}"
    return s + (" (cut)" if r.get("cut") else "")


def main(argv: list[str]) -> int:
    files = [Path(a) for a in argv] or DEFAULT
    last: dict[tuple[str, str, str], dict] = {}
    for f in files:
        for line in f.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                last[(r["tool"], r["dist"], r["module"])] = r
    tools = sorted({k[0] for k in last})
    dists = sorted({k[1] for k in last}, key=lambda d: (d != "python-string-utils", d))
    for dist in dists:
        mods = sorted({k[2] for k in last if k[1] == dist and k[2] != "ALL"})
        print(f"\n### {dist}\n")
        print("| module | stmts | branches | " + " | ".join(f"{t} %" for t in tools) + " |")
        print("|---|---:|---:|" + "---:|" * len(tools))
        for m in [*mods, "ALL"]:
            any_r = next((last[(t, dist, m)] for t in tools if (t, dist, m) in last), {})
            name = "**package (all tests)**" if m == "ALL" else m
            print(
                f"| {name} | {any_r.get('statements', '')} | {any_r.get('branches', '')} | "
                + " | ".join(pct(last.get((t, dist, m))) for t in tools)
                + " |"
            )
        print(
            "\n| tool | budget | wall s (sum) | modules cut | tests (passed/failed/xfailed) "
            "| tokens |"
        )
        print("|---|---|---:|---:|---|---:|")
        for t in tools:
            rows = [last[(t, dist, m)] for m in mods if (t, dist, m) in last]
            if not rows:
                continue
            allr = last.get((t, dist, "ALL"), {}).get("tests_run") or {}
            b = rows[0]
            wall = sum(r.get("wall_seconds") or 0 for r in rows)
            cut = sum(bool(r.get("cut")) for r in rows)
            tests = "/".join(str(allr.get(k, "?")) for k in ("passed", "failed", "xfailed"))
            tokens = sum(r.get("tokens") or 0 for r in rows)
            budget = f"{b.get('budget_s')} s {b.get('budget_kind', '')}"
            print(
                f"| {t} {b.get('tool_version', '')} | {budget} | {wall:.0f} | {cut} | {tests} | "
                f"{tokens} |"
            )
        details(dist, mods, last)
    return 0


def details(dist: str, mods: list[str], last: dict[tuple[str, str, str], dict]) -> None:
    """Per module, for each run of assay: accepted tests, rejections by reason, tokens, times."""
    for tool in sorted({k[0] for k in last if k[1] == dist}):
        rows = [(m, last[(tool, dist, m)]) for m in mods if (tool, dist, m) in last]
        if not any("assay" in r for _, r in rows):
            continue
        print(f"\n{tool} on {dist}, per module:\n")
        print(
            "| module | line+branch % | mutation % before → after (measured) | accepted "
            "(explored) | rejected by reason | tokens | LLM s | wall s |"
        )
        print("|---|---:|---:|---:|---|---:|---:|---:|")
        for m, r in rows:
            a = r.get("assay") or {}
            tests = a.get("tests") or {}
            reasons = ", ".join(
                f"{k} {v}" for k, v in sorted((tests.get("rejected") or {}).items())
            )
            llm = a.get("llm") or {}
            explored = sum(e.get("accepted", 0) for e in a.get("explored") or [])
            accepted = f"{tests.get('accepted', 0)} ({explored})"
            print(
                f"| {m} | {pct(r)} | {mutation(a)} | {accepted} | {reasons or '—'} | "
                f"{llm.get('tokens', 0)} | {llm.get('seconds', 0):.0f} | "
                f"{r.get('wall_seconds', 0):.0f} |"
            )


def mutation(a: dict) -> str:
    """assay's own mutation score of the module, before → after, and how many mutants."""
    m = a.get("mutation") or {}
    before, after = m.get("before") or {}, m.get("after") or m.get("before") or {}
    if not after or after.get("score") is None:
        return "—"
    first = "—" if before.get("score") is None else f"{before['score']:.1f}"
    sample = f" of {after['total']}" if after.get("sampled") else ""
    return f"{first} → {after['score']:.1f} ({after['measured']}{sample})"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
