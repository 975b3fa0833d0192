"""The flow runtime: a flow is data (stages, :mod:`flows.stage`), the runner executes them.

The :class:`FlowRunner` is the one way assay asks a model: it answers requests with any
:class:`Completer` (the client, or a wrapper of it), enforces a :class:`Budget` (calls, tokens,
wall time: :class:`BudgetExhausted` before a call that would exceed it), repairs or re-asks a
reply that does not parse, counts what every call cost per stage (:class:`Usage`), and writes one
trace line per call (stage, model, prompt and response sizes, tokens, latency, retries, parse
outcome) plus ``step`` lines for the flow's own decisions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from flows.answers import CodeAnswer, TextAnswer, extract_python, fence_closed
from flows.errors import FlowsError, LLMAuthError, LLMError, LLMTimeout, LLMUnreachable
from flows.llm_types import Completion, Usage
from flows.stage import Message, Request, RetryPolicy, Route, Stage, StageResult, T, fence_of
from flows.structured import REPAIR_PROMPT, ParseError
from flows.trace import TraceWriter

__all__ = [
    "Budget", "BudgetExhausted", "CodeAnswer", "Completer", "FlowRunner", "Request",
    "RetryPolicy", "Route", "Stage", "StageFailed", "StageResult", "TextAnswer", "Usage",
    "extract_python", "fence_closed",
]  # fmt: skip

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
        timeout: float | None = ...,
    ) -> Completion: ...


class BudgetExhausted(FlowsError):
    """The flow's budget (calls, tokens or wall time) is spent: the flow stops with what it has."""

    default_fix = "raise the budget to go further"


@dataclass(frozen=True)
class Budget:
    """Limits of one flow run; None means unlimited."""

    max_calls: int | None = None
    max_tokens: int | None = None
    max_seconds: float | None = None


class StageFailed(FlowsError):
    """A stage got no usable answer within its retry policy."""

    default_fix = "the flow continues without this stage where it can"

    def __init__(self, what: str, fix: str | None = None, *, stage: str = "", reply: str = ""):
        self.stage = stage
        self.reply = reply
        super().__init__(what, fix)


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
        started: float | None = None,
    ) -> None:
        """``started``: when the budget's time began (on ``clock``; default: now)."""
        self.llm = llm
        self.budget = budget or Budget()
        self.trace = trace
        self.routes = dict(routes or {})
        self.flow = flow
        self.listener = listener
        self.usage = Usage()
        self._clock = clock
        self.started = clock() if started is None else started
        # Seconds of the time budget held back for a later step: until they are released (0),
        # seconds_left, check_budget and the calls' timeouts leave them out.
        self.held = 0.0

    # -- budget --------------------------------------------------------------------------------

    @property
    def elapsed(self) -> float:
        return self._clock() - self.started

    @property
    def seconds_left(self) -> float | None:
        """What is left of the time budget (None: no time limit)."""
        limit = self.budget.max_seconds
        return None if limit is None else max(0.0, limit - self.held - self.elapsed)

    def check_budget(self) -> None:
        """Raise :class:`BudgetExhausted` when a limit is reached (called before every call)."""
        b, s = self.budget, self.usage.total
        if b.max_calls is not None and s.calls + s.failed_calls >= b.max_calls:
            raise BudgetExhausted(f"the budget of {b.max_calls} model calls is spent")
        if b.max_tokens is not None and s.total_tokens >= b.max_tokens:
            raise BudgetExhausted(
                f"the budget of {b.max_tokens} tokens is spent ({s.total_tokens})"
            )
        if b.max_seconds is not None and self.elapsed >= b.max_seconds - self.held:
            but = f" but for the {self.held:.0f} s held for the last step" if self.held else ""
            raise BudgetExhausted(f"the time budget of {b.max_seconds:g} s is spent{but}")

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
        left = self.seconds_left
        if left is not None:  # a call in flight ends with the budget
            params["timeout"] = max(1.0, left)
        started = self._clock()
        usage = self.usage.stage(request.stage)
        try:
            completion = self.llm.complete(list(request.messages), **params)
        except LLMError as exc:
            usage.failed_calls += 1
            usage.seconds += self._clock() - started
            self._trace_call(request, None, attempt, error=exc, latency=self._clock() - started)
            limit = self.budget.max_seconds
            if (
                isinstance(exc, LLMTimeout)
                and limit is not None
                and self.elapsed + 1 >= limit - self.held
            ):
                # Cut by the time budget: the budget is spent, which is not an error.
                raise BudgetExhausted(f"the time budget of {limit:g} s is spent") from exc
            raise
        usage.calls += 1
        if completion.cached:
            usage.cached_calls += 1
        else:
            usage.prompt_tokens += completion.prompt_tokens
            usage.completion_tokens += completion.completion_tokens
            usage.seconds += completion.latency
        return completion

    def ask(
        self,
        stage: Stage[Any],
        variables: Mapping[str, Any] | None = None,
        *,
        history: Sequence[Message] = (),
        seed: int | None = None,
        temperature: float | None = None,
    ) -> Completion:
        """One call of ``stage`` whose reply the caller reads itself (no parsing, no retry):
        budgeted, counted and traced like every call."""
        route = self.routes.get(stage.name, stage.route)
        if temperature is not None:
            route = replace(route, temperature=temperature)
        request = stage.request(dict(variables or {}), history=history, route=route, seed=seed)
        completion = self.call(request)
        self._trace_call(request, completion, 1, parse="read by the caller")
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
                    repair = REPAIR_PROMPT.format(error=exc, fmt=fence_of(stage))
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
                retries=completion.retries,
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
