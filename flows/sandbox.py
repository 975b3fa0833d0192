"""The one module that runs user code (and generated tests): in a throwaway copy, confined.

``Sandbox(repo)`` copies the repository once into a pristine staging directory, respecting
``.gitignore`` and never copying ``.git``, virtualenvs or caches (:mod:`flows.sandbox_copy`).
Every run gets a fresh copy of the stage plus its own ``home/``, ``tmp/`` and ``out/`` beside
it, all removed afterwards: nothing a run does reaches the user's tree or the next run.

What is enforced, by isolation level (the strongest the host allows, probed once by running
``true`` with it, see :func:`isolation_level`; a sandbox may cap it with ``max_isolation``):

- ``bwrap`` (bubblewrap): the filesystem is read-only except the run's directory; private
  ``/tmp`` and ``/run`` (no host unix sockets), own ``/dev`` and ``/proc``; own PID, IPC, UTS
  and network namespaces: no network (a private loopback only) unless ``network=True``.
- ``unshare``: own user, PID and network namespaces (no network, not even loopback, unless
  ``network=True``).  The filesystem is NOT read-only: the command can write wherever the
  service's user can, and only the working copy keeps the user's tree out of its way.
- ``process``: a plain process group; neither network nor filesystem is confined.

At every level (how: :mod:`flows.sandbox_confine`): a wall-clock timeout, and at the end of every
run (timed out or not) SIGKILL for all of the run's processes: its process group, its descendants,
every process whose environment carries the run's ``ASSAY_SANDBOX_RUN`` token (this finds
grandchildren that escaped with ``setsid``) and, with a PID namespace, the whole namespace.  A run
returns only when none is left.  An address-space limit (RLIMIT_AS).  An environment scrubbed of
secrets (:func:`scrub_env`), with ``HOME`` and ``TMPDIR`` in the run's directory,
``PYTHONDONTWRITEBYTECODE=1``, none of our ``PYTHON*``/``PYTEST*``/``COVERAGE*`` variables and
the interpreter's virtualenv first on ``PATH``.

``run_tests`` runs ``python -m coverage run --branch -m pytest`` with ``PYTHONPATH`` set to the
copy's root plus its ``src/`` (flat and src layouts both import the copy, never an editable
install of the user's tree), then ``python -m coverage json`` with the same interpreter; the
results are read by :mod:`flows.coverage_data`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from flows.coverage_data import (
    CoverageReport,
    OutputBuffer,
    RunResult,
    TestRun,
    load_coverage_json,
    parse_junit,
)
from flows.errors import SandboxError
from flows.sandbox_confine import (
    MARKER,
    Isolation,
    _confine,
    _kill_run,
    _limit_memory,
    _wait_exit,
    available_isolation,
    isolation_level,
    scrub_env,
)
from flows.sandbox_copy import (
    ALWAYS_SKIP,
    _git_files,
    _rmtree,
    _stage,
    _walk,
    _write_files,
    repo_files,
)

__all__ = [
    "ALWAYS_SKIP",
    "DEFAULT_MAX_OUTPUT",
    "DEFAULT_MEMORY_LIMIT",
    "DEFAULT_TIMEOUT",
    "MARKER",
    "CoverageReport",
    "Isolation",
    "RunResult",
    "Sandbox",
    "TestRun",
    "available_isolation",
    "isolation_level",
    "parse_test_command",
    "repo_files",
    "scrub_env",
]

DEFAULT_TIMEOUT = 300.0
DEFAULT_MEMORY_LIMIT = 4 << 30  # bytes of address space
DEFAULT_MAX_OUTPUT = 64_000  # bytes of output kept (head and tail)


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


def _python_path(python: str | Path | None) -> Path:
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


_FIND_TOOLS = (
    "import importlib.util as u; "
    "print('missing:' + ' and '.join(m for m in ('pytest', 'coverage') if not u.find_spec(m)))"
)


CONTEXTS_PLUGIN = "_assay_test_contexts"
# Each test's lines are recorded under its node id (what pytest-cov's --cov-context=test does).
CONTEXTS_PLUGIN_SOURCE = """
import coverage


def _switch(name):
    cov = coverage.Coverage.current()
    if cov is not None:
        cov.switch_context(name)


def pytest_runtest_setup(item):
    _switch(item.nodeid)


def pytest_runtest_teardown(item, nextitem):
    _switch(item.nodeid)
"""


class Sandbox:
    """Runs commands in throwaway copies of ``repo``, confined as strongly as the host allows.

    Use it as a context manager: entering stages the copy, leaving removes everything.
    ``python`` (default: this interpreter) runs the tests; ``timeout`` (seconds) and
    ``memory_limit`` (bytes of address space, None for none) apply to every run unless a run
    says otherwise.  ``network=True`` leaves the network alone; ``max_isolation`` caps the level
    (``Isolation`` or its label).  ``base_env`` (default ``os.environ``) is scrubbed of secrets
    before a run sees it.  ``work_dir`` holds the copies (default: the system temp directory).
    """

    def __init__(
        self,
        repo: str | Path,
        python: str | Path | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
        network: bool = False,
        max_isolation: Isolation | str = Isolation.BWRAP,
        base_env: Mapping[str, str] | None = None,
        work_dir: str | Path | None = None,
        max_output: int = DEFAULT_MAX_OUTPUT,
        stop_check: Callable[[], None] | None = None,
    ) -> None:
        self.repo = Path(os.path.abspath(os.path.expanduser(repo)))
        if not self.repo.is_dir():
            raise SandboxError(f"repository not found: {self.repo}", "pass the repository's root")
        self.python = _python_path(python)
        if isinstance(max_isolation, str):
            if max_isolation.upper() not in Isolation.__members__:
                labels = ", ".join(level.label for level in Isolation)
                raise SandboxError(f"unknown isolation level {max_isolation!r}", f"use {labels}")
            max_isolation = Isolation[max_isolation.upper()]
        self.isolation = Isolation(min(max_isolation, isolation_level()))
        self.timeout, self.memory_limit, self.network = timeout, memory_limit, network
        self.max_output, self.work_dir = max_output, work_dir
        # Called before every run and a few times a second while one runs: what it raises stops
        # the run (all its processes are killed) and propagates (an editor's cancel button).
        self.stop_check = stop_check
        self.dropped_symlinks: list[str] = []  # symlinks not copied: they lead outside the repo
        self._base_env = dict(os.environ if base_env is None else base_env)
        self._root: Path | None = None
        self._stage_dir = Path()
        self._lock = threading.Lock()
        self._tools_ok = False
        interpreters = {Path(p).parent.parent for p in (self.python, os.path.realpath(self.python))}
        self._ro_binds = sorted(p for p in interpreters if str(p).startswith(("/tmp/", "/run/")))

    def describe(self) -> str:
        """What a run in this sandbox is confined by, in one line for ``assay doctor``."""
        limit = self.memory_limit
        memory = "no memory limit" if limit is None else f"address space ≤ {limit / 2**30:.1f} GiB"
        return f"{self.isolation.describe(self.network)}; {memory}"

    def open(self) -> Sandbox:
        """Stage the pristine copy (once; entering the context manager does this)."""
        with self._lock:
            if self._root is None:
                root = Path(tempfile.mkdtemp(prefix="assay-sandbox-", dir=self.work_dir)).resolve()
                stage = root / "stage" / (self.repo.name or "repo")
                try:
                    stage.mkdir(parents=True)
                    (root / "runs").mkdir()
                    names = _git_files(self.repo, self._base_env)
                    listed = _walk(self.repo) if names is None else names
                    self.dropped_symlinks = _stage(self.repo, stage, listed)
                except OSError as exc:
                    _rmtree(root)
                    raise SandboxError(
                        f"could not copy {self.repo} into the sandbox: {exc}",
                        "check that the repository is readable and the temp directory has space",
                    ) from exc
                self._stage_dir, self._root = stage, root
        return self

    def close(self) -> None:
        """Remove the staging directory and whatever runs left."""
        with self._lock:
            if self._root is not None:
                _rmtree(self._root)
                self._root = None

    def __enter__(self) -> Sandbox:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def run(
        self,
        argv: Sequence[str],
        *,
        extra_files: Mapping[str, str | bytes] | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> RunResult:
        """Run ``argv`` in a fresh copy (cwd: its root) holding ``extra_files`` too.

        ``env`` adds to (or overrides) the scrubbed environment; no ``PYTHONPATH`` is set.
        """
        with self._area() as (area, token):
            _write_files(area / "copy", extra_files)
            return self._execute(area, token, list(argv), self._env(area, token, env), timeout)

    def run_tests(
        self,
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
        """Run the user's pytest command under ``coverage run --branch`` in a fresh copy.

        ``test_args`` follow the command's own arguments.  ``source`` and ``omit`` go to
        coverage; None leaves them to the project's coverage configuration.  ``contexts``
        records which test ran each line (the coverage report's ``contexts``: node ids).
        """
        pytest_args, command_env = parse_test_command(test_command)
        self._check_tools()
        with self._area() as (area, token):
            copy, out = area / "copy", area / "out"
            _write_files(copy, extra_files)
            run_env = self._env(area, token, {**command_env, **(env or {})})
            paths = [copy, copy / "src"] if (copy / "src").is_dir() else [copy]
            extra_path = [run_env["PYTHONPATH"]] if run_env.get("PYTHONPATH") else []
            plugin: list[str] = []
            if contexts:  # a pytest plugin of ours, beside the copy, names each test's context
                (out / f"{CONTEXTS_PLUGIN}.py").write_text(CONTEXTS_PLUGIN_SOURCE)
                paths.append(out)
                plugin = ["-p", CONTEXTS_PLUGIN]
            run_env["PYTHONPATH"] = os.pathsep.join([*map(str, paths), *extra_path])
            run_env["COVERAGE_FILE"] = str(out / ".coverage")
            argv = [str(self.python), "-m", "coverage", "run", "--branch"]
            argv += [f"--source={','.join(source)}"] if source else []
            argv += [f"--omit={','.join(omit)}"] if omit else []
            argv += ["-m", "pytest", *pytest_args, *test_args, f"--junitxml={out / 'junit.xml'}"]
            argv += ["-p", "no:cacheprovider", *plugin]
            if not any(arg.startswith("--rootdir") for arg in argv):
                argv.append(f"--rootdir={copy}")  # node ids relative to the repository root
            result = self._execute(area, token, argv, run_env, timeout)
            tests = parse_junit(out / "junit.xml", copy)
            coverage, error = self._export_coverage(area, token, run_env, result, contexts)
            return TestRun(result, tests, coverage, error)

    def _export_coverage(
        self, area: Path, token: str, env: dict[str, str], result: RunResult, contexts: bool
    ) -> tuple[CoverageReport | None, str]:
        """``coverage json`` with the interpreter that measured, then read the JSON."""
        if result.timed_out:
            return None, "the test run timed out before coverage was saved"
        python, out, report = str(self.python), area / "out", area / "out" / "coverage.json"
        if not (out / ".coverage").exists() and any(out.glob(".coverage.*")):  # parallel = true
            self._execute(area, token, [python, "-m", "coverage", "combine"], env, 120)
        argv = [python, "-m", "coverage", "json", "-i", "-o", str(report)]
        argv += ["--show-contexts"] if contexts else []
        done = self._execute(area, token, argv, env, 120)
        try:
            return load_coverage_json(report, area / "copy"), ""
        except (OSError, ValueError) as exc:
            return None, (done.output.strip() or str(exc))[-2000:]

    def _check_tools(self) -> None:
        """Fail early, with the fix, if the interpreter lacks pytest or coverage (checked once)."""
        if self._tools_ok:
            return
        with self._area(copy=False) as (area, token):
            argv, env = [str(self.python), "-c", _FIND_TOOLS], self._env(area, token, None)
            done = self._execute(area, token, argv, env, 60, cwd=area / "tmp")
        found = re.search(r"^missing:(.*)$", done.output, re.MULTILINE)
        if found is None:
            last = (done.output.strip().splitlines() or ["no output"])[-1]
            raise SandboxError(
                f"could not run {self.python} in the sandbox (exit {done.returncode}): {last}",
                f"check that '{self.python} -c pass' works",
            )
        if missing := found.group(1).strip():
            raise SandboxError(
                f"{missing} not installed in {self.python}",
                f"install them into that interpreter: {self.python} -m pip install pytest coverage",
            )
        self._tools_ok = True

    @contextlib.contextmanager
    def _area(self, copy: bool = True) -> Iterator[tuple[Path, str]]:
        """A run's directory (``copy/``, ``home/``, ``tmp/``, ``out/``) and its token."""
        self.open()
        assert self._root is not None
        area = Path(tempfile.mkdtemp(prefix="run-", dir=self._root / "runs"))
        try:
            try:
                if copy:
                    shutil.copytree(self._stage_dir, area / "copy", symlinks=True)
                for name in ("copy", "home", "tmp", "out"):
                    (area / name).mkdir(exist_ok=True)
            except OSError as exc:
                raise SandboxError(
                    f"could not prepare a run directory: {exc}", "free disk space"
                ) from exc
            yield area, uuid.uuid4().hex
        finally:
            _rmtree(area)

    def _env(self, area: Path, token: str, extra: Mapping[str, str] | None) -> dict[str, str]:
        env = scrub_env(self._base_env)
        path = env.get("PATH") or os.defpath
        if (self.python.parent.parent / "pyvenv.cfg").is_file():
            env["VIRTUAL_ENV"] = str(self.python.parent.parent)
            path = os.pathsep.join([str(self.python.parent), path])
        env.update(PATH=path, HOME=str(area / "home"), TMPDIR=str(area / "tmp"))
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.update(extra or {})
        env[MARKER] = token
        return env

    def _execute(
        self,
        area: Path,
        token: str,
        argv: list[str],
        env: dict[str, str],
        timeout: float | None,
        cwd: Path | None = None,
    ) -> RunResult:
        """Run one command confined, wait (bounded), then kill every process of the run."""
        if self.stop_check is not None:
            self.stop_check()
        timeout = self.timeout if timeout is None else timeout
        cwd = cwd or area / "copy"
        program = argv[0] if argv else ""
        local = os.sep in program and os.access(cwd / program, os.X_OK)
        if not (local or (program and shutil.which(program, path=env.get("PATH")))):
            raise SandboxError(f"program not found: {program!r}", "check the command and PATH")
        inner = argv
        if self.memory_limit is not None:
            inner = _limit_memory(argv, self.memory_limit, self.python)
        wrapped = _confine(
            self.isolation, inner, area=area, cwd=cwd, network=self.network, ro_binds=self._ro_binds
        )
        read_fd, write_fd = os.pipe()
        start = time.monotonic()
        try:
            proc = subprocess.Popen(
                wrapped, stdin=subprocess.DEVNULL, stdout=write_fd, stderr=write_fd, env=env,
                cwd=cwd, start_new_session=True,
            )  # fmt: skip
        except OSError as exc:
            os.close(read_fd)
            raise SandboxError(
                f"could not start {wrapped[0]!r} in the sandbox: {exc.strerror or exc}",
                "check that the program exists and is executable",
            ) from exc
        finally:
            os.close(write_fd)
        output = OutputBuffer(read_fd, self.max_output)
        output.start()
        try:
            exited = _wait_exit(proc, timeout, self.stop_check)
        except BaseException:  # Ctrl-C, SIGTERM: nothing of the run may outlive us
            _kill_run(proc.pid, f"{MARKER}={token}")
            proc.wait()
            raise
        duration = time.monotonic() - start
        leaked = _kill_run(proc.pid, f"{MARKER}={token}")
        returncode = proc.wait()
        output.join(timeout=5)
        return RunResult(
            argv=tuple(argv),
            returncode=returncode if exited else None,
            timed_out=not exited,
            output=output.text(),
            duration=duration,
            isolation=self.isolation.label,
            output_trimmed=output.trimmed,
            leaked_pids=leaked,
        )
