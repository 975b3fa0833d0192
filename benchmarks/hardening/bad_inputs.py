"""Bad input to the ``assay`` command line, tried as a new user would: what comes back?

Every case runs ``python -m agents.cli ARGS`` (tests/kit/cli.py's runner) in a throwaway
``ASSAY_HOME``, against throwaway projects and the tests' scripted model servers (an endpoint
that answers uselessly, one that fails every call with 500, 429, garbage, or hangs).  Each case
is classified:

- ``one-line error``: exit 2 (3 for a model that failed on every call) and exactly one
  ``error:`` line on stderr, the last one, no traceback;
- ``clean continue``: exit 0 or 1, no traceback (a problem skipped and listed, a report);
- ``traceback`` / ``hang`` (no exit within the case's timeout) / ``other`` (anything else).

    .venv/bin/python benchmarks/hardening/bad_inputs.py            # the table (markdown)
    .venv/bin/python benchmarks/hardening/bad_inputs.py --json out.json --only trace

Cases that run the model set ``ASSAY_LLM_MAX_RETRIES=1`` and ``ASSAY_LLM_TIMEOUT=3`` so that a
failing endpoint is found out in seconds (the defaults retry 4 times with backoff).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fakes.openai_server import FakeOpenAI, RecordedRequest, Reply  # noqa: E402
from tests.kit.cli import run_assay  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cases import Case, cases, make_workspace  # noqa: E402


@dataclass
class Outcome:
    case: Case
    kind: str
    code: int | None
    line: str
    seconds: float

    @property
    def as_expected(self) -> bool:
        wanted = {
            "error": "one-line error",
            "model-failed": "one-line error",
            "continue": "clean continue",
        }[self.case.expect]
        code_ok = self.case.expect != "model-failed" or self.code == 3
        return self.kind == wanted and code_ok


SECRETS = ("s3cr3t", "hunter2")  # the passwords some cases put in URLs: never to be printed


def classify(done: subprocess.CompletedProcess[str] | None) -> tuple[str, int | None, str]:
    if done is None:
        return "hang", None, ""
    text = done.stdout + done.stderr
    leaked = next((x for x in text.splitlines() if any(s in x for s in SECRETS)), None)
    if leaked is not None:
        return "credential printed", done.returncode, leaked.strip()
    errors = [x for x in done.stderr.splitlines() if x.strip()]
    last = errors[-1] if errors else ""
    if "Traceback (most recent call last)" in text:
        tail = [x for x in text.splitlines() if x.strip()]
        return "traceback", done.returncode, tail[-1] if tail else ""
    error_lines = [x for x in errors if x.startswith("error:")]
    if done.returncode in (2, 3) and len(error_lines) == 1 and last.startswith("error:"):
        return "one-line error", done.returncode, last
    if done.returncode in (0, 1):
        shown = next((x for x in errors if x.startswith(("skipped", "warning"))), "")
        return (
            "clean continue",
            done.returncode,
            shown or (done.stdout.strip().splitlines() or [""])[-1],
        )
    return "other", done.returncode, last or (done.stdout.strip().splitlines() or [""])[-1]


def run(cases_: list[Case], home: Path, jobs: int) -> list[Outcome]:
    def one(case: Case) -> Outcome:
        env = {"ASSAY_HOME": str(home), "ASSAY_CACHE": "false", **case.env}
        started = time.monotonic()
        try:
            done: subprocess.CompletedProcess[str] | None = run_assay(
                *case.args, env=env, timeout=case.timeout, cwd=home
            )
        except subprocess.TimeoutExpired:
            done = None
        kind, code, line = classify(done)
        return Outcome(case, kind, code, line, time.monotonic() - started)

    with ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(one, cases_))


def servers() -> dict[str, FakeOpenAI]:
    def fixed(reply: Reply | str) -> Callable[[RecordedRequest], Reply | str]:
        return lambda req: reply

    return {
        "useless": FakeOpenAI(handler=fixed("no")),
        "500": FakeOpenAI(handler=fixed(Reply(status=500, error="boom"))),
        "429": FakeOpenAI(handler=fixed(Reply(status=429, headers={"Retry-After": "0"}))),
        "garbage": FakeOpenAI(handler=fixed(Reply(body=b"\x00garbage{"))),
        "hang": FakeOpenAI(handler=fixed(Reply(hang=True))),
    }


def markdown(outcomes: list[Outcome]) -> str:
    rows = [
        "| # | command | bad input | expected | outcome | exit | what it said | s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for i, o in enumerate(outcomes, 1):
        said = o.line.replace("|", "\\|")[:110]
        mark = "" if o.as_expected else " ✗"
        rows.append(
            f"| {i} | {o.case.group} | {o.case.what} | {o.case.expect} | {o.kind}{mark} "
            f"| {o.code if o.code is not None else '-'} | {said} | {o.seconds:.1f} |"
        )
    counts = Counter(o.kind for o in outcomes)
    rows.append("")
    rows.append(
        ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
        + f"; as expected: {sum(o.as_expected for o in outcomes)} of {len(outcomes)}"
    )
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write the outcomes here")
    parser.add_argument("--only", default="", help="only cases whose group or text has this")
    parser.add_argument("--jobs", type=int, default=2, help="cases run at once")
    args = parser.parse_args()
    fakes = servers()
    for fake in fakes.values():
        fake.start()
    try:
        with tempfile.TemporaryDirectory(prefix="assay-bad-inputs-") as tmp:
            w = Path(tmp)
            places = make_workspace(w)
            home = w / "home"
            home.mkdir()
            todo = [
                c
                for c in cases(places, {k: f.url for k, f in fakes.items()})
                if args.only in c.group or args.only in c.what
            ]
            started = time.monotonic()
            outcomes = run(todo, home, args.jobs)
            took = time.monotonic() - started
    finally:
        for fake in fakes.values():
            fake.stop()
    stamp = time.strftime("%Y-%m-%d %H:%M")
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    print(f"{len(outcomes)} bad inputs, {stamp}, commit {commit}, {took:.0f} s\n")
    print(markdown(outcomes))
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {
                        "group": o.case.group,
                        "input": o.case.what,
                        "args": o.case.args,
                        "expect": o.case.expect,
                        "outcome": o.kind,
                        "exit": o.code,
                        "line": o.line,
                        "seconds": round(o.seconds, 1),
                        "as_expected": o.as_expected,
                    }
                    for o in outcomes
                ],
                indent=2,
            )
        )
    return 0 if all(o.as_expected for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
