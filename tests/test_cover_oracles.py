"""Explored tests that catch bugs and read like a person's: stronger oracles, rule-made names, the
model's rewrite.

The driver runs in the real sandbox on a fixture module whose results vary between runs; the
tests it yields run in a real pytest process, on the module and on broken copies of it.  The
model is the scripted fake server.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from agents.cover.explore import explore, render_tests
from agents.cover.rewrite import (
    judge_rewrite,
    replace_test,
    rewrite_context,
    rewrite_test,
    split_tests,
)
from agents.cover.rewrite_rules import operator_form, rename_rules
from agents.cover.targets import Target
from flows import FlowRunner, LLMClient, Sandbox, TraceWriter, read_trace
from tests.fakes.openai_server import FakeOpenAI

VARYING = '''\
"""Results that vary between runs, and a counter."""
import random
import time


class Counter:
    """Counts up by a step.

    >>> Counter().bump(by=-1)
    """

    def __init__(self, start=0):
        self.count = start

    def bump(self, by=1):
        if by < 0:
            raise ValueError("negative step")
        self.count += by
        return self.count


class Event:
    def __init__(self, kind):
        self.kind = kind
        self.at = time.time()


def lucky(n):
    """Distinct lucky numbers.

    >>> lucky(3)
    """
    return set(random.sample(range(1, 1000), n))


def stamp(name):
    """>>> stamp('build')"""
    return {"name": name, "at": time.time()}


def make_event(kind):
    """>>> make_event('start')"""
    return Event(kind)


def roll(sides):
    """>>> roll(6)"""
    return random.randint(1, 1000) * sides


def token(n):
    """>>> token(0)"""
    raise KeyError("missing at %f" % time.time())
'''

# Bugs each explored test must catch, though no exact value could be checked.
BUGS = {
    "test_counter_bump": ('raise ValueError("negative step")', 'raise ValueError("bad step")'),
    "test_lucky": ("range(1, 1000), n)", "range(1, 1000), n - 1)"),
    "test_stamp": ('"at": time.time()', '"when": time.time()'),
    "test_make_event": ("self.kind = kind", "self.kind = kind.upper()"),
    "test_roll": ("* sides", "* -sides"),
    "test_token": ('raise KeyError("missing', 'raise LookupError("missing'),
}


def _targets(source: str) -> list[Target]:
    """One target per function, its goal the line each example reaches (the driver stops as
    soon as every goal is reached: only the examples run)."""
    lines = source.splitlines()
    goals = {
        name: next(n for n, text in enumerate(lines, 1) if text.strip().startswith(start))
        for name, start in [
            ("Counter.bump", 'raise ValueError("negative'),
            ("lucky", "return set("),
            ("stamp", 'return {"name"'),
            ("make_event", "return Event("),
            ("roll", "return random.randint"),
            ("token", "raise KeyError"),
        ]
    }
    return [
        Target("varying.py", "varying", "", name, line - 1, line, (line,), ())
        for name, line in goals.items()
    ]


def _pytest(path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A plain pytest run of one test file (no plugins: they only slow the start)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)],
        cwd=cwd, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )  # fmt: skip


def test_varying_results_are_checked_by_what_held_in_every_run(tmp_path: Path) -> None:
    repo = tmp_path / "proj"
    repo.mkdir()
    (repo / "varying.py").write_text(VARYING)
    with Sandbox(repo) as sandbox:
        found = explore(sandbox, repo, _targets(VARYING), seconds=10, pythonpath="")
    assert found.error == ""
    by_expr = {c["expr"]: c for c in found.calls}
    assert not by_expr["lucky(3)"]["stable"] and not by_expr["token(0)"]["stable"]
    assert by_expr["lucky(3)"]["facts"] == {
        "kind": "value", "type": "set", "type_ref": "set", "len": 3, "elements": ["int"],
    }  # fmt: skip
    code = render_tests(found.calls, "varying")
    assert code is not None
    for expected in [
        # An exception whose message is stable is matched by it; one whose message varies
        # (a timestamp) by its type only.
        "def test_counter_bump_raises_value_error_for_minus_1():\n"
        "    with pytest.raises(ValueError, match=re.escape('negative step')):\n"
        "        Counter().bump(by=-1)\n",
        "def test_token_raises_key_error_for_0():\n    with pytest.raises(KeyError):\n",
        # A set of random numbers: its type, size and element type.
        "def test_lucky_returns_a_set_of_3_ints_for_3():\n    result = lucky(3)\n"
        "    assert isinstance(result, set)\n    assert len(result) == 3\n"
        "    assert all(isinstance(x, int) for x in result)\n",
        # A dict with a timestamp: its keys.
        "    assert sorted(result) == ['at', 'name']\n",
        # An object that differs every time: its stable attribute, and the type of the other.
        "def test_make_event_returns_an_event_with_kind_for_start():\n"
        "    result = make_event('start')\n    assert isinstance(result, Event)\n"
        "    assert isinstance(result.at, float)\n    assert result.kind == 'start'\n",
        # A random number: its sign.
        "    result = roll(6)\n    assert isinstance(result, int)\n    assert result > 0\n",
    ]:
        assert expected in code, code
    assert code.startswith("import re\n\nimport pytest\n\nfrom varying import Counter, Event, ")

    # The tests pass, again and again, in another process (other addresses, hash seed, times)...
    test_file = repo / "test_varying.py"
    test_file.write_text(code)
    for _ in range(2):
        run = _pytest(test_file, repo)
        assert run.returncode == 0, run.stdout
    # ...and each catches a bug in what it checks (each test calls one function: with a bug in
    # each function, each test fails for its own).
    broken = VARYING
    for old, new in BUGS.values():
        assert old in broken
        broken = broken.replace(old, new)
    (repo / "varying.py").write_text(broken)
    run = _pytest(test_file, repo)
    failed = re.findall(r"FAILED \S+::(test_\w+)", run.stdout)
    for test in BUGS:
        assert [name for name in failed if name.startswith(test)], (test, run.stdout)


def test_checks_of_facts_are_written_only_for_what_held_in_every_run() -> None:
    calls = [
        # The runs did not agree on returning or raising: no test at all.
        {"target": "flaky", "expr": "flaky(1)", "stable": False, "facts": None},
        # The runs raised different exceptions.
        {"target": "f", "expr": "f(2)", "stable": False, "raises": "KeyError",
         "facts": {"kind": "raises"}},
        # An object whose repr holds an address: checked by a masked pattern.
        {"target": "Node.__init__", "expr": "Node(1, Node(2))", "stable": True,
         "repr": "Node(1, next=<m.Node object at 0x7f1>)", "type": "Node",
         "facts": {"kind": "value", "type": "Node", "type_ref": "m:Node",
                   "repr_masked": "Node(1, next=<m.Node object at 0x\u2026>)",
                   "attrs": {"value": "1"}, "attr_types": {"value": "int"}}},
        # A context manager's __enter__: written as `with`.
        {"target": "Lock.__enter__", "expr": "Lock('a').__enter__()", "stable": True,
         "repr": "'a'", "type": "str", "facts": {"kind": "value", "type": "str"}},
        {"target": "Lock.__enter__", "expr": "Lock('').__enter__()", "stable": True,
         "raises": "ValueError", "raises_module": "builtins", "message": "no name",
         "facts": {"kind": "raises", "raises": "ValueError", "raises_module": "builtins",
                   "message": "no name"}},
        # A dunder called by name: written as the builtin.
        {"target": "Box.__len__", "expr": "Box([1, 2]).__len__()", "stable": True,
         "repr": "2", "type": "int", "facts": {"kind": "value", "type": "int"}},
        # A message with a set of strings in it prints in another order in another process.
        {"target": "g", "expr": "g(3)", "stable": True, "raises": "ValueError",
         "raises_module": "builtins", "facts": {"kind": "raises", "raises": "ValueError",
                                               "raises_module": "builtins",
                                               "message": "unknown {'a', 'b'}"}},
    ]  # fmt: skip
    code = render_tests(calls, "m")
    assert code is not None
    assert "flaky" not in code and "f(2)" not in code
    assert (
        "def test_node_sets_value():\n    result = Node(1, Node(2))\n"
        "    assert isinstance(result, Node)\n"
        '    assert re.fullmatch(r"Node\\(1, next=<m\\.Node object at 0x[0-9a-fA-F]+>\\)", '
        "repr(result))\n    assert result.value == 1\n"
    ) in code, code
    assert "def test_lock_enter_returns_a():\n    with Lock('a') as result:\n" in code
    assert "        assert result == 'a'\n" in code
    assert (
        "    with pytest.raises(ValueError, match=re.escape('no name')):\n"
        "        with Lock(''):\n            pass\n"
    ) in code
    assert "def test_box_len_returns_2():\n    result = len(Box([1, 2]))\n" in code
    assert "def test_g_raises_value_error_for_3():\n    with pytest.raises(ValueError):\n" in code
    # The pattern matches such a repr whatever the address.
    (pattern,) = re.findall(r"re\.fullmatch\((r\".*?\"), repr", code)
    assert re.fullmatch(ast.literal_eval(pattern), "Node(1, next=<m.Node object at 0xabc>)")


def test_rules_name_a_test_after_the_call_and_its_outcome() -> None:
    taken: set[str] = set()

    def name(expr: str, **call: object) -> str:
        return rename_rules({"expr": expr, "target": expr.split("(")[0], **call}, taken)

    assert name("grade(80)", stable=True, repr="'B'") == "test_grade_returns_b_for_80"
    assert name("grade(80)", stable=True, repr="'B'") == "test_grade_returns_b_for_80_2"
    assert (
        name("Counter(start=2).bump(by=-1)", stable=True, raises="ValueError")
        == "test_counter_bump_raises_value_error_for_minus_1"
    )
    assert name("is_even(3)", stable=True, repr="False") == "test_is_even_returns_false_for_3"
    assert name("parse('')", stable=True, repr="None") == "test_parse_returns_none_for_empty_string"
    assert name("split('a b')", stable=True, repr="['a', 'b']") == (
        "test_split_returns_a_list_of_2_for_a_b"
    )
    assert (
        name("roll(6)", stable=False, facts={"kind": "value", "type": "int", "sign": 1})
        == "test_roll_returns_a_positive_int_for_6"
    )
    assert name("list(walk(Tree()))", stable=True, repr="[]") == "test_walk_returns_an_empty_list"
    assert name("Box([1]).__len__()", stable=True, repr="1") == "test_box_len_returns_1"
    assert all(n.isidentifier() and len(n) <= 72 for n in taken)
    assert operator_form("Box(1).__eq__(Box(2))") == "Box(1) == Box(2)"
    assert operator_form("Box(1).__getitem__(0)") == "Box(1)[0]"
    assert operator_form("f.__call__(1, x=2)") == "f.__call__(1, x=2)"  # keywords: left alone
    assert operator_form("shout('hi')") == "shout('hi')"


def _runner(fake: FakeOpenAI, tmp_path: Path) -> FlowRunner:
    llm = LLMClient(fake.url, "fake-model", max_retries=0)
    return FlowRunner(llm, trace=TraceWriter(tmp_path / "t.jsonl"), flow="cover")


GRADES = '''\
PASS_MARK = 50


def grade(score, scale=100):
    """The letter for a score out of ``scale``: 'A' from 90 %, 'B' from 80 %, else 'C'."""
    percent = 100 * score / scale
    if percent >= 90:
        return "A"
    return "B" if percent >= 80 else "C"
'''
EXPLORED = (
    "def test_grade_returns_b_for_80_7():\n    result = grade(80.7)\n    assert result == 'B'\n"
)


def test_a_model_rewrite_that_keeps_the_call_and_the_checks_is_taken(
    fake_llm: FakeOpenAI, tmp_path: Path
) -> None:
    better = (
        "def test_grade_gives_b_from_85_percent():\n    result = grade(85, scale=100)\n"
        "    assert result == 'B'\n"
    )
    fake_llm.queue(f"```python\nimport pytest\nfrom grades import grade\n\n\n{better}```\n")
    runner = _runner(fake_llm, tmp_path)
    context = rewrite_context(GRADES, "grade")
    assert context == (
        'PASS_MARK = 50\ndef grade(score, scale=100):\n    """The letter for a score out of '
        "``scale``: 'A' from 90 %, 'B' from 80 %, else 'C'.\"\"\"\n    ..."
    )  # the signature, the docstring and the module's constants: no body
    module = f"from grades import grade\n\n\n{EXPLORED}\n\ndef test_other():\n    pass\n"
    (name, source), _ = split_tests(module).items()
    assert (name, source) == ("test_grade_returns_b_for_80_7", EXPLORED)
    rewritten = rewrite_test(runner, source, context, max_tokens=120).source
    assert rewritten == better
    assert replace_test(module, name, rewritten) == module.replace(EXPLORED, better)

    # One short, bounded call.
    (request,) = fake_llm.chat_requests
    assert request.json["max_tokens"] == 120 and "\n```\n" in request.json["stop"]
    assert len(request.prompt) < 1400, len(request.prompt)
    assert "test_grade_" in request.prompt and "percent = 100" not in request.prompt
    steps = [r for r in read_trace(tmp_path / "t.jsonl") if r.get("kind") == "rewrite"]
    assert steps and steps[0]["verdict"] == "accepted"


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("I would rename it.", "not one test function"),
        ("def test_a():\n    assert grade(80.7) == 'B'\n\ndef test_b():\n    pass\n",
         "not one test function"),
        # A value pinned before, only its truth or its type after: the rewrite checks less.
        ("def test_grade_of_80_7_is_a_letter():\n    result = grade(80.7)\n    assert result\n",
         "a weaker check"),
        ("def test_grade_of_80_7_is_a_string():\n    result = grade(80.7)\n"
         "    assert isinstance(result, str)\n", "a weaker check"),
        ("def test_grade_of_80_7_is_one_letter():\n    result = grade(80.7)\n"
         "    assert len(result) == 1\n", "a weaker check"),
        # ``is None`` says what ``== None`` says, as a person writes it
        ("def test_grade_of_80_7_is_b():\n    result = grade(80.7)\n    assert result == 'B'\n"
         "    assert result != None\n", "== None"),
        ("def test_grade_b():\n    result = grade(80.7)\n", "fewer checks"),
        ("def test_grade_b():\n    result = grade(80.7)\n    assert True\n", "fewer checks"),
        ("def test_grade_b():\n    result = str(80.7)\n    assert result == '80.7'\n",
         "does not call the same code"),
        ("def test_grade_b():\n    import os\n    os.system('rm -rf ~')\n"
         "    assert grade(80.7) == 'B'\n", "a statement a test does not need"),
        ("def test_grade_b():\n    open('/etc/passwd', 'w')\n    assert grade(80.7) == 'B'\n",
         "a name the test does not have"),
        ("def test_grade_b():\n    assert grade(80.7).__class__.__base__ is object\n"
         "    assert grade(80.7) == 'B'\n", "a dunder attribute"),
        ("def test_grade_b():\n    while True:\n        assert grade(80.7) == 'B'\n",
         "a statement a test does not need"),
        ("def test_grade_b(tmp_path):\n    assert grade(80.7) == 'B'\n", "other parameters"),
        ("def helper():\n    assert grade(80.7) == 'B'\n", "not one test function"),
        (EXPLORED, "unchanged"),
        # The same test under a name that drops what it checks ('b').
        (EXPLORED.replace("test_grade_returns_b_for_80_7", "test_grade_80_7"),
         "a name that says less"),
        (EXPLORED.replace("test_grade_returns_b_for_80_7", "test_grade_gives_a_b_for_80_7"),
         None),
        # A value run together is no new word; a value said twice is noise.
        (EXPLORED.replace("test_grade_returns_b_for_80_7", "test_grade_807"),
         "a name that says less"),
        (EXPLORED.replace("test_grade_returns_b_for_80_7", "test_grade_80_7_returns_b_for_80_7"),
         "a name that repeats itself"),
        (EXPLORED.replace("test_grade_returns_b_for_80_7", "test_grade_of_80_7_is_a_b_grade"),
         "a name that repeats itself"),
        (EXPLORED.replace("test_grade_returns_b_for_80_7", "test_a_score_of_80_7_is_a_b"), None),
        # Another verb for "returns" is no new word.
        (EXPLORED.replace("test_grade_returns_b_for_80_7", "test_grade_uses_b_for_80_7"),
         "a rename that adds nothing"),
        # The test's machinery is no word of the behaviour (seen: `test_pytest_warns_…`).
        (EXPLORED.replace("test_grade_returns_b_for_80_7", "test_pytest_function_call_grade"),
         "a name that says less"),
        ("def test_grade_returns_b_for_80_7():\n    assert grade(80.7) == 'B'\n"
         "    assert grade(95) == 'A'\n    assert grade(10) == 'C'\n", "several behaviours"),
        (EXPLORED.replace("test_grade_returns_b_for_80_7", "test_grade_returns_correct_value"),
         "a name that says less"),
        # Another value checked under the old value's name.
        ("def test_grade_returns_b_for_80_7():\n    result = grade(95)\n"
         "    assert result == 'A'\n", "a name that says what it does not check"),
        # Only a filler word dropped, the body as it was: nothing gained, the original stays.
        (EXPLORED.replace("test_grade_returns_b_for_80_7", "test_grade_b_for_80_7"),
         "a rename that adds nothing"),
    ],
)  # fmt: skip
def test_a_rewrite_that_drops_a_check_or_reaches_out_is_refused(
    reply: str, reason: str | None
) -> None:
    verdict = judge_rewrite(EXPLORED, reply)
    if reason is None:
        # Nothing the rules refuse: the gates decide (the same mutants killed, or it goes).
        assert verdict.source is not None
        return
    assert (verdict.source, verdict.reason) == (None, reason)


def test_a_name_that_says_false_over_a_check_of_true_is_refused() -> None:
    """Seen on semver (2026-12-04): the rewrite of ``…_is_compatible_returns_false`` checked
    other versions, ``is True``, under the same name."""
    original = (
        "def test_version_is_compatible_returns_false():\n"
        "    assert Version(1, 1, 0).is_compatible(Version(1, 0, 0)) is False\n"
    )
    swapped = (
        "def test_version_is_compatible_returns_false():\n"
        "    assert Version(1, 0, 0).is_compatible(Version(1, 1, 0)) is True\n"
    )
    verdict = judge_rewrite(original, swapped)
    assert (verdict.source, verdict.reason) == (None, "a name that says what it does not check")
    other = swapped.replace("returns_false", "accepts_a_newer_minor")
    assert judge_rewrite(original, other).source == other


def test_a_raises_check_and_its_message_must_survive_a_rewrite() -> None:
    original = (
        "def test_counter_bump_raises_value_error():\n"
        "    with pytest.raises(ValueError, match=re.escape('negative step')):\n"
        "        Counter().bump(by=-1)\n"
    )
    no_match = original.replace(", match=re.escape('negative step')", "").replace(
        "test_counter_bump_raises_value_error", "test_bump_refuses_a_negative_step"
    )
    assert judge_rewrite(original, no_match).reason == "fewer checks"
    kept = original.replace("test_counter_bump_raises_value_error", "test_bump_refuses_negatives")
    assert judge_rewrite(original, kept).source == kept


def test_garbage_from_the_model_leaves_the_original(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    fake_llm.queue(
        "Sure! The test is fine as it is.",
        "```python\ndef test_grade():\n    exec('import os')\n    assert grade(80.7) == 'B'\n```",
    )
    runner = _runner(fake_llm, tmp_path)
    context = rewrite_context(GRADES, "grade")
    assert rewrite_test(runner, EXPLORED, context).source is None
    assert rewrite_test(runner, EXPLORED, context).source is None
    trace = read_trace(tmp_path / "t.jsonl")
    verdicts = [r["verdict"] for r in trace if r.get("kind") == "rewrite"]
    assert verdicts == ["not one test function", "a name the test does not have"]
    assert len(fake_llm.chat_requests) == 2  # no repair round: one call per test
    assert json.loads(fake_llm.chat_requests[0].body)["max_tokens"] == 160


def test_a_rewrite_named_like_another_test_of_the_file_is_refused(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    """The model gives every rewrite the same good name: the first is kept; the next, kept,
    would silently replace it (Python keeps the last ``def`` of a name)."""
    from tests.kit.cover import block, cover
    from tests.test_cover_explore import UNITS

    repo = tmp_path / "proj"
    repo.mkdir()
    (repo / "units.py").write_text(UNITS)
    written = repo / "tests" / "test_units_assay.py"
    name = "test_in_seconds_multiplies_by_the_unit"

    def answer(req):  # type: ignore[no-untyped-def]
        prompt = req.messages[-1]["content"]
        if "Rewrite this test" not in prompt:
            return "I cannot help with that."
        test = re.findall(r"```python\n(.*?)```", prompt, re.S)[-1]
        return block(re.sub(r"def test_\w+\(", f"def {name}(", test, count=1))

    fake_llm.on(answer)
    result, data = cover(repo, fake_llm, "--explore-seconds", "30", "--mutants", "off")
    assert result.returncode == 0, result.stdout + result.stderr
    names = re.findall(r"^def (test_\w+)", written.read_text(), re.M)
    assert len(names) >= 2 and len(names) == len(set(names)), names
    assert name in names and data["rewrite"]["kept"] == 1, data["rewrite"]
    assert data["rewrite"]["refused"].get("a name another test has", 0) >= 1, data["rewrite"]


def test_a_rewrite_the_gates_repair_back_into_the_original_is_not_taken(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    """The model's rewrite differs only by a wrong expected value and a number in the name;
    the gates repair the value to what the code gives — the original test under another name,
    which adds nothing."""
    from tests.kit.cover import block, cover
    from tests.test_cover_explore import UNITS

    repo = tmp_path / "proj"
    repo.mkdir()
    (repo / "units.py").write_text(UNITS)
    before = {}
    names: list[str] = []  # the rewrites' names

    def answer(req):  # type: ignore[no-untyped-def]
        prompt = req.messages[-1]["content"]
        if "Rewrite this test" not in prompt:
            return "I cannot help with that."
        test = re.findall(r"```python\n(.*?)```", prompt, re.S)[-1]
        wrong = re.sub(r"(assert result == )(\d+)", lambda m: m[1] + str(int(m[2]) + 1), test)
        value = re.search(r"assert result == (\d+)", wrong)
        suffix = value[1] if value else "9"  # the name says the (wrong) value it checks
        renamed = re.sub(r"def (test_\w+)\(", rf"def \1_{suffix}(", wrong, count=1)
        names.append(re.search(r"def (test_\w+)\(", renamed)[1])  # type: ignore[index]
        before[re.search(r"def (test_\w+)\(", test)[1]] = test  # type: ignore[index]
        return block(renamed)

    fake_llm.on(answer)
    result, data = cover(repo, fake_llm, "--explore-seconds", "30", "--mutants", "off")
    assert result.returncode == 0, result.stdout + result.stderr
    written = (repo / "tests" / "test_units_assay.py").read_text()
    assert names and not any(f"def {n}(" in written for n in names), written
    assert data["rewrite"]["kept"] == 0, data["rewrite"]
    assert data["rewrite"]["refused"].get("a rename that adds nothing", 0) >= 1, data["rewrite"]
