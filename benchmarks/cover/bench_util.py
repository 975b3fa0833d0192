"""Small helpers for the run_*.sh scripts of the coverage benchmark (stdlib only).

bench_util.py modules PROJECT                 -> "module<TAB>path<TAB>package<TAB>source_root" lines
bench_util.py record --jsonl F --measure M [--module MOD] [--set k=v ...] [--json k=JSON ...]
                                               -> appends one JSON line, prints it
bench_util.py coverup-log LOG [STDERR]        -> JSON: tokens, requests and G/F/U/R counters
bench_util.py pynguin-stats CSV               -> JSON: what Pynguin reported about itself
bench_util.py wait-idle ENDPOINT [--max S]    -> waits until the model server answers a
                                               1-token request; prints the seconds it took
bench_util.py count-tests DIR                 -> number of test functions in test_*.py files
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import re
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path


def cmd_modules(args) -> int:
    bench = json.loads((Path(args.project) / "bench.json").read_text())
    for m in bench["modules"]:
        print(f"{m['name']}\t{m['path']}\t{bench['package']}\t{bench['source_root']}")
    return 0


def _coerce(v: str):
    for conv in (int, float):
        try:
            return conv(v)
        except ValueError:
            pass
    return {"true": True, "false": False, "null": None}.get(v, v)


def cmd_record(args) -> int:
    m = json.loads(Path(args.measure).read_text())
    line: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds")}
    for kv in args.set:
        k, _, v = kv.partition("=")
        line[k] = _coerce(v)
    for kv in args.json:
        k, _, v = kv.partition("=")
        line[k] = json.loads(v) if v.strip() else None
    if args.module:
        mod = m["modules"].get(args.module, {})
        line["module"] = args.module
        for k in ("percent_covered", "statements", "covered_lines", "branches", "covered_branches"):
            line[k] = mod.get(k)
    else:
        line["module"] = "ALL"
        line.update(m["package_total"] or {})
    line["tests_run"] = m["results"]
    line["measure"] = {
        "python": m["python"],
        "pytest_exit_code": m["pytest_exit_code"],
        "timed_out": m["timed_out"],
        "package_total": m["package_total"],
    }
    text = json.dumps(line)
    with open(args.jsonl, "a") as f:
        f.write(text + "\n")
    print(text)
    return 0


def cmd_coverup_log(args) -> int:
    """Token usage from CoverUp's log: it logs every request and every response (with the
    server's "usage") as indented JSON after a '---- <time> <segment> ----' header."""
    text = Path(args.log).read_text(errors="replace") if Path(args.log).exists() else ""
    chunks = re.split(r"^---- \S+ .*? ----\n", text, flags=re.M)
    prompt = completion = responses = requests = 0
    finish: dict[str, int] = {}
    for ch in chunks:
        ch = ch.strip()
        if not ch.startswith("{"):
            continue
        try:
            obj = json.loads(ch)
        except json.JSONDecodeError:
            continue
        if "messages" in obj:
            requests += 1
        elif "choices" in obj:
            responses += 1
            u = obj.get("usage") or {}
            prompt += u.get("prompt_tokens") or 0
            completion += u.get("completion_tokens") or 0
            fr = (obj["choices"][0].get("finish_reason") if obj["choices"] else None) or "?"
            finish[fr] = finish.get(fr, 0) + 1
    out = {
        "requests": requests,
        "responses": responses,
        "unanswered_requests": requests - responses,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "finish_reasons": finish,
        "saved_tests": len(re.findall(r"^Saved as ", text, flags=re.M)),
        "log_events": {
            k: len(re.findall(p, text, flags=re.M))
            for k, p in {
                "too_many_attempts": r"^Too many attempts, giving up",
                "no_code_in_response": r"^No Python code in GPT response",
                "missing_modules": r"^Missing modules ",
                "no_improvement_giving_up": r"^Test doesn't improve coverage",
                "measure_timed_out": r"^measure_coverage timed out",
                "request_errors": r"^Error: ",
            }.items()
        },
    }
    if args.stderr and Path(args.stderr).exists():
        # tqdm's postfix: G=good (accepted), F=failed, U=useless (no new coverage), R=retry
        found = re.findall(
            r"G=(\d+), F=(\d+), U=(\d+), R=(\d+)", Path(args.stderr).read_text(errors="replace")
        )
        if found:
            g, f, u, r = map(int, found[-1])
            out["counters"] = {"good": g, "failed": f, "useless": u, "retry": r}
    print(json.dumps(out))
    return 0


def cmd_pynguin_stats(args) -> int:
    p = Path(args.csv)
    if not p.exists():
        print("null")
        return 0
    rows = list(csv.DictReader(p.open()))
    print(json.dumps(rows[-1] if rows else None))
    return 0


def cmd_wait_idle(args) -> int:
    """The llama.cpp server keeps generating for a request whose client went away (it holds one
    lock): after a run is cut, wait until a 1-token request is served before timing the next."""
    url = args.endpoint.rstrip("/") + "/v1/chat/completions"
    body = json.dumps(
        {"model": "x", "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]}
    ).encode()
    t0 = time.monotonic()
    while True:
        try:
            req = urllib.request.Request(
                url,
                data=body,
                headers={"Content-Type": "application/json", "Authorization": "Bearer x"},
            )
            with urllib.request.urlopen(
                req, timeout=max(1, args.max - (time.monotonic() - t0))
            ) as r:
                r.read()
            break
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            if time.monotonic() - t0 > args.max:
                print(f"{time.monotonic() - t0:.1f}")
                print(f"server not idle after {args.max}s: {e}", file=sys.stderr)
                return 1
            time.sleep(2)
    print(f"{time.monotonic() - t0:.1f}")
    return 0


def cmd_count_tests(args) -> int:
    n = 0
    for f in sorted(Path(args.dir).rglob("test_*.py")):
        try:
            tree = ast.parse(f.read_text(errors="replace"))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith(
                "test"
            ):
                n += 1
    print(n)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("modules")
    p.add_argument("project")
    p.set_defaults(fn=cmd_modules)
    p = sub.add_parser("record")
    p.add_argument("--jsonl", required=True)
    p.add_argument("--measure", required=True)
    p.add_argument("--module")
    p.add_argument("--set", action="append", default=[])
    p.add_argument("--json", action="append", default=[])
    p.set_defaults(fn=cmd_record)
    p = sub.add_parser("coverup-log")
    p.add_argument("log")
    p.add_argument("stderr", nargs="?")
    p.set_defaults(fn=cmd_coverup_log)
    p = sub.add_parser("pynguin-stats")
    p.add_argument("csv")
    p.set_defaults(fn=cmd_pynguin_stats)
    p = sub.add_parser("wait-idle")
    p.add_argument("endpoint")
    p.add_argument("--max", type=float, default=1800)
    p.set_defaults(fn=cmd_wait_idle)
    p = sub.add_parser("count-tests")
    p.add_argument("dir")
    p.set_defaults(fn=cmd_count_tests)
    args = ap.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
