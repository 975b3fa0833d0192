"""The options of an ``assay tests`` run, and the target its gates judge."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from agents.cover.targets import Target
from agents.settings import Settings
from agents.testgen.symbols import Symbol


@dataclass(frozen=True)
class TestgenOptions:
    __test__ = False

    repeat: int = 3
    attempts: int = 2
    mutation: bool = True
    observed_oracles: bool = True
    candidate_timeout: float = 60.0
    suite_timeout: float = 600.0
    test_command: str = "pytest"
    dry_run: bool = False
    behaviours: int = 5
    reflect: bool = True
    answer_tokens: int = 450
    # The time budget of the symbol, suited to a person waiting in the editor: nothing new is
    # started after it (exploration, a gate run, a model call); what passed is kept.
    max_minutes: float | None = 2.0
    explore: bool = True  # call the symbol with generated arguments first (no model)
    explore_seconds: float = 10.0
    rewrite: bool = True  # the explored tests made readable by the model, when nothing is lost
    hunt: bool = True  # the symbol's surviving mutants: score, then differential exploration
    docstring: bool = True  # the model reads the docstring for what exploration did not show

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> TestgenOptions:
        """The options the settings ask for (``test_command``, ``cover_*``, the sandbox's
        timeout), with ``overrides`` on top."""
        s = settings
        values: dict[str, Any] = dict(
            repeat=s.cover_repeat, attempts=s.cover_attempts, mutation=s.cover_mutation,
            candidate_timeout=s.cover_candidate_timeout, suite_timeout=s.sandbox_timeout,
            test_command=s.test_command, explore=s.cover_explore,
            explore_seconds=min(10.0, s.cover_explore_seconds),
        )  # fmt: skip
        return cls(**{**values, **overrides})


def gate_target(symbol: Symbol, source: str, module: str, root: str) -> Target:
    """The target the gates judge: every statement of the symbol's body counts as "missed",
    and the gates compare against an empty coverage report and run the candidate alone as the
    "suite", so gate 3 asks that the candidate runs the symbol (not that it adds coverage)."""
    tree = ast.parse(source)
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (
            symbol.start <= node.lineno <= symbol.end
        ):
            lines |= {
                n.lineno for stmt in node.body for n in ast.walk(stmt) if isinstance(n, ast.stmt)
            }
    if not lines:  # a class without methods: its body runs at import
        lines = set(range(symbol.body_start, symbol.end + 1))
    return Target(
        symbol.path, module, root, symbol.qualname, symbol.start, symbol.end, tuple(sorted(lines)),
        (), statements=len(lines),
    )  # fmt: skip
