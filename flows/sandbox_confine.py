"""Isolation levels for :mod:`flows.sandbox`: which work here, and the wrapper command of each.

:class:`Isolation` names the levels; :func:`available_isolation` probes, once per process,
which of them work here by running this interpreter (the runs' supervisor) under each.
:func:`confine` wraps a command:

- ``bwrap``: every namespace unshared (user, mount, PID, IPC, UTS, cgroup and, without the
  network, net), an unprivileged uid/gid (65534) in the user namespace whether assay runs as
  root or not, no capabilities (``--cap-drop ALL``), a new session, death with its parent,
  the supervisor as PID 1 (nothing in the run can signal it).
  The filesystem is built from an allow-list (:class:`Mounts`): read-only system directories
  (``/usr``, ``/bin``, ``/lib*``, ``/sbin``, ``/etc`` minus what only root may read), the
  interpreters' prefixes read-only, the run's ``copy``, ``home``, ``tmp`` and ``out``
  read-write; empty tmpfs over ``/tmp``, ``/var/tmp``, ``/run``, ``/home``, ``/root``, ``/mnt``,
  ``/media``, ``/srv``; a fresh ``/proc`` and a minimal ``/dev``.  Nothing else of the host
  (other projects, the user's tree, sockets) exists inside.
- ``unshare``: user (as uid 65534 without capabilities where util-linux can map it), PID and,
  without the network, net namespaces.  The filesystem is NOT confined.
- ``process``: no namespace at all.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

SANDBOX_UID = 65534
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
EMPTY_DIRS = ("/tmp", "/var/tmp", "/run", "/home", "/root", "/mnt", "/media", "/srv")
RUN_DIRS = ("copy", "home", "tmp", "out")


class Isolation(enum.IntEnum):
    """How strongly a run is confined; larger is stronger."""

    PROCESS = 1
    UNSHARE = 2
    BWRAP = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    def describe(self, network: bool = False) -> str:
        """What this level confines, in one line (details: :mod:`flows.sandbox_guarantees`)."""
        if self is Isolation.BWRAP:
            net = "network allowed" if network else "no network (a private loopback only)"
            return (
                "bubblewrap: unprivileged uid without capabilities in its own namespaces, "
                f"only system directories and the run's copy visible, {net}"
            )
        if self is Isolation.UNSHARE:
            net = "network allowed" if network else "no network (not even loopback)"
            return (
                f"unshare: own user/PID/network namespaces, {net}; the filesystem is NOT "
                "confined (install bubblewrap)"
            )
        return "process only: network and filesystem are NOT confined (install bubblewrap)"


@dataclass(frozen=True)
class Mounts:
    """What a bubblewrap run sees besides the system directories."""

    read_only: tuple[Path, ...] = ()  # interpreter prefixes and what their .pth files add
    area: Path | None = None  # the run's directory: its RUN_DIRS are bound read-write


def confine(
    level: Isolation, argv: Sequence[str], *, cwd: Path, network: bool, mounts: Mounts
) -> list[str]:
    """Wrap ``argv`` for ``level`` (the wrapper's own options only; see the module)."""
    if level is Isolation.BWRAP:
        return [*_bwrap_options(mounts, network), "--chdir", str(cwd), "--", *argv]
    if level is Isolation.UNSHARE:
        net = [] if network else ["--net"]
        ns = ["--pid", "--fork", "--kill-child", "--mount-proc"]
        return [_which("unshare"), "--user", *_unshare_user(), *net, *ns, "--", *argv]
    return list(argv)


def _bwrap_options(mounts: Mounts, network: bool) -> list[str]:
    cmd = [_which("bwrap"), "--unshare-all", "--unshare-user"]
    cmd += ["--share-net"] if network else []
    cmd += ["--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--cap-drop", "ALL"]
    cmd += ["--new-session", "--die-with-parent", "--as-pid-1"]  # the supervisor is PID 1
    cmd += ["--proc", "/proc", "--dev", "/dev"]
    for empty in EMPTY_DIRS:
        cmd += ["--tmpfs", empty]
    cmd += ["--symlink", "../run", "/var/run"]
    cmd += _system_binds()
    for path in mounts.read_only:
        cmd += ["--ro-bind", str(path), str(path)]
    if mounts.area is not None:
        for name in RUN_DIRS:
            cmd += ["--bind", str(mounts.area / name), str(mounts.area / name)]
    return cmd


@functools.cache
def _system_binds() -> tuple[str, ...]:
    """System directories read-only (merged-/usr links as links), then ``/etc``'s entries that
    only their owner may read (``shadow``, ``ssl/private`` ...) hidden."""
    cmd: list[str] = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            cmd += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            cmd += ["--ro-bind", path, path]
    for dirpath, dirnames, filenames in os.walk("/etc"):
        for name in [*dirnames]:
            full = os.path.join(dirpath, name)
            with contextlib.suppress(OSError):
                mode = os.lstat(full).st_mode
                if stat.S_ISDIR(mode) and (mode & 0o005) != 0o005:
                    cmd += ["--tmpfs", full]
                    dirnames.remove(name)
        for name in filenames:
            full = os.path.join(dirpath, name)
            with contextlib.suppress(OSError):
                mode = os.lstat(full).st_mode
                if stat.S_ISREG(mode) and not mode & 0o004:
                    cmd += ["--ro-bind", "/dev/null", full]
    return tuple(cmd)


def interpreter_mounts(pythons: Iterable[Path], keep_out: Iterable[Path]) -> tuple[Path, ...]:
    """The directories the interpreters need: their prefixes (as given, resolved, the venv's
    ``home``) and the directories their site-packages' ``.pth`` files add.  A directory holding
    one of ``keep_out`` (the user's repository) or a home directory is replaced by its
    ``bin``/``lib*`` children; ``/`` and directories under the system ones are left out."""
    prefixes: set[Path] = set()
    added: set[Path] = set()  # by .pth files
    for python in pythons:
        own = {python.parent.parent, Path(os.path.realpath(python)).parent.parent}
        with contextlib.suppress(OSError):
            for line in (python.parent.parent / "pyvenv.cfg").read_text().splitlines():
                key, _, value = line.partition("=")
                if key.strip() == "home" and value.strip():
                    own.add(Path(os.path.realpath(value.strip())).parent)
        for prefix in own:
            for pth in prefix.glob("lib/python*/site-packages/*.pth"):
                with contextlib.suppress(OSError, UnicodeDecodeError):
                    for line in pth.read_text().splitlines():
                        extra = Path(line.strip())
                        if not line.startswith("import") and extra.is_absolute() and extra.is_dir():
                            added.add(extra)
        prefixes |= own
    outside = [Path(os.path.realpath(p)) for p in keep_out]
    homes = {Path("/root"), *Path("/home").glob("*")}
    system = [Path(p) for p in SYSTEM_DIRS]
    result: set[Path] = set()
    for path in {Path(os.path.abspath(p)) for p in prefixes | added}:
        if path == Path("/") or any(path.is_relative_to(s) for s in system):
            continue
        if path in added and any(path.is_relative_to(p) for p in outside):
            continue  # the user's own tree (an editable install): the copy stands in for it
        if path in homes or any(p.is_relative_to(path) for p in outside):
            result.update(c for c in path.glob("*") if c.name in ("bin", "lib", "lib64"))
            continue
        result.add(path)
    nested = {p for p in result for q in result if p != q and p.is_relative_to(q)}
    return tuple(sorted(result - nested))


@functools.cache
def _unshare_user() -> tuple[str, ...]:
    """Map the run to uid 65534 (no capabilities) where util-linux can, else to root."""
    mapped = ("--map-user", str(SANDBOX_UID), "--map-group", str(SANDBOX_UID))
    argv = [_which("unshare"), "--user", *mapped, "true"]
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        if subprocess.run(argv, capture_output=True, timeout=20, check=False).returncode == 0:
            return mapped
    return ("--map-root-user",)


@functools.cache
def available_isolation() -> tuple[Isolation, ...]:
    """The isolation levels that work on this host (probed once, by running this interpreter,
    which supervises every run, with each)."""
    levels = [Isolation.PROCESS]
    with tempfile.TemporaryDirectory(prefix="assay-probe-") as tmp:
        area = Path(tmp).resolve()
        for name in RUN_DIRS:
            (area / name).mkdir()
        mounts = Mounts(interpreter_mounts([Path(sys.executable)], ()), area)
        for level in (Isolation.UNSHARE, Isolation.BWRAP):
            command = [sys.executable or "python3", "-I", "-S", "-c", "pass"]
            argv = confine(level, command, cwd=area / "copy", network=False, mounts=mounts)
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                done = subprocess.run(argv, capture_output=True, timeout=20, cwd=area, check=False)
                if done.returncode == 0:
                    levels.append(level)
    return tuple(levels)


def unshare_maps_user() -> bool:
    """Whether ``unshare`` runs commands as uid 65534 here (else as root of its namespace)."""
    return "--map-user" in _unshare_user()


def isolation_level() -> Isolation:
    """The strongest isolation this host allows."""
    return max(available_isolation())


@functools.cache
def _which(name: str) -> str:
    return shutil.which(name) or name
