"""The environment of a sandboxed run, built from an allow-list (never by removing known names).

From the parent's environment a run gets only :data:`ALLOWED` (``PATH``, ``LANG``,
``LANGUAGE``, ``LC_*``, ``TZ``) and the names the caller passes on purpose (``pass_env``:
exact names or ``fnmatch`` patterns, e.g. ``DJANGO_SETTINGS_MODULE``).  The sandbox then
sets ``HOME``, ``TMPDIR``/``TMP``/``TEMP`` (inside the run), ``USER``/``LOGNAME``,
``PYTHONDONTWRITEBYTECODE=1``, ``PYTHONNOUSERSITE=1`` and, for a virtualenv interpreter,
``VIRTUAL_ENV`` with its ``bin`` first on ``PATH``; the test command's own ``NAME=value`` pairs
come last.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

ALLOWED = ("PATH", "LANG", "LANGUAGE", "LC_*", "TZ")
SANDBOX_USER = "sandbox"


def _allowed(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def run_env(
    base: Mapping[str, str],
    *,
    area: Path,
    python: Path,
    pass_env: Iterable[str] = (),
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of one run in ``area`` (its ``home/`` and ``tmp/``), see the module."""
    patterns = (*ALLOWED, *pass_env)
    env = {name: value for name, value in base.items() if _allowed(name, patterns)}
    path = env.get("PATH") or os.defpath
    if (python.parent.parent / "pyvenv.cfg").is_file():
        env["VIRTUAL_ENV"] = str(python.parent.parent)
        path = os.pathsep.join([str(python.parent), path])
    tmp = str(area / "tmp")
    env.update(PATH=path, HOME=str(area / "home"), TMPDIR=tmp, TMP=tmp, TEMP=tmp)
    env.update(USER=SANDBOX_USER, LOGNAME=SANDBOX_USER)
    env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONNOUSERSITE="1")
    env.update(extra or {})
    return env
