"""Score one test suite against the prepared mutants of a package, and measure its coverage.

    python3.11 benchmarks/mutation/score.py --dist humanize-4.9.0 --tests DIR --tag NAME

DIR is any directory of pytest tests (the package's own ``own-tests/``, Pynguin's output, assay's
``tests/``); give ``--tests`` more than once to score several directories as one suite. Nothing
of the suite is edited. In a throwaway copy under /tmp (``src/`` = the pristine package,
``tests/`` = the suite, a neutral ``pytest.ini``, ``PYTHONPATH=src:tests``, the package's venv from
prepare.py):

1. **baseline**: pytest runs the suite on the unmutated code; tests that fail (or files that do not
   import) are deselected and the run repeated until it is green (at most 3 runs; a test that
   fails once is dropped, so flaky tests cannot pass for kills). The dropped tests are listed.
2. **coverage**: ``coverage run --branch --source=PKG -m pytest`` on the same selection, then
   ``coverage json`` restricted to the mutated modules: ``totals.percent_covered`` (line+branch)
   and line and branch figures apart, per module and in total.
3. **mutation**: a copy of the package's template session (``<dist>/mutants.sqlite``, the same
   mutants for every suite) is executed by ``cosmic-ray exec`` with the local distributor (one
   mutant at a time, under ``nice -n 10``); test command ``python -m pytest -x`` on the same
   selection, timeout per mutant ``max(20 s, 4 x the baseline run)``. A mutant is killed when the
   run fails, a timeout counts as killed (and is reported apart).

One JSON line per run goes to ``benchmarks/work/mutation/results/scores.jsonl``; the run's files
(score.json, survivors.json with each survivor's diff, the cosmic-ray session, logs) to
``benchmarks/work/mutation/results/scores/<tag>/<dist>/``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_WORK = HERE.parent / "work" / "mutation"
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".coverage*")
SUMMARY = re.compile(r"^(FAILED|ERROR) (\S.*?)(?: - .*)?$")


def _run(
    cmd: list[str], cwd: Path, env: dict, timeout: float | None = None
) -> tuple[int, str, float]:
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout + p.stderr, time.monotonic() - t0
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else e.stdout or ""
        return -9, out, time.monotonic() - t0


def _copy_suite(tests: list[Path], dest: Path) -> list[str]:
    if len(tests) == 1 and tests[0].is_dir():
        shutil.copytree(tests[0], dest, ignore=IGNORE)
        return [str(tests[0])]
    dest.mkdir()
    for i, t in enumerate(tests):
        if t.is_dir():
            shutil.copytree(t, dest / f"t{i}", ignore=IGNORE)
        else:
            (dest / f"t{i}").mkdir()
            shutil.copy2(t, dest / f"t{i}" / t.name)
    return [str(t) for t in tests]


def _targets(tests: Path) -> list[str]:
    """Each directory under the suite that holds test files (and top-level test files)."""
    out = []
    for p in sorted(tests.iterdir()):
        files = list(p.rglob("*.py")) if p.is_dir() else [p]
        if any(f.name.startswith("test_") or f.name.endswith("_test.py") for f in files):
            out.append(f"tests/{p.name}")
    if not out:
        raise SystemExit(f"no test files under the suite ({tests})")
    return out


def _import_mode(tests: Path) -> str:
    """prepend (pytest's default) unless two test files share a basename outside packages."""
    names = Counter(p.name for p in tests.rglob("*.py") if not (p.parent / "__init__.py").exists())
    return "importlib" if any(n > 1 for n in names.values()) else "prepend"


def _pytest(
    py: str, runner: Path, targets: list[str], args: list[str], fail_fast: bool
) -> list[str]:
    """The command running pytest with ARGS on the targets: one process, or one per directory."""
    if len(targets) == 1:
        return [py, "-m", "pytest", *(["-x"] if fail_fast else []), *args, targets[0]]
    ff = ["--fail-fast"] if fail_fast else []
    return [py, str(runner), *ff, *targets, "--", *(["-x"] if fail_fast else []), *args]


def _baseline(
    py: str,
    runner: Path,
    targets: list[str],
    common: list[str],
    deselect: Path,
    cwd: Path,
    env: dict,
    log: Path,
) -> dict:
    """Run until two runs in a row are green, deselecting whatever fails (at most 5 runs)."""
    dropped: list[str] = []
    ignored: list[str] = []
    runs: list[dict] = []
    greens: list[float] = []
    while len(runs) < 5:
        deselect.write_text("".join(f"{d}\n" for d in dropped))
        sel = [f"--ignore={i}" for i in ignored]
        args = ["-q", "-rfE", "--continue-on-collection-errors", *common, *sel]
        cmd = _pytest(py, runner, targets, args, fail_fast=False)
        rc, out, wall = _run(cmd, cwd, env, timeout=1800)
        with log.open("a") as f:
            f.write(f"$ {shlex.join(cmd)}\n{out}\n[exit {rc}, {wall:.1f} s]\n\n")
        lines = out.strip().splitlines()
        totals = [
            x
            for x in lines
            if re.match(r"^=*\s*\d+ (passed|failed|error|skipped|xfailed|deselected)", x.strip())
        ]
        runs.append(
            {
                "exit": rc,
                "wall_s": round(wall, 2),
                "summary": " | ".join(totals) or (lines[-1] if lines else ""),
            }
        )
        bad = [m.group(2).strip() for m in map(SUMMARY.match, map(str.strip, lines)) if m]
        if rc == 0 and not bad:
            greens.append(wall)
            if len(greens) == 2:
                return {
                    "dropped_tests": dropped,
                    "ignored_files": ignored,
                    "runs": runs,
                    "selection": sel,
                    "wall_s": round(max(greens), 2),
                }
            continue
        greens = []
        if rc == 5:
            raise SystemExit(f"no tests collected from the suite (see {log})")
        if not bad:
            raise SystemExit(
                f"the suite fails on the unmutated code (exit {rc}) and names no test; see {log}"
            )
        for b in bad:  # a test id, or a file that does not import
            if b not in dropped and b not in ignored:
                (dropped if "::" in b else ignored).append(b)
    raise SystemExit(f"the suite is not green twice in a row after deselecting failures; see {log}")


def _coverage(
    py: str,
    pkg: str,
    module_paths: list[Path],
    args: list[str],
    targets: list[str],
    cwd: Path,
    env: dict,
    log: Path,
) -> dict:
    data = cwd / ".coverage-bench"
    cov_env = dict(env, COVERAGE_FILE=str(data))
    rc, out, wall = 0, "", 0.0
    for target in targets:  # one process per directory appends to the same data
        cmd = [py, "-m", "coverage", "run", "-a", "--branch", f"--source={pkg}", "-m", "pytest"]
        cmd += ["-q", *args, target]
        rc1, out1, wall1 = _run(cmd, cwd, cov_env, timeout=1800)
        rc = rc if rc1 in (0, 5) else rc1
        out, wall = out + f"$ {shlex.join(cmd)}\n" + out1, wall + wall1
    cj = cwd / "coverage.json"
    include = ",".join(str(p) for p in module_paths)
    rc2, out2, _ = _run(
        [py, "-m", "coverage", "json", "-q", f"--include={include}", "-o", str(cj)], cwd, cov_env
    )
    with log.open("a") as f:
        f.write(f"{out}\n[exit {rc}, {wall:.1f} s]\n{out2}\n")
    if not cj.exists():
        raise SystemExit(f"coverage wrote no report (exit {rc}/{rc2}); see {log}")
    rep = json.loads(cj.read_text())

    def figures(s: dict) -> dict:
        st, cl = s["num_statements"], s["covered_lines"]
        br, cb = s.get("num_branches", 0), s.get("covered_branches", 0)
        return {
            "percent_covered": round(s["percent_covered"], 2),
            "line_percent": round(100 * cl / st, 2) if st else 100.0,
            "branch_percent": round(100 * cb / br, 2) if br else 100.0,
            "statements": st,
            "covered_lines": cl,
            "branches": br,
            "covered_branches": cb,
        }

    per_module = {}
    for name, f in rep["files"].items():
        per_module[Path(name).stem] = figures(f["summary"])
    return {
        "exit": rc,
        "wall_s": round(wall, 1),
        "total": figures(rep["totals"]),
        "modules": per_module,
    }


def _mutation(
    venv: Path,
    root: Path,
    bench: dict,
    test_cmd: list[str],
    timeout: float,
    cwd: Path,
    env: dict,
    log: Path,
    limit: int | None = None,
    only: set[str] | None = None,
) -> dict:
    session = cwd / "session.sqlite"
    shutil.copy2(root / "mutants.sqlite", session)
    if limit or only is not None:  # not a result: the first LIMIT mutants, or ONLY these
        con = sqlite3.connect(session)
        ids = [
            r[0]
            for r in con.execute(
                "select job_id from mutation_specs order by module_path, operator_name, occurrence"
            )
        ]
        ids = ids[limit:] if limit else [i for i in ids if i not in (only or set())]
        con.executemany("delete from mutation_specs where job_id = ?", [(i,) for i in ids])
        con.executemany("delete from work_items where job_id = ?", [(i,) for i in ids])
        con.commit()
        con.close()
    config = cwd / "cr.toml"
    config.write_text(
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(bench['module_paths'])}\n"
        f"timeout = {timeout}\nexcluded-modules = []\n"
        f"test-command = {json.dumps(shlex.join(test_cmd))}\n"
        '[cosmic-ray.distributor]\nname = "local"\n'
    )
    cmd = ["nice", "-n", "10", str(venv / "bin" / "cosmic-ray"), "exec", config.name, session.name]
    t0 = time.monotonic()
    with log.open("a") as f:
        f.write(f"$ {shlex.join(cmd)}\n{config.read_text()}\n")
        f.flush()
        rc = subprocess.run(cmd, cwd=cwd, env=env, stdout=f, stderr=subprocess.STDOUT).returncode
    wall = time.monotonic() - t0
    # the mutants are restored after each run; check the package is back as it was
    for p in bench["module_paths"]:
        if (cwd / p).read_bytes() != (root / p).read_bytes():
            raise SystemExit(f"{p} differs from the pristine copy after cosmic-ray exec")

    con = sqlite3.connect(session)
    rows = con.execute(
        "select s.job_id, s.module_path, s.operator_name, s.occurrence, s.start_pos_row,"
        " r.worker_outcome, r.test_outcome, r.output, r.diff"
        " from mutation_specs s left join work_results r on r.job_id = s.job_id"
    ).fetchall()
    con.close()
    counts = Counter()
    per_module: dict[str, Counter] = defaultdict(Counter)
    survivors = []
    for _job, path, op, occ, row, worker, test, output, diff in rows:
        mod = Path(path).stem
        # the session stores the enum names (NORMAL, KILLED, SURVIVED ...)
        worker, test = (worker or "").lower() or None, (test or "").lower()
        if worker is None:
            kind = "not_run"
        elif worker != "normal":
            kind = "incompetent"  # the worker raised, or no mutation could be applied
        elif test == "killed":
            kind = "timeout" if output == "timeout" else "killed"
        elif test == "survived":
            kind = "survived"
            survivors.append(
                {
                    "module": f"{bench['package']}.{mod}",
                    "line": row,
                    "operator": op,
                    "occurrence": occ,
                    "diff": diff,
                }
            )
        else:
            kind = "incompetent"
        counts[kind] += 1
        per_module[mod][kind] += 1

    def score(c: Counter) -> dict:
        total = sum(c.values())
        valid = c["killed"] + c["timeout"] + c["survived"]
        return {
            "total": total,
            "killed": c["killed"],
            "timeout": c["timeout"],
            "survived": c["survived"],
            "incompetent": c["incompetent"],
            "not_run": c["not_run"],
            "mutation_score": round(100 * (c["killed"] + c["timeout"]) / valid, 2)
            if valid
            else None,
        }

    return {
        "exit": rc,
        "wall_s": round(wall, 1),
        "timeout_per_mutant_s": timeout,
        "total": score(counts),
        "modules": {m: score(c) for m, c in sorted(per_module.items())},
        "survivors": sorted(
            survivors, key=lambda s: (s["module"], s["line"], s["operator"], s["occurrence"])
        ),
        "session": session,
    }


def _versions(py: str) -> dict:
    code = (
        "import sys, importlib.metadata as m; print(sys.version.split()[0]);"
        "[print(m.version(d)) for d in ('cosmic-ray', 'pytest', 'coverage')]"
    )
    out = subprocess.run([py, "-c", code], capture_output=True, text=True).stdout.split()
    return dict(zip(["python", "cosmic-ray", "pytest", "coverage"], out, strict=False))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Score a test suite against the prepared mutants.")
    ap.add_argument("--dist", required=True, help="a prepared package, e.g. humanize-4.9.0")
    ap.add_argument(
        "--tests", type=Path, action="append", required=True, help="tests dir or file (repeatable)"
    )
    ap.add_argument(
        "--tag", required=True, help="the suite's name in the results (own, pynguin, assay ...)"
    )
    ap.add_argument("--work", type=Path, default=DEFAULT_WORK)
    ap.add_argument("--import-mode", choices=["auto", "prepend", "importlib"], default="auto")
    ap.add_argument(
        "--isolate-dirs",
        action="store_true",
        help="run each directory of the suite in its own pytest process (generated per-module"
        " suites: Pynguin, assay)",
    )
    ap.add_argument("--no-mutation", action="store_true", help="baseline and coverage only")
    ap.add_argument(
        "--limit", type=int, help="only the first N mutants: a smoke test, not a result"
    )
    ap.add_argument(
        "--survivors-of",
        metavar="TAG",
        help="only the mutants the suite of TAG let survive (its last score of --dist): which"
        " of them this suite kills. A diagnosis, not a result",
    )
    ap.add_argument("--keep", action="store_true", help="keep the throwaway copy")
    args = ap.parse_args(argv)

    work = args.work.resolve()
    root = work / args.dist
    if not (root / "bench.json").exists():
        print(
            f"{root}/bench.json missing: run python3.11 benchmarks/mutation/prepare.py {args.dist}",
            file=sys.stderr,
        )
        return 2
    tests = [t.resolve() for t in args.tests]
    for t in tests:
        if not t.exists():
            print(f"--tests {t}: no such file or directory", file=sys.stderr)
            return 2
    bench = json.loads((root / "bench.json").read_text())
    venv = Path(bench["venv"])
    only = None
    if args.survivors_of == args.tag:
        print("--survivors-of: give this run another --tag", file=sys.stderr)
        return 2
    if args.survivors_of:
        theirs = work / "results" / "scores" / args.survivors_of / args.dist / "session.sqlite"
        if not theirs.exists():
            print(
                f"--survivors-of {args.survivors_of}: no scored session at {theirs}",
                file=sys.stderr,
            )
            return 2
        con = sqlite3.connect(theirs)
        only = {
            r[0]
            for r in con.execute("select job_id from work_results where test_outcome = 'SURVIVED'")
        }
        con.close()
    py = str(venv / "bin" / "python")
    out_dir = work / "results" / "scores" / args.tag / args.dist
    for t in tests:  # the run's files are replaced: never where a suite lives
        if t == out_dir or out_dir in t.parents or t in out_dir.parents:
            print(f"--tests {t}: inside the results of --tag {args.tag}; move it", file=sys.stderr)
            return 2
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    log = out_dir / "score.log"

    started = dt.datetime.now(dt.UTC)
    load0 = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="bench-mut-score-"))
    try:
        shutil.copytree(root / "src", tmp / "src", ignore=IGNORE)
        used = _copy_suite(tests, tmp / "tests")
        (tmp / "pytest.ini").write_text("[pytest]\n")
        mode = _import_mode(tmp / "tests") if args.import_mode == "auto" else args.import_mode
        bench_dir = tmp / "_bench"  # the harness's plugin and runner, outside the suite
        bench_dir.mkdir()
        for helper in ("bench_deselect.py", "run_dirs.py"):
            shutil.copy2(HERE / helper, bench_dir / helper)
        deselect = bench_dir / "deselect.txt"
        deselect.write_text("")
        env = dict(
            os.environ,
            PYTHONPATH=f"{tmp / 'src'}:{tmp / 'tests'}:{bench_dir}",
            PYTHONDONTWRITEBYTECODE="1",
            BENCH_DESELECT=str(deselect),
        )
        for k in ("COVERAGE_PROCESS_START", "PYTEST_ADDOPTS", "VIRTUAL_ENV"):
            env.pop(k, None)
        env["PATH"] = f"{venv / 'bin'}:{env['PATH']}"
        common = ["-p", "no:cacheprovider", "-p", "bench_deselect", "-c", str(tmp / "pytest.ini")]
        common += ["--rootdir", str(tmp), f"--import-mode={mode}"]
        targets = _targets(tmp / "tests") if args.isolate_dirs else ["tests"]
        runner = bench_dir / "run_dirs.py"

        base = _baseline(py, runner, targets, common, deselect, tmp, env, log)
        args_sel = [*common, *base["selection"]]
        paths = [tmp / p for p in bench["module_paths"]]
        cov = _coverage(py, bench["package"], paths, args_sel, targets, tmp, env, log)
        result = {
            "tag": args.tag,
            "dist": args.dist,
            "package": bench["package"],
            "modules": bench["modules"],
            "tests": used,
            "import_mode": mode,
            "isolate_dirs": targets if args.isolate_dirs else False,
            "started_utc": started.isoformat(timespec="seconds"),
            "machine": {
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "load_start": [round(x, 2) for x in load0],
            },
            "versions": _versions(py),
            "baseline": {k: v for k, v in base.items() if k != "selection"},
            "coverage": cov,
        }
        if not args.no_mutation:
            timeout = float(max(20, round(4 * base["wall_s"])))
            test_cmd = _pytest(py, runner, targets, ["-q", *args_sel], fail_fast=True)
            mut = _mutation(venv, root, bench, test_cmd, timeout, tmp, env, log, args.limit, only)
            shutil.copy2(mut.pop("session"), out_dir / "session.sqlite")
            (out_dir / "survivors.json").write_text(
                json.dumps(mut.pop("survivors"), indent=1) + "\n"
            )
            result["mutation"] = mut
            result["mutants"] = json.loads((root / "mutants.json").read_text())
        result["machine"]["load_end"] = [round(x, 2) for x in os.getloadavg()]
        result["finished_utc"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        if args.keep:
            result["kept"] = str(tmp)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    (out_dir / "score.json").write_text(json.dumps(result, indent=2) + "\n")
    if not args.no_mutation and not args.limit and only is None:
        with (work / "results" / "scores.jsonl").open("a") as f:
            f.write(json.dumps(result) + "\n")
    c, m = result["coverage"]["total"], result.get("mutation", {}).get("total")
    print(
        f"{args.tag} {args.dist}: coverage {c['percent_covered']} % line+branch "
        f"(line {c['line_percent']} %, branch {c['branch_percent']} %)"
        + (
            f"; mutants {m['total']}: killed {m['killed']}, timeout {m['timeout']}, survived "
            f"{m['survived']}, incompetent {m['incompetent']}; score {m['mutation_score']} %; "
            f"{result['mutation']['wall_s']} s"
            if m
            else ""
        )
    )
    print(f"  -> {out_dir / 'score.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
