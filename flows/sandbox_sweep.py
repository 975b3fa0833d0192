"""Sweeping what dead assay processes left: staging directories, their processes, cgroups.

Every staging directory (``assay-sandbox-*`` in the work directory) holds an ``owner`` file
with the :func:`~flows.sandbox_procs.owner_tag` of the assay process that made it, and every
run's processes carry ``ASSAY_SANDBOX_RUN=<staging directory name>.<run>`` in their
environment.  :func:`sweep` (called when a sandbox opens) removes the directories whose owner
is gone, after killing the processes still marked with their name, and the run cgroups of dead
owners (:func:`flows.sandbox_cgroup.sweep_cgroups`).  A directory without an owner file, or
whose owner runs (or runs in another PID namespace), is never touched.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from flows.sandbox_cgroup import CgroupHost, sweep_cgroups
from flows.sandbox_copy import _rmtree
from flows.sandbox_procs import kill_marked, owner_alive, owner_tag

STAGE_PREFIX = "assay-sandbox-"
OWNER_FILE = "owner"
MARKER = "ASSAY_SANDBOX_RUN"


def mark_owner(root: Path) -> None:
    """Say that this process owns ``root`` (a staging directory)."""
    (root / OWNER_FILE).write_text(owner_tag() + "\n")


def _owner(root: Path) -> tuple[int, int, int] | None:
    try:
        fields = (root / OWNER_FILE).read_text().strip().split("-")
        namespace, pid, start = (int(field) for field in fields)
    except (OSError, ValueError):
        return None
    return namespace, pid, start


def stale_dirs(work_dir: Path) -> list[Path]:
    """Staging directories in ``work_dir`` whose owner is gone."""
    found = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(work_dir):
            if entry.name.startswith(STAGE_PREFIX) and entry.is_dir(follow_symlinks=False):
                owner = _owner(Path(entry.path))
                if owner is not None and not owner_alive(*owner):
                    found.append(Path(entry.path))
    return sorted(found)


def sweep(work_dir: Path, cgroups: CgroupHost | None) -> list[str]:
    """Kill and remove what dead owners left (see the module); return what was swept."""
    swept = sweep_cgroups(cgroups) if cgroups is not None else []
    for root in stale_dirs(work_dir):
        kill_marked(f"{MARKER}={root.name}.")
        _rmtree(root)
        swept.append(str(root))
    return swept
