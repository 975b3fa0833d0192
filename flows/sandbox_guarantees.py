"""What each isolation level really guarantees on this host, in words a user can check.

:func:`guarantees` returns one :class:`Guarantee` per aspect (:data:`ASPECTS`) for a level, the
cgroups this host lets assay create, whether assay runs as root, the network switch and the
limits.  ``assay doctor`` prints them; tests of hostile code assert containment where a
guarantee holds and, where it does not, that the guarantee says so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from flows.sandbox_cgroup import CgroupHost, cgroup_host
from flows.sandbox_confine import Isolation, isolation_level, unshare_maps_user
from flows.sandbox_env import ALLOWED

DEFAULT_MEMORY_LIMIT = 4 << 30  # bytes: address space per process, and the run as a whole
DEFAULT_MAX_PROCESSES = 512  # per run, where a cgroup can cap it

ASPECTS = (
    "filesystem.write",  # writes and deletes outside the run's copy fail
    "filesystem.read",  # the host's files outside system directories are not visible
    "secrets.env",  # the environment comes from an allow-list
    "secrets.files",  # home directories, /root, the project's ignored files are not readable
    "network",  # TCP, UDP, DNS, abstract unix sockets
    "sockets",  # unix sockets on the host's filesystem (home directories, /run)
    "privileges",  # no capabilities, unprivileged uid: cannot mount, unmount, remount
    "processes.cleanup",  # every process of a run is killed when it ends
    "processes.assay_killed",  # ... even when assay is killed with SIGKILL
    "processes.cap",  # the number of processes of a run is capped
    "memory.run",  # the memory of the run as a whole is capped
    "memory.process",  # each process's address space is capped
)


@dataclass(frozen=True)
class Guarantee:
    aspect: str
    holds: bool
    text: str


def _gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB"


def guarantees(
    level: Isolation,
    *,
    cgroups: CgroupHost | None,
    network: bool = False,
    memory_limit: int | None = None,
    max_processes: int | None = None,
    root: bool | None = None,
) -> tuple[Guarantee, ...]:
    """What holds for runs at ``level`` here (``cgroups``: None when not used)."""
    root = os.geteuid() == 0 if root is None else root
    user = "root" if root else "assay's user"
    bwrap, spaced = level is Isolation.BWRAP, level >= Isolation.UNSHARE
    cg = cgroups if cgroups is not None and cgroups.usable else None
    out = []

    def add(aspect: str, holds: bool, text: str) -> None:
        out.append(Guarantee(aspect, holds, text))

    if bwrap:
        add("filesystem.write", True, "writes and deletes outside the run's throwaway copy fail")
        add(
            "filesystem.read",
            True,
            "only system directories, the interpreter and the copy are visible: the project's "
            "tree, other directories and the rest of the host are not there",
        )
    else:
        add(
            "filesystem.write",
            False,
            f"a test can write and delete wherever {user} can (only relative paths land in "
            "the throwaway copy)",
        )
        add("filesystem.read", False, f"a test can read every file {user} can read")
    names = ", ".join(ALLOWED)
    add("secrets.env", True, f"the environment is built from an allow-list ({names}, HOME ...)")
    if bwrap:
        add(
            "secrets.files",
            True,
            "home directories, /root, /run, ignored files of the project (but the modules a "
            "build generated in its packages) and /etc files only root may read (shadow, "
            "private keys) are not visible",
        )
    else:
        add(
            "secrets.files",
            False,
            f"secret files {user} can read (~/.ssh, ~/.netrc, cloud credentials, .env files) "
            "are readable, and so is assay's own environment in /proc"
            if level is Isolation.PROCESS
            else f"secret files {user} can read (~/.ssh, ~/.netrc, .env files) are readable",
        )
    if network:
        add("network", False, "the network is allowed (network=True)")
    elif spaced:
        add("network", True, "no network: TCP, UDP, DNS and abstract unix sockets unreachable")
    else:
        add("network", False, "the network is NOT confined")
    if bwrap:
        add("sockets", True, "unix sockets of the host (home directories, /run, /tmp) are absent")
    else:
        add("sockets", False, "unix sockets on the host's filesystem can be connected to")
    if spaced and not (level is Isolation.UNSHARE and root and not unshare_maps_user()):
        add(
            "privileges",
            True,
            "runs as uid 65534 in a user namespace without capabilities: cannot mount, "
            "unmount or remount",
        )
    elif not spaced and not root:
        add("privileges", True, f"runs as {user} without extra privileges")
    else:
        add("privileges", False, "runs with root's privileges: can remount and change the host")
    if cg is not None:
        add(
            "processes.cleanup",
            True,
            "each run has its own cgroup: every process of it is killed when it ends, whatever "
            "it did to its session, parentage or environment",
        )
    elif spaced:
        add(
            "processes.cleanup",
            True,
            "every process lives in the run's PID namespace and dies with it",
        )
    else:
        add(
            "processes.cleanup",
            False,
            "descendants are killed when the run ends (its supervisor is their subreaper), "
            "but a process that first kills the supervisor can escape",
        )
    if spaced:
        add(
            "processes.assay_killed",
            True,
            "if assay is killed (even with SIGKILL) the run's PID namespace dies with it",
        )
    elif cg is not None:
        add(
            "processes.assay_killed",
            True,
            "if assay is killed, the supervisor kills the run; what escapes it stays in the "
            "run's cgroup and is killed when assay next starts",
        )
    else:
        add(
            "processes.assay_killed",
            False,
            "if assay is killed, the supervisor kills the run unless the run killed it first",
        )
    if cg is not None and cg.pids_dir is not None and max_processes is not None:
        add("processes.cap", True, f"a run may have at most {max_processes} processes")
    else:
        add("processes.cap", False, "the number of processes of a run is not capped")
    if cg is not None and cg.memory_dir is not None and memory_limit is not None:
        cap = _gib(memory_limit)
        add("memory.run", True, f"the run as a whole may use {cap} (then it is OOM-killed)")
    else:
        add(
            "memory.run",
            False,
            "the run as a whole is not capped: several processes together may use more than "
            "one may",
        )
    if memory_limit is not None:
        add("memory.process", True, f"each process may map {_gib(memory_limit)} of address space")
    else:
        add("memory.process", False, "no memory limit")
    return tuple(out)


def host_guarantees(
    max_isolation: Isolation | str = Isolation.BWRAP,
    *,
    network: bool = False,
    memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
    max_processes: int | None = DEFAULT_MAX_PROCESSES,
    cgroups: bool = True,
) -> tuple[Isolation, tuple[Guarantee, ...]]:
    """The level a sandbox made with these arguments would use here, and what it guarantees
    (for ``assay doctor``; no sandbox is made)."""
    cap = Isolation[max_isolation.upper()] if isinstance(max_isolation, str) else max_isolation
    level = Isolation(min(cap, isolation_level()))
    host = cgroup_host() if cgroups else None
    found = guarantees(
        level,
        cgroups=host if host is not None and host.usable else None,
        network=network,
        memory_limit=memory_limit,
        max_processes=max_processes,
    )
    return level, found
