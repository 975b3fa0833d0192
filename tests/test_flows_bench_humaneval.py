"""The HumanEval benchmark's conversion of a problem (benchmarks/humaneval/tasks.py), on a
made-up task in HumanEval's format: no data package needed."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from flows.sandbox import Sandbox
from flows.solve_exec import run_cases

TASKS = Path(__file__).resolve().parents[1] / "benchmarks" / "humaneval" / "tasks.py"

TASK = {
    "task_id": "HumanEval/999",
    "entry_point": "double_all",
    "prompt": "from typing import List\n\n\ndef helper(x: int) -> int:\n    return 2 * x\n\n\n"
    'def double_all(xs: List[int]) -> List[int]:\n    """Double every number.\n'
    "    >>> double_all([1, 2])\n    [2, 4]\n    >>> double_all([]) == []\n"
    '    >>> print(double_all([3]))\n    [6]\n    """\n',
    "canonical_solution": "    return [helper(x) for x in xs]\n",
    "test": "def check(candidate):\n    assert candidate([5]) == [10]\n",
}


@pytest.fixture(scope="module")
def tasks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("he_tasks", TASKS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["he_tasks"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(tmp_path_factory.mktemp("he")) as box:
        yield box


def test_the_subset_is_fixed_and_stated(tasks: ModuleType) -> None:
    ids = tasks.subset_ids()
    assert len(ids) == 40 == len(set(ids)) and ids[0] == "HumanEval/14"
    assert tasks.subset_ids(7, 5) == tasks.subset_ids(7, 5) != ids[:5]


def test_examples_become_given_tests_and_the_judge_runs_check(
    tasks: ModuleType, sandbox: Sandbox
) -> None:
    problem = tasks.to_problem(TASK)
    assert problem.entry_point == "double_all"
    assert problem.statement.startswith("Double every number.")
    assert problem.starter.rstrip().endswith("def double_all(xs: List[int]) -> List[int]:")
    assert [c.body for c in problem.tests.cases] == [
        "assert double_all([1, 2]) == [2, 4]",
        "assert double_all([]) == []",
    ]
    # A model's answer without the helper and the import: both come from the prompt.
    code = tasks.with_starter("def double_all(xs):\n    return [helper(x) for x in xs]\n", TASK)
    report = run_cases(sandbox, code, problem.tests.cases, prelude=problem.tests.prelude)
    assert report.passed(problem.tests.cases) == {c.name for c in problem.tests.cases}
    assert tasks.judge(sandbox, code, TASK) == (True, "")
    wrong = tasks.with_starter("def double_all(xs):\n    return xs\n", TASK)
    passed, why = tasks.judge(sandbox, wrong, TASK)
    assert not passed and "got [5], expected [10]" in why


def test_arrow_and_input_output_examples(tasks: ModuleType) -> None:
    doc = "Examples:\n  * f(1, 2) ➞ 3\n  f(2, 2) ==> true\n  f(x) -> 4\n"
    assert tasks.docstring_examples(doc, "f") == ["assert f(1, 2) == 3", "assert f(2, 2) == True"]
    doc = "Example:\n    Input: arr = [1, 2], k = 1\n    Output: [2]\n"
    assert tasks.docstring_examples(doc, "g") == ["assert g(arr = [1, 2], k = 1) == [2]"]
