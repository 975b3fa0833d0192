"""Prepare the pinned inputs of the ``assay tests`` benchmark and pick its 20 symbols (stdlib only).

Downloads the pinned sdists with pip, checks their sha256, extracts each one fresh into
``WORK/<dist>/``, removes the package's own tests, and picks the symbols by the rule below,
written to ``WORK/symbols.json``.  Safe to run again (downloads reused when the hash matches).

    python3.11 benchmarks/testgen/prepare.py [--work DIR]

The selection rule (no hand-picking): in each package, its modules in sorted path order
(version files left out: ``*version*.py``); in each module, top-level functions and the methods
of top-level classes in source order that are public (no part of the name starts with ``_``),
not properties, and have at least :data:`MIN_BRANCHES` branch points (``if``, ``for``,
``while``, ``try``, a conditional expression); taken round-robin over the modules (each
module's first, then each one's second, ...) until :data:`PER_PACKAGE` symbols of the package.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_WORK = HERE.parent / "work" / "testgen"
PER_PACKAGE = 4
MIN_BRANCHES = 1

# (distribution, version, sha256 of the sdist on PyPI, source root in the sdist, package)
PINNED = [
    ("inflection", "0.5.1",
     "1a29730d366e996aaacffb2f1f1cb9593dc38e2ddd30c91250c6dde09ea9b417", "", "inflection"),
    ("isodate", "0.7.2",
     "4cd1aa0f43ca76f4a6c6c0292a85f40b35ec2e43e315b59f06e6d32171a953e6", "src", "isodate"),
    ("more-itertools", "10.5.0",
     "5482bfef7849c25dc3c6dd53a6173ae4795da2a41a80faea6700d9f5846c5da6", "", "more_itertools"),
    ("toolz", "1.0.0",
     "2c86e3d9a04798ac556793bced838816296a2f085017664e4995cb40a1047a02", "", "toolz"),
    ("webcolors", "24.11.1",
     "ecb3d768f32202af770477b8b65f318fa4f566c22948673a977b00d589dd80f6", "src", "webcolors"),
]  # fmt: skip
TEST_DIRS = {"tests", "test", "testing"}
BRANCHES = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.IfExp)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def download(sdists: Path, dist: str, version: str, digest: str) -> Path:
    sdists.mkdir(parents=True, exist_ok=True)
    stems = {f"{dist}-{version}", f"{dist.replace('-', '_')}-{version}"}
    found = [p for p in sdists.glob("*.tar.gz") if p.name[: -len(".tar.gz")] in stems]
    if found and sha256(found[0]) == digest:
        return found[0]
    for p in found:
        p.unlink()
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
           "--disable-pip-version-check", "-d", str(sdists), f"{dist}=={version}"]  # fmt: skip
    print("  $ " + " ".join(cmd))
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    found = [p for p in sdists.glob("*.tar.gz") if p.name[: -len(".tar.gz")] in stems]
    if not found or sha256(found[0]) != digest:
        sys.exit(f"{dist}=={version}: the sdist is missing or its sha256 does not match")
    return found[0]


def extract(sdist: Path, dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with tarfile.open(sdist) as tar:
        tar.extractall(dest, filter="data")
    [top] = list(dest.iterdir())
    for path in sorted(top.rglob("*"), reverse=True):
        is_test = path.name in TEST_DIRS and path.is_dir()
        is_test |= path.is_file() and (
            path.name.startswith("test_") or path.name.endswith("_test.py")
            or path.name == "conftest.py"
        )  # fmt: skip
        if is_test and path.exists():
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    return top


def branches(node: ast.AST) -> int:
    return sum(isinstance(n, BRANCHES) for n in ast.walk(node))


def candidates(path: Path, rel: str) -> list[dict]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []

    def take(node: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str) -> None:
        if any(part.startswith("_") for part in qualname.split(".")):
            return
        decorators = {ast.unparse(d) for d in node.decorator_list}
        if decorators & {"property", "cached_property", "functools.cached_property"}:
            return
        if branches(node) >= MIN_BRANCHES:
            out.append({"path": rel, "qualname": qualname, "line": node.lineno,
                        "branch_points": branches(node)})  # fmt: skip

    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            take(node, node.name)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    take(item, f"{node.name}.{item.name}")
    return out


def pick(root: Path, source_root: str, package: str) -> list[dict]:
    base = root / source_root if source_root else root
    modules = sorted(p for p in (base / package).rglob("*.py") if "version" not in p.name)
    per_module = [candidates(p, p.relative_to(root).as_posix()) for p in modules]
    chosen: list[dict] = []
    for rank in range(max((len(c) for c in per_module), default=0)):
        for found in per_module:
            if rank < len(found) and len(chosen) < PER_PACKAGE:
                chosen.append(found[rank])
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    args = parser.parse_args()
    work: Path = args.work.resolve()
    symbols = []
    for dist, version, digest, source_root, package in PINNED:
        print(f"{dist}=={version}")
        sdist = download(work / "sdists", dist, version, digest)
        top = extract(sdist, work / "src" / dist)
        for item in pick(top, source_root, package):
            symbols.append({"dist": dist, "version": version, "root": str(top),
                            "source_root": source_root, **item})  # fmt: skip
            print(f"  {item['path']}::{item['qualname']} ({item['branch_points']} branch points)")
    (work / "symbols.json").write_text(json.dumps(symbols, indent=2) + "\n", encoding="utf-8")
    print(f"{len(symbols)} symbols → {work / 'symbols.json'}")


if __name__ == "__main__":
    main()
