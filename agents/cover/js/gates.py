"""The gates a JS/TS candidate test passes before assay keeps it (as for Python).

Static (no run): it parses (tree-sitter; for TypeScript also the compiler's syntax check when
the project has ``typescript``), holds a test, imports the code under test by the path assay
wrote, imports only what exists (relative files, installed packages, the module's exports), and
does not redefine what it tests.  In the sandbox: it passes alone under coverage; it passes
``repeat`` times (copies of it run together, each in its own module scope); it runs code the
suite missed; it fails against at least one mutant of the code it runs; and it passes with the
whole suite.  The suite's coverage with it becomes the run's new coverage.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agents.cover.candidate import Rejection
from agents.cover.js.mutants import mutants_for
from agents.cover.js.project import JsProject, resolve_import
from agents.cover.js.runner import JsRunner, JsTestRun
from agents.cover.js.symbols import read_module, syntax_error
from agents.cover.js.targets import JsTarget
from agents.cover.js.testfile import drop_tests, statics
from flows import Arc, CoverageReport

BUILTINS = frozenset(
    [
        "assert",
        "buffer",
        "child_process",
        "crypto",
        "events",
        "fs",
        "os",
        "path",
        "process",
        "stream",
        "timers",
        "url",
        "util",
        "zlib",
        "http",
        "https",
        "net",
        "readline",
        "string_decoder",
        "worker_threads",
        "perf_hooks",
        "async_hooks",
    ]
)
MUTANTS_TRIED = 3
# Syntax only (no types): TypeScript's own parser, as the compiler reports it.
TS_SYNTAX = (
    "const ts = require('typescript'); const fs = require('fs'); const f = process.argv[1];"
    "const r = ts.transpileModule(fs.readFileSync(f, 'utf8'), {reportDiagnostics: true,"
    " fileName: f}); for (const d of r.diagnostics || []) { const p = d.file ?"
    " d.file.getLineAndCharacterOfPosition(d.start) : {line: 0}; console.log('line ' +"
    " (p.line + 1) + ': ' + ts.flattenDiagnosticMessageText(d.messageText, ' ')); }"
    " process.exit((r.diagnostics || []).length ? 1 : 0);"
)


@dataclass(frozen=True)
class Verdict:
    rejection: Rejection | None = None
    coverage: CoverageReport | None = None  # the suite's, with the candidate
    gained_lines: tuple[int, ...] = ()
    gained_branches: tuple[Arc, ...] = ()
    killed: str = ""  # the mutant it killed
    code: str = ""  # what was judged: the candidate, less the tests that failed when dropped

    @property
    def accepted(self) -> bool:
        return self.rejection is None


@dataclass
class JsGates:
    runner: JsRunner
    project: JsProject
    repeat: int = 3
    mutation: bool = True
    timeout: float = 60.0
    known_failing: set[str] = field(default_factory=set)  # test names failing in the baseline

    def judge(
        self,
        code: str,
        test_path: str,
        source: str,
        targets: Sequence[JsTarget],
        current: CoverageReport,
        accepted: Mapping[str, str],
        *,
        repeat: int | None = None,
        drop_failing: bool = False,
    ) -> Verdict:
        """Whether ``code`` (a whole test file for ``source``, to be written at ``test_path``)
        passes every gate; ``accepted`` are the files assay wrote or will write so far.  With
        ``drop_failing`` (a model's draft) the tests that fail alone are taken out once and the
        rest judged: a draft of ten tests is not lost to one wrong expected value."""
        static = self.check_static(code, test_path, source)
        if static is not None:
            return Verdict(static)
        candidate = candidate_path(test_path)
        files = {candidate: code}
        alone = self.runner.run([candidate], files=files, timeout=self.timeout)
        if alone.result.timed_out:
            return Verdict(Rejection("timeout", f"{self.timeout:g}"))
        if not alone.passed:
            reason = _failure_reason(alone)
            failing = {c.name for c in alone.cases if c.status == "failed"}
            kept = (
                drop_tests(code, test_path, failing) if drop_failing and reason == "fails" else None
            )
            if kept is not None:  # once: the judged rest is not dropped from again
                return self.judge(
                    kept, test_path, source, targets, current, accepted, repeat=repeat
                )
            return Verdict(Rejection(reason, alone.failure()))
        copies = {copy_path(candidate, i): code for i in range(1, (repeat or self.repeat))}
        if copies:
            again = self.runner.run(list(copies), files=copies, coverage=False,
                                    timeout=self.timeout * 2)  # fmt: skip
            if not again.passed:
                return Verdict(Rejection("flaky", again.failure()))
        lines, branches = gained(current, alone.coverage, source)
        if not lines and not branches:
            return Verdict(Rejection("no-coverage", "it runs no line or branch the suite missed"))
        killed: str | None = ""
        if self.mutation:
            killed = self._kill(code, candidate, source, targets, alone)
            if killed is None:
                return Verdict(Rejection("no-mutant-killed", "it passes against every mutant"))
        suite = self.runner.run(None, files={**accepted, **files})
        failing = {c.name for c in suite.cases if c.status == "failed"} - self.known_failing
        if suite.result.timed_out or failing or suite.coverage is None or suite.error:
            detail = "\n".join(sorted(failing)) or suite.failure()
            return Verdict(Rejection("breaks-suite", detail))
        return Verdict(None, suite.coverage, lines, branches, killed or "", code)

    # -- static -----------------------------------------------------------------------------

    def check_static(self, code: str, test_path: str, source: str) -> Rejection | None:
        if problem := syntax_error(code, test_path):
            return Rejection("syntax", problem)
        if test_path.endswith((".ts", ".tsx", ".mts", ".cts")) and self.project.has("typescript"):
            problem = self._ts_syntax(code, test_path)
            if problem:
                return Rejection("syntax", problem)
        facts = statics(code, test_path)
        if facts.tests == 0:
            return Rejection("no-test", "")
        spec = self.project.import_path(test_path, source)
        exports = _exports(self.project.root, source)
        redefined = sorted(facts.declared & {e for e in exports if e != "default"})
        if redefined:
            return Rejection("redefines", redefined[0])
        if spec not in facts.specs:
            return Rejection("no-import", spec)
        for other in facts.specs:
            if not self._resolves(other, test_path):
                return Rejection("import-error", f"cannot find module {other!r}")
        missing = [n for n in facts.bindings.get(spec, []) if n not in exports]
        if missing and exports:
            return Rejection("import-error", f"{source} exports no {missing[0]!r}")
        return None

    def _ts_syntax(self, code: str, test_path: str) -> str:
        check = posixpath.join(posixpath.dirname(test_path), ".assay-syntax-check.ts")
        done = self.runner.sandbox.run(["node", "-e", TS_SYNTAX, check], extra_files={check: code},
                                       timeout=60)  # fmt: skip
        if done.returncode == 1:
            return done.output.strip().splitlines()[0] if done.output.strip() else "syntax error"
        return ""

    def _resolves(self, spec: str, test_path: str) -> bool:
        root = self.project.root
        if spec.startswith("."):
            return resolve_import(root, test_path, spec) is not None
        name = spec.removeprefix("node:")
        if spec.startswith("node:") or name.split("/")[0] in BUILTINS:
            return True
        package = "/".join(spec.split("/")[:2]) if spec.startswith("@") else spec.split("/")[0]
        return (root / "node_modules" / package).exists() or package in self.project.dependencies

    # -- mutants ----------------------------------------------------------------------------

    def _kill(self, code: str, candidate: str, source: str, targets: Sequence[JsTarget],
              alone: JsTestRun) -> str | None:  # fmt: skip
        """The first mutant (of the lines the candidate runs) it fails against; "" when the
        code it runs has no mutant at all; None when every mutant tried survives."""
        text = (self.project.root / source).read_text(encoding="utf-8")
        cov = alone.coverage.get(source) if alone.coverage else None
        ran = set(cov.executed_lines) if cov else set()
        tried = 0
        for jt in targets:
            t = jt.target
            for mutant in mutants_for(text, source, t.start, t.end, lines=ran, limit=MUTANTS_TRIED):
                if tried >= MUTANTS_TRIED:
                    return None
                tried += 1
                run = self.runner.run([candidate], files={candidate: code, source: mutant.source},
                                      coverage=False, timeout=self.timeout)  # fmt: skip
                if not run.passed:
                    return mutant.description
        return None if tried else ""


def _failure_reason(run: JsTestRun) -> str:
    text = run.failure()
    markers = ("Cannot find module", "Failed to resolve import", "does not provide an export")
    if any(m in text for m in markers):
        return "import-error"
    return "fails"


def _exports(root: Path, source: str) -> set[str]:
    try:
        text = (root / source).read_text(encoding="utf-8")
    except OSError:
        return set()
    return {e.name for e in read_module(text, source)}


def candidate_path(test_path: str) -> str:
    """Where a candidate for ``test_path`` runs: beside it (same relative imports)."""
    return test_path.replace(".assay.", ".assay-candidate.", 1)


def copy_path(candidate: str, index: int) -> str:
    return candidate.replace(".assay-candidate.", f".assay-candidate-r{index}.", 1)


def gained(
    before: CoverageReport, after: CoverageReport | None, source: str
) -> tuple[tuple[int, ...], tuple[Arc, ...]]:
    """Lines and branch outcomes of ``source`` missed ``before`` and run ``after``."""
    new = after.get(source) if after else None
    old = before.get(source)
    if new is None:
        return (), ()
    was = set(old.missing_lines) if old else set(new.executed_lines)
    was_b = set(old.missing_branches) if old else set(new.executed_branches)
    lines = tuple(sorted(n for n in new.executed_lines if n in was))
    branches = tuple(sorted(a for a in new.executed_branches if a in was_b))
    return lines, branches
