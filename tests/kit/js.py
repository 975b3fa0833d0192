"""JavaScript/TypeScript fixture packages for the cover tests: sources in temp dirs, the
runners' ``node_modules`` from the npm registry, installed once and cached.

:func:`node_modules` installs a fixture's pinned packages (``tests/fixtures/npm/<kind>``:
``package.json`` and its lockfile) with ``npm ci`` into ``~/.cache/assay-tests/npm/<kind>-<key>``
(``ASSAY_TEST_NPM_CACHE`` overrides; the key is the lockfile's digest), the first time only: a
cached install never touches the network.  Without node or npm, or when the registry cannot be
reached for a first install, the tests skip and say why.  :func:`make_package` writes a package
whose ``node_modules`` is a link to that cache (assay copies it into its sandbox; nothing writes
into it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from agents.cover.js.project import JsProject
    from agents.cover.js.runner import JsRunner
    from flows import CoverageReport

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "npm"
DONE = ".assay-installed"


def cache_root() -> Path:
    default = Path.home() / ".cache" / "assay-tests" / "npm"
    return Path(os.environ.get("ASSAY_TEST_NPM_CACHE", default))


def need_node() -> None:
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed: the JavaScript/TypeScript tests need Node.js")


def node_modules(kind: str) -> Path:
    """The installed ``node_modules`` of fixture ``kind`` (``jest`` or ``vitest``)."""
    need_node()
    source = FIXTURES / kind
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update((source / name).read_bytes())
    dest = cache_root() / f"{kind}-{digest.hexdigest()[:16]}"
    if (dest / DONE).is_file():
        return dest / "node_modules"
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{kind}-", dir=dest.parent))
    try:
        for name in ("package.json", "package-lock.json"):
            shutil.copy2(source / name, work / name)
        argv = ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"]
        try:
            done = subprocess.run(argv, cwd=work, capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            pytest.skip(f"npm ci of the {kind} fixture timed out (is the npm registry reachable?)")
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip()[-300:]
            pytest.skip(f"could not install the {kind} fixture from the npm registry: {tail}")
        (work / DONE).write_text("ok\n")
        with contextlib.suppress(OSError):  # another session installed it meanwhile
            os.replace(work, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest / "node_modules"


def git(repo: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@e",
        "GIT_COMMITTER_NAME": "t",
    }
    env["GIT_COMMITTER_EMAIL"] = "t@e"
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)


def make_package(
    root: Path, kind: str, files: dict[str, str], *, esm: bool = False, commit: bool = True
) -> Path:
    """A package at ``root`` with ``files``, the ``kind`` fixture's package.json (``"type":
    "module"`` when ``esm``) and its cached ``node_modules`` linked in; a git repository with
    one commit unless ``commit`` is False."""
    modules = node_modules(kind)
    root.mkdir(parents=True)
    package = json.loads((FIXTURES / kind / "package.json").read_text())
    package["type"] = "module" if esm else "commonjs"
    (root / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    (root / ".gitignore").write_text("node_modules\ncoverage\n")
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "node_modules").symlink_to(modules, target_is_directory=True)
    if commit:
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "commit", "-qm", "base")
    return root


# clamp (branches, a throw, an @example) and a vitest file that covers one path of it: shared by
# the JS cover tests' package and the small one the LSP, service and Action tests use.
CLAMP_TS = """\
/**
 * Clamp a number into a range.
 * @example clamp(5, 0, 3)
 */
export function clamp(value: number, low: number, high: number): number {
  if (low > high) {
    throw new RangeError("low must not exceed high");
  }
  if (value < low) return low;
  if (value > high) return high;
  return value;
}
"""
CODES_TEST = """\
import { describe, expect, it } from "vitest";
import { clamp } from "../src/codes";

describe("clamp", () => {
  it("keeps a value inside the range", () => {
    expect(clamp(2, 0, 3)).toBe(2);
  });
});
"""
CODES_TS = (
    CLAMP_TS
    + """
export function shout(word: string): string {
  return word.toUpperCase() + "!";
}

export class Counter {
  private count = 0;
  increment(): number {
    this.count += 1;
    return this.count;
  }
}
"""
)
CODES_PACKAGE = {"src/codes.ts": CODES_TS, "test/codes.test.ts": CODES_TEST}


@contextlib.contextmanager
def sandboxed_runner(repo: Path) -> Iterator[tuple[JsProject, JsRunner, CoverageReport]]:
    """The JS project at ``repo``, a runner of it in the real sandbox and the baseline's
    coverage (what ``assay cover`` has before it explores): ``(project, runner, coverage)``."""
    from agents.cover.js.project import detect_project
    from agents.cover.js.runner import JsRunner
    from agents.runtime import open_sandbox
    from agents.settings import load_settings
    from flows import repo_files

    with open_sandbox(load_settings(repo).settings, repo, language="javascript") as sandbox:
        project = detect_project(repo, repo_files(repo))
        runner = JsRunner(sandbox, project, timeout=120)
        baseline = runner.run(None, files=project.placeholder_test())
        assert baseline.coverage is not None, baseline.failure()
        yield project, runner, baseline.coverage
