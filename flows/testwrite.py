"""The test-writing flow, used by ``assay cover`` and ``assay tests``.

Stages: ``test_reflect`` (what the target does: inputs, outputs, branches, edge cases, what the
missed lines need) → ``test_propose`` (behaviours worth a test: kind, one-line description, call,
expected outcome) → ``test_rank`` (by value: runs missed lines, checks a rule) → ``test_write``
(one test function per behaviour, after import lines we write) → the caller's acceptance gates,
whose rejection is fed back for another draft.

The flow knows nothing of gates or files: it turns a :class:`TestTarget` into drafts.  Use::

    flow = TestWritingFlow(runner, TestTarget(qualname=..., module=..., path=..., code=...,
                                              header=..., missed_summary=..., style=...))
    for draft in flow.drafts():          # reflect, propose and rank run on the first next()
        verdict = my_gates(draft.code)   # a whole test module: header + the model's test
        if verdict.ok:
            flow.accept()                # next draft: the next behaviour
        else:
            flow.reject("The test failed: ...")   # next draft: a repair of this one
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from pydantic import BaseModel, Field, field_validator

from flows import testwrite_prompts as p
from flows.answers import Ranking, as_items, as_text
from flows.pycode import adds_nothing, answer_complete, extract_test_module, settle_reply
from flows.runtime import (
    FlowRunner,
    Message,
    RetryPolicy,
    Route,
    Stage,
    StageFailed,
    TextAnswer,
)

KINDS = ("happy", "edge", "error")


@dataclass(frozen=True)
class TestTarget:
    """What the flow needs to know about the code under test (cover's ``TargetContext`` plus the
    target's names).  ``code``: a numbered excerpt, missed lines marked ``# NOT COVERED``;
    ``header``: the test module's first lines, written by us (``import pytest`` and the import of
    the code under test); ``missed_summary``: "lines 14, 17 and branches 12->15" or "";
    ``style``: an existing test file's imports and fixtures, or retrieved examples, or ""."""

    __test__ = False

    qualname: str
    module: str
    path: str
    code: str
    header: str
    missed_summary: str = ""
    style: str = ""


class TargetNotes(BaseModel):
    inputs: str = ""
    outputs: str = ""
    branches: list[str] = Field(default_factory=list)
    edge_cases: list[str] = Field(default_factory=list)
    needs: str = ""

    @field_validator("inputs", "outputs", "needs", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return as_text(value)

    @field_validator("branches", "edge_cases", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> list[str]:
        return as_items(value)

    def render(self, limit: int = 5) -> str:
        lines = [f"- inputs: {self.inputs}"] if self.inputs else []
        lines += [f"- outputs: {self.outputs}"] if self.outputs else []
        lines += [f"- branch: {b}" for b in self.branches[:limit]]
        lines += [f"- edge case: {e}" for e in self.edge_cases[:limit]]
        lines += [f"- the missed lines need: {self.needs}"] if self.needs else []
        return "\n".join(line[:200] for line in lines)


class Behaviour(BaseModel):
    """One behaviour worth a test."""

    kind: str = "happy"
    description: str
    call: str = ""
    expected: str = ""
    origin: str = ""  # who found it: "" the model, or the caller's word ("explored", …)

    @field_validator("description", "call", "expected", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return as_text(value)

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> str:
        text = as_text(value).lower()
        return next((k for k in KINDS if k in text), "happy")

    @property
    def line(self) -> str:
        """The one-line description a user picks from."""
        return f"[{self.kind}] {self.description}"

    def for_prompt(self) -> str:
        text = self.description.rstrip(".")
        if self.call:
            text += f" (e.g. `{self.call}`" + (f" → {self.expected})" if self.expected else ")")
        return text


class Behaviours(BaseModel):
    items: list[Behaviour] = Field(min_length=1)


@dataclass
class Draft:
    """One candidate test module."""

    code: str  # the header's import lines plus the model's test function
    behaviour: Behaviour | None
    attempt: int  # 1 for a first draft, 2+ for repairs after a rejection
    reply: str  # the model's answer as it came
    truncated: bool = False


@dataclass(frozen=True)
class TestWritingOptions:
    __test__ = False

    reflect: bool = True
    behaviours: int = 4  # proposed per target
    rank: bool = True
    attempts: int = 2  # drafts per behaviour: the first and repairs after rejections
    answer_tokens: int = 450
    temperatures: tuple[float, float] = (0.2, 0.6)  # first draft, repairs
    empty_retry_temperature: float = 0.9  # once, when a reply added nothing


_RETRY = RetryPolicy(repairs=1, llm_errors=1)
REFLECT = Stage(
    "test_reflect", p.REFLECT, TargetNotes, system=p.SYSTEM, retry=_RETRY, max_tokens=220
)
PROPOSE = Stage(
    "test_propose", p.PROPOSE, Behaviours, system=p.SYSTEM, route=Route(temperature=0.3),
    retry=_RETRY, max_tokens=360,
)  # fmt: skip
RANK = Stage(
    "test_rank", p.RANK, Ranking, system=p.SYSTEM, route=Route(temperature=0.0),
    retry=RetryPolicy(repairs=0), max_tokens=40,
)  # fmt: skip


test_complete = partial(answer_complete, max_tests=1)
test_complete.__test__ = False  # type: ignore[attr-defined]

WRITE = Stage(
    "test_write", p.WRITE, TextAnswer, fmt="text", system=p.SYSTEM, retry=RetryPolicy(repairs=0),
    max_tokens=450, stop=("\n```\n",), stop_when=test_complete,
)  # fmt: skip


def assemble_test(reply: str, header: str, stem: str, *, truncated: bool = False) -> str:
    """The test module in a reply (see :func:`flows.pycode.extract_test_module`); "" if none."""
    return extract_test_module(reply, header, stem=stem, truncated=truncated) or ""


def _slug(text: str, words: int = 4) -> str:
    parts = re.findall(r"[a-z0-9]+", text.lower())
    return "_".join(parts[:words])


@dataclass
class _Session:
    accepted: bool = False
    problem: str | None = None


@dataclass
class TestWritingFlow:
    """The test-writing flow for one target (see the module docstring)."""

    __test__ = False

    runner: FlowRunner
    target: TestTarget
    options: TestWritingOptions = field(default_factory=TestWritingOptions)
    notes: str = ""
    _behaviours: list[Behaviour] | None = None
    _reflected: bool = False
    _session: _Session = field(default_factory=_Session)

    def _vars(self) -> dict[str, str]:
        t = self.target
        style = p.STYLE.format(style=t.style.strip()) if t.style.strip() else ""
        notes = p.NOTES.format(qualname=t.qualname, notes=self.notes) if self.notes else ""
        return {
            "path": t.path, "module": t.module, "code": t.code.rstrip(), "style": style,
            "qualname": t.qualname, "marked": p.MARKED if t.missed_summary else "",
            "notes": notes, "missed": t.missed_summary,
        }  # fmt: skip

    def reflect(self) -> str:
        """The notes on the target's behaviour ("" when the stage is off or failed); once."""
        if self._reflected or not self.options.reflect:
            return self.notes
        self._reflected = True
        self.runner.step("stage", name="test_reflect")
        needs = p.NEEDS_LINE if self.target.missed_summary else ""
        try:
            value = self.runner.run(REFLECT, {**self._vars(), "needs_line": needs}).value
        except StageFailed as exc:
            self.runner.step("skipped", stage="test_reflect", reason=str(exc))
            return ""
        self.notes = value.render()
        return self.notes

    def behaviours(self) -> list[Behaviour]:
        """Behaviours worth a test (reflecting first); a generic one when the model gave none."""
        if self._behaviours is not None:
            return self._behaviours
        self.reflect()
        self.runner.step("stage", name="test_propose")
        missed = self.target.missed_summary
        focus = p.FOCUS_MISSED.format(missed=missed) if missed else ""
        count = self.options.behaviours
        try:
            found = self.runner.run(PROPOSE, {**self._vars(), "count": count, "focus": focus})
            items = _dedupe(found.value.items)[:count]
        except StageFailed as exc:
            self.runner.step("skipped", stage="test_propose", reason=str(exc))
            what = f"makes {missed} run" if missed else "its main behaviour"
            items = [Behaviour(description=f"{self.target.qualname}: {what}")]
        self._behaviours = items
        return items

    def rank(self, behaviours: Sequence[Behaviour]) -> list[Behaviour]:
        """``behaviours`` best first, by the model's ranking (kept as they are if it fails)."""
        items = list(behaviours)
        if len(items) < 2 or not self.options.rank:
            return items
        self.runner.step("stage", name="test_rank")
        listing = "\n".join(f"{i}. {b.line}"[:200] for i, b in enumerate(items, 1))
        try:
            ranking = self.runner.run(RANK, {**self._vars(), "cases": listing}).value.ranking
        except StageFailed as exc:
            self.runner.step("skipped", stage="test_rank", reason=str(exc))
            return items
        order = [n - 1 for n in dict.fromkeys(ranking) if 1 <= n <= len(items)]
        order += [i for i in range(len(items)) if i not in order]
        return [items[i] for i in order]

    def plan(self) -> list[Behaviour]:
        """Reflect, propose, rank: the behaviours to write tests for, best first."""
        return self.rank(self.behaviours())

    def stem(self, behaviour: Behaviour | None) -> str:
        base = self.target.qualname.replace(".", "_").lower().strip("_")
        slug = _slug(behaviour.description) if behaviour else ""
        return f"{base}_{slug}" if slug else base

    def draft(
        self, behaviour: Behaviour | None, history: Sequence[Message] = (), attempt: int = 1
    ) -> Draft:
        """One ``test_write`` call: a test for ``behaviour``; ``history`` holds earlier replies
        and the problems fed back.  Raises :class:`StageFailed` when the model gave nothing."""
        self.runner.step("stage", name="test_write")
        stem = self.stem(behaviour)
        missed = self.target.missed_summary
        what = behaviour.for_prompt() if behaviour else f"the behaviour of `{self.target.qualname}`"
        variables = {
            **self._vars(),
            "behaviour": what,
            "missed_line": p.MISSED_LINE.format(missed=missed) if missed else "",
            "header": self.target.header.rstrip(),
            "test_stem": stem,
        }
        first, repair = self.options.temperatures
        stage = replace(WRITE, max_tokens=self.options.answer_tokens)
        temperature, seed = (first, None) if attempt == 1 else (repair, attempt)
        result = None
        for ask in (1, 2):
            try:
                result = self.runner.run(
                    stage, variables, history=history, temperature=temperature, seed=seed
                )
            except StageFailed as exc:  # an empty reply; or an LLM error, raised as it is
                if exc.__cause__ is not None:
                    raise
            if result is not None and not adds_nothing(result.reply, self.target.header):
                break
            # No answer (e.g. the closing fence alone): asked again once, hotter; never judged.
            shown = result.reply[:80] if result is not None else ""
            self.runner.step("empty-reply", stage="test_write", ask=ask, reply=shown)
            result = None
            temperature = self.options.empty_retry_temperature
            seed = 1000 + attempt
        if result is None:
            raise StageFailed("the model's reply added nothing to the test, twice",
                              stage="test_write")  # fmt: skip
        completion = result.completions[-1]
        reply, truncated = settle_reply(result.reply, completion.finish_reason, max_tests=1)
        code = assemble_test(reply, self.target.header, stem, truncated=truncated)
        return Draft(code, behaviour, attempt, result.reply, truncated)

    # -- the session protocol -------------------------------------------------------------------

    def drafts(self, behaviours: Sequence[Behaviour] | None = None) -> Iterator[Draft]:
        """Drafts, behaviour by behaviour (``behaviours`` or :meth:`plan`'s).  After each draft
        call :meth:`accept` (go to the next behaviour) or :meth:`reject` (repair this one, up to
        ``attempts`` drafts); calling neither counts as a rejection without feedback."""
        plan = list(behaviours) if behaviours is not None else self.plan()
        for behaviour in plan:
            history: list[Message] = []
            for attempt in range(1, self.options.attempts + 1):
                try:
                    draft = self.draft(behaviour, history, attempt)
                except StageFailed as exc:
                    self.runner.step("skipped", stage="test_write", reason=str(exc))
                    continue
                self._session = _Session()
                yield draft
                if self._session.accepted:
                    break
                if self._session.problem:
                    retry = p.RETRY.format(problem=self._session.problem)
                    history += [
                        {"role": "assistant", "content": draft.reply},
                        {"role": "user", "content": retry},
                    ]

    def accept(self) -> None:
        """The last draft passed the gates: the next draft is for the next behaviour."""
        self._session.accepted = True

    def reject(self, problem: str) -> None:
        """The last draft was rejected; ``problem`` (trimmed to what helps) goes to the model."""
        self._session.problem = problem


def _dedupe(items: Sequence[Behaviour]) -> list[Behaviour]:
    seen: set[str] = set()
    out = []
    for item in items:
        key = item.description.strip().lower()
        if key and key not in seen:
            seen.add(key)
            out.append(item)
    return out
