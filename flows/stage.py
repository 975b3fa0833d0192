"""A stage of a flow, as data: prompt template + output schema + route + retry policy.

Sans-IO: :meth:`Stage.request` renders the request a call would send and :meth:`Stage.parse`
turns a reply into the schema, so a stage is tested without a network.  The runner
(:class:`flows.runtime.FlowRunner`) sends the requests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel

from flows.answers import extract_python, fence_closed
from flows.llm_types import Completion
from flows.structured import ParseError, parse_as

T = TypeVar("T", bound=BaseModel)
Format = Literal["yaml", "json", "python", "text"]
Message = dict[str, str]


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


def fence_of(stage: Stage[Any]) -> str:
    return "python" if stage.fmt == "python" else stage.fmt
