"""Where candidate tests come from: direct prompting, or the test-writing flow.

Both speak the same protocol (:class:`Drafter`): iterate :meth:`drafts`, and after each draft
call :meth:`accept` or :meth:`reject` with the problem to feed back.  The cover engine runs every
draft through the gates and does not care which strategy wrote it.

- ``direct``: one prompt per target that shows the marked code and asks for a few short tests,
  then the rejection reason and a retry (``attempts`` tries for one accepted candidate).
- ``flow``: :class:`flows.testwrite.TestWritingFlow`: reflect on the target, propose behaviours,
  then one test per behaviour, each with its own repair loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Protocol

from agents.cover import cover_prompts as prompts
from agents.cover.candidate import MAX_TESTS_PER_ANSWER, answer_complete, extract_code
from agents.cover.context import TargetContext
from agents.cover.targets import Target
from flows import (
    FlowRunner,
    Route,
    Stage,
    TestTarget,
    TestWritingFlow,
    TestWritingOptions,
    TextAnswer,
    settle_reply,
)

STRATEGIES = ("direct", "flow")

# The direct strategy's one stage: the prompt shows the marked code and ends in the test module's
# first lines, which the model continues; its reply is read by the drafter (extract_code).
WRITE_TEST = Stage(
    name="write_test",
    template=prompts.WRITE_TEST,
    system=prompts.SYSTEM,
    schema=TextAnswer,
    fmt="text",
    route=Route(temperature=0.2),
    stop=("\n```\n",),
    stop_when=answer_complete,
)
# A test that must fail against one surviving mutant (its diff is in the prompt).
KILL_MUTANT = replace(WRITE_TEST, name="kill_mutant", template=prompts.KILL_MUTANT)
RESAMPLE_TEMPERATURE = 0.7


@dataclass(frozen=True)
class Draft:
    code: str | None  # a whole test module, or None when the reply held no code
    reply: str


class Drafter(Protocol):
    def drafts(self) -> Iterator[Draft]: ...
    def accept(self) -> None: ...
    def reject(self, problem: str) -> None: ...


class DirectDrafter:
    """One prompt, up to ``attempts`` answers: each rejection goes back with its reason."""

    def __init__(
        self,
        runner: FlowRunner,
        target: Target,
        ctx: TargetContext,
        *,
        attempts: int,
        answer_tokens: int,
        sample: int,
        stage: Stage[TextAnswer] = WRITE_TEST,
        extra: dict[str, object] | None = None,
    ) -> None:
        self.runner, self.target, self.ctx = runner, target, ctx
        self.attempts, self.sample = attempts, sample
        self.stage = replace(stage, max_tokens=answer_tokens)
        self.stem = target.qualname.replace(".", "_").lower().strip("_")
        self.variables = {
            "path": target.path,
            "module": target.module,
            "code": ctx.code,
            "style": prompts.STYLE.format(style=ctx.style) if ctx.style else "",
            "qualname": target.qualname,
            "missed": ctx.missed_summary,
            "header": ctx.header.rstrip(),
            "test_stem": self.stem,
            "max_tests": MAX_TESTS_PER_ANSWER,
            **(extra or {}),
        }
        self.history: list[dict[str, str]] = []
        self._accepted = False
        self._problem: str | None = None

    def drafts(self) -> Iterator[Draft]:
        for attempt in range(self.attempts):
            first = attempt == 0 and self.sample == 0
            completion = self.runner.ask(
                self.stage,
                self.variables,
                history=self.history,
                temperature=None if first else RESAMPLE_TEMPERATURE,
                seed=None if first else self.sample * 100 + attempt,
            )
            reply, truncated = settle_reply(completion.text, completion.finish_reason)
            code = extract_code(reply, self.ctx.header, stem=self.stem, truncated=truncated)
            self._accepted, self._problem = False, None
            yield Draft(code, completion.text)
            if self._accepted:
                return
            if self._problem is not None:
                self.history += [
                    {"role": "assistant", "content": completion.text},
                    {"role": "user", "content": prompts.RETRY.format(problem=self._problem)},
                ]

    def accept(self) -> None:
        self._accepted = True

    def reject(self, problem: str) -> None:
        self._problem = problem


class FlowDrafter:
    """The test-writing flow: reflect → propose behaviours → one test each, with repairs."""

    def __init__(
        self, runner: FlowRunner, target: Target, ctx: TargetContext, *, attempts: int, tokens: int
    ) -> None:
        self.flow = TestWritingFlow(
            runner,
            TestTarget(
                qualname=target.qualname,
                module=target.module,
                path=target.path,
                code=ctx.code,
                header=ctx.header,
                missed_summary=ctx.missed_summary,
                style=ctx.style,
            ),
            TestWritingOptions(
                reflect=True, behaviours=3, rank=False, attempts=attempts, answer_tokens=tokens
            ),
        )

    def drafts(self) -> Iterator[Draft]:
        for draft in self.flow.drafts():
            yield Draft(draft.code or None, draft.reply)

    def accept(self) -> None:
        self.flow.accept()

    def reject(self, problem: str) -> None:
        self.flow.reject(problem)
