"""The readable rewrite of a run's explored tests, kept only when it loses nothing.

Explored tests are named by rule (:mod:`agents.cover.rewrite_rules`); what rules cannot do
(arguments that make sense for the function, a name that says the behaviour) one short model
call per test may do (:func:`agents.cover.rewrite.rewrite_test`).  A rewrite then has to pass
every gate again in place of the original (alone, repeatedly, with the suite) and kill at least
the mutants the original kills: those it was kept for, else the simple mutants of the lines it
runs that the original kills (at least one).  Anything less, and the original stays.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from agents.cover.candidate import Candidate, check_static
from agents.cover.explore import literals_of
from agents.cover.gates import Gatekeeper
from agents.cover.mutant_gate import MutantGate, NamedMutant
from agents.cover.mutants import mutants_for
from agents.cover.rewrite import (
    adds_nothing,
    replace_test,
    rewrite_test,
    split_tests,
    subject_of,
)
from agents.cover.rewrite_context import defaults_of, rewrite_context
from agents.cover.rewrite_names import unchecked_value
from agents.cover.rewrite_pick import rewrite_order
from agents.cover.targets import Target
from agents.cover.writer import candidate_beside
from flows import CoverageReport, FlowRunner

Listener = Callable[[str, dict[str, Any]], None]
MAX_MUTANTS = 4  # simple mutants of the test's lines checked against original and rewrite
# The share of a time budget held for the rewrite once explored tests exist (it comes last:
# the mutant hunt, the model rounds and their calls stop short of it).
REWRITE_SHARE = 0.15
REWRITE_MIN_SECONDS = 30.0  # one rewrite and its gates (but at most half the budget)


def held_for_rewrite(budget_seconds: float) -> float:
    """Seconds of a run's time budget held for the readable rewrite."""
    return min(max(REWRITE_SHARE * budget_seconds, REWRITE_MIN_SECONDS), budget_seconds / 2)


@dataclass
class RewriteOutcome:
    tried: int = 0
    kept: int = 0
    tokens: int = 0
    refused: dict[str, int] = field(default_factory=dict)  # why a rewrite was not kept
    examples: list[dict[str, str]] = field(default_factory=list)  # before → after, a few
    as_documented: int = 0  # tests calling the code as its docstring does: not sent

    def as_dict(self) -> dict[str, Any]:
        return {"tried": self.tried, "kept": self.kept, "refused": self.refused,
                "tokens": self.tokens, "examples": self.examples,
                "as_documented": self.as_documented}  # fmt: skip


class Files(Protocol):
    accepted: dict[str, str]  # test path → its text with the run's tests

    def replace(self, path: str, text: str) -> None: ...


class Accepted(Protocol):
    """What the rewrite needs of a run's acceptance (:class:`agents.cover.acceptance.Acceptance`
    is one; ``assay tests`` has its own)."""

    @property
    def explored(self) -> list[tuple[str, str, Target]]: ...  # (test file, test, target)

    @property
    def files(self) -> Files: ...

    def rename(self, path: str, old: str, new: str) -> None: ...


@dataclass
class Rewriter:
    repo: Path
    runner: FlowRunner
    acceptance: Accepted
    gates: Gatekeeper
    emit: Listener
    check_budget: Callable[[], None]
    limit: int = 12  # tests rewritten per run at most
    outcome: RewriteOutcome = field(default_factory=RewriteOutcome)

    def run(self, current: CoverageReport) -> None:
        """Rewrite the explored tests accepted in this run, the least readable first
        (:func:`agents.cover.rewrite_pick.rewrite_order`), one by one, in their files."""
        items = []
        tests: dict[str, dict[str, str]] = {}  # each file split once
        for path, name, target in self.acceptance.explored:
            if path not in tests:
                text = self.acceptance.files.accepted.get(path)
                tests[path] = split_tests(text) if text else {}
            original = tests[path].get(name)
            if original is not None:
                items.append((path, name, target, original))
        shown: dict[str, list[str]] = {}
        order = rewrite_order([(t[3], self._examples(t[2], shown)) for t in items])
        self.outcome.as_documented = len(items) - len(order)
        for index in order[: self.limit]:
            path, name, target, _ = items[index]
            self.check_budget()
            text = self.acceptance.files.accepted.get(path)  # as the rewrites so far left it
            original = split_tests(text).get(name) if text else None
            if text is None or original is None:
                continue
            self.outcome.tried += 1
            why = self._one(path, name, original, text, target, current)
            if why:
                self.outcome.refused[why] = self.outcome.refused.get(why, 0) + 1

    def _examples(self, target: Target, cache: dict[str, list[str]]) -> list[str]:
        """The calls the docstrings of ``target``'s file show (once per file)."""
        if target.path not in cache:
            try:
                source = (self.repo / target.path).read_text(encoding="utf-8")
                cache[target.path] = literals_of(source)[1]
            except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
                cache[target.path] = []
        return cache[target.path]

    def _one(
        self, path: str, name: str, original: str, text: str, target: Target,
        current: CoverageReport,
    ) -> str:  # fmt: skip
        """ "" when the rewrite replaced the original, else why not."""
        source = (self.repo / target.path).read_text(encoding="utf-8")
        subject = subject_of(_function(original))
        reply = rewrite_test(self.runner, original, rewrite_context(source, subject))
        self.outcome.tokens = self.runner.usage.stage("rewrite_test").total_tokens
        new = reply.source
        if new is None:
            return reply.reason  # unchanged, a rename that adds nothing, …
        new_name = _function(new).name
        if new_name != name and new_name in split_tests(text):
            return "a name another test has"  # it would silently replace that test
        header = text[: text.index(original.splitlines()[0])]
        candidate = check_static(header.rstrip() + "\n\n\n" + new, target)
        if not isinstance(candidate, Candidate):
            return "static"
        without = replace_test(text, name, "")  # the suite with the rewrite in its place
        cand_path = candidate_beside(path)  # runs where the original runs
        keep_accepted = self.gates.accepted
        self.gates.accepted = {**self.acceptance.files.accepted, path: without}
        try:
            span = _span_of(source, subject) or (target.start, target.end)
            must = self._mutants_killed_by(cand_path, header + original, target, span)
            verdict = self.gates.check(
                candidate, target, current, cand_path, must_kill=must or (), rewrite=True
            )
        finally:
            self.gates.accepted = keep_accepted
        if not verdict.accepted or verdict.candidate is None:
            return verdict.rejection.reason if verdict.rejection else "rejected"
        if must and set(verdict.killed_ids) != {m.id for m in must}:
            return "lost-a-mutant"
        # What passed the gates: the model's expected values repaired to the observed ones.
        new = split_tests(verdict.candidate.code).get(new_name, "")
        if not new:
            return "rejected"
        unchecked = unchecked_value(_function(original), _function(new))
        if unchecked:
            return unchecked  # the gates' repair made the checked value another
        # The gates' repairs gave back the original's body, or only a default was written out.
        if adds_nothing(original, new, defaults_of(source, subject)):
            return "a rename that adds nothing"
        self.acceptance.files.replace(path, replace_test(text, name, new))
        self.acceptance.rename(path, name, new_name)
        self.outcome.kept += 1
        if len(self.outcome.examples) < 10:
            self.outcome.examples.append({"before": original, "after": new})
        self.emit("rewritten", {"path": path, "before": name, "after": new_name})
        return ""

    def _mutants_killed_by(
        self, path: str, code: str, target: Target, span: tuple[int, int]
    ) -> list[NamedMutant]:
        """The simple mutants of the tested function that the original test kills."""
        source = (self.repo / target.path).read_text(encoding="utf-8")
        mutants = mutants_for(source, span[0], span[1], limit=MAX_MUTANTS)
        gate = MutantGate(self.gates.sandbox, self.gates.env, self.gates.config.timeout)
        named = [
            NamedMutant(f"rewrite:{n}", target.path, m.source, m.description)
            for n, m in enumerate(mutants)
        ]
        killed = gate.named(self.gates.files_with, path, code, named)
        return [m for m in named if m.id in killed.killed]


def _span_of(source: str, subject: str) -> tuple[int, int] | None:
    """Lines of the function or method a test calls (``grade``, ``Counter.bump``)."""
    scope: list[ast.stmt] = ast.parse(source).body
    node: ast.stmt | None = None
    for part in subject.split("."):
        node = next(
            (n for n in scope if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef
                                            | ast.ClassDef) and n.name == part), None,
        )  # fmt: skip
        if node is None:
            return None
        scope = node.body if isinstance(node, ast.ClassDef) else []
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return None
    return node.lineno, node.end_lineno or node.lineno


def _function(source: str) -> ast.FunctionDef:
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef)
    return node
