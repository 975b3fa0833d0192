"""What only the model adds to exploration: the docstring's word.

:func:`docstring_claims` asks the model, only when the symbol has a docstring, for the behaviours
the docstring states that exploration did not show, each with a call and the result the
docstring promises.  :func:`check_claims` runs them in the sandbox, with the symbol's ``>>>``
examples (:mod:`agents.testgen.claims_driver`): a claim the code agrees with becomes a behaviour
to test; an example or claim the code contradicts is a possible bug, reported (never turned into a
test, which would either fail or enshrine the bug).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from agents.testgen import prompts
from agents.testgen.symbols import Symbol
from flows import (
    Behaviour,
    BudgetExhausted,
    FlowRunner,
    RetryPolicy,
    Route,
    Sandbox,
    Stage,
    StageFailed,
)

DRIVER = Path(__file__).with_name("claims_driver.py")
DRIVER_FILE = "_assay_claims_driver.py"
SPEC_FILE = "_assay_claims_spec.json"
MARK = "ASSAY_CLAIM "
MAX_CODE_LINES = 60
MAX_CLAIMS = 4
# The docstring's model call gets this share of the time left after exploration (at least
# MIN_DOCSTRING_SECONDS): on a slow or busy model it must not take the time of the tests.
DOCSTRING_SHARE = 1 / 3
MIN_DOCSTRING_SECONDS = 15.0


class Claims(BaseModel):
    items: list[Behaviour] = Field(default_factory=list)


DOCSTRING = Stage(
    "test_docstring", prompts.DOCSTRING, Claims, system=prompts.SYSTEM,
    route=Route(temperature=0.2), retry=RetryPolicy(repairs=1, llm_errors=1), max_tokens=240,
)  # fmt: skip


@dataclass(frozen=True)
class Contradiction:
    """A docstring example or claim the code does not bear out: a possible bug."""

    call: str
    expected: str  # what the docstring says
    got: str  # what the code does
    source: str  # "example" (a >>> line) or "docstring" (the model read it there)

    def as_dict(self) -> dict[str, str]:
        return {"call": self.call, "docstring": self.expected, "code": self.got,
                "source": self.source}  # fmt: skip

    @property
    def line(self) -> str:
        return (f"the docstring says {self.call} gives {self.expected}; "
                f"the code gives {self.got}")  # fmt: skip


def docstring_of(source: str, symbol: Symbol) -> str:
    """The symbol's docstring ("" when it has none)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and (
            node.lineno <= symbol.body_start <= (node.end_lineno or node.lineno)
            and node.name == symbol.qualname.rsplit(".", 1)[-1]
        ):
            return ast.get_docstring(node) or ""
    return ""


def docstring_claims(
    runner: FlowRunner,
    symbol: Symbol,
    source: str,
    module: str,
    header: str,
    known: Sequence[Behaviour],
    limit: int = MAX_CLAIMS,
) -> list[Behaviour]:
    """The behaviours the docstring states that ``known`` lacks (one model call; none when the
    symbol has no docstring, the model gave no usable answer or the budget is spent)."""
    if not docstring_of(source, symbol):
        return []
    import_line = next((x for x in header.splitlines() if x.startswith("from ")), header)
    lines = source.splitlines()[symbol.start - 1 : symbol.end][:MAX_CODE_LINES]
    listing = "\n".join(
        f"- [{b.kind}] {b.description}" + (f" (e.g. `{b.call}` → {b.expected})" if b.call else "")
        for b in known
    )  # fmt: skip
    variables = {
        "path": symbol.path, "module": module, "code": "\n".join(lines),
        "qualname": symbol.qualname, "known": listing or "(none)", "import_line": import_line,
    }  # fmt: skip
    runner.step("stage", name="test_docstring")
    budget, left = runner.budget, runner.seconds_left
    if left is not None:  # a share of the time: what exploration found still needs its gates
        share = min(left, max(MIN_DOCSTRING_SECONDS, left * DOCSTRING_SHARE))
        runner.budget = replace(budget, max_seconds=runner.elapsed + share)
    try:
        items = runner.run(DOCSTRING, variables).value.items
    except (StageFailed, BudgetExhausted) as exc:
        runner.step("skipped", stage="test_docstring", reason=str(exc))
        return []
    finally:
        runner.budget = budget
    seen = {b.call.replace(" ", "") for b in known}
    out = []
    for item in items:
        if item.call and item.call.replace(" ", "") not in seen and item.expected:
            out.append(item.model_copy(update={"origin": "docstring"}))
    return out[:limit]


def check_claims(
    sandbox: Sandbox,
    module: str,
    qualname: str,
    claims: Sequence[Behaviour],
    pythonpath: str,
    timeout: float = 30.0,
) -> tuple[list[Behaviour], list[Contradiction]]:
    """(the claims the code does not contradict, the examples and claims it contradicts)."""
    spec = {"module": module, "qualname": qualname,
            "claims": [{"expr": c.call, "expected": c.expected} for c in claims]}  # fmt: skip
    run = sandbox.run(
        [str(sandbox.python), DRIVER_FILE, SPEC_FILE],
        extra_files={DRIVER_FILE: DRIVER.read_text(encoding="utf-8"), SPEC_FILE: json.dumps(spec)},
        env={"PYTHONPATH": pythonpath} if pythonpath else None,
        timeout=timeout,
    )
    results: list[dict[str, Any]] = []
    for line in run.output.splitlines():
        if line.startswith(MARK):
            try:
                item = json.loads(line[len(MARK) :])
            except ValueError:
                continue
            if isinstance(item, dict) and "expr" in item:
                results.append(item)
    by_call = {c.call: c for c in claims}
    agreed: list[Behaviour] = []
    wrong: list[Contradiction] = []
    for item in results:
        expr, agrees = str(item["expr"]), item.get("agrees")
        source = "example" if item.get("doctest") else "docstring"
        if agrees is False:
            wrong.append(Contradiction(expr, str(item["expected"]), str(item["got"]), source))
        elif expr in by_call and not (agrees is None and item.get("raised")):
            agreed.append(by_call[expr])  # agrees, or cannot tell: the gates' oracles settle it
    return agreed, wrong
