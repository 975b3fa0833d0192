"""Runs of a candidate test that say nothing about the code under test, and why.

:func:`trouble` reads a sandbox run of the candidate: the sandbox broke (the run destroyed its
copy or could not start: ``sandbox-broken``), it timed out (``timeout``), or it had side effects
beyond its own run (``side-effects``): processes left running, the memory or process cap
reached, the host touched outside the run (the ``ASSAY_OUTSIDE`` line of
:mod:`agents.cover.guard`), or the interpreter exited before pytest could report.  The detail
names what happened, never what was read.
"""

from __future__ import annotations

import json
import re

from flows import RunResult, TestRun

_OUTSIDE = re.compile(r"^ASSAY_OUTSIDE (\{.*\})$", re.M)
_NOTED = re.compile(r"^[\w.]+ /[^\s]{0,200}$")  # "open /home/me/.netrc": an event and a path


def trouble(run: TestRun | RunResult, timeout: float) -> tuple[str, str] | None:
    """(reason, detail) when a run of the candidate says nothing about the code under test: the
    sandbox broke, it timed out, or it had side effects beyond its own run."""
    result = run.result if isinstance(run, TestRun) else run
    if result.broken:
        return "sandbox-broken", result.broken
    if result.timed_out:
        return "timeout", f"{timeout:g}"
    effects = list(result.side_effects)
    for found in _OUTSIDE.finditer(result.output):
        try:
            noted = json.loads(found.group(1))
        except ValueError:
            noted = {}
        noted_paths = [str(n) for n in noted.get("outside", []) if _NOTED.match(str(n))]
        where = ", ".join(noted_paths[:3]) or "?"
        effects.append(f"touched the host outside its run ({noted.get('count', 1)}x): {where}")
    if isinstance(run, TestRun) and result.returncode == 0 and not run.tests:
        effects.append("ended the test process before pytest reported (it exited the interpreter)")
    return ("side-effects", "; ".join(effects)) if effects else None
