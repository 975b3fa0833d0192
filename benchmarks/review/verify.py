"""Checks every pinned PR for real, each in a freshly materialised repository:

- bug PR: the fix's own tests (``fix_tests`` in the manifest) run on ``head`` and on ``base``;
  the PR is valid when all pass on base and at least one fails (or hangs past the timeout) on
  head: the PR really re-introduces the bug the fix's test pins.
- refactor PR: the whole suite (``pytest tests`` plus the library's doctests) runs on base and
  on head; valid when head has no failure and the same passing tests as base.

    python3.11 benchmarks/review/verify.py [--pr ID]... [--json OUT]

Runs with the test venv ``benchmarks/work/review/testvenv`` (CPython 3.11, pytest 8.4 and
pytest-timeout; pytest 9 rejects the ``path`` hook argument of boltons' conftest before
2025-12), created when missing.  Prints one line per PR; ``--json`` keeps the details
(``verification.json`` beside this file is the committed record).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

VENV = common.WORK / "testvenv"
PYTEST_SPEC = ["pytest>=8.4,<9", "pytest-timeout>=2.3"]
TIMEOUT = 30  # seconds per test: two of the bugs loop forever


def ensure_venv() -> Path:
    py = VENV / "bin" / "python"
    probe = [str(py), "-c", "import pytest, pytest_timeout; assert pytest.version_tuple[0] == 8"]
    if py.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return py
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *PYTEST_SPEC],
        check=True,
    )
    return py


def pytest(py: Path, repo: Path, args: list[str], junit: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
    env.pop("PYTHONPATH", None)
    cmd = [
        str(py),
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        f"--timeout={TIMEOUT}",
        f"--junitxml={junit}",
        "-rfE",
        *args,
    ]
    start = time.monotonic()
    done = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, env=env, timeout=1800)
    outcomes = _junit_outcomes(junit)
    return {
        "exit_code": done.returncode,
        "seconds": round(time.monotonic() - start, 1),
        "summary": (done.stdout.strip().splitlines() or [""])[-1],
        "outcomes": outcomes,
        "failed_output": done.stdout[-3000:] if done.returncode not in (0,) else "",
    }


def _junit_outcomes(junit: Path) -> dict[str, str]:
    import xml.etree.ElementTree as ET

    if not junit.is_file():
        return {}
    out: dict[str, str] = {}
    for case in ET.parse(junit).iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        kind = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                msg = child.get("message") or ""
                kind = (
                    "timeout"
                    if "Timeout" in msg
                    else ("failed" if child.tag == "failure" else "error")
                )
            elif child.tag == "skipped":
                kind = "skipped"
        out[name] = kind
    return out


def verify_bug(py: Path, repo: Path, m: dict[str, Any], tmp: Path) -> dict[str, Any]:
    tests = m["fix_tests"]
    common.git(repo, "checkout", "-q", "head")
    head = pytest(py, repo, tests, tmp / "head.xml")
    common.git(repo, "checkout", "-q", "base")
    base = pytest(py, repo, tests, tmp / "base.xml")
    common.git(repo, "checkout", "-q", "head")
    head_bad = [t for t, o in head["outcomes"].items() if o != "passed"]
    base_bad = [t for t, o in base["outcomes"].items() if o != "passed"]
    ok = bool(head_bad) and not base_bad and bool(base["outcomes"])
    return {
        "ok": ok,
        "tests": tests,
        "head": head,
        "base": base,
        "failing_on_head": head_bad,
        "failing_on_base": base_bad,
    }


def verify_refactor(py: Path, repo: Path, m: dict[str, Any], tmp: Path) -> dict[str, Any]:
    args = ["tests", "boltons", "--doctest-modules"]
    common.git(repo, "checkout", "-q", "base")
    base = pytest(py, repo, args, tmp / "base.xml")
    common.git(repo, "checkout", "-q", "head")
    head = pytest(py, repo, args, tmp / "head.xml")
    passed = lambda r: {t for t, o in r["outcomes"].items() if o == "passed"}  # noqa: E731
    bad = lambda r: sorted(t for t, o in r["outcomes"].items() if o not in ("passed", "skipped"))  # noqa: E731
    ok = not bad(head) and passed(head) == passed(base) and bool(passed(head))
    return {
        "ok": ok,
        "head": head,
        "base": base,
        "failing_on_head": bad(head),
        "failing_on_base": bad(base),
        "passed": len(passed(head)),
        "only_on_base": sorted(passed(base) - passed(head)),
        "only_on_head": sorted(passed(head) - passed(base)),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pr", action="append", default=[], help="only this PR id (repeatable)")
    ap.add_argument("--json", type=Path, help="write the details here")
    args = ap.parse_args()
    py = ensure_venv()
    versions = subprocess.run(
        [str(py), "-c", "import sys, pytest; print(sys.version.split()[0], pytest.__version__)"],
        capture_output=True,
        text=True,
    ).stdout.split()
    ids = args.pr or common.all_pr_ids()
    results: dict[str, Any] = {}
    all_ok = True
    for pr_id in ids:
        tmp = Path(tempfile.mkdtemp(prefix="review-verify-"))
        try:
            repo = tmp / "boltons"
            m = common.materialise(pr_id, repo)
            fn = verify_bug if m["kind"] == "bug" else verify_refactor
            r = fn(py, repo, m, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        results[pr_id] = r
        all_ok &= r["ok"]
        if m["kind"] == "bug":
            how = sorted({r["head"]["outcomes"][t] for t in r["failing_on_head"]})
            passed = len(r["base"]["outcomes"]) - len(r["failing_on_base"])
            line = (
                f"head: {len(r['failing_on_head'])}/{len(r['tests'])} fail "
                f"({', '.join(how) or '-'}); "
                f"base: {passed}/{len(r['tests'])} pass"
            )
        else:
            line = (
                f"suite: base {r['base']['summary']!r}; head {r['head']['summary']!r}; "
                f"same passing set: {not r['only_on_base'] and not r['only_on_head']}"
            )
        print(f"{'OK ' if r['ok'] else 'BAD'} {pr_id:32} {line}", flush=True)
    if args.json:
        record = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "python": versions[0] if versions else "?",
            "pytest": versions[1] if len(versions) > 1 else "?",
            "timeout_per_test_s": TIMEOUT,
            "results": {
                k: {kk: vv for kk, vv in v.items() if kk not in ("head", "base")}
                | {"head": _slim(v["head"]), "base": _slim(v["base"])}
                for k, v in results.items()
            },
        }
        args.json.write_text(json.dumps(record, indent=2) + "\n")
    return 0 if all_ok else 1


def _slim(run: dict[str, Any]) -> dict[str, Any]:
    keep = {"exit_code": run["exit_code"], "seconds": run["seconds"], "summary": run["summary"]}
    if len(run["outcomes"]) <= 12:
        keep["outcomes"] = run["outcomes"]
    return keep


if __name__ == "__main__":
    raise SystemExit(main())
