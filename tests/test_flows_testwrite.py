"""The test-writing flow: reflect → propose → rank → write, with rejections fed back."""

from __future__ import annotations

import ast
from pathlib import Path

from flows.llm import LLMClient
from flows.runtime import FlowRunner
from flows.testwrite import (
    Behaviour,
    TestTarget,
    TestWritingFlow,
    TestWritingOptions,
    assemble_test,
    test_complete,
)
from flows.trace import TraceWriter, read_trace
from tests.fakes.openai_server import FakeOpenAI, RecordedRequest

HEADER = "import pytest\nfrom shop.pricing import apply_discount\n"
TARGET = TestTarget(
    qualname="apply_discount",
    module="shop.pricing",
    path="shop/pricing.py",
    code="1| def apply_discount(price, percent):\n2|     if price < 0:\n"
    "3|         raise ValueError('negative')  # NOT COVERED\n4|     return price * percent",
    header=HEADER,
    missed_summary="lines 3",
    style="from shop.pricing import tax",
)
NOTES = "```yaml\ninputs: price, percent\noutputs: reduced price\nbranches:\n  - price < 0\n```"
BEHAVIOURS = (
    "```yaml\n- kind: happy\n  description: reduces the price\n  call: apply_discount(100, 10)\n"
    "  expected: 90.0\n- kind: error case\n  description: rejects a negative price\n"
    "  call: apply_discount(-1, 10)\n  expected: ValueError\n"
    "- kind: edge\n  description: Reduces the price\n```"
)
TEST_ERROR = (
    "```python\nimport pytest\nfrom shop.pricing import apply_discount\n\n\n"
    "def test_apply_discount_rejects_a_negative_price():\n"
    "    with pytest.raises(ValueError):\n        apply_discount(-1, 10)\n```"
)


def stage_of(req: RecordedRequest) -> str:
    text = req.messages[1]["content"]
    for marker, stage in (
        ("Describe what", "reflect"),
        ("worth a test", "propose"),
        ("Rank them", "rank"),
        ("Write ONE", "write"),
    ):
        if marker in text:
            return stage
    raise AssertionError(text)


def flow_for(fake: FakeOpenAI, tmp_path: Path, **options: object) -> TestWritingFlow:
    llm = LLMClient(fake.url, "fake-model", max_retries=0)
    runner = FlowRunner(llm, trace=TraceWriter(tmp_path / "t.jsonl"), flow="testwrite")
    return TestWritingFlow(runner, TARGET, TestWritingOptions(**options))  # type: ignore[arg-type]


def test_plan_reflects_proposes_and_ranks(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    fake_llm.queue(NOTES, BEHAVIOURS, "```yaml\nranking: [2, 1]\n```")
    flow = flow_for(fake_llm, tmp_path)
    plan = flow.plan()
    assert [b.line for b in plan] == [
        "[error] rejects a negative price",
        "[happy] reduces the price",
    ]  # the duplicate "Reduces the price" is gone; ranked 2 before 1
    assert [stage_of(r) for r in fake_llm.chat_requests] == ["reflect", "propose", "rank"]
    propose = fake_llm.chat_requests[1].messages[1]["content"]
    assert "- branch: price < 0" in propose and "first those that make lines 3 run" in propose
    # The stable prefix: system prompt, then the code under test and the style example.
    prefix = fake_llm.chat_requests[0].messages[1]["content"].split("\nDescribe what")[0]
    assert "from shop.pricing import tax" in prefix
    assert all(r.messages[1]["content"].startswith(prefix) for r in fake_llm.chat_requests)
    calls = [r for r in read_trace(tmp_path / "t.jsonl") if r["event"] == "call"]
    assert [c["stage"] for c in calls] == ["test_reflect", "test_propose", "test_rank"]


def test_drafts_take_feedback_and_move_on_when_accepted(
    fake_llm: FakeOpenAI, tmp_path: Path
) -> None:
    behaviours = [
        Behaviour(kind="error", description="rejects a negative price"),
        Behaviour(description="reduces the price", call="apply_discount(100, 10)", expected="90.0"),
    ]
    # The model continues after our "def test_<stem>" line without repeating the header.
    fake_llm.queue(
        "():\n    assert apply_discount(-1, 10) == 0\n```\n",
        TEST_ERROR,
        "```python\ndef test_apply_discount_reduces_the_price():\n"
        "    assert apply_discount(100, 10) == 90.0\n```",
    )
    flow = flow_for(fake_llm, tmp_path, reflect=False)
    drafts = flow.drafts(behaviours)

    first = next(drafts)
    assert first.behaviour is behaviours[0] and first.attempt == 1
    assert "def test_apply_discount_rejects_a_negative_price():" in first.code
    assert first.code.startswith(HEADER) and ast.parse(first.code)
    flow.reject("The test failed:\nValueError: negative")

    second = next(drafts)
    assert second.attempt == 2 and "pytest.raises(ValueError)" in second.code
    retry = fake_llm.chat_requests[1]
    assert retry.messages[-2] == {"role": "assistant", "content": first.reply}
    assert "The test failed:\nValueError: negative" in retry.messages[-1]["content"]
    assert retry.json["temperature"] == 0.6
    flow.accept()

    third = next(drafts)
    assert third.behaviour is behaviours[1]
    assert HEADER.splitlines()[1] in third.code  # the dropped header line is put back
    write = fake_llm.chat_requests[2].messages[1]["content"]
    assert "checks: reduces the price (e.g. `apply_discount(100, 10)` → 90.0)" in write
    assert "It must make lines 3 run." in write
    # The model is asked for the whole function, never to continue an open block.
    assert write.rstrip().endswith(
        "from its first line `def test_apply_discount_reduces_the_price():` to its last assert."
    )
    flow.accept()
    assert next(drafts, None) is None


def test_a_reply_that_adds_nothing_is_asked_again_hotter_and_never_judged(
    fake_llm: FakeOpenAI, tmp_path: Path
) -> None:
    behaviours = [
        Behaviour(kind="error", description="rejects a negative price"),
        Behaviour(description="reduces the price"),
    ]
    fake_llm.queue(
        "```",  # the closing fence alone: what a small model answers to an open block
        TEST_ERROR,
        "```python\nimport pytest\nfrom shop.pricing import apply_discount\n```",  # our lines
        "\n",
    )
    flow = flow_for(fake_llm, tmp_path, reflect=False, attempts=1)
    drafts = flow.drafts(behaviours)
    first = next(drafts)
    assert first.attempt == 1 and "pytest.raises(ValueError)" in first.code
    temperatures = [r.json["temperature"] for r in fake_llm.chat_requests]
    assert temperatures == [0.2, 0.9]  # asked once more, hotter
    flow.accept()
    # Twice nothing: no draft for the behaviour at all (nothing for the gates to reject).
    assert next(drafts, None) is None
    assert len(fake_llm.chat_requests) == 4
    steps = [r for r in read_trace(tmp_path / "t.jsonl") if r.get("kind") == "empty-reply"]
    assert [s["ask"] for s in steps] == [1, 1, 2]


def test_a_failed_proposal_falls_back_to_one_generic_behaviour(
    fake_llm: FakeOpenAI, tmp_path: Path
) -> None:
    fake_llm.queue("no yaml here", "still none", TEST_ERROR)
    llm = LLMClient(fake_llm.url, "fake-model", max_retries=0)
    options = TestWritingOptions(reflect=False, attempts=1)
    flow = TestWritingFlow(FlowRunner(llm, flow="cover"), TARGET, options)  # cover's way in
    drafts = list(flow.drafts())
    assert len(drafts) == 1 and "makes lines 3 run" in drafts[0].behaviour.description  # type: ignore[union-attr]


def test_assembling_a_test_from_what_a_small_model_writes() -> None:
    stem = "apply_discount_x"
    assert assemble_test("():\n    assert 1\n", HEADER, stem).endswith(
        "def test_apply_discount_x():\n    assert 1\n"
    )
    cut = "```python\ndef test_a():\n    assert 1\n\ndef test_b():\n    assert (\n"
    code = assemble_test(cut, HEADER, stem, truncated=True)
    assert ast.parse(code) and "def test_a" in code and code.startswith("import pytest")
    assert assemble_test("", HEADER, stem) == ""
    assert test_complete("def test_a():\n    x = 1\n```\n")
    assert not test_complete("def test_a():\n    x = 1\n")
