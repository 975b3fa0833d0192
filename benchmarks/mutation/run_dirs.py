"""Run pytest once per test directory, each in its own process (score.py --isolate-dirs).

    python run_dirs.py [--fail-fast] DIR... -- PYTEST_ARGS...

Generated suites are written and checked one module at a time, each module's tests alone
(Pynguin; assay cover run per module). Run together in one process, one module's tests can
change global state that another module's tests rely on (humanize: Pynguin's i18n tests leave
a locale activated, and number/time tests written under the default locale then fail). Running
each directory in its own process scores every test the way it was generated.

Exit status: 0 when every directory passed or held no test (pytest's 5), else the first failing
status; with --fail-fast the first failing directory ends the run (a mutant is killed there).
"""

from __future__ import annotations

import subprocess
import sys


def main(argv: list[str]) -> int:
    if "--" not in argv:
        print("usage: run_dirs.py [--fail-fast] DIR... -- PYTEST_ARGS...", file=sys.stderr)
        return 2
    i = argv.index("--")
    head, pytest_args = argv[:i], argv[i + 1 :]
    fail_fast = "--fail-fast" in head
    dirs = [a for a in head if a != "--fail-fast"]
    worst = None
    for d in dirs:
        rc = subprocess.run([sys.executable, "-m", "pytest", *pytest_args, d]).returncode
        sys.stdout.flush()
        if rc == 5:
            continue
        if rc != 0:
            if fail_fast:
                return rc
            worst = worst or rc
        elif worst is None:
            worst = 0
    return 5 if worst is None else worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
