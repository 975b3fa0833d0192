"""A JavaScript or TypeScript package as ``assay cover`` sees it, read from its ``package.json``.

:func:`detect_project` finds the test runner (vitest or jest, as the package's dependencies,
``jest`` key or ``test`` script say; vitest when nothing does), the module kind (``"type":
"module"`` is ESM, else CommonJS), the source files (``.js``, ``.mjs``, ``.cjs``, ``.ts``,
``.tsx``; not tests, declarations, configs or build output), the existing tests and where new
tests go (beside the sources, or under ``test/``, ``tests/`` or ``__tests__/`` as the project
does), and whether the dependencies are there (``node_modules``: assay never installs into the
user's tree; ``--install-command`` installs into the sandbox's copy).
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shlex
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from agents.cover.targets import matches
from agents.errors import InputError

RESOLVE = ("", ".ts", ".tsx", ".js", ".mjs", ".cjs", ".json", "/index.ts", "/index.js")  # in order
SOURCE_EXTENSIONS = (".js", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts", ".jsx")
TEST_DIRS = ("__tests__", "test", "tests", "spec")
TEST_NAME = re.compile(r"\.(test|spec)\.[cm]?[jt]sx?$")
NEVER_SOURCE = (
    "dist/*", "build/*", "coverage/*", "out/*", "lib-cov/*", "docs/*", "examples/*", "esm/*",
    "cjs/*", "umd/*", "*.min.js",
    "benchmarks/*", "scripts/*", "*.config.*", "*.d.ts", "*.d.mts", "*.d.cts", ".*", "*/.*",
    "__mocks__/*", "*/__mocks__/*", "*/fixtures/*", "fixtures/*",
)  # fmt: skip
RUNNERS = ("vitest", "jest")
PYTHON_COMMANDS = ("pytest", "py.test", "python")
PACKAGE_JSON = "package.json"


@dataclass(frozen=True)
class JsProject:
    """What assay needs to know about one package to test it."""

    root: Path
    runner: str  # "vitest" or "jest"
    esm: bool  # "type": "module"
    sources: tuple[str, ...]  # repository-relative, '/'-separated
    tests: tuple[str, ...]  # the existing test files
    test_dir: str  # "" (beside the sources) or the top-level test directory
    test_infix: str  # "test" or "spec", as the existing tests are named
    command: tuple[str, ...]  # the runner's base command (before assay's own options)
    custom_command: bool  # --test-command given
    node_modules: bool  # the user's tree has node_modules
    dependencies: frozenset[str] = field(default_factory=frozenset)
    import_style: str = "esm"  # how the tests load code: "esm" (import) or "cjs" (require)

    @property
    def typescript(self) -> bool:
        return any(s.endswith((".ts", ".tsx", ".mts", ".cts")) for s in self.sources)

    def has(self, package: str) -> bool:
        """Whether ``package`` is installed in the user's ``node_modules``."""
        return (self.root / "node_modules" / package / PACKAGE_JSON).is_file()

    def coverage_provider(self) -> str:
        """vitest's provider: istanbul where installed (exact branches), else v8."""
        if self.runner != "vitest":
            return "babel"
        return "istanbul" if "@vitest/coverage-istanbul" in self.dependencies else "v8"

    def test_path_for(self, source: str) -> str:
        """Where assay's tests of ``source`` go: ``<name>.assay.test.<ext>`` beside the
        project's tests (mirroring the source's directories below its top directory)."""
        src = PurePosixPath(source)
        ext = {".tsx": ".ts", ".mts": ".mts", ".cts": ".cts", ".jsx": ".js"}.get(
            src.suffix, src.suffix
        )
        name = f"{src.stem}.assay.{self.test_infix}{ext}"
        if not self.test_dir:
            return str(src.with_name(name))
        parts = src.parts[1:-1] if len(src.parts) > 1 else ()
        return "/".join((self.test_dir, *parts, name))

    def placeholder_test(self) -> dict[str, str]:
        """For a package without tests, an empty test where assay's tests will go (jest
        measures no file when it runs no test), for the baseline run."""
        if self.tests or not self.sources:
            return {}
        path = self.test_path_for(self.sources[0]).replace(".assay.", ".assay-baseline.", 1)
        head = 'import { test } from "vitest";\n' if self.runner == "vitest" else ""
        return {path: f'{head}test("assay baseline", () => {{}});\n'}

    def import_path(self, test_path: str, source: str) -> str:
        """The specifier a test at ``test_path`` imports ``source`` by (relative; TypeScript
        without its extension, JavaScript with it for ESM)."""
        rel = posixpath.relpath(source, posixpath.dirname(test_path) or ".")
        rel = rel if rel.startswith(".") else f"./{rel}"
        if source.endswith((".ts", ".tsx")) or (self.import_style == "cjs" and not self.esm):
            rel = re.sub(r"\.(tsx?|js)$", "", rel)
        return rel


def resolve_import(root: Path, importer: str, spec: str) -> str | None:
    """The file under ``root`` a relative import ``spec`` in ``importer`` loads, as Node and
    TypeScript find it (``./x`` → ``lib/x.js``, ``./x.js`` → ``src/x.ts``, ``./x`` →
    ``lib/x/index.js``), or None."""
    base = posixpath.normpath(posixpath.join(posixpath.dirname(importer), spec))
    bare = base.rsplit(".", 1)[0] if base.endswith((".js", ".mjs", ".cjs")) else base
    for stem in (base, bare):
        for ext in RESOLVE:
            if (root / f"{stem}{ext}").is_file():
                return f"{stem}{ext}"
    return None


def is_js_project(repo: Path) -> bool:
    """A ``package.json`` at the root and no Python package beside it."""
    if not (repo / PACKAGE_JSON).is_file():
        return False
    return not any((repo / name).is_file() for name in ("pyproject.toml", "setup.py", "setup.cfg"))


def read_package(repo: Path) -> dict[str, object]:
    path = repo / PACKAGE_JSON
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"Cannot read {path}: {exc}", "fix the package.json") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path} is not a JSON object", "fix the package.json")
    return data


def _runner(package: dict[str, object], deps: frozenset[str], command: Sequence[str]) -> str:
    words = " ".join(command)
    for name in RUNNERS:
        if name in words:
            return name
    if "vitest" in deps:
        return "vitest"
    if "jest" in deps or "jest" in package:
        return "jest"
    scripts = package.get("scripts")
    test_script = str(scripts.get("test", "")) if isinstance(scripts, dict) else ""
    return "jest" if "jest" in test_script and "vitest" not in test_script else "vitest"


def _test_layout(tests: Sequence[str]) -> tuple[str, str]:
    """(the top-level test directory or "" for beside the sources, "test" or "spec")."""
    if not tests:
        return "test", "test"
    infix = Counter("spec" if ".spec." in t else "test" for t in tests).most_common(1)[0][0]
    tops = Counter(t.split("/")[0] if t.split("/")[0] in TEST_DIRS else "" for t in tests)
    return tops.most_common(1)[0][0], infix


def is_js_test(path: str) -> bool:
    """A JS/TS test file (`*.test.ts`, `*.spec.js`, under `__tests__/`, `test/`...)."""
    parts = PurePosixPath(path).parts
    return bool(TEST_NAME.search(path)) or any(p in TEST_DIRS for p in parts[:-1])


def source_files(
    files: Iterable[str], include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> list[str]:
    """The JS/TS source files (not tests, configs, declarations or build output)."""
    out = []
    for path in files:
        if not path.endswith(SOURCE_EXTENSIONS) or is_js_test(path) or matches(path, NEVER_SOURCE):
            continue
        if path.startswith("node_modules/") or (include and not matches(path, include)):
            continue
        if exclude and matches(path, exclude):
            continue
        out.append(path)
    return sorted(out)


def _import_style(repo: Path, tests: Sequence[str], sources: Sequence[str], esm: bool) -> str:
    """How the project's tests load code: as they do; else as its sources load each other —
    ``require`` for CommonJS sources (one instance of each module, shared by the tests and the
    package's own ``require``s: its state, ``instanceof`` and coverage agree; vitest would load
    an imported CommonJS file a second time, as its own), ``import`` otherwise (ESM packages,
    TypeScript: its compiler turns imports into what the runner needs)."""
    for test in tests:
        text = _head(repo / test)
        if re.search(r"^\s*import\s", text, re.MULTILINE):
            return "esm"
        if "require(" in text:
            return "cjs"
    if esm or any(s.endswith((".ts", ".tsx", ".mts", ".cts", ".mjs")) for s in sources):
        return "esm"
    texts = [_head(repo / s) for s in sources[:20]]
    if any(re.search(r"^\s*(import|export)\s", t, re.MULTILINE) for t in texts):
        return "esm"
    return "cjs"


def _head(path: Path, limit: int = 200_000) -> str:
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            return f.read(limit)
    except OSError:
        return ""


def detect_project(
    repo: Path,
    files: Sequence[str],
    *,
    test_command: str | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> JsProject:
    """The project at ``repo`` whose files (repository-relative) are ``files``."""
    package = read_package(repo)
    deps: set[str] = set()
    for key in ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies"):
        value = package.get(key)
        if isinstance(value, dict):
            deps.update(str(k) for k in value)
    command = shlex.split(test_command) if test_command else []
    runner = _runner(package, frozenset(deps), command)
    esm = package.get("type") == "module"
    tests = [f for f in files if TEST_NAME.search(f) and not f.startswith("node_modules/")]
    tests = [t for t in tests if ".assay." not in t] + [t for t in tests if ".assay." in t]
    test_dir, infix = _test_layout(tests)
    if not command:
        entry = "vitest/vitest.mjs" if runner == "vitest" else "jest/bin/jest.js"
        command = ["node", f"node_modules/{entry}"]
    sources = source_files(files, include, exclude)
    return JsProject(
        root=repo,
        runner=runner,
        esm=esm,
        sources=tuple(sources),
        tests=tuple(tests),
        test_dir=test_dir,
        test_infix=infix,
        command=tuple(command),
        custom_command=bool(test_command),
        node_modules=(repo / "node_modules").is_dir(),
        dependencies=frozenset(deps),
        import_style=_import_style(repo, tests, sources, esm),
    )


def check_installed(project: JsProject, install_command: str | None) -> None:
    """Fail with the fix when the runner cannot run: no node, no ``node_modules`` and no
    ``--install-command``, or the runner (or its coverage provider) not installed."""
    from shutil import which

    if which("node") is None:
        raise InputError(
            "node is not installed (needed to test a JavaScript/TypeScript project)",
            "install Node.js 18 or newer",
        )
    if install_command:
        return
    root = project.root
    if not project.node_modules:
        raise InputError(
            f"No node_modules in {root}: assay uses the project's installed dependencies",
            f"run 'npm ci' in {root} first, or pass --install-command 'npm ci' (it runs in the "
            "sandbox's copy with the network; your tree is not touched)",
        )
    if project.custom_command:
        return
    wanted = [project.runner]
    if project.runner == "vitest":
        wanted.append(f"@vitest/coverage-{project.coverage_provider()}")
    missing = [name for name in wanted if not project.has(name)]
    if missing:
        raise InputError(
            f"{' and '.join(missing)} not installed in {root / 'node_modules'}",
            f"add {' '.join(missing)} to the devDependencies and run 'npm install', or pass "
            f"--install-command 'npm install --no-save {' '.join(missing)}'",
        )


def relative_to_copy(path: str) -> str | None:
    """A path a run reported (absolute, inside its copy) relative to the repository root."""
    found = re.search(r"/runs/run-[^/]+/copy/(.+)$", path.replace(os.sep, "/"))
    return found.group(1) if found else None


def js_test_command(command: str | None) -> str | None:
    """The ``--test-command`` for a JS project (the Python default ``pytest`` is not one)."""
    if not command or shlex.split(command)[0].rsplit("/", 1)[-1].startswith(PYTHON_COMMANDS):
        return None
    return command
