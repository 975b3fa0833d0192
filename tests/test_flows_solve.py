"""The solve flow end to end: scripted model (fake server), real sandbox runs of the code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.llm import LLMClient
from flows.runtime import Budget, FlowRunner
from flows.sandbox import Sandbox
from flows.solve import Problem, SolveOptions, solve_problem
from flows.solve_exec import load_tests, parse_extra_tests, prepare_code
from flows.trace import TraceWriter, read_trace
from tests.fakes.openai_server import FakeOpenAI
from tests.kit.solve import (
    GOOD,
    REFLECT,
    WRONG_NEGATIVE,
    Script,
    base_script,
    block,
    scripted,
    stage_of,
)

STATEMENT = "Return the sum of the two largest numbers of a list of at least two numbers."
GIVEN = """\
from solution import top2


def test_basic():
    assert top2([1, 5, 3]) == 8


assert top2([-1, -2, -3]) == -3
"""
BROKEN = "def top2(xs)\n    return 0\n"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(tmp_path_factory.mktemp("solve-repo")) as box:
        yield box


def run_flow(
    fake: FakeOpenAI,
    sandbox: Sandbox,
    script: Script,
    tmp_path: Path,
    options: SolveOptions | None = None,
    budget: Budget | None = None,
    starter: str = "def top2(xs):",
):
    fake.on(scripted(script))
    trace = TraceWriter(tmp_path / "solve.jsonl")
    llm = LLMClient(fake.url, "fake-model", max_retries=0)
    runner = FlowRunner(llm, budget=budget, trace=trace, flow="solve")
    problem = Problem(STATEMENT, load_tests(GIVEN), "top2", starter=starter)
    result = solve_problem(problem, runner, sandbox, options or SolveOptions(case_timeout=2))
    return result, read_trace(tmp_path / "solve.jsonl")


def calls(records: list[dict]) -> list[str]:
    return [r["stage"] for r in records if r["event"] == "call"]


def steps(records: list[dict], kind: str) -> list[dict]:
    return [r for r in records if r["event"] == "step" and r["kind"] == kind]


def test_the_stages_run_in_order_and_a_broken_yaml_reply_is_repaired(
    fake_llm: FakeOpenAI, sandbox: Sandbox, tmp_path: Path
) -> None:
    script = base_script(reflect=["```yaml\ngoal: [unclosed\n```", REFLECT])
    result, records = run_flow(fake_llm, sandbox, script, tmp_path)
    assert calls(records) == [
        "reflect", "reflect", "test_reasoning", "candidates", "rank", "extra_tests", "plain",
    ]  # fmt: skip
    parse = [r["parse"] for r in records if r["event"] == "call"]
    assert parse[0].startswith("error") and set(parse[1:]) == {"ok"}
    assert result.solved and result.code == GOOD and not result.stopped
    assert [c.body for c in result.extra] == [
        "assert top2([2, 2]) == 4",
        "assert top2([0, 7, 7]) == 14",
    ]
    assert result.best is not None and len(result.best.extra_passed) == 2
    assert result.calls == 7 and result.tokens > 0
    # The reflection reaches the later stages as notes, after the stable problem prefix.
    extra_prompt = fake_llm.chat_requests[-2].messages[-1]["content"]
    assert extra_prompt.startswith("Problem:\n" + STATEMENT)
    assert "- goal: sum of the two largest" in extra_prompt
    # The first code attempt completes the function stub, the statement as its docstring, with
    # no notes: a 1.5B code model does that best.
    plain = fake_llm.chat_requests[-1].messages[-1]["content"]
    assert f'def top2(xs):\n    """{STATEMENT}\n    """' in plain
    assert "goal" not in plain and "Approach" not in plain


def test_rotation_to_the_next_candidate_when_the_first_cannot_compile(
    fake_llm: FakeOpenAI, sandbox: Sandbox, tmp_path: Path
) -> None:
    script = base_script(code=[block(BROKEN), block(GOOD)])
    result, records = run_flow(fake_llm, sandbox, script, tmp_path)
    assert [c for c in calls(records) if c in ("plain", "code")] == ["plain", "code"]
    rotate = steps(records, "rotate")
    assert len(rotate) == 1 and "SyntaxError" in rotate[0]["reason"]
    second = [r for r in fake_llm.chat_requests if stage_of(r) == "code"][1]
    # The top-ranked approach, its idea only: a 1.5B model turns a label into a function name.
    assert "Approach: sort, add the last two\n" in second.messages[-1]["content"]
    assert "sorting" not in second.messages[-1]["content"]
    assert (
        result.solved and result.best is not None and result.best.origin.startswith("candidate 2")
    )


def test_without_a_signature_the_plain_attempt_asks_for_the_function_by_name(
    fake_llm: FakeOpenAI, sandbox: Sandbox, tmp_path: Path
) -> None:
    result, records = run_flow(fake_llm, sandbox, base_script(), tmp_path, starter="")
    plain = fake_llm.chat_requests[-1].messages[-1]["content"]
    assert plain.startswith(STATEMENT) and "Write the Python function `top2`" in plain
    assert calls(records)[-1] == "plain" and result.solved


def test_rotation_goes_on_until_every_given_test_passes_and_a_renamed_function_still_counts(
    fake_llm: FakeOpenAI, sandbox: Sandbox, tmp_path: Path
) -> None:
    renamed = GOOD.replace("def top2(", "def top2_by_sorting(")
    script = base_script(code=[block(WRONG_NEGATIVE), block(renamed)], fix=[block(BROKEN)])
    result, records = run_flow(fake_llm, sandbox, script, tmp_path)
    assert calls(records)[-2:] == ["plain", "code"] and "fix" not in calls(records)
    assert steps(records, "rotate")[0]["reason"] == "passes 1 of 2 given tests"
    assert result.solved and result.best is not None
    assert result.best.origin == "candidate 2 (sorting)"
    assert result.code.rstrip().endswith("top2 = top2_by_sorting")


def test_a_failing_given_test_is_fed_back_and_the_fix_kept(
    fake_llm: FakeOpenAI, sandbox: Sandbox, tmp_path: Path
) -> None:
    script = base_script(code=[block(WRONG_NEGATIVE)], fix=[block(GOOD)])
    result, records = run_flow(fake_llm, sandbox, script, tmp_path)
    fix = next(r for r in fake_llm.chat_requests if stage_of(r) == "fix")
    prompt = fix.messages[-1]["content"]
    assert "assert top2([-1, -2, -3]) == -3" in prompt
    assert "got 0, expected -3" in prompt  # what the code really returned
    assert steps(records, "kept")[0]["version"] == "fix 1 (given)"
    assert result.solved and result.code == GOOD


def test_test_anchors_revert_a_fix_that_breaks_a_passing_test(
    fake_llm: FakeOpenAI, sandbox: Sandbox, tmp_path: Path
) -> None:
    # The extra test expects 5 for [5]: a fix for it breaks the given negative test.
    extra = "```python\nassert top2([5, 0]) == 5\nassert top2([1, 1]) == 3\n```"
    breaks = "def top2(xs):\n    return sum(x for x in sorted(xs)[-2:] if x > 0) + 1\n"
    script = base_script(extra_tests=[extra], fix=[block(breaks)])
    result, records = run_flow(fake_llm, sandbox, script, tmp_path)
    reverted = steps(records, "reverted")
    assert reverted and reverted[0]["reason"] == "broke passing tests"
    assert "test_line_8" in reverted[0]["broken"] and "test_basic" in reverted[0]["broken"]
    assert result.code == GOOD and result.solved
    versions = [v.origin for v in result.versions]
    assert versions[0].startswith("candidate 1") and versions[1].startswith("fix 1 (extra")

    # Without anchors the breaking fix is kept as the current version; the best version by
    # tests passed is still the one returned.
    result2, records2 = run_flow(
        fake_llm, sandbox, script, tmp_path / "no-anchors", SolveOptions(anchors=False)
    )
    assert steps(records2, "kept") and result2.code == GOOD


def test_the_model_may_declare_an_extra_test_wrong(
    fake_llm: FakeOpenAI, sandbox: Sandbox, tmp_path: Path
) -> None:
    extra = "```python\nassert top2([1, 1]) == 3\n```"
    script = base_script(extra_tests=[extra], fix=["WRONG TEST"])
    result, records = run_flow(fake_llm, sandbox, script, tmp_path)
    assert steps(records, "dropped-test")[0]["test"] == "assert top2([1, 1]) == 3"
    assert result.extra == [] and result.code == GOOD


def test_the_budget_stops_the_flow_with_a_clear_result(
    fake_llm: FakeOpenAI, sandbox: Sandbox, tmp_path: Path
) -> None:
    script = base_script(code=[block(WRONG_NEGATIVE)], fix=[block(WRONG_NEGATIVE)])
    result, records = run_flow(fake_llm, sandbox, script, tmp_path, budget=Budget(max_calls=7))
    assert result.stopped == "the budget of 7 model calls is spent"
    assert len(fake_llm.chat_requests) == 7 and result.calls == 7
    assert result.best is not None and result.given_passed == ["test_basic"]
    assert not result.solved and result.code == WRONG_NEGATIVE
    assert steps(records, "stopped")[0]["reason"] == result.stopped

    early, _ = run_flow(fake_llm, sandbox, script, tmp_path / "early", budget=Budget(max_calls=2))
    assert early.best is None and early.code == "" and "2 model calls" in early.stopped


def test_code_preparation_and_extra_test_validation() -> None:
    messy = (
        "def f(x):\n    return x\n\nprint(f(1))\nassert f(2) == 2\n"
        "if __name__ == '__main__':\n    f(3)\n"
    )
    assert prepare_code(messy, "from typing import List\ndef f(x):") == (
        "from typing import List\n\ndef f(x):\n    return x\n"
    )
    assert prepare_code("def f(:\n", "import os") == "def f(:\n"  # left to the syntax report
    code = (
        "assert f(1) == 1\nassert g(1) == 1\nassert f(1) == 1\nassert f(\nx = f(2)\nassert f(3)==3"
    )
    kept = parse_extra_tests(code, "f", known=["assert f(3) == 3"], limit=5)
    assert [c.body for c in kept] == ["assert f(1) == 1"]
