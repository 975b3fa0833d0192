"""The repeat gate: a candidate's tests run several times, each run a new pytest process (its
own hash seed, its own clock) in one sandbox copy.

A test that fails in any of those runs would fail some day in the user's CI: a message that
joins a set's items, a dict's order by hash, a time of day.  It goes, and the candidate's other
tests stay if they then pass every run; a candidate whose tests all fail somewhere is flaky as a
whole.  (Rejecting the whole candidate for one such test threw away a differential
exploration's dozens of tests for the one whose message lists two unknown keyword arguments.)
"""

from __future__ import annotations

import ast
import re

from agents.cover.candidate import Candidate, check_static, keep_tests, test_names
from agents.cover.targets import Target
from flows import RunResult, Sandbox

QUIET_PYTEST = ("-q", "-x", "-p", "no:cacheprovider", "-p", "no:randomly")

# Runs pytest on one file N times in the same copy, every run to its end (no -x: each failing
# test is named), and names each test that failed in any run.
REPEAT_DRIVER = f"""
import re, subprocess, sys
QUIET = {[a for a in QUIET_PYTEST if a != "-x"]!r}
n, path = int(sys.argv[1]), sys.argv[2]
failed, code = set(), 0
for i in range(n):
    run = subprocess.run([sys.executable, "-m", "pytest", *QUIET, "-rf", path],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if run.returncode != 0:
        code = code or run.returncode
        print("ASSAY: run", i + 1, "of", n, "failed with exit code", run.returncode)
        print(run.stdout[-3000:])
        failed |= set(re.findall(r"^FAILED (\\S+?)(?: - |$)", run.stdout, re.M))
for name in sorted(failed):
    print("ASSAY FLAKY", name)
sys.exit(1 if code else 0)
"""
_FLAKY = re.compile(r"^ASSAY FLAKY \S+?::(\w+)", re.M)


def run_repeated(
    sandbox: Sandbox, path: str, times: int, files: dict[str, str], env: dict[str, str],
    timeout: float,
) -> RunResult:  # fmt: skip
    """The candidate file ``path`` (with ``files``) run ``times`` times, each a new process."""
    return sandbox.run(
        [str(sandbox.python), "-c", REPEAT_DRIVER, str(times), path],
        extra_files=files,
        env=env,
        timeout=timeout * times,
    )


def without_flaky(code: str, target: Target, output: str) -> tuple[Candidate | None, int]:
    """``code`` without the tests the repeated runs' ``output`` names as failing somewhere, and
    how many went; None when none is named, or none would be left."""
    flaky = set(_FLAKY.findall(output))
    keep = set(test_names(ast.parse(code))) - flaky
    if not flaky or not keep:
        return None, 0
    fewer = check_static(keep_tests(code, keep), target)
    return (fewer, len(flaky)) if isinstance(fewer, Candidate) else (None, 0)
