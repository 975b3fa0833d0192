"""The LLM client against the scripted fake server: retries, errors, accounting, cache."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from flows import (
    FlowRunner,
    LLMAuthError,
    LLMBadResponse,
    LLMClient,
    LLMModelNotFound,
    LLMRateLimited,
    LLMServerError,
    LLMTimeout,
    LLMUnreachable,
    ResponseCache,
    Stage,
    TextAnswer,
    TraceWriter,
    read_trace,
)
from flows.llm import retry_after_seconds
from tests.fakes.openai_server import FakeOpenAI, Reply

HELLO = [{"role": "user", "content": "say hello"}]


def client_for(server: FakeOpenAI, **kw: object) -> LLMClient:
    return LLMClient(server.url, "fake-model", **kw)  # type: ignore[arg-type]


def test_completion_text_tokens_and_request_shape(fake_llm: FakeOpenAI) -> None:
    fake_llm.queue(Reply("hello there", prompt_tokens=11, completion_tokens=3))
    client = client_for(fake_llm)
    out = client.complete(HELLO, max_tokens=64, temperature=0.0, stop=["```"])
    assert out.text == "hello there"
    assert (out.prompt_tokens, out.completion_tokens) == (11, 3)
    sent = fake_llm.chat_requests[0].json
    assert sent["model"] == "fake-model"
    assert sent["max_tokens"] == 64
    assert sent["stop"] == ["```"]
    assert sent["messages"] == HELLO
    assert out.retries == 0 and not out.cached


def test_retry_honours_retry_after(fake_llm: FakeOpenAI) -> None:
    fake_llm.queue(Reply(status=429, headers={"Retry-After": "1"}), Reply("done"))
    client = client_for(fake_llm)
    out = client.complete(HELLO)
    assert out.text == "done"
    first, second = fake_llm.chat_requests
    waited = second.at - first.at
    # The header said 1 s; our own backoff for a first retry without it is 0.375-0.625 s.
    assert 1.0 <= waited < 3.0


def test_retry_on_500_then_give_up_with_typed_error(fake_llm: FakeOpenAI) -> None:
    fake_llm.queue(*[Reply(status=503, headers={"Retry-After": "0"}) for _ in range(3)])
    client = client_for(fake_llm, max_retries=2)
    with pytest.raises(LLMServerError) as err:
        client.complete(HELLO)
    assert "HTTP 503" in str(err.value)
    assert len(fake_llm.chat_requests) == 3


def test_rate_limit_exhausted(fake_llm: FakeOpenAI) -> None:
    fake_llm.queue(*[Reply(status=429, headers={"retry-after-ms": "10"}) for _ in range(2)])
    with pytest.raises(LLMRateLimited, match="429"):
        client_for(fake_llm, max_retries=1).complete(HELLO)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_endpoint_names_the_url() -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"
    client = LLMClient(url, "m", sleep=lambda _s: None)
    with pytest.raises(LLMUnreachable) as err:
        client.complete(HELLO)
    message = str(err.value)
    assert url in message
    assert "\n" not in message
    # The application replaces the generic fix with one naming its own commands.
    err.value.with_fix("set ASSAY_LLM_BASE_URL or run 'assay model install'")
    assert str(err.value) == (
        f"No LLM endpoint reachable at {url}: set ASSAY_LLM_BASE_URL or run 'assay model install'"
    )


def test_rejected_key() -> None:
    with FakeOpenAI(api_key="right") as server:
        client = LLMClient(server.url, "fake-model", api_key="wrong")
        with pytest.raises(LLMAuthError, match="rejected the API key"):
            client.complete(HELLO)
        assert len(server.chat_requests) == 1  # not retried
        assert LLMClient(server.url, "fake-model", api_key="right").list_models() == ["fake-model"]


def test_unknown_model() -> None:
    with FakeOpenAI(models=["small"], strict_models=True) as server:
        with pytest.raises(LLMModelNotFound, match="'big'"):
            LLMClient(server.url, "big").complete(HELLO)


def test_wrong_path_is_not_reported_as_unknown_model(fake_llm: FakeOpenAI) -> None:
    base = fake_llm.url.removesuffix("/v1") + "/nothing-here"
    with pytest.raises(LLMUnreachable, match="/v1"):
        LLMClient(base, "fake-model").complete(HELLO)


def test_hang_times_out(fake_llm: FakeOpenAI) -> None:
    fake_llm.queue(Reply(hang=True), Reply(hang=True))
    client = client_for(fake_llm, timeout=0.5, sleep=lambda _s: None)
    started = time.monotonic()
    with pytest.raises(LLMTimeout, match=r"0\.5 s"):
        client.complete(HELLO)
    assert time.monotonic() - started < 5
    assert len(fake_llm.chat_requests) == 2  # one retry for a transport failure


def test_a_call_never_outlives_the_time_it_was_given(fake_llm: FakeOpenAI) -> None:
    # The client would wait 120 s and retry; the run's budget leaves this call 0.8 s in all.
    fake_llm.queue(Reply(hang=True), Reply(hang=True))
    client = client_for(fake_llm, timeout=120, sleep=lambda _s: None)
    started = time.monotonic()
    with pytest.raises(LLMTimeout, match="budget"):
        client.complete(HELLO, timeout=0.8)
    assert time.monotonic() - started < 5
    assert len(fake_llm.chat_requests) == 1  # no retry past the deadline

    fake_llm.queue(Reply(hang=True))
    started = time.monotonic()
    with pytest.raises(LLMTimeout, match="budget"):
        client.complete(HELLO, timeout=0.8, stop_when=lambda text: False)  # streamed
    assert time.monotonic() - started < 5


def test_garbage_then_good_body_is_retried(fake_llm: FakeOpenAI) -> None:
    fake_llm.queue(Reply(body=b"<html>proxy error</html>"), Reply(body=b""), Reply("fine"))
    out = client_for(fake_llm, sleep=lambda _s: None).complete(HELLO)
    assert out.text == "fine"
    assert len(fake_llm.chat_requests) == 3


def test_garbage_forever_is_a_typed_error(fake_llm: FakeOpenAI) -> None:
    fake_llm.on(lambda _req: Reply(body=b"not json at all"))
    with pytest.raises(LLMBadResponse):
        client_for(fake_llm, max_retries=1, sleep=lambda _s: None).complete(HELLO)


def test_stage_routing_and_per_stage_accounting_in_the_runner(fake_llm: FakeOpenAI) -> None:
    fake_llm.on(lambda req: Reply("ok", prompt_tokens=5, completion_tokens=2))
    runner = FlowRunner(client_for(fake_llm, stage_models={"reflect": "tiny"}))
    for name in ("reflect", "write", "write"):
        runner.ask(Stage(name=name, template="say hello", schema=TextAnswer, fmt="text"))
    assert [r.json["model"] for r in fake_llm.chat_requests] == ["tiny", "fake-model", "fake-model"]
    usage = runner.usage.as_dict()
    assert usage["stages"]["reflect"]["calls"] == 1
    assert usage["stages"]["write"]["prompt_tokens"] == 10
    assert usage["total"]["completion_tokens"] == 6


def test_cache_hit_makes_no_request(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    fake_llm.queue(Reply("cached answer", prompt_tokens=7, completion_tokens=2))
    cache = ResponseCache(tmp_path / "cache")
    first = client_for(fake_llm, cache=cache).complete(HELLO, temperature=0)
    # A new client, as in a rerun of the command; a cached answer costs no tokens.
    rerun = FlowRunner(client_for(fake_llm, cache=cache))
    stage = Stage(
        name="default", template="say hello", schema=TextAnswer, fmt="text", max_tokens=512
    )
    second = rerun.ask(stage, temperature=0)
    assert second.text == first.text == "cached answer"
    assert second.cached and not first.cached
    assert len(fake_llm.chat_requests) == 1
    assert rerun.usage.total.cached_calls == 1
    assert rerun.usage.total.total_tokens == 0


def test_cache_key_covers_parameters_and_can_be_bypassed(
    fake_llm: FakeOpenAI, tmp_path: Path
) -> None:
    fake_llm.on(lambda req: Reply(f"answer {len(fake_llm.chat_requests)}"))
    client = client_for(fake_llm, cache=ResponseCache(tmp_path))
    a = client.complete(HELLO, temperature=0)
    b = client.complete(HELLO, temperature=0.7)
    c = client.complete(HELLO, temperature=0, seed=2)
    d = client.complete(HELLO, temperature=0, use_cache=False)
    assert len({a.text, b.text, c.text, d.text}) == 4
    assert len(fake_llm.chat_requests) == 4


def test_one_trace_line_per_call_says_how_many_retries_it_took(
    fake_llm: FakeOpenAI, tmp_path: Path
) -> None:
    fake_llm.queue(Reply(status=500), Reply("x", prompt_tokens=4, completion_tokens=1))
    trace = tmp_path / "trace.jsonl"
    runner = FlowRunner(
        client_for(fake_llm, sleep=lambda _s: None), trace=TraceWriter(trace, run="t1")
    )
    runner.ask(Stage(name="reflect", template="say hello", schema=TextAnswer, fmt="text"))
    (record,) = read_trace(trace)
    assert (record["event"], record["stage"], record["retries"]) == ("call", "reflect", 1)
    assert record["prompt_tokens"] == 4 and record["run"] == "t1"


def test_streaming_is_spoken_by_the_fake(fake_llm: FakeOpenAI) -> None:
    import openai

    fake_llm.queue("streamed words arrive in pieces")
    client = openai.OpenAI(base_url=fake_llm.url, api_key="x")
    stream = client.chat.completions.create(model="fake-model", messages=HELLO, stream=True)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "streamed words arrive in pieces"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_parsing(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(headers) == expected


def test_retry_after_http_date() -> None:
    import email.utils

    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    value = retry_after_seconds({"retry-after": when})
    assert value is not None and 25 <= value <= 31


def test_stop_when_hangs_up_early_and_counts_chunks(fake_llm: FakeOpenAI) -> None:
    fake_llm.queue("def test_a():\n    assert 1\n\n\ndef test_b():\n    loop loop loop loop loop")
    client = client_for(fake_llm)
    out = client.complete(HELLO, stop_when=lambda text: "def test_b" in text)
    assert out.finish_reason == "stop_when"
    assert out.text.startswith("def test_a():") and "loop" not in out.text
    assert fake_llm.chat_requests[0].json["stream"] is True
    assert out.completion_tokens == len(out.text) // 8 + (len(out.text) % 8 > 0)
    assert out.prompt_tokens > 0
