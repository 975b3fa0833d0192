"""Processes of sandboxed runs, seen from assay: who owns what, waiting, killing, sweeping.

:func:`owner_tag` names this assay process (PID namespace, pid, start time) for the marks it
leaves on its staging directories and cgroups; :func:`owner_alive` tells whether the owner of
such a mark still runs (a pid is only compared within the same PID namespace, and a recycled
pid has another start time).

:func:`kill_run` SIGKILLs a run's process group, then, scanning ``/proc`` until none is left,
its descendants and every process whose environment holds the run's token (a pid's start time
is remembered so a recycled pid is never killed).  :func:`kill_marked` does the same for a
token prefix (the runs of a dead assay).  :func:`wait_exit` waits on a pidfd without reaping
the leader, so its process group id cannot be reused while the run is being killed.
"""

from __future__ import annotations

import contextlib
import functools
import os
import select
import signal
import subprocess
import time
from collections.abc import Callable

Table = dict[int, tuple[int, str, str]]  # pid -> (parent pid, state, start time)


def processes() -> Table:
    """pid -> (parent pid, state, start time) of every process this process can see."""
    table = {}
    for entry in os.listdir("/proc"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if entry.isdigit():
                with open(f"/proc/{entry}/stat", "rb") as f:
                    fields = f.read().rpartition(b")")[2].split()
                table[int(entry)] = (int(fields[1]), fields[0].decode(), fields[19].decode())
    return table


def _start_time(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return int(f.read().rpartition(b")")[2].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _pid_namespace() -> int:
    try:
        return os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return 0


@functools.cache
def owner_tag() -> str:
    """``<pid namespace>-<pid>-<start time>`` of this process (its mark on what it creates)."""
    pid = os.getpid()
    return f"{_pid_namespace()}-{pid}-{_start_time(pid) or 0}"


os.register_at_fork(after_in_child=owner_tag.cache_clear)  # a child is another owner


def owner_alive(namespace: int, pid: int, start: int) -> bool:
    """Whether the process that left a mark still runs; True when we cannot tell (another PID
    namespace), so a live run elsewhere is never swept."""
    if namespace != _pid_namespace():
        return True
    return _start_time(pid) == start


def members(table: Table, leader: int, marker: bytes, prefix: bool = False) -> set[int]:
    """Descendants of ``leader`` (if any) and every process whose environment holds ``marker``
    (as a whole ``NAME=value`` entry, or as its start with ``prefix``)."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = set(), [leader] if leader > 0 else []
    while todo:
        fresh = [child for child in children.get(todo.pop(), ()) if child not in found]
        found.update(fresh)
        todo += fresh
    for pid, (_, state, _) in table.items():
        if pid not in found and state not in "ZX" and pid != os.getpid():
            with contextlib.suppress(OSError), open(f"/proc/{pid}/environ", "rb") as f:
                entries = f.read().split(b"\0")
                if any(e.startswith(marker) if prefix else e == marker for e in entries):
                    found.add(pid)
    return found


def _kill_until_gone(pick: Callable[[Table], set[int]], grace: float) -> tuple[int, ...]:
    known: dict[int, str] = {}  # pid -> start time, so a recycled pid is never killed
    deadline = time.monotonic() + grace
    while True:
        table = processes()
        for pid in pick(table):
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


def kill_run(leader: int, marker: str, grace: float = 5.0) -> tuple[int, ...]:
    """SIGKILL every process of a run until none is left; return survivors after ``grace`` s."""

    def pick(table: Table) -> set[int]:
        with contextlib.suppress(OSError):
            os.killpg(leader, signal.SIGKILL)
        return members(table, leader, marker.encode())

    return _kill_until_gone(pick, grace)


def kill_marked(prefix: str, grace: float = 5.0) -> tuple[int, ...]:
    """SIGKILL every process whose environment has an entry starting with ``prefix``."""
    return _kill_until_gone(lambda table: members(table, 0, prefix.encode(), True), grace)


STOP_CHECK_SECONDS = 0.2


def wait_exit(
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
