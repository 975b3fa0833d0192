"""Kept calls as tests: one test per call, checking the strongest thing that held in every run.

The driver ran each kept call several times (:mod:`agents.cover.explore_driver`).  When every
run agreed, the test checks the exact value (``assert result == (1, 2, 3)``) or the exception
with its message (``pytest.raises(ValueError, match=re.escape("negative step"))``).  When the
value varied, it checks the facts that held in every run (:mod:`agents.cover.explore_facts`):
the type, the length, a mapping's keys, a number's sign, the elements' types, a ``repr`` with
addresses masked, an object's public state.  A fact that did not hold in every run is never
checked, so a test cannot fail on a run like the observed ones.  A call that gave a warning of
the module's own (a deprecation) runs under ``pytest.warns(DeprecationWarning, match=…)``.

Test names and dunder calls follow the rules of :mod:`agents.cover.rewrite_rules`:
``test_grade_returns_b_for_80``, ``len(box)`` rather than ``box.__len__()``, ``with`` rather
than ``__enter__``.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Mapping, Sequence
from typing import Any

from agents.cover.oracle import check_for, usable_value
from agents.cover.rewrite_rules import entered_receiver, operator_form, rename_rules

MASK = " at 0x\u2026"  # explore_facts.MASK: where an address was in a repr
ADDRESS_PATTERN = " at 0x[0-9a-fA-F]+"
_DEFAULT_REPR = re.compile(r"^<[\w.]+ object at 0x\u2026>$")
_BUILTINS = frozenset(dir(builtins))
MAX_CHECKS = 8  # per test, after the type


def _free_names(expr: str) -> set[str]:
    tree = ast.parse(expr, mode="eval")
    bound = {a.arg for n in ast.walk(tree) if isinstance(n, ast.Lambda) for a in _args(n)}
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return used - bound - _BUILTINS


def _args(node: ast.Lambda) -> list[ast.arg]:
    a = node.args
    return [*a.posonlyargs, *a.args, *a.kwonlyargs, *filter(None, [a.vararg, a.kwarg])]


def _legacy_facts(call: Mapping[str, Any]) -> dict[str, Any] | None:
    """Facts from a call printed without them: the type, or the exception when stable."""
    if "raises" in call:
        if not call.get("stable"):
            return None
        found = {"kind": "raises", "raises": call["raises"]}
        found["raises_module"] = call.get("raises_module", "")
        if isinstance(call.get("message"), str):
            found["message"] = call["message"]
        return found
    found = {"kind": "value", "type": str(call.get("type", ""))}
    if call.get("stable") and call.get("attrs"):
        found["attrs"] = dict(call["attrs"])
    return found


def _order_free(text: str) -> bool:
    """Whether a text can be compared in another process: no braces (a set of strings prints
    in another order under another hash seed)."""
    return "{" not in text and MASK not in text


class _Names:
    """What a test module imports: names of the module under test, ``re``, other imports."""

    def __init__(self, module: str) -> None:
        self.module = module
        self.package = module.split(".")[0]
        self.names: set[str] = set()
        self.imports: set[str] = set()  # of the package under test
        self.stdlib: set[str] = set()  # of the standard library (``import datetime as dt``)

    def type_expr(self, ref: str) -> str | None:
        """A type ref of the driver's facts as a test writes it (``int``, ``Rect``)."""
        if ref == "NoneType":
            return "type(None)"
        if ":" not in ref:
            return ref if ref in _BUILTINS else None
        module, name = ref.split(":", 1)
        if module != self.module or not name.isidentifier():
            return None
        self.names.add(name)
        return name

    def types_expr(self, refs: Sequence[str]) -> str | None:
        named = [self.type_expr(r) for r in refs]
        if not named or any(n is None for n in named):
            return None
        return named[0] if len(named) == 1 else f"({', '.join(str(n) for n in named)})"

    def exception(self, name: str, module: str) -> str:
        """How the test names an exception class."""
        if module == "builtins" and name in _BUILTINS:
            return name
        if module == self.module and name.isidentifier():
            self.names.add(name)
            return name
        if module.split(".")[0] == self.package and name.isidentifier():
            self.imports.add(f"from {module} import {name}")
            return name
        return "Exception"


def _pattern(masked: str) -> str:
    """A regex source matching a repr whose addresses were masked, as a string literal."""
    # re.escape escapes spaces too (for verbose patterns): not needed here, and hard to read.
    parts = (re.escape(part).replace("\\ ", " ") for part in masked.split(MASK))
    pattern = ADDRESS_PATTERN.join(parts)
    if '"' not in pattern and "\n" not in pattern and not pattern.endswith("\\"):
        return f'r"{pattern}"'
    return repr(pattern)


def _fact_checks(facts: Mapping[str, Any], names: _Names) -> list[str]:
    """Asserts about ``result`` of the facts that held in every run, strongest first."""
    checks: list[str] = []
    ref = facts.get("type_ref")
    shown = names.type_expr(ref) if isinstance(ref, str) else None
    type_name = str(facts.get("type", ""))
    if shown is not None and ref != "NoneType":
        checks.append(f"assert isinstance(result, {shown})")
    elif type_name.isidentifier():
        checks.append(f"assert type(result).__name__ == {type_name!r}")
    text = facts.get("str")
    if isinstance(text, str) and text and _order_free(text):
        checks.append(f"assert str(result) == {text!r}")
    masked = facts.get("repr_masked")
    if isinstance(masked, str) and not _DEFAULT_REPR.match(masked) and "{" not in masked:
        names.stdlib.add("import re")
        checks.append(f"assert re.fullmatch({_pattern(masked)}, repr(result))")
    if isinstance(facts.get("keys"), list):
        checks.append(f"assert sorted(result) == [{', '.join(facts['keys'])}]")
    elif isinstance(facts.get("len"), int):
        checks.append(f"assert len(result) == {facts['len']}")
    sign = facts.get("sign")
    if sign in (-1, 0, 1):
        checks.append("assert result " + {1: "> 0", 0: "== 0", -1: "< 0"}[sign])
    for key, each in (("elements", "x in result"), ("value_types", "v in result.values()")):
        kinds = names.types_expr(facts.get(key) or [])
        if kinds is not None:
            item = each.split(" ")[0]
            checks.append(f"assert all(isinstance({item}, {kinds}) for {each})")
    attrs, attr_types = facts.get("attrs") or {}, facts.get("attr_types") or {}
    for attr in sorted(set(attrs) | set(attr_types)):
        if not attr.isidentifier():
            continue
        check = check_for(f"result.{attr}", attrs[attr], None) if attr in attrs else None
        if check is None and attr in attr_types:
            kind = names.type_expr(attr_types[attr])
            check = None if kind is None else f"assert isinstance(result.{attr}, {kind})"
        if check is not None:
            checks.append(check)
    return checks[: 1 + MAX_CHECKS]


def _raises_body(expr: str, facts: Mapping[str, Any], names: _Names) -> list[str] | None:
    name = facts.get("raises")
    if not isinstance(name, str) or not name:
        return None  # the runs raised different exceptions
    exception = names.exception(name, str(facts.get("raises_module", "")))
    head = f"    with pytest.raises({exception}{_match(facts.get('message'), names)}):"
    entered = entered_receiver(expr)
    if entered is not None:
        return [head, f"        with {entered}:", "            pass"]
    return [head, f"        {expr}"]


def _warned(call: Mapping[str, Any], body: list[str] | None, names: _Names) -> list[str] | None:
    """``body`` under ``pytest.warns`` when the call gave a warning of the module's own (the
    first; its message when it reads the same every time)."""
    warns = call.get("warns") or []
    if body is None or not warns or not isinstance(warns[0], list) or len(warns[0]) != 3:
        return body
    name, module, message = warns[0]
    category = names.exception(str(name), str(module))
    category = "Warning" if category == "Exception" else category
    head = f"    with pytest.warns({category}{_match(message, names)}):"
    return [head, *(f"    {line}" for line in body)]


def _match(message: object, names: _Names) -> str:
    """``pytest.raises``/``warns``' ``match=`` argument for a message that reads the same every
    time ("" for none)."""
    if not isinstance(message, str) or not message.strip() or not _order_free(message):
        return ""
    names.stdlib.add("import re")
    return f", match=re.escape({message!r})"


def _body(call: Mapping[str, Any], names: _Names) -> list[str] | None:
    return _printed(call, _warned(call, _plain_body(call, names), names))


def _printed(call: Mapping[str, Any], body: list[str] | None) -> list[str] | None:
    """``body`` then checks of what the call printed, read by pytest's ``capsys`` (when it
    printed the same every time: a program's output is what its user sees)."""
    printed = call.get("printed")
    if body is None or not isinstance(printed, Mapping):
        return body
    checks = [
        f"    assert captured.{stream} == {text!r}"
        for stream in ("out", "err")
        if isinstance(text := printed.get(stream), str) and text
    ]
    return [*body, "    captured = capsys.readouterr()", *checks] if checks else body


def _plain_body(call: Mapping[str, Any], names: _Names) -> list[str] | None:
    expr = operator_form(call["expr"])
    facts = call["facts"] if "facts" in call else _legacy_facts(call)
    if not isinstance(facts, Mapping):
        return None  # the runs did not all return, or all raise
    if "raises" in call or facts.get("kind") == "raises":
        return _raises_body(expr, facts, names)
    if expr.startswith("hash(") and call.get("type") == "int":
        # A hash of strings differs from one process to the next (PYTHONHASHSEED): its
        # value, even its sign, would make a flaky test.
        return [f"    result = {expr}", "    assert isinstance(result, int)"]
    stable = bool(call.get("stable"))
    text = call.get("repr") if stable else None
    shown = call.get("str") if stable else None
    exact = check_for("result", text, repr(shown) if isinstance(shown, str) else None)
    checks = [exact] if exact is not None else _fact_checks(facts, names)
    if not checks:
        return None
    entered = entered_receiver(expr)
    if entered is not None:
        return [f"    with {entered} as result:", *(f"        {c}" for c in checks)]
    if text in ("None", "True", "False"):
        return [f"    {_identity_check(expr, text)}"]
    return [f"    result = {expr}", *(f"    {c}" for c in checks)]


# Nodes that bind looser than ``is``: ``a != b is True`` would chain (``a != b and b is True``).
_LOOSE = (ast.Compare, ast.BoolOp, ast.IfExp, ast.Lambda, ast.NamedExpr)


def _identity_check(expr: str, text: str) -> str:
    """The assertion that ``expr`` is ``None``, ``True`` or ``False``: ``assert a != b`` for
    a comparison that holds (as a person writes it), ``assert (a < b) is False`` with the
    parentheses a looser expression needs."""
    try:
        node = ast.parse(expr, mode="eval").body
    except SyntaxError:
        return f"assert {expr} is {text}"
    if text == "True" and isinstance(node, ast.Compare):
        return f"assert {expr}"
    loose = isinstance(node, _LOOSE) or (
        isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)
    )
    return f"assert ({expr}) is {text}" if loose else f"assert {expr} is {text}"


def _safe(call: dict) -> bool:
    """Whether a kept call may become a test: it touched nothing outside the run and what it
    showed does not look like a credential."""
    if call.get("outside"):
        return False
    shown = [call.get(k) for k in ("expr", "repr", "str", "message")]
    shown += list((call.get("attrs") or {}).values())
    shown += list((call.get("printed") or {}).values())
    return all(usable_value(text) for text in shown if isinstance(text, str))


def render_tests(
    calls: Sequence[dict],
    module: str,
    kills: dict[str, str] | None = None,
    written: str = "",
) -> str | None:
    """A test module with one test per kept call, checking what it did; None if no call can be
    written as a test.  ``kills`` gets, per test name, the mutants its call was kept for
    (``", "``-joined: the same call can tell several mutants apart).  A call that touched the
    host outside its run, or showed what looks like a credential, never becomes a test; nor
    does one whose test would repeat, name aside, a test of ``written`` (the tests so far)."""
    have = bodies_of_tests(written)
    names = _Names(module)
    tests: list[str] = []
    taken: set[str] = set()
    seen: dict[str, str] = {}  # call → its test's name
    for call in calls:
        expr = call["expr"]
        if not _safe(call):
            continue
        if expr in seen:
            if kills is not None and call.get("kills") and seen[expr] in kills:
                kills[seen[expr]] += f", {call['kills']}"
            continue
        seen[expr] = ""
        try:
            free = _free_names(expr)
        except SyntaxError:
            continue
        body = _body(call, names)
        if body is None or "\n".join(body) in have:
            continue
        imports = call.get("imports") or {}  # ``dt`` → ``import datetime as dt``
        names.names |= free - set(imports)
        names.stdlib |= {imports[n] for n in free & set(imports)}
        name = seen[expr] = rename_rules(call, taken)
        if kills is not None and call.get("kills"):
            kills[name] = str(call["kills"])
        fixtures = "capsys" if any("capsys." in line for line in body) else ""
        tests.append("\n".join([f"def {name}({fixtures}):", *body]))
    if not tests:
        return None
    local = [f"from {module} import {', '.join(sorted(names.names))}"] if names.names else []
    groups = [  # as isort orders them: the standard library, pytest, the package's
        sorted(names.stdlib, key=lambda line: line.split()[1]),
        ["import pytest"] if any("pytest." in t for t in tests) else [],
        local + sorted(names.imports),
    ]
    header = ["\n".join(group) for group in groups if group]
    return "\n\n".join(header) + "\n\n\n" + "\n\n\n".join(tests) + "\n"


def bodies_of_tests(code: str) -> set[str]:
    """The bodies (every line after the ``def``) of the top-level tests of ``code``."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    lines = code.splitlines()
    return {
        "\n".join(lines[node.body[0].lineno - 1 : node.end_lineno])
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test") and node.body
    }
