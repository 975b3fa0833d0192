"""Tests a person keeps, by rule: names that say the behaviour, operators instead of dunders.

No model: what a rule can do is done here, for every explored test, before any model call
(:mod:`agents.cover.rewrite` asks the model for what rules cannot do).

- :func:`rename_rules`: a test name from the function called, the outcome and the arguments:
  ``test_grade_returns_b_for_80``, ``test_counter_bump_raises_value_error_for_minus_1``,
  ``test_roll_returns_a_positive_int``; unique within the module.
- :func:`operator_form`: ``len(box)`` for ``box.__len__()``, ``a == b`` for ``a.__eq__(b)``;
  :func:`entered_receiver`: ``with lock:`` for ``lock.__enter__()``.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Mapping
from typing import Any

MAX_NAME = 72  # characters of a test name
MAX_SLUG = 16  # characters of one argument or value in a name
_BUILTINS = frozenset(dir(builtins))
TYPE_WORDS = {
    "str": "string", "NoneType": "none", "bytes": "bytes", "dict": "dict", "list": "list",
    "tuple": "tuple", "set": "set", "frozenset": "frozenset", "int": "int", "float": "float",
    "bool": "bool",
}  # fmt: skip
# A dunder method called by name, as the builtin or operator that calls it: {0} the receiver,
# {1} the argument.  Only forms that call the method and return what it returned.
OPERATOR_FORMS = {
    "__len__": "len({0})", "__str__": "str({0})", "__repr__": "repr({0})",
    "__bool__": "bool({0})", "__hash__": "hash({0})", "__iter__": "iter({0})",
    "__next__": "next({0})", "__abs__": "abs({0})", "__neg__": "-{0}", "__pos__": "+{0}",
    "__invert__": "~{0}", "__int__": "int({0})", "__float__": "float({0})",
    "__round__": "round({0})", "__bytes__": "bytes({0})", "__format__": "format({0}, {1})",
    "__eq__": "{0} == {1}", "__ne__": "{0} != {1}", "__lt__": "{0} < {1}",
    "__le__": "{0} <= {1}", "__gt__": "{0} > {1}", "__ge__": "{0} >= {1}",
    "__add__": "{0} + {1}", "__sub__": "{0} - {1}", "__mul__": "{0} * {1}",
    "__truediv__": "{0} / {1}", "__floordiv__": "{0} // {1}", "__mod__": "{0} % {1}",
    "__pow__": "{0} ** {1}", "__and__": "{0} & {1}", "__or__": "{0} | {1}",
    "__xor__": "{0} ^ {1}", "__matmul__": "{0} @ {1}", "__contains__": "{1} in {0}",
    "__getitem__": "{0}[{1}]",
}  # fmt: skip
_RECEIVER, _ARGUMENT = "_assay_receiver", "_assay_argument"
# A comparison before a number, as words (a version range ``'>=1.0.0'``, a bound ``'<5'``).
COMPARISON_WORDS = {
    ">=": "at_least", "<=": "at_most", "==": "equal_to", "!=": "not", ">": "above", "<": "below",
}  # fmt: skip
_COMPARISON = re.compile(r"(?:>=|<=|==|!=|>|<)(?=\s*\d)")


# -- dunder calls ----------------------------------------------------------------------------


class _Operators(ast.NodeTransformer):
    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        if not isinstance(func, ast.Attribute) or node.keywords:
            return node
        if any(isinstance(a, ast.Starred) for a in node.args):
            return node
        if func.attr == "__call__":
            return ast.Call(func=func.value, args=node.args, keywords=[])
        form = OPERATOR_FORMS.get(func.attr)
        if form is None or len(node.args) != ("{1}" in form):
            return node
        parts = {_RECEIVER: func.value, _ARGUMENT: node.args[0] if node.args else None}
        template = ast.parse(form.format(_RECEIVER, _ARGUMENT), mode="eval").body
        return _Fill(parts).visit(template)


class _Fill(ast.NodeTransformer):
    def __init__(self, parts: Mapping[str, ast.expr | None]) -> None:
        self.parts = parts

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return self.parts.get(node.id) or node


def operator_form(expr: str) -> str:
    """``expr`` with each dunder method called by name written as its builtin or operator
    (``len(box)``, ``a == b``, ``box[0]``, ``f(1)`` for ``f.__call__(1)``); as is otherwise."""
    if ".__" not in expr:
        return expr
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        return expr
    before = ast.dump(tree)
    tree = ast.fix_missing_locations(_Operators().visit(tree))
    return expr if ast.dump(tree) == before else ast.unparse(tree)


def entered_receiver(expr: str) -> str | None:
    """``lock`` when ``expr`` is ``lock.__enter__()`` (a test says ``with lock:``)."""
    try:
        node = ast.parse(expr, mode="eval").body
    except SyntaxError:
        return None
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "__enter__"
        and not node.args
        and not node.keywords
    ):
        return ast.get_source_segment(expr, node.func.value)
    return None


# -- names -----------------------------------------------------------------------------------


def snake(name: str) -> str:
    """``ShapeError`` → ``shape_error``, ``HTTPServer`` → ``http_server``, ``__len__`` → ``len``."""
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name.strip("_"))
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _slug(value: object) -> str | None:
    """A value as part of a name (``80``, ``minus_1``, ``0_5``, ``b``, ``at_least_1_0_0`` for
    ``'>=1.0.0'``, ``50_percent``), if it is short and says the value: None for a string whose
    symbols a name would drop (``'-1.00 x 10³³'`` is no ``1_00_x_10``)."""
    if value is None or isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        text = ("minus_" if value < 0 else "") + re.sub(r"\W+", "_", repr(abs(value)))
    elif isinstance(value, str):
        if not value:
            return "empty_string"
        text = re.sub(r"(?:^|(?<=\s))-(?=\d)", " minus ", value.lower())
        text = re.sub(_COMPARISON, lambda m: f" {COMPARISON_WORDS[m[0]]} ", text)
        text = re.sub(r"(?<=\d)\s*%", " percent ", text)
        if re.search(r"[^a-z0-9\s._,:/+'\"()\[\]-]", text):
            return None
        text = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    else:
        return None
    return text if text and len(text) <= MAX_SLUG else None


def _article(word: str) -> str:
    return ("an_" if word[:1] in "aeiou" else "a_") + word


def _type_word(name: str) -> str:
    return TYPE_WORDS.get(name) or snake(name) or "value"


def _top_call(expr: str) -> ast.expr | None:
    """The call a test is about: ``list(gen(3))`` is about ``gen(3)``."""
    try:
        node = ast.parse(expr, mode="eval").body
    except SyntaxError:
        return None
    while (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "list"
        and len(node.args) == 1
        and not node.keywords
    ):
        node = node.args[0]
    return node


def _called(node: ast.expr | None, target: str) -> str:
    """What a test calls, as a name part: ``grade``, ``counter_bump``, ``box_len``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        name = node.func.id
        if name in _BUILTINS and node.args:
            inner = _called(node.args[0], target)
            return f"{inner}_{snake(name)}" if inner else snake(name)
        return snake(name)
    if isinstance(node, ast.Call | ast.Attribute):
        attr = node.func if isinstance(node, ast.Call) else node
        if isinstance(attr, ast.Attribute):
            receiver = attr.value
            if isinstance(receiver, ast.Call):
                receiver = receiver.func
            owner = receiver.id if isinstance(receiver, ast.Name) else ""
            owner = owner or (target.split(".")[0] if "." in target else "")
            return "_".join(p for p in (snake(owner), snake(attr.attr)) if p)
    parts = [p for p in target.split(".") if p and p not in ("__init__", "<explored>")]
    return "_".join(snake(p) for p in parts[-2:] if snake(p))


def _given(node: ast.expr | None) -> str:
    """``for_80``, ``for_minus_1_and_2``: the call's literal arguments, when short."""
    if not isinstance(node, ast.Call):
        return ""
    values = list(node.args) + [k.value for k in node.keywords]
    if not 1 <= len(values) <= 2:
        return ""
    slugs = []
    for value in values:
        try:
            slug = _slug(ast.literal_eval(value))
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return ""
        if slug is None:
            return ""
        slugs.append(slug)
    return "for_" + "_and_".join(slugs)


def _exact(call: Mapping[str, Any]) -> tuple[bool, object]:
    if not call.get("stable") or not isinstance(call.get("repr"), str):
        return False, None
    try:
        return True, ast.literal_eval(call["repr"])
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def _returns_value(value: object) -> str:
    if value is None or isinstance(value, bool | int | float | str):
        slug = _slug(value)
        if slug == "empty_string":
            return "returns_an_empty_string"
        if slug is not None:
            return "returns_" + slug
        return "returns_" + _article(_type_word(type(value).__name__))
    word = _type_word(type(value).__name__)
    size = len(value) if isinstance(value, list | tuple | dict | set | frozenset | bytes) else None
    if size == 0:
        return "returns_an_empty_" + word
    return "returns_" + _article(word) + (f"_of_{size}" if size else "")


def _returns_facts(facts: Mapping[str, Any], constructor: bool) -> str:
    word = _type_word(str(facts.get("type", "")))
    literal = sorted(facts.get("attrs") or {})  # attributes with a checked value first
    attrs = literal + sorted(set(facts.get("attr_types") or {}) - set(literal))
    if constructor:
        return "sets_" + "_and_".join(attrs[:2]) if attrs else "creates_" + _article(word)
    sign = facts.get("sign")
    if sign == 0:
        return "returns_zero"
    if sign in (1, -1):
        return "returns_" + _article(("positive_" if sign == 1 else "negative_") + word)
    keys = [_slug(_safe_literal(k)) for k in facts.get("keys") or []]
    if 1 <= len(keys) <= 2 and all(keys):
        return f"returns_{_article(word)}_with_{'_and_'.join(str(k) for k in keys)}"
    elements = [_type_word(e.split(":")[-1]) for e in facts.get("elements") or []]
    size = facts.get("len")
    if len(elements) == 1:
        count = f"{size}_" if isinstance(size, int) and size else ""
        return f"returns_{_article(word)}_of_{count}{elements[0]}s"
    if isinstance(size, int) and word in ("list", "tuple", "set", "dict", "frozenset"):
        return f"returns_{_article(word)}_of_{size}"
    if attrs:
        return f"returns_{_article(word)}_with_{attrs[0]}"
    return "returns_" + _article(word)


def _safe_literal(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _outcome(call: Mapping[str, Any], node: ast.expr | None) -> str:
    facts = call.get("facts") if isinstance(call.get("facts"), Mapping) else {}
    raised = call.get("raises") or (facts or {}).get("raises")
    if raised:
        return "raises_" + (snake(str(raised)) or "an_error")
    printed = call.get("printed") if isinstance(call.get("printed"), Mapping) else {}
    out = str((printed or {}).get("out") or "").strip()
    if out and "\n" not in out and (slug := _slug(out)) is not None:
        return f"prints_{slug}"  # a program's output says more than its exit code
    exact, value = _exact(call)
    if exact:
        return _returns_value(value)
    facts = dict(facts or {})
    facts.setdefault("type", call.get("type", ""))
    if "attrs" not in facts and call.get("attrs") and call.get("stable"):
        facts["attrs"] = call["attrs"]
    constructor = (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == facts.get("type")
    )
    return _returns_facts(facts, constructor)


def rename_rules(call: Mapping[str, Any], taken: set[str]) -> str:
    """A test name for an explored call (the driver's item: ``expr``, ``target``, ``stable``,
    ``repr``, ``raises``, ``facts``), unique among ``taken`` (the name is added to it)."""
    expr = str(call.get("expr", ""))
    node = _top_call(operator_form(expr))
    subject = _called(node, str(call.get("target") or "")) or "call"
    name = f"test_{subject}_{_outcome(call, node)}"
    given = _given(node)
    if given and len(name) + 1 + len(given) <= MAX_NAME:
        name = f"{name}_{given}"
    name = re.sub(r"_+", "_", name)[:MAX_NAME].rstrip("_")
    unique, number = name, 2
    while unique in taken:
        unique = f"{name}_{number}"
        number += 1
    taken.add(unique)
    return unique
