"""Running a candidate solution against test cases, in the sandbox, one verdict per case.

A test case is one test function (``def test_x(): ...``); the given tests of a problem are split
into cases (:func:`load_tests`: each top-level ``test_*`` function, and each top-level ``assert``
made into a function) plus a prelude (imports, helpers).  :func:`run_cases` writes the solution
as ``solution.py`` beside a small harness and runs it in a fresh sandbox copy: the harness imports
the solution (a failure there means the code does not compile), runs every case with its own
timeout and prints one JSON line per case.  ``assert a == b`` is rewritten so that a failure says
what ``a`` really was: the message fed back to the model.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from flows.sandbox import Sandbox

Origin = Literal["given", "extra", "hidden"]
SOLUTION_MODULE = "solution"
MARK = "ASSAY_CASE "
_KEEP = (
    ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign,
    ast.AnnAssign,
)  # fmt: skip
_RESULT = re.compile(rf"^{MARK}(\{{.*\}})\s*$", re.M)

HARNESS = r"""
import ast, json, signal, sys, traceback
MARK = "ASSAY_CASE "

class _Timeout(BaseException):
    pass

def _alarm(signum, frame):
    raise _Timeout()

def _assay_eq(left, right, source):
    if not (left == right):
        raise AssertionError(f"{source}: got {left!r}, expected {right!r}"[:600])

class _Rewrite(ast.NodeTransformer):
    def visit_Assert(self, node):
        src = ast.unparse(node.test)
        test = node.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
            call = ast.Call(ast.Name("_assay_eq", ast.Load()),
                            [test.left, test.comparators[0], ast.Constant(src)], [])
            return ast.copy_location(ast.Expr(call), node)
        msg = node.msg or ast.Constant(src)
        return ast.copy_location(ast.Assert(test, msg), node)

def _compile(source, name):
    tree = ast.fix_missing_locations(_Rewrite().visit(ast.parse(source)))
    return compile(tree, name, "exec")

def _where(exc):
    frames = traceback.extract_tb(exc.__traceback__)
    frames = [f for f in frames if f.filename.endswith("solution.py")]
    return f" (solution.py line {frames[-1].lineno}: {frames[-1].line})" if frames else ""

def _describe(exc):
    if isinstance(exc, AssertionError):
        return str(exc) or "assertion failed"
    return f"{type(exc).__name__}: {exc}"[:400] + _where(exc)

def _emit(record):
    print("\n" + MARK + json.dumps(record), flush=True)

def main():
    spec = json.load(open(sys.argv[1]))
    signal.signal(signal.SIGALRM, _alarm)
    ns = {"__name__": "assay_cases", "_assay_eq": _assay_eq}
    signal.setitimer(signal.ITIMER_REAL, spec["timeout"] * 2)
    try:
        exec("from solution import *", ns)
        exec(_compile(spec["prelude"], "tests.py"), ns)
    except _Timeout:
        _emit({"compile_error": "importing the solution did not finish"})
        return
    except BaseException as exc:
        _emit({"compile_error": _describe(exc)})
        return
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    for case in spec["cases"]:
        local = dict(ns)
        signal.setitimer(signal.ITIMER_REAL, spec["timeout"])
        try:
            exec(_compile(case["source"], case["name"]), local)
            local[case["name"]]()
            record = {"name": case["name"], "passed": True}
        except _Timeout:
            record = {"name": case["name"], "passed": False,
                      "message": f"timed out after {spec['timeout']} s"}
        except BaseException as exc:
            record = {"name": case["name"], "passed": False, "message": _describe(exc)}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        _emit(record)

main()
"""


@dataclass(frozen=True)
class TestCase:
    """One test: a function named ``name`` whose source is ``source``."""

    __test__ = False  # not a pytest test class

    name: str
    source: str
    origin: Origin = "given"

    @property
    def body(self) -> str:
        """The test's statements (without the ``def`` line), for prompts."""
        lines = self.source.splitlines()[1:]
        return "\n".join(line[4:] if line.startswith("    ") else line for line in lines).strip()


@dataclass(frozen=True)
class TestSuite:
    """Given tests: a prelude (imports, helpers) and the cases."""

    __test__ = False

    prelude: str = ""
    cases: tuple[TestCase, ...] = ()


@dataclass(frozen=True)
class CaseVerdict:
    passed: bool
    message: str = ""


@dataclass
class ExecReport:
    """What one run of a solution against cases gave."""

    compiled: bool
    error: str = ""  # why it did not compile (syntax error, import failure)
    verdicts: dict[str, CaseVerdict] = field(default_factory=dict)

    def passed(self, cases: Sequence[TestCase]) -> frozenset[str]:
        return frozenset(c.name for c in cases if self.verdicts.get(c.name, _NO).passed)

    def failure(self, case: TestCase) -> str:
        if not self.compiled:
            return self.error
        return self.verdicts.get(case.name, _NO).message or "no result"


_NO = CaseVerdict(False, "the test did not run (the run stopped before it)")


def assert_case(name: str, statement: str, origin: Origin = "extra") -> TestCase:
    """A case from one ``assert`` statement."""
    return TestCase(name, f"def {name}():\n    {statement.strip()}\n", origin)


def load_tests(source: str, origin: Origin = "given") -> TestSuite:
    """Split a test module into its prelude and cases (``test_*`` functions, top-level asserts).

    Raises ``SyntaxError`` when the module does not parse.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    prelude: list[str] = []
    cases: list[TestCase] = []
    for node in tree.body:
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        text = "\n".join(lines[start - 1 : node.end_lineno or node.lineno])
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            if node.args.args:  # fixtures: not supported, keep it out
                continue
            cases.append(TestCase(node.name, text + "\n", origin))
        elif isinstance(node, ast.Assert):
            cases.append(assert_case(f"test_line_{node.lineno}", text, origin))
        elif not (isinstance(node, ast.If) and "__name__" in ast.unparse(node.test)):
            prelude.append(text)
    return TestSuite("\n".join(prelude) + ("\n" if prelude else ""), tuple(cases))


def run_cases(
    sandbox: Sandbox,
    code: str,
    cases: Sequence[TestCase],
    *,
    prelude: str = "",
    timeout: float = 3.0,
) -> ExecReport:
    """Run ``code`` (as ``solution.py``) against ``cases`` in a fresh sandbox copy."""
    try:
        ast.parse(code)
    except SyntaxError as exc:
        return ExecReport(False, f"SyntaxError: {exc.msg} at line {exc.lineno}")
    spec = {
        "timeout": timeout,
        "prelude": prelude,
        "cases": [{"name": c.name, "source": c.source} for c in cases],
    }
    files = {
        f"{SOLUTION_MODULE}.py": code,
        "_assay_harness.py": HARNESS,
        "_assay_cases.json": json.dumps(spec),
    }
    argv = [str(sandbox.python), "_assay_harness.py", "_assay_cases.json"]
    run = sandbox.run(argv, extra_files=files, timeout=timeout * (len(cases) + 2) + 10)
    report = ExecReport(True)
    for match in _RESULT.finditer(run.output):
        try:
            record = json.loads(match.group(1))
        except ValueError:
            continue
        if "compile_error" in record:
            return ExecReport(False, str(record["compile_error"]))
        report.verdicts[record["name"]] = CaseVerdict(
            bool(record["passed"]), str(record.get("message", ""))
        )
    if not report.verdicts and cases:
        tail = "\n".join(run.output.strip().splitlines()[-5:])
        why = "timed out" if run.timed_out else f"exited with {run.returncode}"
        return ExecReport(False, f"the test run {why}: {tail}"[:500])
    return report


def prepare_code(code: str, starter: str = "") -> str:
    """Drop module-level statements that are not definitions (prints, asserts, ``__main__``
    blocks: a small model's demo code) and add what the code lacks of the starter: its imports
    and its helper functions and classes (all but the last definition, the one to write)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    lines = code.splitlines()
    kept: list[str] = []
    for i, node in enumerate(tree.body):
        is_doc = i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if isinstance(node, _KEEP) or is_doc:
            kept.append("\n".join(lines[_start(node) - 1 : node.end_lineno or node.lineno]))
    text = "\n\n".join(kept)
    have = {line.strip() for line in text.splitlines()}
    missing = [
        line
        for line in starter.splitlines()
        if line.startswith(("import ", "from ")) and line.strip() not in have
    ]
    helpers = [h for name, h in _starter_helpers(starter) if not defines(text, name)]
    head = "\n".join(missing) + "\n\n" if missing else ""
    head += "\n\n\n".join(helpers) + "\n\n\n" if helpers else ""
    return head + text.strip() + "\n"


def _start(node: ast.stmt) -> int:
    return min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])


def _starter_helpers(starter: str) -> list[tuple[str, str]]:
    """(name, source) of the starter's top-level functions and classes but the last one."""
    if "def " not in starter and "class " not in starter:
        return []
    for text in (starter, starter.rstrip() + "\n    ..."):
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        lines = text.splitlines()
        defs = [
            n
            for n in tree.body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        ]
        return [
            (n.name, "\n".join(lines[_start(n) - 1 : n.end_lineno or n.lineno])) for n in defs[:-1]
        ]
    return []


def defines(code: str, name: str) -> bool:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return True  # the sandbox run reports the syntax error
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.name == name:
                return True
        elif isinstance(node, ast.Import | ast.ImportFrom):
            if any((a.asname or a.name) == name for a in node.names):
                return True
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return True
    return False


_FENCED = re.compile(r"```.*?(```|\Z)", re.S)


def function_stub(starter: str, statement: str, entry: str) -> str:
    """The starter (imports, helpers, the ``def entry(...):`` line(s), no body) with the statement
    as the entry function's docstring: the form a code model completes best.  "" when the
    starter does not end with that ``def``."""
    text = starter.rstrip()
    heads = list(
        re.finditer(rf"^([ \t]*)(?:async[ \t]+)?def[ \t]+{re.escape(entry)}\b", text, re.M)
    )
    if not heads:
        return ""
    indent = heads[-1].group(1) + "    "
    try:
        ast.parse(f"{text}\n{indent}pass\n")
    except SyntaxError:
        return ""
    doc = _FENCED.sub("", statement).replace('"""', "'''").strip()
    body = "\n".join((indent + line) if line.strip() else "" for line in doc.splitlines())
    return f'{text}\n{indent}"""{body.lstrip()}\n{indent}"""\n'


def alias_entry(code: str, entry: str) -> str:
    """``code`` with ``entry = <its function>`` added when the model named the function otherwise
    (``sort_even_2``, ``solve``): the one top-level function whose name contains ``entry``, else
    the only public top-level function.  Unchanged when ``entry`` is defined or no one fits."""
    if defines(code, entry):
        return code
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    functions = [
        n.name
        for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and not n.name.startswith("_")
    ]
    named = [f for f in functions if entry.lower() in f.lower()]
    chosen = named if len(named) == 1 else functions if len(functions) == 1 else []
    if not chosen:
        return code
    return code.rstrip() + f"\n\n\n{entry} = {chosen[0]}\n"


def parse_extra_tests(code: str, entry: str, known: Sequence[str], limit: int) -> list[TestCase]:
    """The model's assert lines that parse and call ``entry``, new ones only, at most ``limit``."""
    seen = {_normal(k) for k in known}
    out: list[TestCase] = []
    for line in code.splitlines():
        line = line.strip()
        if not line.startswith("assert "):
            continue
        try:
            node = ast.parse(line).body[0]
        except (SyntaxError, IndexError, ValueError):
            continue
        calls = {
            n.func.id
            for n in ast.walk(node)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        }
        key = _normal(line)
        if entry not in calls or key in seen:
            continue
        seen.add(key)
        out.append(assert_case(f"test_extra_{len(out) + 1}", ast.unparse(node), "extra"))
        if len(out) >= limit:
            break
    return out


def _normal(statement: str) -> str:
    try:
        return ast.unparse(ast.parse(statement.strip()))
    except SyntaxError:
        return statement.strip()
