"""The supervisor of one sandboxed run: ``python -I -S -c <this source> MODE KEY=VALUE... -- ARGV``.

assay never imports this module to use it: :mod:`flows.sandbox_run` passes its source to the
interpreter assay runs on.  It imports only what starts fast (no ``json``, no ``signal``: their
imports cost tens of milliseconds a run).  Options: ``join=FILE`` (repeatable: a cgroup's
``cgroup.procs`` to join), ``parent=PID`` (give up if our parent is no longer that),
``status_fd=N``, ``cwd=DIR``, ``rlimit.NAME=N`` (e.g. ``rlimit.AS``), ``grace=SECONDS``,
``subreaper=1``.

``outer`` (started by assay, before ``unshare``): joins the cgroups, asks the kernel to SIGKILL
it when assay dies (``PR_SET_PDEATHSIG``), then ``exec``s ARGV.

``inner`` (the last wrapper before the command: PID 1 of the run's PID namespace, or, at the
``process`` level with ``subreaper=1``, the child subreaper of everything below it, killing all
of it when assay dies): joins the cgroups, forks ARGV in a new session in ``cwd`` with the
rlimits, and reaps every orphan of the run.  When ARGV exits it waits ``grace`` seconds for its
descendants to finish, names those still running (``/proc/PID/comm``) and SIGKILLs them all.
It reports on ``status_fd``, one line per event, fields separated by tabs: ``started``,
``error <why>`` (ARGV could not start) and ``exit <status> <name>...`` (status negative for a
signal, like :attr:`subprocess.Popen.returncode`).  Then it exits with ARGV's status.
"""

from __future__ import annotations

import os
import sys
import time

try:  # the C module: ``signal`` imports ``enum``, which costs more than the rest together
    import _signal as signal
except ImportError:  # pragma: no cover - other interpreters
    import signal

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
KILL_SECONDS = 5.0
SIGKILL, SIGTERM, SIGHUP, SIGINT, SIGPIPE = 9, 15, 1, 2, 13


def _prctl(option: int, value: int) -> None:
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def _join(files: list[str]) -> None:
    for name in files:
        with open(name, "w") as f:
            f.write(str(os.getpid()))


def _descendants() -> list[int]:
    table: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    fields = f.read().rpartition(b")")[2].split()
            except OSError:
                continue
            if fields and fields[0] not in (b"Z", b"X"):
                table.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [os.getpid()]
    while todo:
        for child in table.get(todo.pop(), ()):
            found.append(child)
            todo.append(child)
    return found


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as f:
            return f.read().strip().replace("\t", " ") or "?"
    except OSError:
        return "?"


def _kill_all() -> None:
    deadline = time.monotonic() + KILL_SECONDS
    while time.monotonic() < deadline:
        alive = _descendants()
        if not alive:
            return
        for pid in alive:
            try:  # noqa: SIM105 - contextlib would cost an import
                os.kill(pid, SIGKILL)
            except OSError:
                pass
        _reap()
        time.sleep(0.002)


def _report(fd: int, *fields: object) -> None:
    line = "\t".join(str(f).replace("\t", " ").replace("\n", " ") for f in fields) + "\n"
    try:  # noqa: SIM105 - contextlib would cost an import
        os.write(fd, line.encode(errors="replace"))
    except OSError:
        pass


def _status(wait_status: int) -> int:
    if os.WIFSIGNALED(wait_status):
        return -os.WTERMSIG(wait_status)
    return os.waitstatus_to_exitcode(wait_status)


def _start(argv: list[str], options: dict[str, list[str]]) -> tuple[int, str]:
    """Fork ARGV in its own session; return its pid and, if it could not start, why."""
    import resource

    limits = [
        (getattr(resource, "RLIMIT_" + key[7:]), int(values[-1]))
        for key, values in options.items()
        if key.startswith("rlimit.")
    ]
    read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        try:
            for sig in (SIGTERM, SIGHUP, SIGINT, SIGPIPE):
                signal.signal(sig, signal.SIG_DFL)
            os.setsid()
            for limit, value in limits:
                resource.setrlimit(limit, (value, value))
            os.chdir(options["cwd"][-1])
            os.execvp(argv[0], argv)
        except OSError as exc:
            where = exc.filename or argv[0]
            os.write(write_fd, f"{where}: {exc.strerror or exc}".encode(errors="replace"))
        except BaseException as exc:  # anything: reported, never a traceback
            os.write(write_fd, f"{argv[0]}: {exc!r}".encode(errors="replace"))
        os._exit(127)
    os.close(write_fd)
    chunks = []
    while chunk := os.read(read_fd, 4096):
        chunks.append(chunk)
    os.close(read_fd)
    return pid, b"".join(chunks).decode(errors="replace")


def _parent_gone(options: dict[str, list[str]]) -> bool:
    return bool(options.get("parent")) and os.getppid() != int(options["parent"][-1])


def inner(options: dict[str, list[str]], argv: list[str]) -> int:
    fd = int(options["status_fd"][-1])
    os.set_inheritable(fd, False)
    _join(options.get("join", []))

    def stop(signum: int, _frame: object) -> None:  # assay or our parent went away
        _kill_all()
        os._exit(128 + signum)

    for sig in (SIGTERM, SIGHUP, SIGINT):
        signal.signal(sig, stop)
    if options.get("subreaper"):
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
        _prctl(PR_SET_PDEATHSIG, SIGTERM)
    if _parent_gone(options):
        return 125  # assay died before we could notice it
    pid, error = _start(argv, options)
    if error:
        _report(fd, "error", error)
        _kill_all()
        return 127
    _report(fd, "started")
    status = 0
    while True:
        try:
            done, wait_status = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if done == pid:
            status = _status(wait_status)
            break
    deadline = time.monotonic() + float(options.get("grace", ["0.15"])[-1])
    while (left := _descendants()) and time.monotonic() < deadline:
        _reap()
        time.sleep(0.01)
    names = sorted(_name(p) for p in left)
    _kill_all()
    _report(fd, "exit", status, *names)
    return status if status >= 0 else 128 - status


def outer(options: dict[str, list[str]], argv: list[str]) -> int:
    _join(options.get("join", []))
    _prctl(PR_SET_PDEATHSIG, SIGKILL)
    if _parent_gone(options):
        return 125
    os.execvp(argv[0], argv)
    return 127  # not reached


def main(args: list[str]) -> int:
    if "--" not in args or len(args) < 3:
        sys.stderr.write("usage: MODE KEY=VALUE... -- ARGV...\n")
        return 2
    split = args.index("--")
    mode, pairs, argv = args[0], args[1:split], args[split + 1 :]
    options: dict[str, list[str]] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        options.setdefault(key, []).append(value)
    return (outer if mode == "outer" else inner)(options, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
