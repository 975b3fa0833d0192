"""The test command and the interpreter a :class:`~flows.sandbox.Sandbox` is given, checked.

:func:`parse_test_command` splits a user's pytest command into pytest's arguments and leading
``NAME=value`` pairs; :func:`python_path` checks the interpreter exists and is executable.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from flows.errors import SandboxError


def parse_test_command(command: str | Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Split a user's pytest command into pytest's arguments and leading ``NAME=value`` pairs.

    Accepts ``pytest ...``, ``py.test ...`` and ``python -m pytest ...`` (any path to them).
    """
    words = shlex.split(command) if isinstance(command, str) else list(command)
    env = {}
    while words and re.fullmatch(r"[A-Za-z_]\w*=.*", words[0]):
        name, _, env[name] = words.pop(0).partition("=")
    program = Path(words[0]).name if words else ""
    if program in ("pytest", "py.test"):
        return words[1:], env
    if re.fullmatch(r"python[0-9.]*", program) and words[1:3] == ["-m", "pytest"]:
        return words[3:], env
    raise SandboxError(
        f"the test command {shlex.join(words) or '(empty)'!r} is not a pytest command",
        "assay needs a pytest command such as 'pytest tests' or 'python -m pytest tests'",
    )


def python_path(python: str | Path | None) -> Path:
    """The interpreter as given (not resolved: a venv's python is a symlink out of the venv)."""
    fix = "pass --python the path of an existing interpreter, e.g. .venv/bin/python"
    raw = str(python) if python is not None else sys.executable
    if raw and os.sep not in raw:
        raw = shutil.which(raw) or raw
    path = Path(os.path.abspath(os.path.expanduser(raw or "python")))
    if not raw or not path.exists():
        raise SandboxError(f"Python interpreter not found: {path}", fix)
    if not path.is_file() or not os.access(path, os.X_OK):
        raise SandboxError(f"Python interpreter is not an executable file: {path}", fix)
    return path
