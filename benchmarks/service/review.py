"""The review of a real ~2,000-line diff: time, tokens, findings, what was skipped.

The pinned input is this repository's own history: ``git diff e659fff 90b542a -- agents/cover``
(the first version of the cover agent: 2,023 diff lines, 9 files, 28 hunks).  It is reviewed
as the bot reviews a PR (:class:`agents.review.ReviewAgent`, the index's context when this
repository is indexed, the default token budget) against ``--endpoint``: any OpenAI-compatible
server (for the embedded model, ``assay model serve``'s URL).  No response cache.

    python benchmarks/service/review.py --endpoint http://127.0.0.1:8111/v1 [--results-md]
    python benchmarks/service/review.py --fake          # smoke test with the scripted fake
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BASE, HEAD, PATHS = "e659fff", "90b542a", ["agents/cover"]


def pinned_diff(repo: Path, base: str, head: str, paths: list[str]) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "diff", "--no-color", "--no-ext-diff", base, head, "--", *paths],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"git diff failed: {done.stderr.strip()} (a full clone is needed)")
    return done.stdout


def fake_endpoint() -> tuple[Any, str]:
    """The tests' scripted OpenAI server, answering every review call with one finding."""
    sys.path.insert(0, str(ROOT))
    from tests.fakes.openai_server import FakeOpenAI, RecordedRequest

    def answer(req: RecordedRequest) -> str:
        first = next((ln for ln in req.prompt.splitlines() if " + " in ln[:9]), "    1 + x")
        line = int(first[:5].strip() or 1)
        return (
            f"```yaml\nfindings:\n  - line: {line}\n    severity: low\n    category: docs\n"
            "    message: smoke-test finding\n```"
        )

    fake = FakeOpenAI(handler=answer).start()
    return fake, fake.url


def run(args: argparse.Namespace, endpoint: str) -> dict[str, Any]:
    from agents.gitdiff import parse_diff
    from agents.review.agent import ReviewAgent, ReviewOptions
    from agents.review.checks import CheckOptions
    from agents.review.context import IndexContext
    from agents.settings import load_settings
    from flows.llm import LLMClient

    settings = load_settings().settings
    diff = pinned_diff(args.repo, args.base, args.head, args.paths)
    llm = LLMClient(endpoint, args.model, timeout=args.timeout, max_retries=1)
    context = IndexContext(args.index_repo, settings=settings)
    options = ReviewOptions(
        token_budget=args.budget,
        max_findings=settings.review_max_findings,
        path_weight=context.path_weight,
        max_seconds=args.max_minutes * 60,
    )
    started = time.monotonic()

    def progress(kind: str, data: dict[str, Any]) -> None:
        if kind == "call":
            print(f"  call {data['done'] + 1}/{data['total']}: {data['path']}", file=sys.stderr)

    # As `assay review` does by default: each model finding scored by a second short call
    # (dropped below review_min_score); there is no sandboxed checkout here to run claimed calls.
    check = CheckOptions(min_score=settings.review_min_score) if args.checks else None
    report = ReviewAgent(llm, options, context=context, listener=progress, check=check).review(diff)
    wall = time.monotonic() - started
    llm.close()
    skipped = Counter(s.reason for s in report.skipped)
    return {
        "diff": {
            "command": f"git diff {args.base} {args.head} -- {' '.join(args.paths)}",
            "lines": len(diff.splitlines()),
            "files": len(parse_diff(diff)),
            "hunks": report.total_hunks,
        },
        "endpoint": "fake" if args.fake else endpoint,
        "model": args.model,
        "budget_tokens": args.budget,
        "wall_seconds": round(wall, 1),
        "llm_seconds": round(report.llm_seconds, 1),
        "calls": report.calls,
        "prompt_tokens": report.prompt_tokens,
        "completion_tokens": report.completion_tokens,
        "reviewed_hunks": report.reviewed_hunks,
        "findings": len(report.findings),
        "by_severity": dict(report.counts()),
        "off_diff": report.off_diff,
        "duplicates": report.duplicates,
        "capped": report.capped,
        "skipped": dict(skipped),
        "errors": report.errors,
        "checks": (
            f"scored (min {settings.review_min_score}): {report.checks.scored} scored, "
            f"{report.checks.low_score} dropped"
        )
        if args.checks
        else "off",
        "index": report.index,
        "report": report.as_dict(),
    }


def markdown(out: dict[str, Any], machine: str, argv: str) -> str:
    d = out["diff"]
    skipped = "; ".join(f"{n} {reason}" for reason, n in out["skipped"].items()) or "nothing"
    return "\n".join([
        f"### Review of a {d['lines']:,}-line diff, {machine}",
        "",
        f"`{argv}` — `{d['command']}` ({d['files']} files, {d['hunks']} hunks), model "
        f"`{out['model']}` at {out['endpoint']}, budget {out['budget_tokens']:,} diff tokens, "
        f"index: {out['index']}; checks of findings: {out.get('checks', 'off')}.",
        "",
        "| wall s | model s | calls | prompt tokens | completion tokens | hunks reviewed | "
        "findings (high/medium/low) | left out | skipped |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {out['wall_seconds']} | {out['llm_seconds']} | {out['calls']} | "
        f"{out['prompt_tokens']:,} | {out['completion_tokens']:,} | "
        f"{out['reviewed_hunks']} of {d['hunks']} | {out['findings']} "
        f"({'/'.join(str(out['by_severity'].get(s, 0)) for s in ('high', 'medium', 'low'))}) | "
        f"{out['off_diff']} off the diff, {out['duplicates']} duplicates, {out['capped']} capped "
        f"| {skipped} |",
        *([f"\nerrors: {'; '.join(out['errors'])}"] if out["errors"] else []),
    ])  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--endpoint", help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8111/v1"
    )
    parser.add_argument("--fake", action="store_true", help="smoke test with the scripted fake")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct")
    parser.add_argument("--repo", type=Path, default=ROOT)
    parser.add_argument("--base", default=BASE)
    parser.add_argument("--head", default=HEAD)
    parser.add_argument("--paths", nargs="*", default=PATHS)
    parser.add_argument("--budget", type=int, default=12000, help="diff tokens to read")
    parser.add_argument("--max-minutes", type=float, default=30.0)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per model answer")
    parser.add_argument("--index-repo", default=None, help="the index's name for this repo")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--no-checks",
        dest="checks",
        action="store_false",
        help="keep the model's findings unscored (assay review --no-checks)",
    )
    parser.add_argument("--results-md", action="store_true", help="append to RESULTS.md")
    args = parser.parse_args()
    if not args.endpoint and not args.fake:
        parser.error("pass --endpoint URL (or --fake for a smoke test)")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from results_md import add_entry, machine

    fake = None
    endpoint = args.endpoint
    if args.fake:
        fake, endpoint = fake_endpoint()
    try:
        out = run(args, endpoint)
    finally:
        if fake is not None:
            fake.stop()
    text = markdown(out, machine(), "python benchmarks/service/review.py " + " ".join(sys.argv[1:]))
    print(text)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    if args.results_md:
        add_entry(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
