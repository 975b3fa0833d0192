"""pass@1 on a fixed HumanEval subset: one direct prompt vs the solve flow (and its ablations).

    python benchmarks/humaneval/run.py --endpoint http://127.0.0.1:8111/v1 \\
        --model qwen2.5-coder-1.5b-instruct --modes direct,flow --out benchmarks/humaneval/results

Every (problem, mode) is one JSON line in ``OUT/results.jsonl`` (appended; a rerun skips what is
there, so an interrupted run resumes); every model call of the flow is traced to
``OUT/traces/<mode>/<task>.jsonl`` (``assay trace show`` reads them).  The summary (pass@1,
calls, tokens and minutes per problem) is printed; ``--write-results`` puts it into
``benchmarks/RESULTS.md`` between the ``humaneval`` markers.

Modes: ``direct`` (one call, greedy, the HumanEval prompt as it is), ``flow`` (the full solve
flow), ``flow-no-reflection``, ``flow-no-extra-tests``, ``flow-no-anchors`` (ablations).
Given tests are the docstring examples; the hidden ``check`` only judges.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tasks import SEED, SIZE, judge, load_problems, subset_ids, to_problem, with_starter

from flows.errors import LLMError
from flows.llm import LLMClient
from flows.runtime import Budget, FlowRunner, StageFailed
from flows.sandbox import Sandbox
from flows.solve import SolveOptions, solve_problem
from flows.solve_exec import defines
from flows.solve_stages import DIRECT
from flows.trace import TraceWriter

MODES = {
    "flow": SolveOptions(),
    "flow-no-reflection": SolveOptions(reflect=False, reason_tests=False),
    "flow-no-extra-tests": SolveOptions(extra_tests=0),
    "flow-no-anchors": SolveOptions(anchors=False),
    "flow-no-plain-first": SolveOptions(plain_first=False),
    # The flow's first attempt alone (one call: the stub completed, the flow's system prompt).
    "flow-plain-only": SolveOptions(
        reflect=False, reason_tests=False, candidates=1, extra_tests=0, fix_given=0, fix_extra=0
    ),
}
RESULTS_MD = Path(__file__).resolve().parents[1] / "RESULTS.md"
BEGIN, END = "<!-- humaneval:begin -->", "<!-- humaneval:end -->"


def run_direct(task: dict[str, Any], runner: FlowRunner) -> str:
    try:
        code = runner.run(DIRECT, {"stub": task["prompt"].rstrip()}).value.code
    except StageFailed:
        return ""
    if not defines(code, task["entry_point"]):  # the model only continued the body
        code = task["prompt"] + code
    return code


def run_one(
    task: dict[str, Any], mode: str, llm: LLMClient, sandbox: Sandbox, args: argparse.Namespace
) -> dict[str, Any]:
    trace = TraceWriter(
        args.out / "traces" / mode / f"{task['task_id'].replace('/', '_')}.jsonl",
        include_content=True,
    )
    budget = Budget(max_calls=args.max_calls, max_seconds=args.max_minutes * 60)
    runner = FlowRunner(llm, budget=budget, trace=trace, flow=mode)
    record: dict[str, Any] = {"task_id": task["task_id"], "mode": mode, "model": args.model}
    problem = to_problem(task)
    record["given_tests"] = len(problem.tests.cases)
    started = time.monotonic()
    try:
        if mode == "direct":
            code = run_direct(task, runner)
        else:
            options = replace(MODES[mode], case_timeout=args.case_timeout)
            result = solve_problem(problem, runner, sandbox, options)
            code = result.code
            record["stopped"] = result.stopped
            record["given_passed"] = len(result.given_passed)
            record["versions"] = len(result.versions)
    except LLMError as exc:
        code = ""
        record["error"] = str(exc)
    code = with_starter(code, task) if code else ""
    passed, why = judge(sandbox, code, task) if code else (False, "no code")
    spent = runner.spent
    record.update(
        passed=passed, why=why[:300], calls=spent.calls, prompt_tokens=spent.prompt_tokens,
        completion_tokens=spent.completion_tokens, tokens=spent.tokens,
        seconds=round(time.monotonic() - started, 1), code=code,
    )  # fmt: skip
    return record


def summarize(records: list[dict[str, Any]], modes: list[str]) -> list[dict[str, Any]]:
    rows = []
    for mode in modes:
        mine = [r for r in records if r["mode"] == mode]
        if not mine:
            continue
        n = len(mine)
        rows.append(
            {
                "mode": mode,
                "problems": n,
                "passed": sum(r["passed"] for r in mine),
                "pass@1": round(100 * sum(r["passed"] for r in mine) / n, 1),
                "calls": round(sum(r["calls"] for r in mine) / n, 1),
                "tokens": round(sum(r["tokens"] for r in mine) / n),
                "minutes": round(sum(r["seconds"] for r in mine) / n / 60, 2),
            }
        )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| mode | problems | passed | pass@1 % | calls / problem | tokens / problem | "
        "minutes / problem |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['mode']} | {r['problems']} | {r['passed']} | {r['pass@1']} | {r['calls']} | "
            f"{r['tokens']:,} | {r['minutes']} |"
        )
    return "\n".join(lines)


def write_results(rows: list[dict[str, Any]], args: argparse.Namespace, examples: str) -> None:
    section = "\n".join(
        [
            BEGIN,
            "## HumanEval: direct prompt vs the solve flow",
            "",
            f"{time.strftime('%Y-%m-%d')}, model `{args.model}` at the endpoint given with "
            f"`--endpoint`, {platform.machine()} ({platform.processor() or 'cpu'}), "
            f"subset: {len(args.ids)} problems (seed {args.seed}, ids in "
            "`benchmarks/humaneval/tasks.py`), greedy direct prompt; the flow with budget "
            f"{args.max_calls} calls / {args.max_minutes:g} min per problem. {examples}",
            "Given tests are the docstring examples; the hidden `check` only judges.",
            "",
            table(rows),
            "",
            "Command: `python benchmarks/humaneval/run.py " + " ".join(sys.argv[1:]) + "`",
            END,
        ]
    )
    text = RESULTS_MD.read_text(encoding="utf-8") if RESULTS_MD.exists() else "# Results\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    RESULTS_MD.write_text(text, encoding="utf-8")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", required=True, help="OpenAI-compatible base URL (…/v1)")
    ap.add_argument("--model", default="qwen2.5-coder-1.5b-instruct")
    ap.add_argument("--api-key", default=None)
    ap.add_argument(
        "--modes", default="direct,flow", help=f"comma-separated: direct,{','.join(MODES)}"
    )
    ap.add_argument(
        "--seed", type=int, default=SEED, help="subset seed (default: the stated subset)"
    )
    ap.add_argument("--size", type=int, default=SIZE)
    ap.add_argument(
        "--ids", default="", help="explicit task numbers, e.g. 0,2,14 (overrides --seed)"
    )
    ap.add_argument("--limit", type=int, default=None, help="only the first N problems (smoke)")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    ap.add_argument("--max-calls", type=int, default=14, help="flow budget per problem")
    ap.add_argument("--max-minutes", type=float, default=12.0, help="flow budget per problem")
    ap.add_argument("--case-timeout", type=float, default=5.0, help="seconds per test case")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per model answer")
    ap.add_argument("--write-results", action="store_true", help="update benchmarks/RESULTS.md")
    args = ap.parse_args(argv)
    ids = (
        [f"HumanEval/{int(n)}" for n in args.ids.split(",") if n.strip()]
        if args.ids
        else subset_ids(args.seed, args.size)
    )
    args.ids = ids[: args.limit] if args.limit else ids
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in args.modes if m != "direct" and m not in MODES]
    if unknown:
        ap.error(f"unknown mode(s) {unknown}")
    return args


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    args = parse_args(argv)
    problems = load_problems()
    args.out.mkdir(parents=True, exist_ok=True)
    results = args.out / "results.jsonl"
    done = (
        [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    )
    seen = {(r["task_id"], r["mode"], r.get("model")) for r in done}
    llm = LLMClient(
        args.endpoint, args.model, api_key=args.api_key, timeout=args.timeout, max_retries=2
    )
    with (
        tempfile.TemporaryDirectory(prefix="assay-humaneval-") as scratch,
        Sandbox(scratch, timeout=120) as box,
    ):
        for i, task_id in enumerate(args.ids, 1):
            for mode in args.modes:
                if (task_id, mode, args.model) in seen:
                    continue
                record = run_one(problems[task_id], mode, llm, box, args)
                done.append(record)
                with results.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(record) + "\n")
                mark = "PASS" if record["passed"] else "fail"
                print(
                    f"[{i}/{len(args.ids)}] {task_id} {mode}: {mark} ({record['calls']} calls, "
                    f"{record['tokens']} tokens, {record['seconds']:.0f} s)",
                    flush=True,
                )
    mine = [r for r in done if r["task_id"] in set(args.ids) and r.get("model") == args.model]
    rows = summarize(mine, args.modes)
    with_examples = sum(1 for t in args.ids if to_problem(problems[t]).tests.cases)
    examples = f"{with_examples} of {len(args.ids)} problems have docstring examples."
    print(table(rows))
    print(examples)
    if args.write_results:
        write_results(rows, args, examples)
        print(f"written: {RESULTS_MD}")
    return rows


if __name__ == "__main__":
    main()
