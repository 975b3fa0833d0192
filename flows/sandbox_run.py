"""One confined command of :mod:`flows.sandbox`: start, watch, kill all of it, say what it did.

:func:`execute` builds the chain ``[outer supervisor] → [bwrap | unshare] → inner supervisor →
command`` (:mod:`flows.sandbox_launch`; at the ``process`` level the inner supervisor only;
before ``bwrap``, which dies with assay by itself, a shell stands in for the outer one),
with the run's cgroup (:mod:`flows.sandbox_cgroup`) joined before anything of the run starts.
It waits (bounded, interruptible by ``stop_check``), then kills every process of the run: the
cgroup, the process group, the descendants and every process carrying the run's token
(:func:`flows.sandbox_procs.kill_run`).  The :class:`~flows.coverage_data.RunResult` says what
the command returned and what it left: processes still running when it ended (by name), the
memory cap passed, the process cap reached, a killed supervisor.  A command that could not
start, or a run that destroyed its copy, gives a result with ``broken`` set, never an
exception: the caller rejects that one command and goes on.  Output is redacted of known
secrets and credential-looking values (:mod:`flows.credentials`).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import flows.sandbox_launch as launch_module
from flows.coverage_data import OutputBuffer, RunResult
from flows.credentials import CredentialScreen
from flows.sandbox_cgroup import CgroupHost, RunCgroup
from flows.sandbox_confine import Isolation, Mounts, confine
from flows.sandbox_procs import kill_run, wait_exit

LEFTOVER_GRACE = 0.15  # seconds the supervisor lets descendants finish after the command ends
_LAUNCHER = Path(launch_module.__file__).read_text(encoding="utf-8")
# sh -c _JOIN sh N FILE1..FILEN ARGV...: join the cgroups, then exec ARGV (cheaper than Python)
_JOIN = (
    'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ >"$1" || exit 125; shift; n=$((n-1)); done; '
    'exec "$@"'
)


@dataclass(frozen=True)
class Confinement:
    """How every command of one sandbox is confined (fixed when the sandbox is made)."""

    isolation: Isolation
    network: bool
    read_only: tuple[Path, ...]  # interpreter prefixes bound into a bubblewrap run
    memory_limit: int | None  # bytes: address space per process; the run as a whole (cgroup)
    max_processes: int | None  # per run (cgroup)
    cgroups: CgroupHost | None  # None: no cgroup per run
    max_output: int
    screen: CredentialScreen
    stop_check: Callable[[], None] | None = None


def _launcher(mode: str, options: dict[str, object], argv: Sequence[str]) -> list[str]:
    python = sys.executable or "python3"
    pairs = []
    for key, value in options.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append(f"{key}={item}")
    return [python, "-I", "-S", "-c", _LAUNCHER, mode, *pairs, "--", *argv]


def _events(fd: int) -> dict[str, list[str]]:
    """The supervisor's reports (event -> fields), read without blocking (a leaked process
    may still hold the pipe)."""
    os.set_blocking(fd, False)
    data = b""
    with contextlib.suppress(OSError):
        while chunk := os.read(fd, 65536):
            data += chunk
    events = {}
    for line in data.decode(errors="replace").splitlines():
        event, *fields = line.split("\t")
        events[event] = fields
    return events


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()


def _destroyed(area: Path, cwd: Path, stage_has_files: bool) -> str:
    copy = area / "copy"
    if not area.is_dir():
        return "the run deleted its sandbox directory"
    if cwd.is_relative_to(copy) and stage_has_files:
        try:
            empty = not any(copy.iterdir())
        except OSError:
            empty = True
        if empty:
            return "the run deleted its copy of the repository"
    if not (area / "out").is_dir():
        return "the run deleted its output directory"
    return ""


def execute(
    conf: Confinement,
    argv: Sequence[str],
    *,
    area: Path,
    token: str,
    marker: str,
    env: dict[str, str],
    cwd: Path,
    timeout: float,
    stage_has_files: bool = True,
) -> RunResult:
    """Run ``argv`` confined in ``area`` (see the module); ``env[marker]`` is set to ``token``."""
    if conf.stop_check is not None:
        conf.stop_check()
    env = {**env, marker: token}
    group = None
    if conf.cgroups is not None and conf.cgroups.usable:
        group = RunCgroup.create(conf.cgroups, conf.memory_limit, conf.max_processes)
    join = group.procs_files if group is not None else []
    status_read, status_write = os.pipe()
    inner: dict[str, object] = {"status_fd": status_write, "cwd": cwd, "rlimit.CORE": 0}
    inner.update({"rlimit.AS": conf.memory_limit} if conf.memory_limit else {})
    inner["grace"] = LEFTOVER_GRACE
    if conf.isolation is Isolation.PROCESS:
        more = {"join": join, "parent": os.getpid(), "subreaper": 1}
        wrapped = _launcher("inner", {**inner, **more}, argv)
    else:
        mounts = Mounts(conf.read_only, area)
        command = _launcher("inner", inner, argv)
        confined = confine(conf.isolation, command, cwd=cwd, network=conf.network, mounts=mounts)
        if conf.isolation is Isolation.BWRAP:  # it dies with assay itself: a shell joins
            wrapped = ["/bin/sh", "-c", _JOIN, "sh", str(len(join)), *join, *confined]
        else:
            wrapped = _launcher("outer", {"join": join, "parent": os.getpid()}, confined)
    read_fd, write_fd = os.pipe()
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            wrapped, stdin=subprocess.DEVNULL, stdout=write_fd, stderr=write_fd, env=env,
            cwd=area, start_new_session=True, pass_fds=(status_write,),
        )  # fmt: skip
    except OSError as exc:
        for fd in (read_fd, status_read):
            os.close(fd)
        if group is not None:
            group.remove()
        why = f"could not start the sandbox for {argv[0]!r}: {exc.strerror or exc}"
        return RunResult(tuple(argv), None, False, "", 0.0, conf.isolation.label, broken=why)
    finally:
        os.close(write_fd)
        os.close(status_write)
    output = OutputBuffer(read_fd, conf.max_output)
    output.start()

    def kill_all() -> tuple[int, ...]:
        left = group.kill() if group is not None else ()
        return tuple(sorted({*left, *kill_run(proc.pid, f"{marker}={token}")}))

    try:
        try:
            exited = wait_exit(proc, timeout, conf.stop_check)
        except BaseException:  # Ctrl-C, SIGTERM, a cancel: nothing of the run may outlive us
            kill_all()
            proc.wait()
            raise
        duration = time.monotonic() - start
        leaked = kill_all()
        returncode = proc.wait()
        output.join(timeout=5)
        events = _events(status_read)
        peak, oom_kills, refused = group.stats() if group is not None else (None, 0, 0)
    finally:
        os.close(status_read)
        if group is not None:
            group.remove()
    broken, lost = "", False
    text = output.text()
    left: tuple[str, ...] = ()
    if "error" in events:
        why = " ".join(events["error"])
        broken = f"could not start {argv[0]!r} in the sandbox: {why}"
    elif "started" not in events and exited:
        last = (text.strip().splitlines() or [f"exit {returncode}"])[-1]
        broken = f"the sandbox did not start {argv[0]!r}: {last}"
    elif "exit" in events and events["exit"][:1] and _is_int(events["exit"][0]):
        returncode, left = int(events["exit"][0]), tuple(events["exit"][1:])
    elif exited:
        lost = True  # the command's supervisor died before the command ended
    broken = broken or _destroyed(area, cwd, stage_has_files)
    return RunResult(
        argv=tuple(argv),
        returncode=returncode if exited else None,
        timed_out=not exited,
        output=conf.screen.redact(text),
        duration=duration,
        isolation=conf.isolation.label,
        output_trimmed=output.trimmed,
        leaked_pids=leaked,
        left_behind=tuple(conf.screen.redact(name) for name in left),
        memory_limit=conf.memory_limit if peak is not None else None,
        memory_peak=peak,
        memory_exceeded=oom_kills > 0,
        processes_capped=refused > 0,
        supervisor_lost=lost,
        broken=conf.screen.redact(broken),
    )
