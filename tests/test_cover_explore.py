"""Exploration in ``assay cover``: tests found by calling the code with generated arguments, in
the sandbox, before any model call; the same gates as a model's tests.

End to end through the CLI on a real fixture project (the fake model only says it cannot help),
plus the pure parts: literals and docstring examples, and how kept calls become tests.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from agents.cover.explore import literals_of, render_tests
from tests.fakes.openai_server import FakeOpenAI
from tests.kit.cover import TARGET, cover, git

SHAPES = '''\
"""Shapes and versions."""
import random


class ShapeError(ValueError):
    """A shape that cannot exist."""


class Rect:
    def __init__(self, w, h):
        if w < 0 or h < 0:
            raise ShapeError("negative side")
        self.w = w
        self.h = h

    def area(self):
        return self.w * self.h

    def is_square(self):
        return self.w == self.h


def parse_version(text):
    """The numbers of a dotted version.

    >>> parse_version('1.2.3') # returns (1, 2, 3)
    """
    parts = text.split(".")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return tuple(int(p) for p in parts)
    return None


def roll(sides):
    if sides < 1:
        raise ValueError("no sides")
    return random.randint(1, 6) * sides


def wait_for(flag):
    while flag:
        pass
    return "done"
'''


def make_shapes(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "shapes.py").write_text(SHAPES)
    return root


def test_exploration_covers_what_calls_can_reach_and_leaves_the_rest_to_the_model(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    repo = make_shapes(tmp_path / "proj")
    fake_llm.on(lambda req: "I cannot help with that.")
    # --no-rewrite: the readable rewrite asks the model about every explored test (its own tests
    # are in test_cover_mutation and test_cover_rewrite); here the model is for what is missed.
    result, data = cover(repo, fake_llm, "--explore-seconds", "8", "--no-rewrite")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "explored shapes.py:" in result.stderr

    # A first pass, and a second one (other random choices) for what the model did not reach.
    explored, again = data["explored"]
    assert explored["file"] == "shapes.py" and explored["calls_kept"] >= 4
    assert (explored["pass"], again["pass"], again["accepted"]) == (1, 2, 0)
    assert "explored again shapes.py:" in result.stderr
    written = repo / "tests" / "test_shapes_assay.py"
    text = written.read_text()
    assert explored["accepted"] == len(re.findall(r"^def test_", text, re.M))
    # The docstring's example reaches the branch random strings hardly would, and is checked
    # against what the code returned.
    assert "result = parse_version('1.2.3')\n    assert result == (1, 2, 3)\n" in text
    # The module's own exception, imported from it, and its message; a random result is
    # checked by what held in every run: its type (and its sign, when that held).
    match = r"with pytest\.raises\(({}), match=re\.escape\('{}'\)\):\n\s+{}\("
    assert re.search(match.format("ShapeError", "negative side", "Rect"), text), text
    assert re.search(match.format("ValueError", "no sides", "roll"), text), text
    assert "ShapeError," in text
    assert re.search(r"result = roll\(.*\)\n\s+assert isinstance\(result, int\)\n", text)
    # Names that say what the test checks.
    assert re.search(r"^def test_rect_raises_shape_error\w*\(\):\n", text, re.M), text
    assert re.search(r"^def test_parse_version_returns_a_tuple_of_3_for_1_2_3\(", text, re.M)
    # A call that hung was cut off by the per-call alarm and is not a test.
    assert "wait_for(True)" not in text and "wait_for(1)" not in text

    # Everything but the loop only a hanging call enters is covered, before any model call; the
    # model was asked about that function only.
    after = data["coverage"]["files"]["shapes.py"]["after"]
    assert after["line"] > 95 and data["coverage"]["total"]["before"]["combined"] == 0
    asked = {m.group(1) for r in fake_llm.chat_requests
             if (m := TARGET.search(r.messages[1]["content"]))}  # fmt: skip
    assert asked == {"wait_for"}

    # What was written passes on its own, outside the sandbox, in the user's tree.
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(written)],
        cwd=repo, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout


def test_no_explore_leaves_every_target_to_the_model(tmp_path: Path, fake_llm: FakeOpenAI) -> None:
    repo = make_shapes(tmp_path / "proj")
    fake_llm.on(lambda req: "I cannot help with that.")
    result, data = cover(repo, fake_llm, "--no-explore")
    assert result.returncode == 0, result.stdout + result.stderr
    assert data["explored"] == [] and data["tests"]["accepted"] == 0
    asked = {m.group(1) for r in fake_llm.chat_requests
             if (m := TARGET.search(r.messages[1]["content"]))}  # fmt: skip
    assert {"parse_version", "roll", "wait_for", "Rect.__init__"} <= asked
    assert not (repo / "tests").exists()


def test_with_diff_exploration_only_calls_for_the_changed_function(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    repo = make_shapes(tmp_path / "proj")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    (repo / "shapes.py").write_text(SHAPES.replace("    return None\n", "    return ()\n"))
    fake_llm.on(lambda req: "I cannot help with that.")
    result, data = cover(
        repo, fake_llm, "--diff", "HEAD", "--explore-seconds", "30", "--no-rewrite"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = (repo / "tests" / "test_shapes_assay.py").read_text()
    tests = re.findall(r"^def (test_\w+)", text, re.M)
    assert len(tests) == 1 and tests[0].startswith("test_parse_version_returns_"), text
    assert "parse_version('" in text and "== ()" in text
    assert fake_llm.chat_requests == []  # nothing changed is left for the model
    assert data["tests"]["accepted"] == 1 and data["explored"][0]["accepted"] == 1


def test_literals_skip_docstrings_and_examples_lose_their_comments() -> None:
    literals, examples = literals_of(SHAPES + "\nLIMIT = 'max-size'\n")
    assert "'max-size'" in literals and "'.'" in literals
    assert not any("dotted version" in lit for lit in literals)
    assert examples == ["parse_version('1.2.3')"]
    assert "'1.2.3'" in literals  # the example's argument is a seed for other calls too


def test_kept_calls_become_tests_that_check_what_the_code_did() -> None:
    calls = [
        {"target": "parse_version", "expr": "parse_version('1.2.3')", "stable": True,
         "repr": "(1, 2, 3)", "str": "(1, 2, 3)", "type": "tuple"},
        {"target": "Rect.is_square", "expr": "Rect(1, 1).is_square()", "stable": True,
         "repr": "True", "str": "True", "type": "bool"},
        {"target": "Rect.area", "expr": "Rect(0.5, 1).area()", "stable": True,
         "repr": "0.5", "str": "0.5", "type": "float"},
        {"target": "Rect.__init__", "expr": "Rect(-1, 2)", "stable": True,
         "raises": "ShapeError", "raises_module": "shapes", "message": "negative side"},
        {"target": "parse_version", "expr": "parse_version(None)", "stable": True,
         "raises": "AttributeError", "raises_module": "builtins"},
        {"target": "Rect.__init__", "expr": "Rect(2, 3)", "stable": True,
         "repr": "<shapes.Rect object at 0x7f00>", "str": "<shapes.Rect object at 0x7f00>",
         "type": "Rect", "attrs": {"h": "3", "w": "2"}},
        {"target": "roll", "expr": "roll(6)", "stable": False, "repr": "4", "type": "int"},
        {"target": "roll", "expr": "roll(6)", "stable": True, "repr": "4", "type": "int"},
        {"target": "roll", "expr": "roll(0)", "stable": False, "raises": "ValueError",
         "raises_module": "builtins"},
        # A hash of strings differs between processes: only its type is checked.
        {"target": "Rect.__hash__", "expr": "hash(Rect('a', 1))", "stable": True,
         "repr": "-4811218715541356270", "str": "-4811218715541356270", "type": "int"},
        # Shrunk calls come back without their parentheses: ``a != b is True`` would chain.
        {"target": "Rect.__ne__", "expr": "Rect(1, 1) != Rect(1, 2)", "stable": True,
         "repr": "True", "str": "True", "type": "bool"},
        {"target": "Rect.__lt__", "expr": "Rect(1, 1) < Rect(1, 1)", "stable": True,
         "repr": "False", "str": "False", "type": "bool"},
    ]  # fmt: skip
    code = render_tests(calls, "shapes")
    assert code is not None
    assert code.startswith(
        "import re\n\nimport pytest\n\nfrom shapes import Rect, ShapeError, parse_version, roll\n"
    )
    for expected in [
        "def test_parse_version_returns_a_tuple_of_3_for_1_2_3():\n"
        "    result = parse_version('1.2.3')\n    assert result == (1, 2, 3)\n",
        "def test_rect_is_square_returns_true():\n    assert Rect(1, 1).is_square() is True\n",
        "    assert result == pytest.approx(0.5)\n",
        "def test_rect_raises_shape_error_for_minus_1_and_2():\n"
        "    with pytest.raises(ShapeError, match=re.escape('negative side')):\n"
        "        Rect(-1, 2)\n",
        "    with pytest.raises(AttributeError):\n        parse_version(None)\n",
        "def test_rect_sets_h_and_w_for_2_and_3():\n    result = Rect(2, 3)\n"
        "    assert type(result).__name__ == 'Rect'\n    assert result.h == 3\n"
        "    assert result.w == 2\n",
        # Different results on a second run, and no facts printed: only the type is checked,
        # once per call.
        "def test_roll_returns_an_int_for_6():\n    result = roll(6)\n"
        "    assert type(result).__name__ == 'int'\n",
        "\n    assert Rect(1, 1) != Rect(1, 2)\n",
        "    result = hash(Rect('a', 1))\n    assert isinstance(result, int)\n",
        "\n    assert (Rect(1, 1) < Rect(1, 1)) is False\n",
    ]:
        assert expected in code, code
    assert code.count("roll(6)") == 1
    assert "roll(0)" not in code  # an exception only sometimes: not a test
    assert render_tests([calls[8]], "shapes") is None
    # A later exploration (the mutant hunt) does not write again, under another name, a test
    # the file already has (the first one renamed by the rewrite, say).
    first = render_tests(calls[:2], "shapes")
    assert first is not None
    written = first.replace("test_rect_is_square_returns_true", "test_a_1_by_1_rect_is_square")
    again = render_tests(calls[:3], "shapes", written=written)
    assert again is not None and "is_square" not in again and "parse_version(" not in again
    assert "Rect(0.5, 1).area()" in again


UNITS = """\
from enum import Enum


class Unit(Enum):
    SECONDS = 1
    MINUTES = 2
    HOURS = 3


def in_seconds(amount, unit):
    if unit is Unit.HOURS:
        return amount * 3600
    if unit is Unit.MINUTES:
        return amount * 60
    return amount
"""


def explored_only(
    tmp_path: Path, fake_llm: FakeOpenAI, module: str, source: str
) -> tuple[str, dict]:
    """The test file ``assay cover`` writes for a one-module project by exploration alone
    (the model cannot help, no rewrite, no mutants), and the report."""
    repo = tmp_path / "proj"
    repo.mkdir()
    (repo / f"{module}.py").write_text(source)
    fake_llm.on(lambda req: "I cannot help with that.")
    # The exploration ends once every goal is reached; the budget is room for a loaded machine.
    result, data = cover(repo, fake_llm, "--explore-seconds", "30", "--no-rewrite", "--mutants",
                         "off")  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    written = repo / "tests" / f"test_{module}_assay.py"
    assert written.exists(), result.stdout + result.stderr
    return written.read_text(), data


def test_enum_arguments_are_members_by_name(tmp_path: Path, fake_llm: FakeOpenAI) -> None:
    """An Enum is passed as ``Unit.HOURS``, the way a person writes it, never "constructed"
    through the functional API with generated arguments (``Unit(True, module=0)``)."""
    text, data = explored_only(tmp_path, fake_llm, "units", UNITS)
    assert "Unit.HOURS" in text and "Unit.MINUTES" in text, text
    assert "Unit(" not in text, text
    assert data["coverage"]["files"]["units.py"]["after"]["line"] == 100.0


UNIT_NAMES = (
    UNITS
    + """

def to_seconds(amount, unit="seconds"):
    factor = Unit[unit.upper()]
    if factor is Unit.HOURS:
        return amount * 3600
    if factor is Unit.MINUTES:
        return amount * 60
    return amount
"""
)


def test_a_unit_named_by_a_string_is_passed_by_its_members_name(tmp_path: Path) -> None:
    """``Unit[unit.upper()]``: the function takes a member's name, a string no literal of the
    module shows (``"hours"``); the explored calls pass each member's name in lower case and
    reach every branch."""
    from agents.cover.explore import explore
    from agents.cover.mutation_step import target_of
    from flows import Sandbox

    repo = tmp_path / "proj"
    repo.mkdir()
    (repo / "units.py").write_text(UNIT_NAMES)
    with Sandbox(repo) as sandbox:
        target = target_of(repo, "units.py", [19, 20, 21, 22, 23, 24])
        found = explore(sandbox, repo, [target], seconds=10, pythonpath=".")
    calls = [c["expr"] for c in found.calls if c["expr"].startswith("to_seconds(")]
    assert any("'hours'" in e for e in calls) and any("'minutes'" in e for e in calls), calls


def test_a_call_kept_for_coverage_shows_what_the_line_does(tmp_path: Path) -> None:
    """``in_seconds(0, Unit.HOURS)`` reaches the hours line but returns 0 whatever it multiplies
    by: no bug there could change it, and the sandbox's gate rightly refuses the test.  Whatever
    the random choices (ten seeds), each kept call of a scaling line returns a live value."""
    from agents.cover.explore import explore
    from agents.cover.mutation_step import target_of
    from flows import Sandbox

    repo = tmp_path / "proj"
    repo.mkdir()
    (repo / "units.py").write_text(UNITS)
    kept = []
    with Sandbox(repo) as sandbox:
        target = target_of(repo, "units.py", [11, 12, 13, 14, 15])
        for seed in range(10):
            found = explore(sandbox, repo, [target], seconds=10, pythonpath=".", seed=seed)
            assert found.error == "" and found.calls, found
            kept += [(c["expr"], c["repr"]) for c in found.calls]
    scaled = [(expr, shown) for expr, shown in kept if re.search(r"Unit\.(HOURS|MINUTES)", expr)]
    assert len(scaled) >= 10, kept
    assert all(shown not in ("0", "0.0", "''", "None", "False") for _, shown in scaled), scaled


LEGACY = """\
import warnings


def old_total(items):
    warnings.warn("old_total is deprecated; use sum", DeprecationWarning, stacklevel=2)
    return sum(items)
"""


def test_a_deprecation_warning_is_checked_with_its_message(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    """A function that warns on purpose: the explored test says so (removing the warning is a
    bug it catches), and the suite with it passes."""
    text, data = explored_only(tmp_path, fake_llm, "legacy", LEGACY)
    message = "old_total is deprecated; use sum"
    assert f"with pytest.warns(DeprecationWarning, match=re.escape({message!r})):" in text, text
    assert data["coverage"]["files"]["legacy.py"]["after"]["line"] == 100.0
    assert not data["rolled_back"]
