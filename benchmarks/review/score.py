"""Grades the review runs of ``run.py`` and prints the tables (Markdown).

    python3.11 benchmarks/review/score.py [--tag TAG]... [--details] [--json OUT]

Reads ``benchmarks/work/review/results/<tag>/<pr>/{meta,review}.json`` (every tag found when
none is given), the PR manifests and the hand verdicts in ``verdicts.json``.

Grading (README.md, "Grading", says the same):

- A finding **lands** on the bug when it is in a file of the bug and its line range, widened
  by 2 lines on each side, contains one of the bug's lines (``bug_lines`` of the manifest:
  new-side lines of the PR the bug lives on; a pure deletion's neighbours).  A range longer
  than 40 lines counts with its first 40 lines only (a finding on a whole file lands nowhere).
- A finding is **about** the bug when its text (assay: message and suggestion; pr-agent:
  issue_header and issue_content) matches one of the manifest's ``about`` groups: a group is a
  list of regular expressions that must all match (case-insensitive).
- A bug PR is a **hit** when one finding lands and is about the bug.  A **false alarm** is
  any finding on a refactor PR.
- Hand verdicts override: ``"<tag>/<pr>/<finding key>": "hit" | "miss"`` (bug PRs) or
  ``"valid" | "false-alarm"`` (refactor PRs: "valid" = a correct remark, not counted), and
  ``"<tag>/<pr>": "hit" | "miss"`` for a whole PR.  ``--details`` prints every finding with
  its key.  A run without a review JSON (crash, timeout, the tool's own failure) is "failed":
  no hit, no false alarm, listed as such.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

VERDICTS = common.HERE / "verdicts.json"
SLACK = 2
MAX_SPAN = 40
GOAL_RECALL = 0.60
GOAL_FA_PER_CLEAN = 1


def findings_of(tool: str, review: dict[str, Any]) -> list[dict[str, Any]]:
    """Normalised findings: path, start, end, text, key, raw."""
    out = []
    if tool == "pr-agent":
        issues = (review.get("review") or {}).get("key_issues_to_review") or []
        if isinstance(issues, dict):
            issues = [issues]
        for it in issues:
            if not isinstance(it, dict):
                continue
            path = str(it.get("relevant_file") or "").strip().lstrip("/")
            start, end = _int(it.get("start_line")), _int(it.get("end_line"))
            header, content = str(it.get("issue_header") or ""), str(it.get("issue_content") or "")
            key = hashlib.sha1(f"{path}|{start}|{header}|{content}".encode()).hexdigest()[:12]
            out.append(
                {
                    "path": path,
                    "start": start,
                    "end": end or start,
                    "text": f"{header.strip()}: {content.strip()}",
                    "key": key,
                }
            )
    else:
        for f in review.get("findings") or []:
            start = _int(f.get("line"))
            end = _int(f.get("end_line")) or start
            parts = [str(f.get(k) or "") for k in ("message", "suggestion", "evidence", "title")]
            text = " ".join(p for p in parts if p)
            key = (
                f.get("fingerprint")
                or hashlib.sha1(f"{f.get('path')}|{start}|{text}".encode()).hexdigest()[:12]
            )
            out.append(
                {
                    "path": f.get("path", ""),
                    "start": start,
                    "end": end,
                    "text": text,
                    "key": key,
                    "severity": f.get("severity"),
                    "category": f.get("category"),
                }
            )
    return out


def _int(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def lands(f: dict[str, Any], bug_lines: dict[str, list[int]]) -> bool:
    lines = bug_lines.get(f["path"]) or []
    if not lines or f["start"] is None:
        return False
    end = min(f["end"] or f["start"], f["start"] + MAX_SPAN - 1)
    return any(f["start"] - SLACK <= b <= end + SLACK for b in lines)


def about(f: dict[str, Any], groups: list[list[str]]) -> bool:
    return any(all(re.search(rx, f["text"], re.I | re.S) for rx in group) for group in groups)


def tool_of(meta: dict[str, Any]) -> str:
    return meta.get("tool") or "assay"


def grade_run(tag: str, pr_id: str, verdicts: dict[str, str]) -> dict[str, Any]:
    m = common.load_manifest(pr_id)
    d = common.WORK / "results" / tag / pr_id
    meta = json.loads((d / "meta.json").read_text()) if (d / "meta.json").is_file() else None
    row: dict[str, Any] = {"pr": pr_id, "kind": m["kind"], "ran": meta is not None}
    if meta is None:
        return row | {"status": "not run"}
    review = None
    if (d / "review.json").is_file():
        try:
            review = json.loads((d / "review.json").read_text())
        except ValueError:
            review = None
    row.update(
        wall=meta["wall_seconds"],
        tokens=meta["usage"]["tokens"],
        calls=meta["usage"]["calls"],
        timed_out=meta["timed_out"],
        exit_code=meta["exit_code"],
    )
    if review is None:
        return row | {"status": "failed", "findings": []}
    tool = tool_of(meta)
    row["tool_tokens"] = (
        (review.get("usage") or {}).get("total_tokens")
        if tool == "pr-agent"
        else review.get("tokens")
    )
    if meta["usage"].get("calls_without_usage") and row["tool_tokens"]:
        # The proxy saw answers without a usage record (a client that stopped reading a stream
        # at its stop sequence): the tool's own count stands in, marked in the tables.
        row["tokens"], row["tokens_from_tool"] = int(row["tool_tokens"]), True
    found = findings_of(tool, review)
    for f in found:
        v = verdicts.get(f"{tag}/{pr_id}/{f['key']}")
        f["verdict"] = v
        if m["kind"] == "bug":
            f["lands"] = lands(f, m["bug_lines"])
            f["about"] = about(f, m["about"])
            f["hit"] = v == "hit" or (v != "miss" and f["lands"] and f["about"])
        else:
            f["false_alarm"] = v != "valid"
    row["findings"] = found
    if m["kind"] == "bug":
        pr_verdict = verdicts.get(f"{tag}/{pr_id}")
        hit = any(f["hit"] for f in found)
        if pr_verdict in ("hit", "miss"):
            hit = pr_verdict == "hit"
        row["status"] = "HIT" if hit else "miss"
        row["landed"] = sum(1 for f in found if f["lands"])
        row["about_elsewhere"] = sum(1 for f in found if f["about"] and not f["lands"])
    else:
        row["false_alarms"] = sum(1 for f in found if f["false_alarm"])
        row["status"] = "clean" if not row["false_alarms"] else f"{row['false_alarms']} FA"
    return row


def table(tag: str, rows: list[dict[str, Any]]) -> list[str]:
    out = [
        f"### {tag}",
        "",
        "| PR | kind | result | findings | landed on bug | about bug, elsewhere | false alarms"
        " | tokens | calls | wall s |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if not r["ran"]:
            continue
        n = len(r.get("findings") or [])
        status = r["status"] + (" (cut)" if r.get("timed_out") else "")
        out.append(
            f"| {r['pr']} | {r['kind']} | {status} | {n} | {r.get('landed', '')} | "
            f"{r.get('about_elsewhere', '')} | {r.get('false_alarms', '')} | {r['tokens']:,}"
            f"{'*' if r.get('tokens_from_tool') else ''} | "
            f"{r['calls']} | {r['wall']:.0f} |"
        )
    missing = [r["pr"] for r in rows if not r["ran"]]
    if missing:
        out += ["", f"Not run: {', '.join(missing)}."]
    return out


def totals(tag: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    bugs = [r for r in rows if r["kind"] == "bug" and r["ran"]]
    clean = [r for r in rows if r["kind"] == "refactor" and r["ran"]]
    hits = sum(1 for r in bugs if r["status"] == "HIT")
    fas = [r.get("false_alarms", 0) for r in clean]
    ran = [r for r in rows if r["ran"]]
    t = {
        "tag": tag,
        "bug_prs": len(bugs),
        "hits": hits,
        "recall": round(hits / len(bugs), 3) if bugs else None,
        "clean_prs": len(clean),
        "false_alarms": sum(fas),
        "max_false_alarms_per_clean_pr": max(fas) if fas else None,
        "failed_runs": sum(1 for r in ran if r["status"] == "failed"),
        "cut_runs": sum(1 for r in ran if r.get("timed_out")),
        "findings": sum(len(r.get("findings") or []) for r in ran),
        "tokens": sum(r["tokens"] for r in ran),
        "tokens_from_tool": sum(1 for r in ran if r.get("tokens_from_tool")),
        "calls": sum(r["calls"] for r in ran),
        "wall_seconds": round(sum(r["wall"] for r in ran), 1),
    }
    t["all_ran"] = all(r["ran"] for r in rows)
    t["goal_met"] = t["all_ran"] and bool(
        bugs
        and clean
        and t["recall"] >= GOAL_RECALL
        and t["max_false_alarms_per_clean_pr"] <= GOAL_FA_PER_CLEAN
    )
    return t


GENERIC_REMARKS = [
    "Consider adding type hints and a docstring to this function.",
    "This function lacks error handling for invalid input; consider validating arguments.",
    "Performance: the loop could be replaced by a list comprehension for speed.",
    "Security: user input is passed to this function without sanitization.",
    "The variable name is not descriptive; rename it for readability.",
    "Possible bug: the function may return None, which callers do not handle.",
    "Missing unit tests for the changed code.",
    "The change removes a comment; please keep the documentation up to date.",
    "This code could raise an exception if the input is empty or an empty list.",
    "Magic number used; define a constant instead.",
    "Changing this may alter behaviour for existing callers.",
]


def self_check() -> int:
    """Each bug PR's ``about`` matches its own description and none of the generic remarks."""
    bad = 0
    for pr_id in common.all_pr_ids("bug"):
        m = common.load_manifest(pr_id)
        own = about({"text": m["bug"]}, m["about"])
        generic = [g for g in GENERIC_REMARKS if about({"text": g}, m["about"])]
        ok = own and not generic
        bad += not ok
        print(f"{'ok ' if ok else 'BAD'} {pr_id}: own description {own}, generic matches {generic}")
    return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tag", action="append", default=[], help="results tag (default: all)")
    ap.add_argument("--details", action="store_true", help="every finding with its key and grading")
    ap.add_argument("--json", type=Path, help="write the graded rows and totals here")
    ap.add_argument("--self-check", action="store_true", help="check the about patterns only")
    args = ap.parse_args()
    if args.self_check:
        return self_check()
    res = common.WORK / "results"
    tags = (
        args.tag
        or sorted(p.name for p in res.iterdir() if p.is_dir() and not p.name.startswith("smoke-"))
        if res.is_dir()
        else args.tag
    )
    if not tags:
        raise SystemExit(f"no results under {res}: run run.py first")
    verdicts = json.loads(VERDICTS.read_text()) if VERDICTS.is_file() else {}
    verdicts = {k: v for k, v in verdicts.items() if not k.startswith("_")}
    ids = common.all_pr_ids()
    report: dict[str, Any] = {}
    lines: list[str] = []
    summary = [
        "| row | bugs found | recall | false alarms (clean PRs) | max per clean PR"
        " | failed / cut runs | findings | tokens | calls | wall s | goal |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for tag in tags:
        rows = [grade_run(tag, pr_id, verdicts) for pr_id in ids]
        t = totals(tag, rows)
        report[tag] = {"rows": rows, "totals": t}
        lines += [*table(tag, rows), ""]
        rec = f"{100 * t['recall']:.0f} %" if t["recall"] is not None else "-"
        most = t["max_false_alarms_per_clean_pr"]
        most = "-" if most is None else most
        goal = ("met" if t["goal_met"] else "not met") if t["all_ran"] else "partial run"
        summary.append(
            f"| {tag} | {t['hits']} / {t['bug_prs']} | {rec} | {t['false_alarms']} "
            f"({t['clean_prs']}) | {most} | {t['failed_runs']} / {t['cut_runs']} | "
            f"{t['findings']} | {t['tokens']:,}{'*' if t['tokens_from_tool'] else ''} | "
            f"{t['calls']} | "
            f"{t['wall_seconds']:.0f} | {goal} |"
        )
        if args.details:
            for r in rows:
                for f in r.get("findings") or []:
                    flags = (
                        f"lands={f['lands']} about={f['about']} hit={f['hit']}"
                        if r["kind"] == "bug"
                        else f"false_alarm={f['false_alarm']}"
                    )
                    lines.append(
                        f"- `{tag}/{r['pr']}/{f['key']}` {f['path']}:{f['start']}-{f['end']} "
                        f"{flags} verdict={f['verdict']}: {f['text'][:300]!r}"
                    )
            lines.append("")
    print("## Totals\n")
    print("\n".join(summary))
    print(
        f"\nGoal (issue 19): recall >= {GOAL_RECALL:.0%} of the bug PRs and at most "
        f"{GOAL_FA_PER_CLEAN} false alarm on every clean PR.\n"
    )
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
