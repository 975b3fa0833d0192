"""Tests a person keeps: the model's rewrite of an explored test, for what rules cannot do.

Explored tests are named and written by rule first (:mod:`agents.cover.rewrite_rules`).  What a
rule cannot do, a short model call can: a name that says the behaviour, arguments that make
sense for the function (its docstring, defaults and literals suggest them).  One call per test
(:func:`rewrite_test`): the function's signature and docstring
(:func:`agents.cover.rewrite_context.rewrite_context`), the test, the instruction; bounded
``max_tokens``, a stop sequence, hung up once the code block closes.  The reply is judged by the
AST (:func:`judge_rewrite`): a test function calling the same code, with at least as many
checks, no new names, no imports — else it is refused and the original stays.  An accepted
rewrite still has to pass every gate and kill at least the mutants the original killed: that is
the caller's job.
"""

from __future__ import annotations

import ast
import builtins
import copy
import textwrap
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

from agents.cover import rewrite_prompts as prompts
from agents.cover.rewrite_names import added, naming_problem, unchecked_value
from agents.cover.rewrite_rules import operator_form as operator_form
from agents.cover.rewrite_rules import rename_rules as rename_rules
from agents.cover.rewrite_rules import snake
from flows import CodeAnswer, FlowRunner, RetryPolicy, Route, Stage, StageFailed

REWRITE_TOKENS = 160  # a short test function; the caller may give more
MAX_NAME = 80
MAX_LINES = 14  # a rewrite longer than this and twice the original is refused
_BUILTINS = frozenset(dir(builtins))
# Builtins a rewrite may not start using: they reach files, the interpreter or hidden names.
DENIED = frozenset({
    "exec", "eval", "compile", "open", "__import__", "input", "breakpoint", "exit", "quit",
    "globals", "locals", "vars", "getattr", "setattr", "delattr", "help", "memoryview",
})  # fmt: skip
_FORBIDDEN = (
    ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal, ast.FunctionDef, ast.AsyncFunctionDef,
    ast.ClassDef, ast.While, ast.Try, ast.Await, ast.AsyncWith, ast.AsyncFor, ast.Yield,
    ast.YieldFrom,
)  # fmt: skip

REWRITE_STAGE = Stage(
    name="rewrite_test",
    template=prompts.REWRITE,
    system=prompts.SYSTEM,
    schema=CodeAnswer,
    fmt="python",
    route=Route(temperature=0.2),
    retry=RetryPolicy(repairs=0),
    max_tokens=REWRITE_TOKENS,
    stop=("\n```\n",),
)


@dataclass(frozen=True)
class Verdict:
    """What :func:`judge_rewrite` made of a reply: the test function's source when accepted,
    else None, and why in a few words."""

    source: str | None
    reason: str


def _tests(code: str) -> list[ast.FunctionDef]:
    """The test functions of ``code`` when it holds nothing else (imports aside), else [].  A
    last function cut off (the reply ran out of tokens) is left out, the ones before it kept."""
    text = textwrap.dedent(code)
    while True:
        try:
            tree = ast.parse(text)
            break
        except SyntaxError:
            cut = text.rfind("\ndef ")
            if cut < 0:
                return []
            text = text[:cut]
    body = [n for n in tree.body if not isinstance(n, ast.Import | ast.ImportFrom)]
    tests = [n for n in body if isinstance(n, ast.FunctionDef) and n.name.startswith("test")]
    return tests if len(tests) == len(body) else []


def _single_test(code: str) -> ast.FunctionDef | None:
    """The one test function of ``code`` (imports aside), or None."""
    tests = _tests(code)
    return tests[0] if len(tests) == 1 else None


def _called(fn: ast.FunctionDef) -> Counter[str]:
    """What the test calls: names and method names, counted."""
    found: Counter[str] = Counter()
    for node in ast.walk(fn):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                found[func.id] += 1
            elif isinstance(func, ast.Attribute):
                found[func.attr] += 1
    return found


def _free_names(fn: ast.FunctionDef) -> set[str]:
    """Names the test reads but does not bind itself."""
    bound: set[str] = set()
    loaded: set[str] = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return loaded - bound


def _raises(fn: ast.FunctionDef) -> tuple[Counter[str], int]:
    """The exceptions of its ``pytest.raises`` (counted) and how many say ``match=``."""
    kinds: Counter[str] = Counter()
    matches = 0
    for node in ast.walk(fn):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "raises"
            and node.args
        ):
            kinds[ast.dump(node.args[0])] += 1
            matches += any(k.arg == "match" for k in node.keywords)
    return kinds, matches


def _asserts(fn: ast.FunctionDef) -> int:
    """Its asserts that check something (``assert True`` does not)."""
    return sum(not isinstance(a.test, ast.Constant) for a in ast.walk(fn) if type(a) is ast.Assert)


def _loose(fn: ast.FunctionDef) -> int:
    """Its comparisons with ``None``, ``True`` or ``False`` by ``==`` or ``!=`` (``is`` says it)."""
    return sum(
        isinstance(op, ast.Eq | ast.NotEq) and isinstance(right, ast.Constant)
        and any(right.value is c for c in (None, True, False))
        for node in ast.walk(fn) if isinstance(node, ast.Compare)
        for op, right in zip(node.ops, node.comparators, strict=True)
    )  # fmt: skip


def _exact(fn: ast.FunctionDef) -> int:
    """Its asserts that pin a value (``assert result == ' '``, ``is None``), not only a type or
    a length (``isinstance(result, str)``, ``len(result) == 6``)."""

    def pins(test: ast.expr) -> bool:
        if not isinstance(test, ast.Compare) or not isinstance(test.ops[0], ast.Eq | ast.Is):
            return False
        sides = [test.left, *test.comparators]
        return not any(
            isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in _SHAPE
            for side in sides
            for n in ast.walk(side)
        )

    return sum(1 for node in ast.walk(fn) if isinstance(node, ast.Assert) and pins(node.test))


_SHAPE = {"len", "type", "isinstance"}  # what checks a kind or a size, not the value


def _dunders(fn: ast.FunctionDef) -> set[str]:
    return {n.attr for n in ast.walk(fn) if isinstance(n, ast.Attribute) and n.attr[:2] == "__"}


def _problem(before: ast.FunctionDef, after: ast.FunctionDef) -> str | None:
    """Why ``after`` may not replace ``before``, or None."""
    if not after.name.startswith("test_") or len(after.name) > MAX_NAME:
        return "not a test name"
    if ast.dump(after.args) != ast.dump(before.args):
        return "other parameters"
    if [ast.dump(d) for d in after.decorator_list] != [ast.dump(d) for d in before.decorator_list]:
        return "other decorators"
    allowed = {type(n) for n in list(ast.walk(before))[1:]}
    if any(isinstance(n, _FORBIDDEN) and type(n) not in allowed for n in list(ast.walk(after))[1:]):
        return "a statement a test does not need"
    if _dunders(after) - _dunders(before):
        return "a dunder attribute"
    before_free = _free_names(before)
    new = _free_names(after) - before_free
    if any(name not in _BUILTINS or name in DENIED for name in new):
        return "a name the test does not have"
    if _asserts(after) < _asserts(before):
        return "fewer checks"
    if _exact(after) < _exact(before):
        return "a weaker check"  # ``== ' '`` made ``isinstance(result, str)``
    if _loose(after) > _loose(before):
        return "== None"  # ``result.value is None`` made ``result.value == None``
    if _asserts(after) > max(2, _asserts(before) + 1):
        return "several behaviours"  # one test a behaviour: ``ordinal(1)`` … ``ordinal(111)``
    kinds_before, matches_before = _raises(before)
    kinds_after, matches_after = _raises(after)
    if kinds_before - kinds_after or matches_after < matches_before:
        return "fewer checks"
    if _called(before) - _called(after):
        return "does not call the same code"
    size = (after.end_lineno or after.lineno) - after.lineno + 1
    if size > max(MAX_LINES, 2 * ((before.end_lineno or before.lineno) - before.lineno + 1)):
        return "too long"
    naming = naming_problem(before.name, after.name)
    return naming or unchecked_value(before, after)


def adds_nothing(
    before: ast.FunctionDef | str,
    after: ast.FunctionDef | str,
    defaults: dict[str, str] | None = None,
) -> bool:
    """Whether test ``after`` (a function or its source) is ``before`` with another name that
    says no word of its own (``…_tuple_of_2_2`` → ``…_tuple_of_2_3``).  With ``defaults`` (a
    parameter's name → its default's source, :func:`defaults_of`), a keyword argument passed
    as its default is no change either (``naturalsize(1)`` → ``naturalsize(1, binary=False)``)."""
    old = _single_test(before) if isinstance(before, str) else before
    new = _single_test(after) if isinstance(after, str) else after
    if old is None or new is None:
        return False
    body = [_without_defaults(n, defaults or {}) for n in new.body]
    same_body = [ast.dump(n) for n in body] == [ast.dump(n) for n in old.body]
    return same_body and not added(old.name, new.name)


def only_keywords_added(before: ast.FunctionDef, after: ast.FunctionDef) -> bool:
    """Whether ``after`` is ``before`` under the same name with keyword arguments added to its
    calls and nothing else changed."""
    if after.name != before.name:
        return False
    known = {k.arg for n in ast.walk(before) if isinstance(n, ast.Call) for k in n.keywords}
    body = [_keeping_keywords(n, lambda k: k.arg in known) for n in after.body]
    same = [ast.dump(n) for n in body] == [ast.dump(n) for n in before.body]
    return same and [ast.dump(n) for n in after.body] != [ast.dump(n) for n in before.body]


def _without_defaults(node: ast.stmt, defaults: dict[str, str]) -> ast.stmt:
    """``node`` with every keyword argument that passes its default left out."""
    if not defaults:
        return node
    return _keeping_keywords(node, lambda k: not _passes_default(k, defaults))


def _keeping_keywords(node: ast.stmt, keep: Callable[[ast.keyword], bool]) -> ast.stmt:
    """A copy of ``node`` whose calls pass only the keyword arguments ``keep`` says yes to."""
    node = copy.deepcopy(node)
    for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
        call.keywords = [k for k in call.keywords if keep(k)]
    return node


def _passes_default(keyword: ast.keyword, defaults: dict[str, str]) -> bool:
    return keyword.arg is not None and defaults.get(keyword.arg) == ast.unparse(keyword.value)


def judge_rewrite(original: str, reply_code: str) -> Verdict:
    """Whether ``reply_code`` (the code of the model's reply) may replace the test function
    ``original``: it must be a test function (imports in the reply are dropped), with the
    same parameters and decorators, calling what the original calls, with at least as many
    asserts, exact checks (``== 'B'``, not ``isinstance``) and ``pytest.raises`` (and their
    ``match=``), a name that says no value its body does not, reading no name the original does
    not (builtins aside, but not ``open``, ``eval``, ``getattr``…), without imports, loops,
    ``try``, nested definitions or dunder attributes of its own.  A reply of several test
    functions (the model split the test, or added others) gives the first that passes, if any."""
    before = _single_test(original)
    if before is None:
        return Verdict(None, "the original is not one test function")
    text = textwrap.dedent(reply_code)
    tests = _tests(text)
    if not tests:
        return Verdict(None, "not one test function")
    verdicts = [_judge_one(before, after, text) for after in tests]
    if len(tests) == 1:
        return verdicts[0]
    kept = (v for v in verdicts if v.source is not None)
    return next(kept, Verdict(None, "not one test function"))


def _judge_one(before: ast.FunctionDef, after: ast.FunctionDef, text: str) -> Verdict:
    if ast.dump(after) == ast.dump(before):
        return Verdict(None, "unchanged")
    problem = _problem(before, after)
    if problem is not None:
        return Verdict(None, problem)
    if adds_nothing(before, after):
        # ``…_returns_3_0_mb_for_3000000`` → ``…_3_0_mb_for_3000000``: churn, not a better test
        return Verdict(None, "a rename that adds nothing")
    if only_keywords_added(before, after):
        # ``naturaltime(d)`` → ``naturaltime(d, future=True, months=False)``, the name and the
        # checks as they were: arguments no check and no word of the test is about
        return Verdict(None, "arguments the test does not check")
    lines = text.splitlines()
    source = "\n".join(lines[_first(after) - 1 : after.end_lineno]).rstrip() + "\n"
    return Verdict(source, "accepted")


def subject_of(fn: ast.FunctionDef) -> str:
    """The code a test is about, as it calls it: ``grade``, ``Counter.bump``."""
    for node in ast.walk(fn):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id not in _BUILTINS:
            return func.id
        if isinstance(func, ast.Attribute) and func.attr != "raises":
            receiver = func.value.func if isinstance(func.value, ast.Call) else func.value
            owner = receiver.id if isinstance(receiver, ast.Name) else ""
            return f"{owner}.{func.attr}" if owner else func.attr
    return "the code"


def rewrite_test(
    runner: FlowRunner, test_source: str, context: str, max_tokens: int = REWRITE_TOKENS
) -> Verdict:
    """The model's rewrite of one test function (a better name, sensible arguments, the same
    checks) as the verdict's ``source``, None there when the reply is refused
    (:func:`judge_rewrite`) or unusable; the verdict's ``reason`` says why.

    ``context``: what the model sees of the code (:func:`rewrite_context`).  One call, traced
    as stage ``rewrite_test`` with a ``rewrite`` step saying the verdict.  Raises what the
    runner raises for a spent budget or an unreachable model.
    """
    original = _single_test(test_source)
    if original is None:
        return Verdict(None, "not one test function")
    function = subject_of(original)
    variables = {
        "context": context.strip() or "# (not shown)",
        "test": textwrap.dedent(test_source).strip(),
        "function": function,
        "stem": "_".join(snake(p) for p in function.split(".") if snake(p)) or "it",
    }
    stage = replace(REWRITE_STAGE, max_tokens=max_tokens)
    try:
        answer = runner.run(stage, variables).value
    except StageFailed:
        runner.step("rewrite", test=original.name, verdict="no code in the reply")
        return Verdict(None, "no code in the reply")
    verdict = judge_rewrite(test_source, answer.code)
    runner.step("rewrite", test=original.name, verdict=verdict.reason)
    return verdict


def split_tests(code: str) -> dict[str, str]:
    """The source of each top-level test function of a test module, by name."""
    tree = ast.parse(code)
    lines = code.splitlines()
    return {
        node.name: "\n".join(lines[_first(node) - 1 : node.end_lineno]) + "\n"
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test")
    }


def replace_test(code: str, name: str, new_source: str) -> str:
    """``code`` with its test function ``name`` replaced by ``new_source`` (unchanged when it
    has no such test)."""
    tree = ast.parse(code)
    lines = code.splitlines()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            lines[_first(node) - 1 : node.end_lineno] = new_source.rstrip("\n").splitlines()
            return "\n".join(lines) + "\n"
    return code


def _first(node: ast.FunctionDef) -> int:
    return min([node.lineno, *(d.lineno for d in node.decorator_list)])
