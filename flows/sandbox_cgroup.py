"""One control group per sandboxed run, where the host lets us create them.

:func:`cgroup_host` probes once what this process may create below its own cgroups (children
of where assay runs, so every limit above still applies):

- a cgroup v2 directory, for ``cgroup.kill`` (kill every member at once, whatever it did to
  its session, parentage or environment) and, where the parent delegates them, ``memory.max``
  and ``pids.max``;
- cgroup v1 ``memory`` and ``pids`` hierarchies (``memory.limit_in_bytes``, ``pids.max``),
  as on hosts with the hybrid layout.

:class:`RunCgroup` is one run's set of directories, named ``assay-<owner>-<run>`` where the
owner is assay's PID namespace, pid and start time: :func:`sweep_cgroups` kills and removes
those of owners that are gone (a ``kill -9`` of assay) and never those of a live one.  The
supervisor (:mod:`flows.sandbox_launch`) joins a run's directories before anything of the run
starts, so nothing of it runs outside them.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows.sandbox_procs import owner_alive, owner_tag

PREFIX = "assay-"
_NAME = re.compile(rf"^{PREFIX}(\d+)-(\d+)-(\d+)-[0-9a-f]+$")


@dataclass(frozen=True)
class CgroupHost:
    """Where this process may create per-run cgroups (None: not here)."""

    kill_dir: Path | None = None  # cgroup v2: cgroup.kill
    memory_dir: Path | None = None
    memory_v2: bool = False
    pids_dir: Path | None = None
    pids_v2: bool = False

    @property
    def usable(self) -> bool:
        return any((self.kill_dir, self.memory_dir, self.pids_dir))

    def describe(self) -> str:
        if not self.usable:
            return "no cgroup (not allowed to create one here)"
        parts = []
        if self.kill_dir:
            parts.append("v2 kill")
        if self.memory_dir:
            parts.append(f"{'v2' if self.memory_v2 else 'v1'} memory")
        if self.pids_dir:
            parts.append(f"{'v2' if self.pids_v2 else 'v1'} pids")
        return "a cgroup per run (" + ", ".join(parts) + ")"

    def parents(self) -> list[Path]:
        dirs = (self.kill_dir, self.memory_dir, self.pids_dir)
        return sorted({d for d in dirs if d is not None})


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(mount point, fs type, super options) of every cgroup mount."""
    found = []
    with contextlib.suppress(OSError), open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fstype, _source, options = [*right.split(), "", "", ""][:3]
            if fstype in ("cgroup", "cgroup2"):
                found.append((left.split()[4], fstype, set(options.split(","))))
    return found


def _own_paths() -> dict[str, str]:
    """controller (or "" for v2) -> this process's cgroup path."""
    paths = {}
    with contextlib.suppress(OSError), open("/proc/self/cgroup", encoding="utf-8") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for name in controllers.split(",") if controllers else [""]:
                paths[name] = path
    return paths


def _try_child(parent: Path, needed: tuple[str, ...]) -> bool:
    """Whether we may create a child of ``parent`` holding ``needed`` files, then move into it."""
    probe = parent / f"{PREFIX}probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        probe.mkdir()
    except OSError:
        return False
    try:
        files = [probe / name for name in ("cgroup.procs", *needed)]
        return all(f.exists() for f in files) and os.access(probe / "cgroup.procs", os.W_OK)
    finally:
        with contextlib.suppress(OSError):
            probe.rmdir()


@functools.cache
def cgroup_host() -> CgroupHost:
    """What per-run cgroups this process may create (probed once)."""
    own, host = _own_paths(), dict[str, Any]()
    for mount, fstype, options in _mounts():
        if fstype == "cgroup2" and "" in own:
            parent = Path(mount + own[""])
            if _try_child(parent, ("cgroup.kill",)):
                host["kill_dir"] = parent
                for name in ("memory", "pids"):
                    if _try_child(parent, (f"{name}.max",)):
                        host[f"{name}_dir"], host[f"{name}_v2"] = parent, True
        elif fstype == "cgroup":
            for name, limit in (("memory", "memory.limit_in_bytes"), ("pids", "pids.max")):
                if name in options and name in own and f"{name}_dir" not in host:
                    parent = Path(mount + own[name])
                    if _try_child(parent, (limit,)):
                        host[f"{name}_dir"], host[f"{name}_v2"] = parent, False
    return CgroupHost(**host)


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
    except OSError:
        return False
    return True


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _field(text: str, name: str) -> int:
    found = re.search(rf"^{name} (\d+)$", text, re.MULTILINE)
    return int(found.group(1)) if found else 0


@dataclass
class RunCgroup:
    """One run's cgroup directories; create with :meth:`create`, always :meth:`remove`."""

    host: CgroupHost
    name: str
    dirs: list[Path] = field(default_factory=list)

    @classmethod
    def create(
        cls, host: CgroupHost, memory_limit: int | None, max_processes: int | None
    ) -> RunCgroup | None:
        """The run's cgroups with its limits; None if they cannot be made (then: none)."""
        group = cls(host, f"{PREFIX}{owner_tag()}-{uuid.uuid4().hex[:12]}")
        try:
            for parent in host.parents():
                path = parent / group.name
                path.mkdir()
                group.dirs.append(path)
            ok = True
            if host.memory_dir is not None and memory_limit is not None:
                mem = host.memory_dir / group.name
                if host.memory_v2:
                    ok &= _write(mem / "memory.max", str(memory_limit))
                    _write(mem / "memory.swap.max", "0")
                else:
                    ok &= _write(mem / "memory.limit_in_bytes", str(memory_limit))
                    _write(mem / "memory.memsw.limit_in_bytes", str(memory_limit))
            if host.pids_dir is not None and max_processes is not None:
                ok &= _write(host.pids_dir / group.name / "pids.max", str(max_processes))
            if not ok:
                raise OSError("a limit could not be set")
        except OSError:
            group.remove()
            return None
        return group

    @property
    def procs_files(self) -> list[str]:
        return [str(path / "cgroup.procs") for path in self.dirs]

    def members(self) -> set[int]:
        found: set[int] = set()
        for path in self.dirs:
            found.update(int(pid) for pid in _read(path / "cgroup.procs").split())
        return found

    def kill(self, grace: float = 5.0) -> tuple[int, ...]:
        """SIGKILL every member until none is left; return those alive after ``grace`` s."""
        if self.host.kill_dir is not None:
            _write(self.host.kill_dir / self.name / "cgroup.kill", "1")
        deadline = time.monotonic() + grace
        while members := self.members():
            if time.monotonic() > deadline:
                return tuple(sorted(members))
            for pid in members:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.002)
        return ()

    def stats(self) -> tuple[int | None, int, int]:
        """(peak memory in bytes or None, processes OOM-killed, forks refused at the cap)."""
        peak, oom, refused = None, 0, 0
        if self.host.memory_dir is not None:
            mem = self.host.memory_dir / self.name
            if self.host.memory_v2:
                text = _read(mem / "memory.peak").strip()
                peak = int(text) if text.isdigit() else None
                oom = _field(_read(mem / "memory.events"), "oom_kill")
            else:
                text = _read(mem / "memory.max_usage_in_bytes").strip()
                peak = int(text) if text.isdigit() else None
                oom = _field(_read(mem / "memory.oom_control"), "oom_kill")
        if self.host.pids_dir is not None:
            refused = _field(_read(self.host.pids_dir / self.name / "pids.events"), "max")
        return peak, oom, refused

    def remove(self, grace: float = 2.0) -> None:
        """Kill what is left and remove the directories (retrying while members exit)."""
        self.kill()
        deadline = time.monotonic() + grace
        for path in self.dirs:
            while path.exists():
                try:
                    path.rmdir()
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.005)
        self.dirs = []


def sweep_cgroups(host: CgroupHost) -> list[str]:
    """Kill and remove the run cgroups of assay processes that are gone; return their names."""
    swept = []
    for parent in host.parents():
        with contextlib.suppress(OSError):
            for entry in os.scandir(parent):
                found = _NAME.match(entry.name)
                if found is None or not entry.is_dir(follow_symlinks=False):
                    continue
                if owner_alive(*(int(found.group(i)) for i in (1, 2, 3))):
                    continue
                RunCgroup(host, entry.name, [Path(entry.path)]).remove()
                swept.append(entry.name)
    return sorted(set(swept))
