"""Observed oracles: fix a candidate's wrong expected values from what the code really returns.

Small models call the right code with good inputs and then miscompute the expected value
(``assert apply_discount(10, 25) == 7.0``).  :func:`instrument` turns every
``assert <expr> == <literal>`` of a test module into a call that prints the value of ``<expr>``;
one sandboxed run of that module yields the observed values, and :func:`repair` writes them into
the original asserts (floats as ``pytest.approx``).  The repaired test then goes through every
gate again, the mutant gate included, so it still has to catch a changed behaviour.  Each change
is reported: a model that expected something else may have spotted a real bug.

Code under test is hostile by default: an observed value computed after the code read files
outside its run or started a subprocess (:mod:`agents.cover.guard`, copied in as
:data:`GUARD_FILE`), or one that looks like a credential (:mod:`flows.credentials`), is dropped
by :func:`observed_values` and never written into a test, printed or fed back.
"""

from __future__ import annotations

import ast
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from flows import PLACEHOLDER, looks_like_credential

MARKER = "ASSAY_OBSERVED "
HELPER_NAME = "_assay_observe"
GUARD_MODULE = "_assay_guard"
GUARD_FILE = f"{GUARD_MODULE}.py"
GUARD_SOURCE = Path(__file__).with_name("guard.py").read_text(encoding="utf-8")
HELPER = f"""
try:
    import {GUARD_MODULE} as _assay_guard_module
    _assay_guard_module.install()
except ImportError:
    _assay_guard_module = None


def {HELPER_NAME}(key, value):
    import json
    try:
        text = repr(value)
    except Exception:
        text = None
    outside = _assay_guard_module is None or _assay_guard_module.tainted()
    item = {{"key": key, "repr": text, "outside": outside}}
    print("\\n{MARKER}" + json.dumps(item), flush=True)
    return value
"""
MAX_REPR = 300
_OBSERVED = re.compile(rf"^{MARKER}(\{{.*\}})$", re.M)


@dataclass(frozen=True)
class Change:
    line: int
    old: str  # the source the model wrote
    new: str  # the source we wrote instead
    value: str  # the repr of what the code produced


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


@dataclass(frozen=True)
class _Site:
    """An assert we can repair: ``node`` asserts something about the value of ``observed``.

    kind ``eq``: ``observed == literal``; ``is``: ``observed is None/True/False``;
    ``truth``: ``assert observed`` (``negated``: ``assert not observed``).
    """

    key: str
    node: ast.Assert
    observed: ast.expr
    kind: str
    literal: ast.expr | None = None
    negated: bool = False


def _site(node: ast.Assert) -> _Site | None:
    key = f"a{node.lineno}_{node.col_offset}"
    test = node.test
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        op, left, right = test.ops[0], test.left, test.comparators[0]
        if _is_literal(left) and not _is_literal(right):
            left, right = right, left
        if _is_literal(left) or not _is_literal(right):
            return None
        if isinstance(op, ast.Eq):
            return _Site(key, node, left, "eq", right)
        singleton = isinstance(right, ast.Constant) and right.value in (None, True, False)
        if isinstance(op, ast.Is) and singleton:
            return _Site(key, node, left, "is", right)
        return None
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return (
            None
            if _is_literal(test.operand)
            else _Site(key, node, test.operand, "truth", negated=True)
        )
    if isinstance(test, ast.Call | ast.Attribute | ast.Name | ast.Subscript):
        return _Site(key, node, test, "truth")
    return None


def _sites(tree: ast.Module) -> list[_Site]:
    return [site for node in ast.walk(tree) if isinstance(node, ast.Assert)
            if (site := _site(node)) is not None]  # fmt: skip


def instrument(code: str) -> str | None:
    """The module with each ``assert x == literal`` replaced by printing ``x``; None if it has
    no such assert."""
    tree = ast.parse(code)
    sites = _sites(tree)
    if not sites:
        return None
    lines = code.splitlines()
    # Replace from the bottom up so earlier offsets stay valid.
    for site in sorted(sites, key=_position, reverse=True):
        expr = ast.get_source_segment(code, site.observed)
        if expr is not None:
            _replace(lines, site.node, f"{HELPER_NAME}({site.key!r}, ({expr}))")
    body = "\n".join(lines)
    insert_at = _after_imports(tree)
    out = body.splitlines()
    out[insert_at:insert_at] = HELPER.splitlines()
    return "\n".join(out) + "\n"


def _position(site: _Site) -> tuple[int, int]:
    return site.node.lineno, site.node.col_offset


def _replace(lines: list[str], node: ast.expr | ast.stmt, new: str) -> None:
    """Replace ``node``'s source in ``lines`` (ast offsets count UTF-8 bytes, not characters)."""
    if node.end_lineno is None or node.end_col_offset is None:
        return
    first, last = node.lineno - 1, node.end_lineno - 1
    head = lines[first].encode()[: node.col_offset].decode()
    tail = lines[last].encode()[node.end_col_offset :].decode()
    lines[first : last + 1] = [head + new + tail]


def _after_imports(tree: ast.Module) -> int:
    last = 0
    for node in tree.body:
        docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if isinstance(node, ast.Import | ast.ImportFrom) or (docstring and not last):
            last = node.end_lineno or node.lineno
    return last


def usable_value(text: str) -> bool:
    """Whether an observed value may be written into a test: not a credential, nor a secret the
    sandbox redacted from its output."""
    return PLACEHOLDER not in text and not looks_like_credential(text)


def observed_values(output: str) -> dict[str, str]:
    """key → repr of the value, from the output of an instrumented run (first value wins).
    Values computed after the code touched the host outside its run, and credential-looking
    ones, are left out (the key is taken, so no later value of it is used either)."""
    values: dict[str, str] = {}
    dropped: set[str] = set()
    for match in _OBSERVED.finditer(output):
        try:
            item = json.loads(match.group(1))
        except ValueError:
            continue
        key, text = item.get("key"), item.get("repr")
        if not isinstance(key, str) or not isinstance(text, str) or key in dropped:
            continue
        if item.get("outside", True) or not usable_value(text):
            dropped.add(key)
            values.pop(key, None)
            continue
        values.setdefault(key, text)
    return values


def _as_expected(text: str) -> str | None:
    """Source for an expected value: a literal that reads back equal, floats approximately."""
    if len(text) > MAX_REPR:
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return text if value.is_integer() else f"pytest.approx({text})"
    return text


def _fix(site: _Site, code: str, observed: str) -> tuple[ast.expr, str, str] | None:
    """(node to replace, its old source, new source) for one site, None if nothing to fix."""
    try:
        value = ast.literal_eval(observed)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    expr = ast.get_source_segment(code, site.observed)
    test = site.node.test
    old = ast.get_source_segment(code, test)
    if expr is None or old is None:
        return None
    if site.kind == "truth":
        if bool(value) != site.negated:
            return None  # the assert holds
        return test, old, (f"not {expr}" if bool(value) is False else expr)
    assert site.literal is not None
    if site.kind == "eq":
        expected = ast.literal_eval(site.literal)
        if expected == value:
            return None
        new = _as_expected(observed)
        literal_old = ast.get_source_segment(code, site.literal)
        return (site.literal, literal_old, new) if new and literal_old else None
    # kind "is": keep `is` for singletons, else compare by value.
    if value is site.literal.value:  # type: ignore[attr-defined]
        return None
    if value is None or isinstance(value, bool):
        return test, old, f"{expr} is {value!r}"
    new = _as_expected(observed)
    return (test, old, f"{expr} == {new}") if new else None


def repair(code: str, observed: dict[str, str]) -> tuple[str, list[Change]]:
    """``code`` with each instrumented assert made true for the observed value."""
    tree = ast.parse(code)
    lines = code.splitlines()
    changes: list[Change] = []
    edits: list[tuple[ast.expr, str]] = []
    for site in _sites(tree):
        if site.key not in observed:
            continue
        fix = _fix(site, code, observed[site.key])
        if fix is None:
            continue
        node, old, new = fix
        edits.append((node, new))
        changes.append(Change(node.lineno, old, new, observed[site.key]))
    for node, new in sorted(edits, key=lambda e: (e[0].lineno, e[0].col_offset), reverse=True):
        _replace(lines, node, new)
    text = "\n".join(lines) + "\n"
    if any("pytest.approx" in c.new for c in changes) and not re.search(
        r"^import pytest\b", text, re.M
    ):
        text = "import pytest\n" + text
    return text, changes


# -- observed checks: a test whose every check failed keeps what it ran, checked by observation --

MAX_CHECKS = 3  # per test: the last values it assigned
_UNSTABLE = re.compile(r" at 0x[0-9a-fA-F]+|<function |<bound method |<lambda>")


def _observable(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """Names a test body assigns from a call (``result = f(x)``), last ones first."""
    names: list[str] = []
    for st in node.body:
        if (
            isinstance(st, ast.Assign)
            and len(st.targets) == 1
            and isinstance(st.targets[0], ast.Name)
            and not _is_literal(st.value)
        ):
            name = st.targets[0].id
            if name in names:
                names.remove(name)
            names.append(name)
    return names[::-1][:MAX_CHECKS]


def _tests(tree: ast.Module, tests: set[str]) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [
        n
        for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name in tests
    ]


def observe_locals(code: str, tests: set[str]) -> str | None:
    """A probe of ``code``: each test in ``tests`` ends by printing the repr and str of the
    values it assigned from calls; None when there is nothing to observe."""
    tree = ast.parse(code)
    lines = code.splitlines()
    inserts: list[tuple[int, list[str]]] = []
    for node in _tests(tree, tests):
        names = _observable(node)
        if not names or not node.body:
            continue
        last = node.body[-1]
        indent = " " * last.col_offset
        probe = []
        for name in names:
            probe.append(f"{indent}{HELPER_NAME}({f'r:{node.name}:{name}'!r}, {name})")
            probe.append(f"{indent}{HELPER_NAME}({f's:{node.name}:{name}'!r}, str({name}))")
        inserts.append((last.end_lineno or last.lineno, probe))
    if not inserts:
        return None
    for at, probe in sorted(inserts, reverse=True):
        lines[at:at] = probe
    insert_at = _after_imports(tree)
    lines[insert_at:insert_at] = HELPER.splitlines()
    return "\n".join(lines) + "\n"


def check_for(name: str, text: str | None, as_str: str | None) -> str | None:
    """An assert that the value named ``name`` is what was observed, or None if unstable."""
    if text is not None and len(text) <= MAX_REPR:
        if text in ("None", "True", "False"):
            return f"assert {name} is {text}"
        expected = _as_expected(text)
        if expected is not None:
            return f"assert {name} == {expected}"
        if not _UNSTABLE.search(text):
            return f"assert repr({name}) == {text!r}"
    if as_str is not None and len(as_str) <= MAX_REPR:
        try:
            shown = ast.literal_eval(as_str)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return None
        if isinstance(shown, str) and shown and not _UNSTABLE.search(shown):
            return f"assert str({name}) == {as_str}"
    return None


def add_observed_checks(code: str, observed: dict[str, str], tests: set[str]) -> tuple[str, int]:
    """``code`` with asserts of the observed values appended to each test in ``tests``."""
    tree = ast.parse(code)
    lines = code.splitlines()
    inserts: list[tuple[int, list[str]]] = []
    for node in _tests(tree, tests):
        if not node.body:
            continue
        last = node.body[-1]
        indent = " " * last.col_offset
        checks = []
        for name in reversed(_observable(node)):
            check = check_for(
                name, observed.get(f"r:{node.name}:{name}"), observed.get(f"s:{node.name}:{name}")
            )
            if check:
                checks.append(indent + check)
        if checks:
            inserts.append((last.end_lineno or last.lineno, checks))
    for at, checks in sorted(inserts, reverse=True):
        lines[at:at] = checks
    text = "\n".join(lines) + "\n"
    if "pytest.approx" in text and not re.search(r"^import pytest\b", text, re.M):
        text = "import pytest\n" + text
    return text, sum(len(c) for _, c in inserts)
