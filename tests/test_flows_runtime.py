"""The flow runtime: stages as data, routing, retries and repairs, budget, trace.

Stages are rendered and parsed without a network; the runner talks to the scripted fake server
with the real client.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pydantic import BaseModel

from flows.errors import LLMServerError
from flows.llm import LLMClient
from flows.runtime import (
    Budget,
    BudgetExhausted,
    CodeAnswer,
    FlowRunner,
    RetryPolicy,
    Route,
    Stage,
    StageFailed,
    extract_python,
    fence_closed,
)
from flows.structured import ParseError
from flows.trace import TraceWriter, read_trace
from tests.fakes.openai_server import FakeOpenAI, Reply


class Verdict(BaseModel):
    ok: bool
    why: str = ""


ASK = Stage(
    "judge",
    "Is {thing} good? Reply with ```yaml\nok: true\nwhy: ...\n```",
    Verdict,
    system="You judge {thing}s.",
    max_tokens=60,
)
CODE = Stage("code", "Write {name}.", CodeAnswer, fmt="python", max_tokens=200)


def client(server: FakeOpenAI, **kw: object) -> LLMClient:
    return LLMClient(server.url, "fake-model", max_retries=0, sleep=lambda s: None, **kw)  # type: ignore[arg-type]


def test_a_stage_renders_and_parses_without_a_network() -> None:
    request = ASK.request({"thing": "cake"})
    assert [m["role"] for m in request.messages] == ["system", "user"]
    assert request.messages[0]["content"] == "You judge cakes."
    assert "Is cake good?" in request.messages[1]["content"]
    assert request.max_tokens == 60 and request.stop_when is fence_closed
    assert ASK.parse("Sure!\n```yaml\nok: true\nwhy: tasty\n```") == Verdict(ok=True, why="tasty")
    with pytest.raises(ParseError):
        ASK.parse("```yaml\nwhy: [unclosed\n```")
    assert CODE.parse("Here:\n```python\ndef f():\n    return 1\n```\nDone").code == (
        "def f():\n    return 1"
    )
    assert extract_python("```python\nx = 1\n") == "x = 1"  # unclosed fence (cut by max_tokens)
    assert fence_closed("```yaml\nok: 1\n```") and not fence_closed("```yaml\nok: 1\n")


def test_stages_run_in_order_with_their_routes(fake_llm: FakeOpenAI) -> None:
    fake_llm.queue("```yaml\nok: true\n```", "```python\ndef f():\n    pass\n```")
    llm = client(fake_llm, stage_models={"code": "coder-model"})
    runner = FlowRunner(llm, routes={"judge": Route(model="small-model", temperature=0.0)})
    assert runner.run(ASK, {"thing": "cake"}).value.ok is True
    assert "def f" in runner.run(CODE, {"name": "f"}).value.code
    first, second = (r.json for r in fake_llm.chat_requests)
    assert (first["model"], first["temperature"], first["max_tokens"]) == ("small-model", 0.0, 60)
    assert (second["model"], second["temperature"]) == ("coder-model", 0.2)
    assert runner.usage.total.calls == 2 and runner.usage.total.total_tokens > 0
    assert set(runner.usage.stages) == {"judge", "code"}


def test_a_broken_yaml_reply_is_repaired_with_the_error_shown(fake_llm: FakeOpenAI) -> None:
    fake_llm.queue("```yaml\nok: [yes\n```", "```yaml\nok: false\nwhy: stale\n```")
    runner = FlowRunner(client(fake_llm))
    result = runner.run(ASK, {"thing": "bread"})
    assert result.value == Verdict(ok=False, why="stale")
    assert len(result.completions) == 2
    repair = fake_llm.chat_requests[1].messages
    assert repair[-2] == {"role": "assistant", "content": "```yaml\nok: [yes\n```"}
    assert "could not be used" in repair[-1]["content"]


def test_a_stage_resamples_after_repairs_then_fails_clearly(fake_llm: FakeOpenAI) -> None:
    stage = Stage(
        "judge", ASK.template, Verdict, retry=RetryPolicy(repairs=0, resamples=1), max_tokens=20
    )
    fake_llm.queue("no idea", "```yaml\nok: true\n```")
    runner = FlowRunner(client(fake_llm))
    assert runner.run(stage, {"thing": "tea"}, seed=3).value.ok
    fresh = fake_llm.chat_requests[1].json
    assert fresh["temperature"] == 0.7 and fresh["seed"] == 1003
    assert len(fresh["messages"]) == 1  # a fresh ask, not a repair conversation

    fake_llm.queue("nope", "still nope")
    with pytest.raises(StageFailed, match="'judge' got no usable answer in 2 call"):
        runner.run(stage, {"thing": "tea"})


def test_llm_errors_are_retried_by_policy(fake_llm: FakeOpenAI) -> None:
    stage = Stage("judge", ASK.template, Verdict, retry=RetryPolicy(llm_errors=1))
    fake_llm.queue(Reply(status=500), "```yaml\nok: true\n```")
    runner = FlowRunner(client(fake_llm))
    assert runner.run(stage, {"thing": "x"}).value.ok
    fake_llm.queue(Reply(status=500), Reply(status=500))
    with pytest.raises(StageFailed) as info:
        runner.run(stage, {"thing": "x"})
    assert isinstance(info.value.__cause__, LLMServerError)


def test_the_budget_stops_before_a_call_that_would_exceed_it(fake_llm: FakeOpenAI) -> None:
    fake_llm.on(lambda req: "```yaml\nok: true\n```")
    runner = FlowRunner(client(fake_llm), budget=Budget(max_calls=2))
    runner.run(ASK, {"thing": "a"})
    runner.run(ASK, {"thing": "b"})
    with pytest.raises(BudgetExhausted, match="budget of 2 model calls is spent"):
        runner.run(ASK, {"thing": "c"})
    assert len(fake_llm.chat_requests) == 2

    tokens = FlowRunner(client(fake_llm), budget=Budget(max_tokens=1))
    tokens.run(ASK, {"thing": "a"})
    with pytest.raises(BudgetExhausted, match="tokens"):
        tokens.run(ASK, {"thing": "b"})

    now = [0.0]
    timed = FlowRunner(client(fake_llm), budget=Budget(max_seconds=60), clock=lambda: now[0])
    timed.run(ASK, {"thing": "a"})
    now[0] = 61.0
    with pytest.raises(BudgetExhausted, match="time budget of 60 s"):
        timed.run(ASK, {"thing": "b"})

    # Time held back for a last step: the steps before it stop short of it, then it is released.
    held = FlowRunner(client(fake_llm), budget=Budget(max_seconds=60), clock=lambda: now[0])
    held.started, held.held = 0.0, 15.0
    now[0] = 40.0
    assert held.seconds_left == 5.0
    now[0] = 46.0
    with pytest.raises(BudgetExhausted, match="but for the 15 s held for the last step"):
        held.run(ASK, {"thing": "c"})
    held.held = 0.0
    assert held.seconds_left == 14.0
    held.run(ASK, {"thing": "c"})


def test_a_call_in_flight_ends_with_the_time_budget(fake_llm: FakeOpenAI) -> None:
    # A slow or queued model must not carry a run past --max-minutes: the call is cut when the
    # budget ends, and that reads as the budget spent, not as a model failure.
    fake_llm.queue(Reply(hang=True))
    runner = FlowRunner(LLMClient(fake_llm.url, "fake-model", timeout=120), budget=Budget(
        max_seconds=1.5))  # fmt: skip
    started = time.monotonic()
    with pytest.raises(BudgetExhausted, match=r"time budget of 1\.5 s"):
        runner.run(ASK, {"thing": "a"})
    assert time.monotonic() - started < 6
    assert runner.usage.total.failed_calls == 1


def test_the_trace_has_one_line_per_call_with_tokens_and_parse_outcome(
    fake_llm: FakeOpenAI, tmp_path: Path
) -> None:
    fake_llm.queue("garbage: [", "```yaml\nok: true\n```", Reply(status=500))
    trace = TraceWriter(tmp_path / "t.jsonl")
    runner = FlowRunner(client(fake_llm), trace=trace, flow="demo")
    runner.run(ASK, {"thing": "a"})
    runner.step("tests", given="1/2")
    with pytest.raises(StageFailed):
        runner.run(ASK, {"thing": "b"})
    records = read_trace(tmp_path / "t.jsonl")
    calls = [r for r in records if r["event"] == "call"]
    assert len(calls) == len(fake_llm.chat_requests) == 3
    assert calls[0]["parse"].startswith("error: ") and calls[1]["parse"] == "ok"
    for call in calls[:2]:
        assert call["flow"] == "demo" and call["stage"] == "judge"
        assert call["prompt_tokens"] > 0 and call["completion_tokens"] > 0
        assert call["prompt_chars"] > 0 and call["response_chars"] > 0 and "latency" in call
    assert calls[2]["parse"] == "no answer" and "LLMServerError" in calls[2]["error"]
    assert [r["kind"] for r in records if r["event"] == "step"] == ["tests"]
