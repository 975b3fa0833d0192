"""The stages of the solve flow: output schemas, routes, retry policies, token limits.

Schemas are lenient where small models are sloppy (a list where a sentence was asked for, a
"Solution 2" where a number was) and strict where it matters (a reflection with no content, an
empty list of solutions fail and are repaired or re-asked).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from flows import solve_prompts as p
from flows.answers import CodeAnswer, Ranking, TextAnswer, as_items, as_text, fence_closed
from flows.runtime import RetryPolicy, Route, Stage


class Reflection(BaseModel):
    goal: str = ""
    inputs: str = ""
    outputs: str = ""
    rules: list[str] = Field(default_factory=list)
    edge_cases: list[str] = Field(default_factory=list)

    @field_validator("goal", "inputs", "outputs", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return as_text(value)

    @field_validator("rules", "edge_cases", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> list[str]:
        return as_items(value)

    @model_validator(mode="after")
    def _not_empty(self) -> Reflection:
        if not (self.goal or self.rules or self.edge_cases):
            raise ValueError("give at least goal, rules or edge_cases")
        return self

    def render(self, limit: int = 6) -> str:
        lines = [f"- goal: {self.goal}"] if self.goal else []
        lines += [f"- input: {self.inputs}"] if self.inputs else []
        lines += [f"- output: {self.outputs}"] if self.outputs else []
        lines += [f"- rule: {r}" for r in self.rules[:limit]]
        lines += [f"- edge case: {e}" for e in self.edge_cases[:limit]]
        return "\n".join(line[:200] for line in lines)


class TestWhy(BaseModel):
    __test__ = False
    test: str = ""
    why: str = ""

    @field_validator("test", "why", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return as_text(value)


class TestReasoning(BaseModel):
    __test__ = False
    items: list[TestWhy] = Field(min_length=1)

    def render(self, limit: int = 3) -> str:
        return "\n".join(f"- {t.test}: {t.why}"[:240] for t in self.items[:limit] if t.why)


class Solution(BaseModel):
    name: str = ""
    idea: str

    @field_validator("name", "idea", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return as_text(value)


class Solutions(BaseModel):
    solutions: list[Solution] = Field(min_length=1)


FENCED_RETRY = RetryPolicy(repairs=1, llm_errors=1)

REFLECT = Stage(
    "reflect", p.REFLECT, Reflection, system=p.SYSTEM, route=Route(temperature=0.2),
    retry=FENCED_RETRY, max_tokens=300,
)  # fmt: skip
TEST_REASONING = Stage(
    "test_reasoning", p.TEST_REASONING, TestReasoning, system=p.SYSTEM,
    route=Route(temperature=0.2), retry=FENCED_RETRY, max_tokens=240,
)  # fmt: skip
CANDIDATES = Stage(
    "candidates", p.CANDIDATES, Solutions, system=p.SYSTEM, route=Route(temperature=0.6),
    retry=FENCED_RETRY, max_tokens=320,
)  # fmt: skip
RANK = Stage(
    "rank", p.RANK, Ranking, system=p.SYSTEM, route=Route(temperature=0.0),
    retry=RetryPolicy(repairs=0), max_tokens=40,
)  # fmt: skip
EXTRA_TESTS = Stage(
    "extra_tests", p.EXTRA_TESTS, CodeAnswer, fmt="python", system=p.SYSTEM,
    route=Route(temperature=0.3), retry=RetryPolicy(repairs=0, llm_errors=1), max_tokens=320,
)  # fmt: skip
CODE = Stage(
    "code", p.CODE, CodeAnswer, fmt="python", system=p.SYSTEM, route=Route(temperature=0.2),
    retry=RetryPolicy(repairs=1, llm_errors=1), max_tokens=600,
)  # fmt: skip
PLAIN = Stage(
    "plain", "{prompt}", CodeAnswer, fmt="python", system=p.SYSTEM, route=Route(temperature=0.0),
    retry=RetryPolicy(repairs=1, llm_errors=1), max_tokens=600,
)  # fmt: skip
FIX = Stage(
    "fix", p.FIX, TextAnswer, fmt="text", system=p.SYSTEM, route=Route(temperature=0.3),
    retry=RetryPolicy(repairs=0, llm_errors=1), max_tokens=600, stop_when=fence_closed,
)  # fmt: skip
FIX_COMPILE = Stage(
    "fix", p.FIX_COMPILE, CodeAnswer, fmt="python", system=p.SYSTEM,
    route=Route(temperature=0.3), retry=RetryPolicy(repairs=0, llm_errors=1), max_tokens=600,
)  # fmt: skip
DIRECT = Stage(
    "direct", p.DIRECT, CodeAnswer, fmt="python", route=Route(temperature=0.0),
    retry=RetryPolicy(repairs=0), max_tokens=600,
)  # fmt: skip

STAGES = (REFLECT, TEST_REASONING, CANDIDATES, RANK, EXTRA_TESTS, PLAIN, CODE, FIX, FIX_COMPILE)
