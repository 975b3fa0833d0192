"""The watchdog of a command-owned model server: it outlives commands that were killed.

A command that starts the embedded model server stops it when it ends; one killed with SIGKILL
(a cancelled CI job, an OOM kill) cannot.  So :func:`agents.model.server` starts this watchdog
next to such a server, in its own session: every few seconds it reads the server's state file,
and when no command registered there is alive any more it stops the server and removes the
state.  It exits as soon as the server is gone, replaced, or taken over by ``assay model serve``
(whose owner stops it).

    python -m agents.model.watch RUN_DIR SERVER_PID [--poll SECONDS]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from agents.model.process import pid_alive
from agents.model.server import STOP_GRACE, _locked, _read_state, _remove_state, _stop

POLL_SECONDS = 2.0
MISSES_BEFORE_STOP = 2  # polls in a row that find no live command


def watch(run_dir: Path, server_pid: int, poll: float = POLL_SECONDS) -> str:
    """Watch until the server needs no watching; return why."""
    misses = 0
    while True:
        time.sleep(poll)
        with _locked(run_dir):
            info = _read_state(run_dir)
            if info is None or info.pid != server_pid or not pid_alive(server_pid):
                return "gone"
            if info.owner != "command":
                return "taken over"
            if any(pid_alive(int(client.split(":")[0])) for client in info.clients):
                misses = 0
                continue
            misses += 1
            if misses >= MISSES_BEFORE_STOP:
                _stop(info, STOP_GRACE)
                _remove_state(run_dir, server_pid)
                return "stopped: every command using it is gone"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agents.model.watch")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("server_pid", type=int)
    parser.add_argument("--poll", type=float, default=POLL_SECONDS)
    args = parser.parse_args(argv)
    print(watch(args.run_dir, args.server_pid, args.poll), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
