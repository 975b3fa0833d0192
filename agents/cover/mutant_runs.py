"""Mutants run in one sandbox run: the driver (:mod:`agents.cover.mutant_driver`) in one copy.

The driver imports pytest once and forks a child per mutant, so a mutant costs a fork and the
project's import, not a sandbox and an interpreter.  Both the mutation score (thousands of
mutants, in batches) and the mutant gate (the few mutants of one candidate) run their mutants
this way.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from flows import Sandbox

RunStatus = Literal["killed", "timeout", "survived"]
DRIVER = Path(__file__).with_name("mutant_driver.py")
DRIVER_FILE = "_assay_mutant_driver.py"
SPEC_FILE = "_assay_mutants.json"
MARK = "ASSAY_MUTANT "
_RUN_STATUSES = ("killed", "timeout", "survived")


def run_mutants(
    sandbox: Sandbox,
    mutants: Sequence[Mapping[str, Any]],
    extra_files: Mapping[str, str],
    env: Mapping[str, str],
    *,
    seconds: float | None = None,
    first: bool = False,
    failed: dict[str, str] | None = None,
) -> dict[str, RunStatus]:
    """Each mutant (``id``, ``path`` in the copy, mutated ``source``, pytest args as ``tests``,
    ``timeout``) against its tests, in one copy holding ``extra_files``: its id → outcome.
    ``seconds``: no mutant starts after them (those not run are missing from the answer).
    ``first``: stop at the first mutant caught (killed or hung).  ``failed``, when given, gets
    for each killed mutant the node id of the first test that failed (when pytest said)."""
    if not mutants:
        return {}
    spec = {"mutants": list(mutants), "seconds": seconds, "first": first}
    files = {**extra_files, DRIVER_FILE: DRIVER.read_text(encoding="utf-8"),
             SPEC_FILE: json.dumps(spec)}  # fmt: skip
    limit = sum(float(m["timeout"]) for m in mutants) + 60
    run = sandbox.run(
        [str(sandbox.python), DRIVER_FILE, SPEC_FILE],
        extra_files=files,
        env=dict(env),
        timeout=min(limit, seconds + 30) if seconds else limit,
    )
    found: dict[str, RunStatus] = {}
    for line in run.output.splitlines():
        if line.startswith(MARK):
            with contextlib.suppress(ValueError, KeyError, TypeError):
                item = json.loads(line[len(MARK) :])
                if item["status"] in _RUN_STATUSES:
                    found[str(item["id"])] = item["status"]
                    if failed is not None and item.get("failed"):
                        failed[str(item["id"])] = str(item["failed"])
    return found
