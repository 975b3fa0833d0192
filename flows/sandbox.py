"""The one module that runs user code (and generated tests): in a throwaway copy, confined.

``Sandbox(repo)`` copies the repository once into a pristine staging directory, respecting
``.gitignore`` and never copying ``.git``, virtualenvs or caches (:mod:`flows.sandbox_copy`).
Every run gets a fresh copy of the stage plus its own ``home/``, ``tmp/`` and ``out/`` beside
it, all removed afterwards: nothing a run does reaches the user's tree or the next run.
Opening a sandbox first sweeps what dead assay processes left (:mod:`flows.sandbox_sweep`).

How a run is confined (the strongest level the host allows, see :mod:`flows.sandbox_confine`;
``max_isolation`` may cap it) and what that really guarantees here
(:meth:`Sandbox.guarantees`, :mod:`flows.sandbox_guarantees`):

- ``bwrap``: an unprivileged uid without capabilities in its own namespaces, seeing only
  system directories, the interpreters and its copy; no network unless ``network=True``.
- ``unshare``: own user, PID and network namespaces; the filesystem is NOT confined.
- ``process``: a supervised process tree only.

At every level (:mod:`flows.sandbox_run`): a cgroup per run where the host allows (every
process killed at the end, memory and process count capped for the run as a whole), a
supervisor that is the subreaper of the run's processes and names what was left running, an
address-space limit per process, a wall-clock timeout, and an environment built from an
allow-list (:mod:`flows.sandbox_env`).  Outputs are redacted of the parent's secret values and
of credential-looking strings.  A run that could not start or destroyed its copy returns a
result with ``broken`` set, not an exception.

``run_tests`` runs pytest under coverage (:mod:`flows.sandbox_pytest`).  For other runners
(node): ``dependencies`` (``node_modules``) are shared with every run, read-only under bwrap;
``run_collect`` returns what a run wrote to its output directory; ``prepare`` runs an install
command (with the network if asked) whose dependencies later runs see.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from flows.coverage_data import (
    CoverageReport,
    RunResult,
    TestRun,
)
from flows.credentials import CredentialScreen
from flows.errors import SandboxError
from flows.sandbox_cgroup import cgroup_host
from flows.sandbox_command import parse_test_command, python_path
from flows.sandbox_confine import (
    Isolation,
    available_isolation,
    interpreter_mounts,
    isolation_level,
)
from flows.sandbox_copy import (
    ALWAYS_SKIP,
    _collect,
    _rmtree,
    _stage,
    _write_files,
    listed_files,
    repo_files,
)
from flows.sandbox_env import run_env
from flows.sandbox_guarantees import (
    DEFAULT_MAX_PROCESSES,
    DEFAULT_MEMORY_LIMIT,
    Guarantee,
    guarantees,
    host_guarantees,
)
from flows.sandbox_pytest import run_pytest
from flows.sandbox_run import Confinement, execute
from flows.sandbox_sweep import MARKER, STAGE_PREFIX, mark_owner, sweep

__all__ = [
    "ALWAYS_SKIP",
    "DEFAULT_MAX_OUTPUT",
    "DEFAULT_MAX_PROCESSES",
    "DEFAULT_MEMORY_LIMIT",
    "DEFAULT_TIMEOUT",
    "MARKER",
    "CoverageReport",
    "Guarantee",
    "Isolation",
    "RunResult",
    "Sandbox",
    "TestRun",
    "available_isolation",
    "host_guarantees",
    "isolation_level",
    "parse_test_command",
    "repo_files",
]

DEFAULT_TIMEOUT = 300.0
DEFAULT_MAX_OUTPUT = 64_000  # bytes of output kept (head and tail)


class Sandbox:
    """Runs commands in throwaway copies of ``repo``, confined as strongly as the host allows.

    Use it as a context manager: entering stages the copy, leaving removes everything.
    ``python`` (default: this interpreter) runs the tests; ``timeout`` (seconds),
    ``memory_limit`` (bytes, None for none: the address space of each process and, with a
    cgroup, the memory of the run as a whole) and ``max_processes`` (per run, with a cgroup)
    apply to every run.  ``network=True`` leaves the network alone; ``max_isolation`` caps the
    level (``Isolation`` or its label); ``cgroups=False`` never uses a cgroup.  A run's
    environment is built from an allow-list of ``base_env`` (default ``os.environ``) plus the
    names or patterns in ``pass_env``; ``base_env``'s secret values are redacted from outputs.
    ``work_dir`` holds the copies (default: the system temp directory).
    """

    def __init__(
        self,
        repo: str | Path,
        python: str | Path | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
        max_processes: int | None = DEFAULT_MAX_PROCESSES,
        network: bool = False,
        max_isolation: Isolation | str = Isolation.BWRAP,
        cgroups: bool = True,
        base_env: Mapping[str, str] | None = None,
        pass_env: Sequence[str] = (),
        work_dir: str | Path | None = None,
        max_output: int = DEFAULT_MAX_OUTPUT,
        stop_check: Callable[[], None] | None = None,
        dependencies: Sequence[str] = (),
    ) -> None:
        self.repo = Path(os.path.abspath(os.path.expanduser(repo)))
        # Directories of the repository the copy skips (``node_modules``) that every run sees:
        # linked into each run's copy, bound read-only under bwrap (see _stage_dependencies).
        self.dependencies = tuple(dependencies)
        if not self.repo.is_dir():
            raise SandboxError(f"repository not found: {self.repo}", "pass the repository's root")
        self.python = python_path(python)
        if isinstance(max_isolation, str):
            if max_isolation.upper() not in Isolation.__members__:
                labels = ", ".join(level.label for level in Isolation)
                raise SandboxError(f"unknown isolation level {max_isolation!r}", f"use {labels}")
            max_isolation = Isolation[max_isolation.upper()]
        self.isolation = Isolation(min(max_isolation, isolation_level()))
        self.timeout, self.memory_limit, self.network = timeout, memory_limit, network
        self.max_processes = max_processes
        self.max_output = max_output
        self.work_dir = Path(work_dir or tempfile.gettempdir()).resolve()
        # Called before every run and a few times a second while one runs: what it raises stops
        # the run (all its processes are killed) and propagates (an editor's cancel button).
        self.stop_check = stop_check
        self.dropped_symlinks: list[str] = []  # symlinks not copied: they lead outside the repo
        self._base_env = dict(os.environ if base_env is None else base_env)
        self.pass_env = tuple(pass_env)
        self._cgroups = cgroup_host() if cgroups else None
        self._root: Path | None = None
        self._stage_dir = Path()
        self._stage_has_files = False
        self._lock = threading.Lock()
        self._tools_ok = False
        pythons = {self.python, Path(sys.executable)} if sys.executable else {self.python}
        self._conf = Confinement(
            isolation=self.isolation,
            network=network,
            read_only=interpreter_mounts(sorted(pythons), [self.repo]),
            memory_limit=memory_limit,
            max_processes=max_processes,
            cgroups=self._cgroups if self._cgroups and self._cgroups.usable else None,
            max_output=max_output,
            screen=CredentialScreen.from_env(self._base_env),
            stop_check=stop_check,
        )
        self._base_read_only = self._conf.read_only
        self._shared: dict[str, Path] = {}

    def describe(self) -> str:
        """What a run in this sandbox is confined by, in one line."""
        limit = self.memory_limit
        memory = "no memory limit" if limit is None else f"memory ≤ {limit / 2**30:.1f} GiB"
        cgroup = self._conf.cgroups.describe() if self._conf.cgroups else "no cgroup"
        return f"{self.isolation.describe(self.network)}; {cgroup}; {memory}"

    def guarantees(self) -> tuple[Guarantee, ...]:
        """What holds for this sandbox's runs on this host, aspect by aspect."""
        return guarantees(
            self.isolation,
            cgroups=self._conf.cgroups,
            network=self.network,
            memory_limit=self.memory_limit,
            max_processes=self.max_processes,
        )

    def open(self) -> Sandbox:
        """Sweep what dead runs left, then stage the pristine copy (once; ``with`` does this)."""
        with self._lock:
            if self._root is None:
                sweep(self.work_dir, self._conf.cgroups)
                root = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=self.work_dir)).resolve()
                stage = root / "stage" / (self.repo.name or "repo")
                try:
                    mark_owner(root)
                    stage.mkdir(parents=True)
                    (root / "runs").mkdir()
                    listed = listed_files(self.repo, self._base_env)
                    self.dropped_symlinks = _stage(self.repo, stage, listed)
                    self._stage_dependencies(root / "deps")
                except OSError as exc:
                    _rmtree(root)
                    raise SandboxError(
                        f"could not copy {self.repo} into the sandbox: {exc}",
                        "check that the repository is readable and the temp directory has space",
                    ) from exc
                self._stage_dir, self._root = stage, root
                self._stage_has_files = any(stage.iterdir())
        return self

    def _stage_dependencies(self, deps: Path) -> None:
        """Share the repository's dependency directories (see ``dependencies``): not copied
        (thousands of files); bubblewrap binds them read-only, the lower levels link to them
        (they do not confine the filesystem anyway).  ``deps`` holds what :meth:`prepare`
        installs instead."""
        deps.mkdir()
        self._shared = {}
        for name in self.dependencies:
            if (self.repo / name).is_dir():
                self._shared[name] = Path(os.path.realpath(self.repo / name))
        shared = (deps, *self._shared.values())
        self._conf = dataclasses.replace(self._conf, read_only=(*self._base_read_only, *shared))

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

        ``env`` adds to (or overrides) the run's environment; no ``PYTHONPATH`` is set.
        """
        with self._area() as (area, token):
            _write_files(area / "copy", extra_files)
            return self._execute(area, token, list(argv), self._env(area, env), timeout)

    def run_collect(
        self,
        argv: Sequence[str],
        *,
        extra_files: Mapping[str, str | bytes] | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        max_bytes: int = 64 << 20,
    ) -> tuple[RunResult, dict[str, bytes]]:
        """Like :meth:`run`, where ``{out}`` in ``argv`` and ``env`` values is the run's output
        directory (outside the copy, writable): the files the command wrote there (relative
        paths; ``max_bytes`` in all at most) come back with the result."""
        with self._area() as (area, token):
            out = area / "out"
            _write_files(area / "copy", extra_files)
            argv = [arg.replace("{out}", str(out)) for arg in argv]
            extra = {k: v.replace("{out}", str(out)) for k, v in (env or {}).items()}
            result = self._execute(area, token, argv, self._env(area, extra), timeout)
            files = _collect(out, max_bytes)
            return result, files

    def prepare(
        self, argv: Sequence[str], *, network: bool = False, timeout: float | None = None
    ) -> RunResult:
        """Run ``argv`` (an install command such as ``npm ci``) once in a fresh copy, with the
        network when ``network``; on success the ``dependencies`` it made in the copy replace
        the shared ones every later run sees.  The user's tree is never touched."""
        conf = self._conf
        with self._area() as (area, token):
            copy = area / "copy"
            for name in self.dependencies:  # the command installs them afresh
                if (copy / name).is_symlink():
                    (copy / name).unlink()
            self._conf = dataclasses.replace(conf, network=network or conf.network)
            try:
                result = self._execute(area, token, list(argv), self._env(area, None), timeout)
            finally:
                self._conf = conf
            if result.ok:
                assert self._root is not None
                for name in self.dependencies:
                    made, shared = copy / name, self._root / "deps" / name
                    if made.is_dir() and not made.is_symlink():
                        if shared.exists():
                            _rmtree(shared)
                        shutil.move(str(made), str(shared))
            return result

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
        See :mod:`flows.sandbox_pytest`.
        """
        return run_pytest(
            self, test_args, test_command=test_command, extra_files=extra_files, source=source,
            omit=omit, env=env, timeout=timeout, contexts=contexts,
        )  # fmt: skip

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
                    self._link_dependencies(area / "copy")
                for name in ("copy", "home", "tmp", "out"):
                    (area / name).mkdir(exist_ok=True)
            except OSError as exc:
                raise SandboxError(
                    f"could not prepare a run directory: {exc}", "free disk space"
                ) from exc
            yield area, f"{self._root.name}.{uuid.uuid4().hex}"
        finally:
            _rmtree(area)

    def _link_dependencies(self, copy: Path) -> None:
        assert self._root is not None
        for name in self.dependencies:
            installed, link = self._root / "deps" / name, copy / name
            shared = installed if installed.is_dir() else self._shared.get(name)
            if shared is not None and not os.path.lexists(link):
                link.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(shared, link)

    def _env(self, area: Path, extra: Mapping[str, str] | None) -> dict[str, str]:
        return run_env(
            self._base_env, area=area, python=self.python, pass_env=self.pass_env, extra=extra
        )

    def _execute(
        self,
        area: Path,
        token: str,
        argv: list[str],
        env: dict[str, str],
        timeout: float | None,
        cwd: Path | None = None,
    ) -> RunResult:
        """Run one command confined (see :mod:`flows.sandbox_run`)."""
        cwd = cwd or area / "copy"
        program = argv[0] if argv else ""
        local = os.sep in program and os.access(cwd / program, os.X_OK)
        if not (local or (program and shutil.which(program, path=env.get("PATH")))):
            raise SandboxError(f"program not found: {program!r}", "check the command and PATH")
        return execute(
            self._conf,
            argv,
            area=area,
            token=token,
            marker=MARKER,
            env=env,
            cwd=cwd,
            timeout=self.timeout if timeout is None else timeout,
            stage_has_files=self._stage_has_files,
        )
