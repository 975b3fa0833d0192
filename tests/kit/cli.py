"""The one way tests run the ``assay`` command: the real console entry point in a subprocess."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

ASSAY = [sys.executable, "-m", "agents.cli"]  # the command, for tests that need the process


def ctrl_c_works() -> None:
    """``preexec_fn`` of a process a test interrupts with SIGINT: a shell starts background jobs
    with SIGINT ignored, and an ignored signal stays ignored across exec, so that Python would
    never raise KeyboardInterrupt; a user's terminal does not ignore it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_assay(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    input: str | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """``python -m agents.cli ARGS`` with the test's environment (plus ``env``), wide output."""
    return subprocess.run(
        [*ASSAY, *args],
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def tree_digest(root: Path) -> str:
    """A digest of every path and file's bytes below ``root``: equal when nothing changed."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        h.update(str(path.relative_to(root)).encode())
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()
