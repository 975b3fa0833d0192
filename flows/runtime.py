"""The flow runtime: a flow is data (stages), the runner executes them against an LLM client.

A :class:`Stage` is a prompt template, an output schema (pydantic), a route (model and
temperature) and a retry policy.  It is sans-IO: :meth:`Stage.request` renders the request a call
would send and :meth:`Stage.parse` turns a reply into the schema, so a stage is tested without a
network.  The :class:`FlowRunner` answers requests with the client, enforces a :class:`Budget`
(calls, tokens, wall time: :class:`BudgetExhausted` before a call that would exceed it), repairs
or re-asks a reply that does not parse, and writes one trace line per call (stage, model, prompt
and response sizes, tokens, latency, parse outcome) plus ``step`` lines for the flow's own
decisions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel

from flows.answers import CodeAnswer, TextAnswer, extract_python, fence_closed
from flows.errors import FlowsError, LLMAuthError, LLMError, LLMUnreachable
from flows.llm_types import Completion
from flows.structured import REPAIR_PROMPT, ParseError, parse_as
from flows.trace import TraceWriter

__all__ = [
    "Budget", "BudgetExhausted", "CodeAnswer", "Completer", "FlowRunner", "Request",
    "RetryPolicy", "Route", "Spent", "Stage", "StageFailed", "StageResult", "TextAnswer",
    "extract_python", "fence_closed",
]  # fmt: skip

T = TypeVar("T", bound=BaseModel)
Format = Literal["yaml", "json", "python", "text"]
Message = dict[str, str]
Listener = Callable[[str, dict[str, Any]], None]

FATAL = (LLMUnreachable, LLMAuthError)  # no retry helps: the flow stops


class Completer(Protocol):
    """What the runner needs of an LLM client (:class:`flows.llm.LLMClient` is one)."""

    def complete(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        stage: str = ...,
        model: str | None = ...,
        max_tokens: int = ...,
        temperature: float = ...,
        stop: Sequence[str] | None = ...,
        seed: int | None = ...,
        use_cache: bool = ...,
        stop_when: Callable[[str], bool] | None = ...,
    ) -> Completion: ...


class BudgetExhausted(FlowsError):
    """The flow's budget (calls, tokens or wall time) is spent: the flow stops with what it has."""

    default_fix = "raise the budget to go further"


class StageFailed(FlowsError):
    """A stage got no usable answer within its retry policy."""

    default_fix = "the flow continues without this stage where it can"

    def __init__(self, what: str, fix: str | None = None, *, stage: str = "", reply: str = ""):
        self.stage = stage
        self.reply = reply
        super().__init__(what, fix)


@dataclass(frozen=True)
class Route:
    """Which model answers a stage and how: ``model`` None is the client's model for the stage
    (its ``stage_models``), ``temperature`` the sampling temperature of the first ask."""

    model: str | None = None
    temperature: float = 0.2


@dataclass(frozen=True)
class RetryPolicy:
    """What a stage does when an answer is unusable.

    ``repairs``: show the model the parse error and ask again (same conversation);
    ``resamples``: then ask afresh at ``resample_temperature`` with a new seed;
    ``llm_errors``: re-asks after a non-fatal LLM error (timeout, 5xx after the client's retries).
    """

    repairs: int = 1
    resamples: int = 0
    resample_temperature: float = 0.7
    llm_errors: int = 0


@dataclass(frozen=True)
class Budget:
    """Limits of one flow run; None means unlimited."""

    max_calls: int | None = None
    max_tokens: int | None = None
    max_seconds: float | None = None


@dataclass(frozen=True)
class Request:
    """One call as a stage renders it: what the runner sends."""

    stage: str
    messages: tuple[Message, ...]
    model: str | None
    temperature: float
    max_tokens: int
    stop: tuple[str, ...] = ()
    seed: int | None = None
    stop_when: Callable[[str], bool] | None = None


@dataclass(frozen=True)
class Stage(Generic[T]):
    """One step of a flow: prompt template + output schema + route + retry policy.

    ``template`` and ``system`` are ``str.format`` templates over the variables the flow passes.
    ``fmt``: ``yaml``/``json`` replies are parsed into ``schema`` by :mod:`flows.structured`;
    ``python`` fills :class:`CodeAnswer` from the reply's code block; ``text`` fills
    :class:`TextAnswer`.  ``max_tokens`` is sized to the answer; ``stop_when`` hangs up early
    (default for fenced formats: as soon as the fenced block is closed).
    """

    name: str
    template: str
    schema: type[T]
    fmt: Format = "yaml"
    system: str = ""
    route: Route = field(default_factory=Route)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_tokens: int = 256
    stop: tuple[str, ...] = ()
    stop_when: Callable[[str], bool] | None = None

    def messages(self, variables: Mapping[str, Any]) -> list[Message]:
        out: list[Message] = []
        if self.system:
            out.append({"role": "system", "content": self.system.format(**variables)})
        out.append({"role": "user", "content": self.template.format(**variables)})
        return out

    def request(
        self,
        variables: Mapping[str, Any],
        *,
        history: Sequence[Message] = (),
        route: Route | None = None,
        seed: int | None = None,
    ) -> Request:
        """The request of the first ask; ``history`` (assistant/user turns) follows the prompt."""
        route = route or self.route
        stop_when = self.stop_when
        if stop_when is None and self.fmt != "text":
            stop_when = fence_closed
        return Request(
            stage=self.name,
            messages=(*self.messages(variables), *history),
            model=route.model,
            temperature=route.temperature,
            max_tokens=self.max_tokens,
            stop=self.stop,
            seed=seed,
            stop_when=stop_when,
        )

    def parse(self, text: str) -> T:
        """The reply as ``schema``; raises :class:`flows.structured.ParseError` saying why not."""
        if self.fmt in ("yaml", "json"):
            return parse_as(text, self.schema, self.fmt)
        if self.fmt == "python":
            code = extract_python(text)
            if not code.strip():
                raise ParseError("the reply contained no code")
            return self.schema.model_validate({"code": code})
        if not text.strip():
            raise ParseError("the reply was empty")
        return self.schema.model_validate({"text": text})


@dataclass
class StageResult(Generic[T]):
    value: T
    completions: list[Completion]
    messages: list[Message]  # the conversation of the last ask, without the final reply

    @property
    def reply(self) -> str:
        return self.completions[-1].text if self.completions else ""


@dataclass
class Spent:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    llm_seconds: float = 0.0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class FlowRunner:
    """Runs stages against ``llm`` within ``budget``; traces every call to ``trace``.

    ``routes`` override stages' routes by stage name (per-stage model and temperature).
    ``listener(kind, data)`` hears ``call`` and ``step`` events (for progress displays).
    """

    def __init__(
        self,
        llm: Completer,
        *,
        budget: Budget | None = None,
        trace: TraceWriter | None = None,
        routes: Mapping[str, Route] | None = None,
        flow: str = "",
        listener: Listener | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.llm = llm
        self.budget = budget or Budget()
        self.trace = trace
        self.routes = dict(routes or {})
        self.flow = flow
        self.listener = listener
        self.spent = Spent()
        self._clock = clock
        self.started = clock()

    # -- budget --------------------------------------------------------------------------------

    @property
    def elapsed(self) -> float:
        return self._clock() - self.started

    def check_budget(self) -> None:
        """Raise :class:`BudgetExhausted` when a limit is reached (called before every call)."""
        b, s = self.budget, self.spent
        if b.max_calls is not None and s.calls >= b.max_calls:
            raise BudgetExhausted(f"the budget of {b.max_calls} model calls is spent")
        if b.max_tokens is not None and s.tokens >= b.max_tokens:
            raise BudgetExhausted(f"the budget of {b.max_tokens} tokens is spent ({s.tokens})")
        if b.max_seconds is not None and self.elapsed >= b.max_seconds:
            raise BudgetExhausted(f"the time budget of {b.max_seconds:g} s is spent")

    # -- events --------------------------------------------------------------------------------

    def step(self, kind: str, **data: Any) -> None:
        """Record one decision of the flow (tests run, a fix reverted, a candidate rotated)."""
        if self.trace is not None:
            self.trace.write({"event": "step", "flow": self.flow, "kind": kind, **data})
        if self.listener is not None:
            self.listener(kind, data)

    # -- calls ---------------------------------------------------------------------------------

    def call(self, request: Request, *, attempt: int = 1) -> Completion:
        """Send one request (budget checked first); trace it; errors are traced and raised."""
        self.check_budget()
        params: dict[str, Any] = {
            "stage": request.stage,
            "model": request.model,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stop": list(request.stop) or None,
            "seed": request.seed,
        }
        if request.stop_when is not None:
            params["stop_when"] = request.stop_when
        started = self._clock()
        try:
            completion = self.llm.complete(list(request.messages), **params)
        except LLMError as exc:
            self.spent.calls += 1
            self._trace_call(request, None, attempt, error=exc, latency=self._clock() - started)
            raise
        self.spent.calls += 1
        if not completion.cached:
            self.spent.prompt_tokens += completion.prompt_tokens
            self.spent.completion_tokens += completion.completion_tokens
            self.spent.llm_seconds += completion.latency
        return completion

    def run(
        self,
        stage: Stage[T],
        variables: Mapping[str, Any] | None = None,
        *,
        history: Sequence[Message] = (),
        seed: int | None = None,
        temperature: float | None = None,
    ) -> StageResult[T]:
        """Ask ``stage`` and parse its answer, following its retry policy.

        Raises :class:`BudgetExhausted`, :class:`StageFailed`, or a fatal LLM error.
        """
        variables = dict(variables or {})
        route = self.routes.get(stage.name, stage.route)
        if temperature is not None:
            route = replace(route, temperature=temperature)
        policy = stage.retry
        completions: list[Completion] = []
        llm_errors = attempt = 0
        last_error = ""
        for ask in range(policy.resamples + 1):
            request = stage.request(variables, history=history, route=route, seed=seed)
            if ask:  # a fresh sample: another temperature and seed
                sampled = replace(route, temperature=policy.resample_temperature)
                fresh_seed = (seed or 0) + 1000 * ask
                request = stage.request(variables, history=history, route=sampled, seed=fresh_seed)
            messages = list(request.messages)
            repairs = 0
            while True:
                attempt += 1
                req = replace(request, messages=tuple(messages))
                try:
                    completion = self.call(req, attempt=attempt)
                except FATAL:
                    raise
                except LLMError as exc:
                    llm_errors += 1
                    if llm_errors > policy.llm_errors:
                        raise StageFailed(
                            f"stage '{stage.name}' failed: {exc}", stage=stage.name
                        ) from exc
                    continue  # the same request again
                completions.append(completion)
                try:
                    value = stage.parse(completion.text)
                except ParseError as exc:
                    last_error = str(exc)
                    self._trace_call(req, completion, attempt, parse=f"error: {exc}")
                    if repairs >= policy.repairs:
                        break
                    repairs += 1
                    repair = REPAIR_PROMPT.format(error=exc, fmt=_fence(stage))
                    messages += [
                        {"role": "assistant", "content": completion.text},
                        {"role": "user", "content": repair},
                    ]
                    continue
                self._trace_call(req, completion, attempt, parse="ok")
                return StageResult(value=value, completions=completions, messages=messages)
        reply = completions[-1].text if completions else ""
        raise StageFailed(
            f"stage '{stage.name}' got no usable answer in {attempt} call(s): {last_error}",
            stage=stage.name,
            reply=reply,
        )

    def _trace_call(
        self,
        request: Request,
        completion: Completion | None,
        attempt: int,
        *,
        parse: str = "",
        error: Exception | None = None,
        latency: float = 0.0,
    ) -> None:
        record: dict[str, Any] = {
            "event": "call",
            "flow": self.flow,
            "stage": request.stage,
            "attempt": attempt,
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "prompt_chars": sum(len(m["content"]) for m in request.messages),
        }
        if completion is not None:
            record.update(
                model=completion.model,
                response_chars=len(completion.text),
                prompt_tokens=completion.prompt_tokens,
                completion_tokens=completion.completion_tokens,
                latency=round(completion.latency, 3),
                cached=completion.cached,
                finish_reason=completion.finish_reason,
                parse=parse or "ok",
            )
        else:
            record.update(
                model=request.model,
                prompt_tokens=0,
                completion_tokens=0,
                latency=round(latency, 3),
                parse="no answer",
                error=f"{type(error).__name__}: {error}"[:300],
            )
        if self.trace is not None:
            if self.trace.include_content:
                record["messages"] = list(request.messages)
                if completion is not None:
                    record["response"] = completion.text
            self.trace.write(record)
        if self.listener is not None:
            self.listener("call", record)


def _fence(stage: Stage[Any]) -> str:
    return "python" if stage.fmt == "python" else stage.fmt
