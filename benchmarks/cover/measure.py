"""Measure line+branch coverage of a package under a set of generated test directories.

Every tool's output is measured the same way, in a throwaway copy:

    coverage run --branch --source=PKG -m pytest TESTS...   (then: coverage json)

with the package's source root on PYTHONPATH, pytest's import mode ``importlib`` (tool outputs
reuse file names such as ``test_coverup_1.py`` across modules) and, when pytest-timeout is
installed in the measuring Python, a per-test timeout. Failing tests stay in the run: pytest
reports them as failed, and coverage still counts the lines they executed before failing.

``percent_covered`` is coverage.py's line+branch figure,
(covered statements + covered branches) / (statements + branches), the measure the CoverUp paper
reports.

    python3.11 benchmarks/cover/measure.py --project benchmarks/work/pymonet \
        --tests benchmarks/work/results/pynguin/pymonet/pymonet.box [--module pymonet.box]

Prints one JSON object (``--out FILE`` writes it too). stdlib only; the measuring interpreter
(``--python``, default $BENCH_MEASURE_PYTHON or /work/cache/bench-measure-venv/bin/python)
needs coverage and pytest.
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
import xml.etree.ElementTree as ET
from pathlib import Path

DEFAULT_PYTHON = os.environ.get("BENCH_MEASURE_PYTHON", "/work/cache/bench-measure-venv/bin/python")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".coverage*")


def _summary(stmts: int, cov_lines: int, branches: int, cov_branches: int) -> dict:
    total = stmts + branches
    return {
        "percent_covered": round(100.0 * (cov_lines + cov_branches) / total, 2) if total else 100.0,
        "statements": stmts,
        "covered_lines": cov_lines,
        "branches": branches,
        "covered_branches": cov_branches,
    }


def _sum(entries: list[dict]) -> dict:
    return _summary(
        sum(e["statements"] for e in entries),
        sum(e["covered_lines"] for e in entries),
        sum(e["branches"] for e in entries),
        sum(e["covered_branches"] for e in entries),
    )


def _junit_counts(path: Path) -> dict:
    counts = {"tests": 0, "passed": 0, "failed": 0, "errors": 0, "skipped": 0, "xfailed": 0}
    if not path.exists():
        return counts
    for case in ET.parse(path).getroot().iter("testcase"):
        counts["tests"] += 1
        kinds = [c.tag for c in case]
        if "failure" in kinds:
            counts["failed"] += 1
        elif "error" in kinds:
            counts["errors"] += 1
        elif "skipped" in kinds:
            sk = case.find("skipped")
            if sk is not None and (sk.get("type") == "pytest.xfail"):
                counts["xfailed"] += 1
            else:
                counts["skipped"] += 1
        else:
            counts["passed"] += 1
    return counts


def _has_module(python: str, module: str) -> bool:
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True).returncode == 0


def _source_files(src: Path, package: str) -> dict[str, str]:
    """{relative path under src: dotted module name} for every .py file of the package."""
    out = {}
    for py in sorted((src / package).rglob("*.py")):
        rel = py.relative_to(src)
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[str(rel)] = ".".join(parts)
    return out


def measure(
    project: Path,
    tests: list[Path],
    *,
    package: str | None = None,
    modules: list[str] | None = None,
    python: str = DEFAULT_PYTHON,
    per_test_timeout: int = 60,
    timeout: int = 1800,
    keep: bool = False,
) -> dict:
    project = project.resolve()
    bench = (
        json.loads((project / "bench.json").read_text())
        if (project / "bench.json").exists()
        else {}
    )
    package = package or bench.get("package")
    if not package:
        raise SystemExit("--package is needed (no bench.json in the project)")
    source_root = project / bench.get("source_root", ".")

    tmp = Path(tempfile.mkdtemp(prefix="bench-measure-"))
    try:
        src = tmp / "src"
        shutil.copytree(source_root / package, src / package, ignore=IGNORE)
        tdir = tmp / "tests"
        tdir.mkdir()
        used = []
        for i, t in enumerate(tests):
            t = t.resolve()
            if t.is_dir():
                shutil.copytree(t, tdir / f"t{i}", ignore=IGNORE)
                used.append(str(t))
            elif t.is_file():
                (tdir / f"t{i}").mkdir()
                shutil.copy2(t, tdir / f"t{i}" / t.name)
                used.append(str(t))
        (tmp / "pytest.ini").write_text("[pytest]\n")
        data = tmp / ".coverage"
        env = dict(
            os.environ, PYTHONPATH=str(src), PYTHONDONTWRITEBYTECODE="1", COVERAGE_FILE=str(data)
        )
        env.pop("COVERAGE_PROCESS_START", None)
        cmd = [
            python,
            "-m",
            "coverage",
            "run",
            "--branch",
            f"--source={package}",
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--import-mode=importlib",
            "-c",
            str(tmp / "pytest.ini"),
            "--rootdir",
            str(tmp),
            "--junitxml",
            str(tmp / "junit.xml"),
            str(tdir),
        ]
        if per_test_timeout and _has_module(python, "pytest_timeout"):
            cmd[cmd.index("-q") + 1 : cmd.index("-q") + 1] = [f"--timeout={per_test_timeout}"]
        t0 = time.monotonic()
        timed_out = False
        try:
            run = subprocess.run(
                cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout
            )
            rc, out = run.returncode, run.stdout + run.stderr
        except subprocess.TimeoutExpired as e:
            timed_out, rc = True, None
            out = (
                (e.stdout or b"").decode(errors="replace")
                if isinstance(e.stdout, bytes)
                else (e.stdout or "")
            )
        wall = time.monotonic() - t0

        files: dict[str, dict] = {}
        if data.exists():
            cj = tmp / "coverage.json"
            subprocess.run(
                [python, "-m", "coverage", "json", "-q", "-o", str(cj)],
                cwd=tmp,
                env=env,
                capture_output=True,
                text=True,
            )
            if cj.exists():
                files = json.loads(cj.read_text())["files"]
        if not files:  # nothing ran (no tests collected): still report the sizes, all uncovered
            cj = tmp / "coverage0.json"
            subprocess.run(
                [
                    python,
                    "-W",
                    "ignore",
                    "-c",
                    "import coverage,sys; c=coverage.Coverage(branch=True, source=[sys.argv[1]],"
                    " data_file=sys.argv[2]); c.start(); c.stop(); c.save();"
                    " c.json_report(outfile=sys.argv[3])",
                    package,
                    str(tmp / ".coverage0"),
                    str(cj),
                ],
                cwd=src,
                env=env,
                capture_output=True,
                text=True,
            )
            if cj.exists():
                files = {f"src/{k}": v for k, v in json.loads(cj.read_text())["files"].items()}

        per_module = {}
        for rel, name in _source_files(src, package).items():
            f = files.get(f"src/{rel}") or files.get(str(src / rel))
            if f:
                s = f["summary"]
                entry = _summary(
                    s["num_statements"],
                    s["covered_lines"],
                    s.get("num_branches", 0),
                    s.get("covered_branches", 0),
                )
                entry["missing_lines"] = f.get("missing_lines", [])
            else:  # never measured (no data at all): count it as uncovered, with unknown size
                entry = {
                    "percent_covered": 0.0,
                    "statements": None,
                    "covered_lines": 0,
                    "branches": None,
                    "covered_branches": 0,
                    "missing_lines": None,
                }
            entry["path"] = rel
            per_module[name] = entry

        known = [e for e in per_module.values() if e["statements"] is not None]
        result = {
            "package": package,
            "project": str(project),
            "tests": used,
            "python": subprocess.run(
                [
                    python,
                    "-c",
                    "import sys,coverage,pytest;print(sys.version.split()[0],"
                    "coverage.__version__,pytest.__version__)",
                ],
                capture_output=True,
                text=True,
            ).stdout.split(),
            "pytest_exit_code": rc,
            "timed_out": timed_out,
            "results": _junit_counts(tmp / "junit.xml"),
            "wall_seconds": round(wall, 1),
            "modules": per_module,
            "package_total": _sum(known) if known else None,
        }
        if modules:
            sel = [per_module[m] for m in modules if m in per_module]
            unknown = [m for m in modules if m not in per_module]
            if unknown:
                result["unknown_modules"] = unknown
            result["selected"] = {
                "modules": modules,
                **(
                    _sum(sel)
                    if all(e["statements"] is not None for e in sel) and sel
                    else {"percent_covered": 0.0}
                ),
            }
        if rc not in (0, 1, 5):
            result["log_tail"] = out[-3000:]
        if keep:
            result["kept"] = str(tmp)
        return result
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Measure line+branch coverage of generated tests.")
    ap.add_argument(
        "--project", type=Path, required=True, help="prepared project dir (with bench.json)"
    )
    ap.add_argument(
        "--tests", type=Path, action="append", default=[], help="tests dir or file (repeatable)"
    )
    ap.add_argument("--package", help="import name (default: from bench.json)")
    ap.add_argument(
        "--module",
        action="append",
        default=[],
        help="report this module's figure as 'selected' (repeatable)",
    )
    ap.add_argument(
        "--python", default=DEFAULT_PYTHON, help=f"measuring interpreter (default {DEFAULT_PYTHON})"
    )
    ap.add_argument("--per-test-timeout", type=int, default=60)
    ap.add_argument(
        "--timeout", type=int, default=1800, help="cap on the whole pytest run, seconds"
    )
    ap.add_argument("--keep", action="store_true", help="keep the throwaway copy")
    ap.add_argument("--out", type=Path, help="also write the JSON here")
    args = ap.parse_args(argv)
    res = measure(
        args.project,
        args.tests,
        package=args.package,
        modules=args.module or None,
        python=args.python,
        per_test_timeout=args.per_test_timeout,
        timeout=args.timeout,
        keep=args.keep,
    )
    text = json.dumps(res, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
