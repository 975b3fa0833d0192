"""The baseline run of ``assay cover``: is the suite usable, and where do tests live?"""

from __future__ import annotations

from collections import Counter
from pathlib import Path, PurePosixPath

from agents.cover.gates import trim
from agents.errors import AssayError
from flows import TestRun


def check_baseline(
    run: TestRun, *, command: str, timeout: float, repo: Path, allow_failing: bool
) -> tuple[str, ...]:
    """Raise an :class:`AssayError` saying what to do when the baseline cannot be used; else
    the pytest arguments that skip its failures in later runs (``--allow-failing``)."""
    if run.result.timed_out:
        raise AssayError(
            f"The baseline run of '{command}' timed out after {timeout:g} s",
            "fix the hanging test or raise --sandbox-timeout",
        )
    failing = [c for c in run.tests if c.outcome in ("failed", "error")]
    if failing and not allow_failing:
        names = ", ".join(c.nodeid for c in failing[:5])
        more = f" and {len(failing) - 5} more" if len(failing) > 5 else ""
        raise AssayError(
            f"The test suite fails before assay adds anything ({len(failing)} failing: "
            f"{names}{more})",
            "fix those tests, or pass --allow-failing to continue on the passing ones",
        )
    if not failing and run.result.returncode not in (0, 5):
        tail = trim(run.result.output, 400).replace("\n", " | ")
        raise AssayError(
            f"'{command}' exited with code {run.result.returncode} on the baseline: {tail}",
            f"check that '{command}' runs in {repo}, or set --test-command",
        )
    if run.coverage is None:
        raise AssayError(
            f"Coverage could not be measured on the baseline: {run.coverage_error[-300:]}",
            "check that coverage is installed in the project's Python",
        )
    # Later suite runs skip the failures: failing tests by node id, broken files entirely.
    return tuple(
        f"--deselect={c.nodeid}" if "::" in c.nodeid else f"--ignore={c.nodeid}" for c in failing
    )


def pick_test_dir(repo: Path, baseline: TestRun) -> str:
    """Where the project's tests live: the top directory of most baseline tests, else an
    existing ``tests``/``test`` directory, else ``tests``."""
    dirs = Counter(
        PurePosixPath(case.nodeid.split("::")[0]).parts[0]
        for case in baseline.tests
        if "/" in case.nodeid.split("::")[0]
    )
    if dirs:
        return dirs.most_common(1)[0][0]
    for name in ("tests", "test"):
        if (repo / name).is_dir():
            return name
    return "tests"
