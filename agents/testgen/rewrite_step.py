"""The readable rewrite of the tests exploration wrote for the symbol (``assay cover``'s
:class:`agents.cover.rewriting.Rewriter`): one short model call per test for arguments that
make sense and a name that says the behaviour, kept only when the rewrite passes every gate in
place of the original and kills the same mutants."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.cover.gates import Gatekeeper
from agents.cover.rewriting import Rewriter
from agents.cover.targets import Target
from agents.testgen.report import BehaviourResult
from flows import CoverageReport, FlowRunner, LLMError

Listener = Callable[[str, dict[str, Any]], None]
MAX_REWRITES = 4  # per symbol: each is a model call and a gate run


@dataclass
class _Files:
    accepted: dict[str, str]
    on_replace: Callable[[str], None]

    def replace(self, path: str, text: str) -> None:
        self.accepted[path] = text
        self.on_replace(text)


@dataclass
class _Host:
    """The symbol's test file as the rewriter sees a run's acceptance."""

    files: _Files
    explored: list[tuple[str, str, Target]] = field(default_factory=list)
    results: Sequence[BehaviourResult] = ()

    def rename(self, path: str, old: str, new: str) -> None:
        self.explored = [(p, new if (p, n) == (path, old) else n, t) for p, n, t in self.explored]
        for result in self.results:
            result.accepted = [new if n == old else n for n in result.accepted]


def rewrite_explored(
    repo: Path,
    runner: FlowRunner,
    gates: Gatekeeper,
    emit: Listener,
    *,
    path: str,
    text: str,
    target: Target,
    results: Sequence[BehaviourResult],
    on_replace: Callable[[str], None],
) -> dict[str, Any]:
    """Rewrite the explored tests among ``results`` in ``text`` (the test file at ``path``);
    ``on_replace`` gets the file's text after each kept rewrite.  What the rewrite did."""
    names = [
        n for r in results if r.behaviour.origin in ("explored", "mutants") for n in r.accepted
    ]
    host = _Host(_Files({path: text}, on_replace), [(path, n, target) for n in names], results)
    rewriter = Rewriter(repo, runner, host, gates, emit, runner.check_budget, limit=MAX_REWRITES)
    error = ""
    try:
        rewriter.run(CoverageReport())
    except LLMError as exc:  # the tests are written already: the rewrite is a bonus
        error = str(exc)
        emit("warning", {"message": f"the readable rewrite stopped: {exc}"})
    outcome = rewriter.outcome.as_dict()
    return {**outcome, "error": error} if error else outcome
