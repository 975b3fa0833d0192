"""Process and state-file helpers of the managed model server (:mod:`agents.model.server`).

Whether a pid is alive (and still runs the command we recorded), stopping a process group, the
JSON state file (read, atomic write, remove-if-still-ours), an ``flock`` file lock, the tail of
a log, and making SIGTERM raise :class:`KeyboardInterrupt` so cleanup runs.  Nothing here knows
about llama.cpp or the server's settings.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


class _HasPid(Protocol):
    @property
    def pid(self) -> int: ...


S = TypeVar("S", bound=_HasPid)


# -- processes ----------------------------------------------------------------------------------


def stop_group(pgid: int, proc: subprocess.Popen[bytes] | None, grace: float) -> None:
    """SIGTERM the process group ``pgid``, SIGKILL it after ``grace`` seconds; reap ``proc``
    (the group leader, if it is our child)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
    if proc is not None:
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
            proc.wait()
    elif not wait_gone(pgid, grace):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        wait_gone(pgid, 5.0)
    with contextlib.suppress(ProcessLookupError, PermissionError):  # stragglers in the group
        os.killpg(pgid, signal.SIGKILL)


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not pid_alive(pid)


def pid_alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): trust kill(0)
    return stat.rpartition(")")[2].split()[0] != "Z"


def runs_argv(pid: int, argv: list[str]) -> bool:
    """``pid`` is still the process we started (not a recycled pid): alive, leads its own
    process group, and (where /proc exists) runs the command line ``argv``."""
    try:
        if not pid_alive(pid) or os.getpgid(pid) != pid:
            return False
    except ProcessLookupError:
        return False
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
    return raw.split(b"\0")[:-1] == [a.encode() for a in argv]


def log_tail(log: Path, lines: int = 6) -> str:
    try:
        with log.open("rb") as fh:
            fh.seek(max(0, log.stat().st_size - 4096))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return "(no log)"
    kept = [line.strip()[:240] for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(kept) or "(empty log)"


@contextlib.contextmanager
def terminate_raises() -> Iterator[None]:
    """In the main thread, make SIGTERM raise KeyboardInterrupt so cleanup runs."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if main else None
    try:
        yield
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


# -- state file and lock ------------------------------------------------------------------------


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created, with its directory, if missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read_state(path: Path, kind: Callable[..., S]) -> S | None:
    """The record in the JSON state file ``path`` as ``kind(**fields)``; None if it is missing,
    unreadable or not a valid record."""
    try:
        return kind(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def write_state(path: Path, record: DataclassInstance) -> None:
    """Write the dataclass ``record`` to ``path`` atomically (temp file, then rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(dataclasses.asdict(record), indent=2) + "\n")
    os.replace(tmp, path)


def remove_state(path: Path, pid: int, kind: Callable[..., _HasPid]) -> None:
    """Remove the state file if it still describes ``pid`` (or is not a valid record)."""
    info = read_state(path, kind)
    if info is None or info.pid == pid:
        path.unlink(missing_ok=True)
