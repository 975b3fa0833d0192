"""A candidate test file from a model's reply, and the static gates it must pass.

Static gates, in order: it parses; it has a test function; it does not define anything named
like the code it tests; it imports the module under test.  The runtime gates live in
:mod:`agents.cover.gates`.
"""

from __future__ import annotations

import ast
import builtins
import re
import sys
from dataclasses import dataclass

from agents.cover.targets import Target
from flows.structured import extract_block

_PY_FENCE = re.compile(r"```(?:python|py)[^\n]*\n(.*?)(?:^[ \t]*```|\Z)", re.S | re.M)
_STDLIB = frozenset(sys.stdlib_module_names)
_CODE_START = re.compile(r"^\s*(import |from |def |async def |class |@|#|\"\"\"|')")


@dataclass(frozen=True)
class Rejection:
    reason: str  # a key of cover_prompts.PROBLEMS
    detail: str = ""


@dataclass(frozen=True)
class Candidate:
    code: str  # a whole test module: our header's imports plus the model's code
    tests: tuple[str, ...]  # names of its test functions (and Class::method for test classes)


def extract_code(reply: str, header: str, *, truncated: bool = False) -> str | None:
    """The test module in a reply: its python block (closed or not), glued to our header when
    the model only continued it, with the header's imports added when the model dropped them.
    ``truncated``: the reply hit the token limit, so its unfinished end is cut off."""
    fenced = _PY_FENCE.search(reply)
    # Else another or no language tag: the first fenced block, or the whole reply.
    code = fenced.group(1) if fenced else extract_block(reply) if "```" in reply else reply
    code = code.strip("\n")
    if not code.strip():
        return None
    if not _CODE_START.match(code):
        # The model continued "def test_<stem>" without repeating our lines.
        code = header.rstrip("\n") + "\n\n\ndef test_" + code
    lines = code.splitlines()
    missing = [line for line in header.splitlines() if line.strip() and line not in lines]
    if missing:
        code = "\n".join(missing) + "\n" + code
    code = code.rstrip() + "\n"
    return trim_to_parse(code) if truncated else code


def answer_complete(text: str) -> bool:
    """Whether a reply (so far) holds one whole test function: the model closed the code block,
    went on to another top-level statement, or started repeating lines.  Used to hang up on a
    small model early instead of paying for what it writes after."""
    lines = text.split("\n")[:-1]  # the last line may be unfinished
    in_test = False
    body: list[str] = []
    for line in lines:
        if line.startswith(("def test", "async def test")):
            if in_test:
                return True
            in_test = True
            continue
        if not in_test:
            continue
        if line.strip().startswith("```") or (line and not line[0].isspace() and line[0] != "#"):
            return True
        if len(line.strip()) > 10:
            body.append(line.strip())
    return any(body.count(line) >= 4 for line in set(body))


def trim_to_parse(code: str, max_lines: int = 40) -> str:
    """A reply cut off by the token limit (or a model that looped) ends mid-statement: drop
    trailing lines until the module parses, then drop a trailing test left without a body."""
    lines = code.splitlines()
    for cut in range(min(max_lines, len(lines))):
        text = "\n".join(lines[: len(lines) - cut])
        try:
            ast.parse(text)
        except SyntaxError:
            continue
        return text.rstrip() + "\n"
    return code


def _bound_names(tree: ast.Module) -> set[str]:
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            bound.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
            bound.add(node.name)
    return bound


def add_missing_imports(code: str, module: str, module_names: set[str]) -> str:
    """Import names the test uses but never binds: from the module under test when it defines
    them (``Item`` next to ``Cart``), or standard-library modules (``math``, ``os``)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    bound = _bound_names(tree) | set(dir(builtins))
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    missing = sorted(used - bound)
    from_module = [name for name in missing if name in module_names]
    stdlib = [name for name in missing if name not in module_names and name in _STDLIB]
    lines = []
    if from_module:
        lines.append(f"from {module} import {', '.join(from_module)}")
    lines += [f"import {name}" for name in stdlib]
    return "\n".join(lines) + "\n" + code if lines else code


def module_names(source: str) -> set[str]:
    """Top-level names a module defines or imports (what a test may import from it)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.Import | ast.ImportFrom):
            names |= _bound_names(ast.Module(body=[node], type_ignores=[]))
    return {n for n in names if not n.startswith("__")}


def test_names(tree: ast.Module) -> tuple[str, ...]:
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            names.append(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            names += [
                f"{node.name}::{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                and item.name.startswith("test")
            ]
    return tuple(names)


def _defined_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def imports_module(tree: ast.Module, module: str) -> bool:
    """Whether the test imports ``module`` (or a name from it) anywhere."""
    package, _, leaf = module.rpartition(".")
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            if node.module == module:
                return True
            if node.module == package and any(a.name == leaf for a in node.names):
                return True
        if isinstance(node, ast.Import) and any(
            a.name == module or a.name.startswith(module + ".") for a in node.names
        ):
            return True
    return False


def check_static(code: str, target: Target) -> Candidate | Rejection:
    """Parse and inspect a candidate; a :class:`Rejection` says which static gate failed."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return Rejection("syntax", f"{exc.msg} at line {exc.lineno}")
    tests = test_names(tree)
    if not tests:
        return Rejection("no-test")
    own = {target.name, target.import_name}
    redefined = sorted(own & _defined_names(tree))
    if redefined:
        return Rejection("redefines", redefined[0])
    if not imports_module(tree, target.module):
        return Rejection("no-import", target.module)
    return Candidate(code=code, tests=tests)


def keep_tests(code: str, keep: set[str]) -> str:
    """``code`` without the test functions (or test-class methods) not named in ``keep``;
    used to salvage the passing tests of a candidate whose other tests fail."""
    tree = ast.parse(code)
    lines = code.splitlines()
    drop: list[tuple[int, int]] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name.startswith("test") and node.name not in keep:
                drop.append(_span(node))
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            methods = [
                m
                for m in node.body
                if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef)
                and m.name.startswith("test")
            ]
            kept = [m for m in methods if f"{node.name}::{m.name}" in keep]
            if methods and not kept:
                drop.append(_span(node))
            else:
                drop += [_span(m) for m in methods if m not in kept]
    for start, end in sorted(drop, reverse=True):
        del lines[start - 1 : end]
    return re.sub(r"\n{3,}(?=\S)", "\n\n\n", "\n".join(lines)).rstrip() + "\n"


def _span(node: ast.AST) -> tuple[int, int]:
    decorators = getattr(node, "decorator_list", [])
    start = min([getattr(node, "lineno", 1), *(d.lineno for d in decorators)])
    return start, getattr(node, "end_lineno", start) or start
