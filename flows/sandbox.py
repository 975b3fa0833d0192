"""The one module that runs user code (and generated tests): in a throwaway copy, confined.

``Sandbox(repo)`` copies the repository once into a pristine staging directory, respecting
``.gitignore`` (``git ls-files --cached --others --exclude-standard`` in a git work tree, else a
walk with ``pathspec``); ``.git``, virtualenvs, caches and ``node_modules`` are never copied,
symlinks stay symlinks and those leading outside the repository are dropped.  Every run gets a
fresh copy of the stage plus its own ``home/``, ``tmp/`` and ``out/`` beside it, all removed
afterwards: nothing a run does reaches the user's tree or the next run.

What is enforced, by isolation level (the strongest the host allows, probed once by running
``true`` with it, see :func:`isolation_level`; a sandbox may cap it with ``max_isolation``):

- ``bwrap`` (bubblewrap): the filesystem is read-only except the run's directory; private
  ``/tmp`` and ``/run`` (no host unix sockets), own ``/dev`` and ``/proc``; own PID, IPC, UTS
  and network namespaces: no network (a private loopback only) unless ``network=True``.
- ``unshare``: own user, PID and network namespaces (no network, not even loopback, unless
  ``network=True``).  The filesystem is NOT read-only: the command can write wherever the
  service's user can, and only the working copy keeps the user's tree out of its way.
- ``process``: a plain process group; neither network nor filesystem is confined.

At every level: a wall-clock timeout, and at the end of every run (timed out or not) SIGKILL
for all of the run's processes: its process group, its descendants, every process whose
environment carries the run's ``ASSAY_SANDBOX_RUN`` token (this finds grandchildren that
escaped with ``setsid``) and, with a PID namespace, the whole namespace.  A run returns only
when none is left.  An address-space limit (RLIMIT_AS) through ``prlimit``, or a tiny exec
wrapper where util-linux is missing (never ``preexec_fn``: unsafe in a threaded service).  An
environment scrubbed of secrets (:func:`scrub_env`), with ``HOME`` and ``TMPDIR`` in the run's
directory, ``PYTHONDONTWRITEBYTECODE=1``, none of our ``PYTHON*``/``PYTEST*``/``COVERAGE*``
variables and the interpreter's virtualenv first on ``PATH``.

``run_tests`` runs ``python -m coverage run --branch -m pytest`` with ``PYTHONPATH`` set to the
copy's root plus its ``src/`` (flat and src layouts both import the copy, never an editable
install of the user's tree), then ``python -m coverage json`` with the same interpreter; the
results are read by :mod:`flows.coverage_data`.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from pathspec import GitIgnoreSpec

from flows.coverage_data import (
    CoverageReport,
    OutputBuffer,
    RunResult,
    TestRun,
    load_coverage_json,
    parse_junit,
)
from flows.errors import SandboxError

DEFAULT_TIMEOUT = 300.0
DEFAULT_MEMORY_LIMIT = 4 << 30  # bytes of address space
DEFAULT_MAX_OUTPUT = 64_000  # bytes of output kept (head and tail)
MARKER = "ASSAY_SANDBOX_RUN"
ALWAYS_SKIP = frozenset(
    {".git", ".venv", "venv", "__pycache__", "node_modules", ".tox", ".nox", ".mypy_cache"}
    | {".pytest_cache", ".ruff_cache"}
)


class Isolation(enum.IntEnum):
    """How strongly a run is confined; larger is stronger."""

    PROCESS = 1
    UNSHARE = 2
    BWRAP = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    def describe(self, network: bool = False) -> str:
        """What this level enforces, in one line for ``assay doctor``."""
        if self is Isolation.BWRAP:
            net = "network allowed" if network else "no network (a private loopback only)"
            return (
                "bubblewrap: read-only filesystem except the run's copy, private /tmp and /run, "
                f"own PID/IPC/UTS/network namespaces, {net}"
            )
        if self is Isolation.UNSHARE:
            net = "network allowed" if network else "no network (not even loopback)"
            return (
                f"unshare: own user/PID/network namespaces, {net}; the filesystem is writable "
                "wherever this user can write (runs use a throwaway copy)"
            )
        return "process group only: network and filesystem are NOT confined (install bubblewrap)"


@functools.cache
def available_isolation() -> tuple[Isolation, ...]:
    """The isolation levels that work on this host (probed once, by running ``true``)."""
    levels = [Isolation.PROCESS]
    with tempfile.TemporaryDirectory(prefix="assay-probe-") as tmp:
        area = Path(tmp).resolve()
        for level in (Isolation.UNSHARE, Isolation.BWRAP):
            argv = _confine(level, ["true"], area=area, cwd=area, network=False, ro_binds=())
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                done = subprocess.run(argv, capture_output=True, timeout=20, cwd=area, check=False)
                if done.returncode == 0:
                    levels.append(level)
    return tuple(levels)


def isolation_level() -> Isolation:
    """The strongest isolation this host allows."""
    return max(available_isolation())


def _confine(
    level: Isolation,
    argv: list[str],
    *,
    area: Path,
    cwd: Path,
    network: bool,
    ro_binds: Iterable[Path],
) -> list[str]:
    """Wrap ``argv`` for ``level``; ``area`` is the one directory the command may write."""
    if level is Isolation.BWRAP:
        cmd = [_which("bwrap"), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        cmd += ["--tmpfs", "/tmp"]
        cmd += [] if network or not os.path.isdir("/run") else ["--tmpfs", "/run"]
        for path in ro_binds:  # an interpreter under /tmp, hidden by the tmpfs
            cmd += ["--ro-bind", str(path), str(path)]
        cmd += ["--bind", str(area), str(area), "--unshare-all"]  # after the tmpfs: order matters
        cmd += ["--share-net"] if network else []
        return [*cmd, "--die-with-parent", "--new-session", "--chdir", str(cwd), "--", *argv]
    if level is Isolation.UNSHARE:
        net = [] if network else ["--net"]
        ns = ["--pid", "--fork", "--kill-child", "--mount-proc"]
        return [_which("unshare"), "--user", "--map-root-user", *net, *ns, "--", *argv]
    return argv


@functools.cache
def _which(name: str) -> str:
    return shutil.which(name) or name


_DROP_WORDS = ("PASSWORD", "PASSWD", "CREDENTIAL", "SECRET", "API_KEY", "APIKEY", "PRIVATE_KEY")
_DROP_SUFFIXES = ("_TOKEN", "_KEY", "_SECRET", "_PASS", "_PWD", "_AUTH")
_DROP_PREFIXES = (
    *("ASSAY_", "AWS_", "AZURE_", "ARM_CLIENT", "GOOGLE_", "GCP_", "GCLOUD_", "CLOUDSDK_"),
    *("OPENAI_", "ANTHROPIC_", "GITHUB_", "GH_", "GITLAB_", "CI_JOB_", "NPM_", "TWINE_"),
    *("DOCKER_", "VAULT_", "KUBE", "SSH_", "GPG_", "PIP_", "XDG_", "VIRTUAL_ENV"),
    *("PYTHON", "PYTEST_", "COVERAGE_"),  # ours, not the run's
)
_DROP_NAMES = frozenset({"HF_TOKEN", "NETRC", "DBUS_SESSION_BUS_ADDRESS", "PWD", "OLDPWD"})
_URL_WITH_PASSWORD = re.compile(r"://[^/\s:@]+:[^/\s@]+@")


def scrub_env(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without secrets, cloud/CI credentials and our own Python/pytest/coverage settings.

    Drops ``*_TOKEN``, ``*_KEY``, ``*_SECRET``, names containing PASSWORD, PASSWD, CREDENTIAL,
    SECRET or API_KEY, ``ASSAY_*``, cloud and CI credentials (AWS_*, AZURE_*, GOOGLE_*, GCP_*,
    CLOUDSDK_*, OPENAI_*, ANTHROPIC_*, GITHUB_*, GITLAB_*, CI_JOB_*, NPM_*, TWINE_*, DOCKER_*,
    SSH_AUTH_SOCK ...), ``PYTHON*``, ``PYTEST_*``, ``COVERAGE_*``, ``XDG_*``, ``VIRTUAL_ENV``
    and every value holding a URL with a password.
    """
    return {
        name: value
        for name, value in env.items()
        if not (
            (upper := name.upper()) in _DROP_NAMES
            or upper.startswith(_DROP_PREFIXES)
            or upper.endswith(_DROP_SUFFIXES)
            or any(word in upper for word in _DROP_WORDS)
            or _URL_WITH_PASSWORD.search(value)
        )
    }


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


def _git_files(repo: Path, env: Mapping[str, str]) -> list[str] | None:
    """What git would show (tracked and untracked, not ignored); None outside a git work tree."""
    git_env = {name: value for name, value in env.items() if not name.startswith("GIT_")}
    argv = ["git", "-c", "core.fsmonitor=false", "-C", str(repo), "ls-files", "--cached"]
    argv += ["--others", "--exclude-standard", "-z"]
    try:
        done = subprocess.run(argv, env=git_env, capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    names = os.fsdecode(done.stdout).split("\0")
    return sorted({name.rstrip("/") for name in names if name}) if done.returncode == 0 else None


def _walk(repo: Path, start: str = "") -> Iterator[str]:
    """Paths under ``repo/start`` not ignored by the ``.gitignore`` files met on the way down."""
    specs: dict[str, GitIgnoreSpec] = {}
    for dirpath, dirnames, filenames in os.walk(repo / start):
        rel_dir = Path(dirpath).relative_to(repo).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir
        gitignore = Path(dirpath, ".gitignore")
        if gitignore.is_file():
            lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
            specs[rel_dir] = GitIgnoreSpec.from_lines(lines)
        chain = [(base, spec) for base, spec in specs.items() if _is_under(rel_dir, base)]
        for name in list(dirnames):
            rel, link = f"{rel_dir}/{name}".lstrip("/"), os.path.islink(os.path.join(dirpath, name))
            if link or name in ALWAYS_SKIP or _ignored(chain, rel, is_dir=True):
                dirnames.remove(name)  # a symlink to a directory is copied as a link
                if link and name not in ALWAYS_SKIP and not _ignored(chain, rel, is_dir=False):
                    yield rel
        for name in filenames:
            rel = f"{rel_dir}/{name}".lstrip("/")
            if not _ignored(chain, rel, is_dir=False):
                yield rel


def _ignored(chain: list[tuple[str, GitIgnoreSpec]], rel: str, is_dir: bool) -> bool:
    verdict = None  # the deepest .gitignore with a matching pattern decides
    for base, spec in chain:
        include = spec.check_file(rel[len(base) :].lstrip("/") + ("/" if is_dir else "")).include
        verdict = verdict if include is None else include
    return bool(verdict)


def _is_under(path: str, base: str) -> bool:
    return base == "" or path == base or path.startswith(base + "/")


def _stage(repo: Path, dest: Path, names: Iterable[str]) -> list[str]:
    """Copy ``names`` from ``repo`` to ``dest``; return the symlinks dropped (leading outside)."""
    real_repo, dropped = Path(os.path.realpath(repo)), []
    for rel in names:
        src, dst = repo / rel, dest / rel
        if ALWAYS_SKIP.intersection(rel.split("/")):
            continue
        if src.is_symlink():  # relinked relative to the copy, so it never points back
            target = Path(os.path.realpath(src))
            if not target.is_relative_to(real_repo):
                dropped.append(rel)
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.path.relpath(target, real_repo / Path(rel).parent), dst)
        elif src.is_dir():  # a submodule or nested repository, listed by git as one entry
            dropped += _stage(repo, dest, _walk(repo, rel))
        elif src.is_file():  # skips files deleted in the work tree but still in the index
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst, follow_symlinks=False)
    return dropped


def _write_files(copy: Path, files: Mapping[str, str | bytes] | None) -> None:
    """Write ``files`` (paths relative to the repository root) into a run's copy."""
    for rel, content in (files or {}).items():
        path, target = Path(rel), copy / rel
        if path.is_absolute() or ".." in path.parts or not path.parts:
            raise SandboxError(
                f"extra file {rel!r} is outside the repository", "use a relative path"
            )
        if not Path(os.path.realpath(target.parent)).is_relative_to(os.path.realpath(copy)):
            raise SandboxError(
                f"extra file {rel!r} leads outside the repository", "use a plain path"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        target.write_bytes(content.encode() if isinstance(content, str) else content)


def _rmtree(path: Path) -> None:
    """Remove ``path`` even where a run left read-only directories; never follows symlinks."""

    def retry(func: object, name: str, _exc: object) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(name), 0o700)
            func(name)  # type: ignore[operator]

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=retry)
    else:
        shutil.rmtree(path, onerror=retry)


def _processes() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, state, start time) of every process on the host."""
    table = {}
    for entry in os.listdir("/proc"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if entry.isdigit():
                with open(f"/proc/{entry}/stat", "rb") as f:
                    fields = f.read().rpartition(b")")[2].split()
                table[int(entry)] = (int(fields[1]), fields[0].decode(), fields[19].decode())
    return table


def _run_members(table: dict[int, tuple[int, str, str]], leader: int, marker: bytes) -> set[int]:
    """Descendants of ``leader`` and every process whose environment carries ``marker``."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = set(), [leader]
    while todo:
        fresh = [child for child in children.get(todo.pop(), ()) if child not in found]
        found.update(fresh)
        todo += fresh
    for pid, (_, state, _) in table.items():
        if pid not in found and state not in "ZX" and pid != os.getpid():
            with contextlib.suppress(OSError), open(f"/proc/{pid}/environ", "rb") as f:
                if marker in f.read().split(b"\0"):
                    found.add(pid)
    return found


def _kill_run(leader: int, marker: str, grace: float = 5.0) -> tuple[int, ...]:
    """SIGKILL every process of a run until none is left; return survivors after ``grace`` s."""
    known: dict[int, str] = {}  # pid -> start time, so a recycled pid is never killed
    deadline = time.monotonic() + grace
    while True:
        with contextlib.suppress(OSError):
            os.killpg(leader, signal.SIGKILL)
        table = _processes()
        for pid in _run_members(table, leader, marker.encode()):
            known.setdefault(pid, table[pid][2])
        alive = [
            pid
            for pid, start in known.items()
            if pid in table and table[pid][2] == start and table[pid][1] not in "ZX"
        ]
        if not alive or time.monotonic() > deadline:
            return tuple(sorted(alive))
        for pid in alive:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.005)


def _wait_exit(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait up to ``timeout`` s for ``proc`` to exit, without reaping it (its pgid stays ours)."""
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(max(timeout, 0.0) * 1000))
    finally:
        os.close(fd)


_RLIMIT_WRAPPER = (
    "import os, resource, sys; n = int(sys.argv[1]); "
    "resource.setrlimit(resource.RLIMIT_AS, (n, n)); os.execvp(sys.argv[2], sys.argv[2:])"
)
_FIND_TOOLS = (
    "import importlib.util as u; "
    "print('missing:' + ' and '.join(m for m in ('pytest', 'coverage') if not u.find_spec(m)))"
)


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
    ) -> TestRun:
        """Run the user's pytest command under ``coverage run --branch`` in a fresh copy.

        ``test_args`` follow the command's own arguments.  ``source`` and ``omit`` go to
        coverage; None leaves them to the project's coverage configuration.
        """
        pytest_args, command_env = parse_test_command(test_command)
        self._check_tools()
        with self._area() as (area, token):
            copy, out = area / "copy", area / "out"
            _write_files(copy, extra_files)
            run_env = self._env(area, token, {**command_env, **(env or {})})
            paths = [copy, copy / "src"] if (copy / "src").is_dir() else [copy]
            extra_path = [run_env["PYTHONPATH"]] if run_env.get("PYTHONPATH") else []
            run_env["PYTHONPATH"] = os.pathsep.join([*map(str, paths), *extra_path])
            run_env["COVERAGE_FILE"] = str(out / ".coverage")
            argv = [str(self.python), "-m", "coverage", "run", "--branch"]
            argv += [f"--source={','.join(source)}"] if source else []
            argv += [f"--omit={','.join(omit)}"] if omit else []
            argv += ["-m", "pytest", *pytest_args, *test_args, f"--junitxml={out / 'junit.xml'}"]
            argv += ["-p", "no:cacheprovider"]
            if not any(arg.startswith("--rootdir") for arg in argv):
                argv.append(f"--rootdir={copy}")  # node ids relative to the repository root
            result = self._execute(area, token, argv, run_env, timeout)
            tests = parse_junit(out / "junit.xml", copy)
            coverage, error = self._export_coverage(area, token, run_env, result)
            return TestRun(result, tests, coverage, error)

    def _export_coverage(
        self, area: Path, token: str, env: dict[str, str], result: RunResult
    ) -> tuple[CoverageReport | None, str]:
        """``coverage json`` with the interpreter that measured, then read the JSON."""
        if result.timed_out:
            return None, "the test run timed out before coverage was saved"
        python, out, report = str(self.python), area / "out", area / "out" / "coverage.json"
        if not (out / ".coverage").exists() and any(out.glob(".coverage.*")):  # parallel = true
            self._execute(area, token, [python, "-m", "coverage", "combine"], env, 120)
        argv = [python, "-m", "coverage", "json", "-i", "-o", str(report)]
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
        timeout = self.timeout if timeout is None else timeout
        cwd = cwd or area / "copy"
        program = argv[0] if argv else ""
        local = os.sep in program and os.access(cwd / program, os.X_OK)
        if not (local or (program and shutil.which(program, path=env.get("PATH")))):
            raise SandboxError(f"program not found: {program!r}", "check the command and PATH")
        inner = argv
        if self.memory_limit is not None:
            limit, prlimit = str(int(self.memory_limit)), _which("prlimit")
            inner = [prlimit, f"--as={limit}", "--", *argv]
            if not os.path.isabs(prlimit):
                inner = [str(self.python), "-I", "-S", "-c", _RLIMIT_WRAPPER, limit, *argv]
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
        exited = _wait_exit(proc, timeout)
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
