"""Explored tests that catch bugs: oracles that check what held in every run.

The driver runs in the real sandbox on a fixture module whose results vary between runs; the
tests it yields run in a real pytest process, on the module and on broken copies of it
(the names and the model's rewrite: ``tests/test_cover_rewrite.py``).
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

from agents.cover.explore import explore, render_tests
from agents.cover.targets import Target
from flows import Sandbox

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
