"""Process confinement for :mod:`flows.sandbox`: isolation levels, limits, the environment, kills.

:class:`Isolation` names the levels; :func:`available_isolation` probes, once per process, which
of them work here by running ``true`` under each, and :func:`_confine` wraps a command for one:
``bwrap --ro-bind / / ... --bind AREA AREA --unshare-all`` (``--share-net`` with the network)
or ``unshare --user --map-root-user [--net] --pid --fork --kill-child --mount-proc``.  An
interpreter under ``/tmp`` or ``/run`` (hidden by bubblewrap's tmpfs) is bound back read-only.

The address-space limit (RLIMIT_AS) is set by :func:`_limit_memory` through util-linux's
``prlimit`` or, where that is missing, a tiny ``python -I -S`` wrapper that sets the limit and
``exec``s the command: never ``preexec_fn``, which is unsafe in a threaded service.

:func:`scrub_env` drops secrets and our own settings from a run's environment; :data:`MARKER`
names the variable carrying a run's token.  :func:`_kill_run` SIGKILLs a run's process group,
then, scanning ``/proc`` until none is left, its descendants and every process whose
environment holds the token (a pid's start time is remembered so a recycled pid is never
killed).  :func:`_wait_exit` waits on a pidfd without reaping the leader, so its process group
id cannot be reused while the run is being killed.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

MARKER = "ASSAY_SANDBOX_RUN"


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


_RLIMIT_WRAPPER = (
    "import os, resource, sys; n = int(sys.argv[1]); "
    "resource.setrlimit(resource.RLIMIT_AS, (n, n)); os.execvp(sys.argv[2], sys.argv[2:])"
)


def _limit_memory(argv: list[str], memory_limit: int, python: Path) -> list[str]:
    """``argv`` under an address-space limit: ``prlimit``, else ``python`` as an exec wrapper."""
    limit, prlimit = str(int(memory_limit)), _which("prlimit")
    if not os.path.isabs(prlimit):
        return [str(python), "-I", "-S", "-c", _RLIMIT_WRAPPER, limit, *argv]
    return [prlimit, f"--as={limit}", "--", *argv]


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


STOP_CHECK_SECONDS = 0.2


def _wait_exit(
    proc: subprocess.Popen[bytes],
    timeout: float,
    stop_check: Callable[[], None] | None = None,
) -> bool:
    """Wait up to ``timeout`` s for ``proc`` to exit, without reaping it (its pgid stays ours).
    ``stop_check`` is called every :data:`STOP_CHECK_SECONDS`; what it raises propagates."""
    deadline = time.monotonic() + max(timeout, 0.0)
    step = STOP_CHECK_SECONDS if stop_check is not None else None
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        fd = -1
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return proc.poll() is not None if fd < 0 else False
            wait = min(left, step) if step else left
            if fd < 0:
                try:
                    proc.wait(wait)
                    return True
                except subprocess.TimeoutExpired:
                    pass
            else:
                poller = select.poll()
                poller.register(fd, select.POLLIN)
                if poller.poll(wait * 1000):
                    return True
            if stop_check is not None:
                stop_check()
    finally:
        if fd >= 0:
            os.close(fd)
