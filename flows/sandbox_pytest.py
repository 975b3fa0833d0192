"""Running a Python project's pytest suite under coverage in a :class:`~flows.sandbox.Sandbox`.

:func:`run_pytest` (``Sandbox.run_tests``) runs ``python -m coverage run --branch -m pytest`` in
a fresh copy with ``PYTHONPATH`` set to the copy's root plus its ``src/``, then ``coverage json``
in the run's ``out/`` (not in the copy) with the same interpreter; the results are read by
:mod:`flows.coverage_data`.  :func:`check_tools` fails early, with the fix, when the interpreter
lacks pytest or coverage.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from flows.coverage_data import (
    CoverageReport,
    RunResult,
    TestRun,
    load_coverage_json,
    parse_junit,
)
from flows.errors import SandboxError
from flows.sandbox_command import parse_test_command
from flows.sandbox_copy import _write_files
from flows.sandbox_run import Confinement


class Sandbox(Protocol):
    """What of :class:`flows.sandbox.Sandbox` running pytest uses (no import cycle)."""

    python: Path
    _conf: Confinement
    _tools_ok: bool

    def _area(self, copy: bool = True) -> AbstractContextManager[tuple[Path, str]]: ...
    def _env(self, area: Path, extra: Mapping[str, str] | None) -> dict[str, str]: ...
    def _execute(
        self, area: Path, token: str, argv: list[str], env: dict[str, str],
        timeout: float | None, cwd: Path | None = None,
    ) -> RunResult: ...  # fmt: skip


_FIND_TOOLS = (
    "import importlib.util as u; "
    "print('missing:' + ' and '.join(m for m in ('pytest', 'coverage') if not u.find_spec(m)))"
)

CONTEXTS_PLUGIN = "_assay_test_contexts"
# A pytest plugin, written beside a run's copy: each test's lines under its node id.
CONTEXTS_PLUGIN_SOURCE = Path(__file__).with_name("contexts_plugin.py").read_text(encoding="utf-8")


def run_pytest(
    sandbox: Sandbox,
    test_args: Sequence[str] = (),
    *,
    test_command: str | Sequence[str] = "pytest",
    extra_files: Mapping[str, str | bytes] | None = None,
    source: Sequence[str] | None = None,
    omit: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    contexts: bool = False,
) -> TestRun:
    """See :meth:`flows.sandbox.Sandbox.run_tests`."""
    pytest_args, command_env = parse_test_command(test_command)
    check_tools(sandbox)
    with sandbox._area() as (area, token):
        copy, out = area / "copy", area / "out"
        _write_files(copy, extra_files)
        run_env = sandbox._env(area, {**command_env, **(env or {})})
        paths = [copy, copy / "src"] if (copy / "src").is_dir() else [copy]
        extra_path = [run_env["PYTHONPATH"]] if run_env.get("PYTHONPATH") else []
        plugin: list[str] = []
        if contexts:  # a pytest plugin of ours, beside the copy, names each test's context
            (out / f"{CONTEXTS_PLUGIN}.py").write_text(CONTEXTS_PLUGIN_SOURCE)
            paths.append(out)
            plugin = ["-p", CONTEXTS_PLUGIN]
        run_env["PYTHONPATH"] = os.pathsep.join([*map(str, paths), *extra_path])
        run_env["COVERAGE_FILE"] = str(out / ".coverage")
        argv = [str(sandbox.python), "-m", "coverage", "run", "--branch"]
        argv += [f"--source={','.join(source)}"] if source else []
        argv += [f"--omit={','.join(omit)}"] if omit else []
        argv += ["-m", "pytest", *pytest_args, *test_args, f"--junitxml={out / 'junit.xml'}"]
        argv += ["-p", "no:cacheprovider", *plugin]
        if not any(arg.startswith("--rootdir") for arg in argv):
            argv.append(f"--rootdir={copy}")  # node ids relative to the repository root
        result = sandbox._execute(area, token, argv, run_env, timeout)
        screen = sandbox._conf.screen
        tests = tuple(
            dataclasses.replace(
                case, message=screen.redact(case.message), text=screen.redact(case.text)
            )
            for case in parse_junit(out / "junit.xml", copy)
        )
        if result.broken:
            return TestRun(result, tests, None, f"the sandbox broke: {result.broken}")
        coverage, error = _export_coverage(sandbox, area, token, run_env, result, contexts)
        return TestRun(result, tests, coverage, error)


def _export_coverage(
    sandbox: Sandbox, area: Path, token: str, env: dict[str, str], result: RunResult,
    contexts: bool,
) -> tuple[CoverageReport | None, str]:  # fmt: skip
    """``coverage json`` with the interpreter that measured (in ``out/``, not in the copy)."""
    if result.timed_out:
        return None, "the test run timed out before coverage was saved"
    python, out, report = str(sandbox.python), area / "out", area / "out" / "coverage.json"
    env = {**env, "PYTHONPATH": ""}  # the copy's code plays no part in exporting
    if not (out / ".coverage").exists() and any(out.glob(".coverage.*")):  # parallel = true
        sandbox._execute(area, token, [python, "-m", "coverage", "combine"], env, 120, cwd=out)
    argv = [python, "-m", "coverage", "json", "-i", "-o", str(report)]
    argv += ["--show-contexts"] if contexts else []
    done = sandbox._execute(area, token, argv, env, 120, cwd=out)
    try:
        return load_coverage_json(report, area / "copy"), ""
    except (OSError, ValueError) as exc:
        return None, (done.broken or done.output.strip() or str(exc))[-2000:]


def check_tools(sandbox: Sandbox) -> None:
    """Fail early, with the fix, if the interpreter lacks pytest or coverage (checked once)."""
    if sandbox._tools_ok:
        return
    python = sandbox.python
    with sandbox._area(copy=False) as (area, token):
        argv, env = [str(python), "-c", _FIND_TOOLS], sandbox._env(area, None)
        done = sandbox._execute(area, token, argv, env, 60, cwd=area / "tmp")
    found = re.search(r"^missing:(.*)$", done.output, re.MULTILINE)
    if found is None:
        last = (done.broken or done.output.strip() or "no output").splitlines()[-1]
        raise SandboxError(
            f"could not run {python} in the sandbox (exit {done.returncode}): {last}",
            f"check that '{python} -c pass' works",
        )
    if missing := found.group(1).strip():
        raise SandboxError(
            f"{missing} not installed in {python}",
            f"install them into that interpreter: {python} -m pip install pytest coverage",
        )
    sandbox._tools_ok = True
