"""Runs mutants against their tests, *inside the sandbox* (never imported by assay).

``python mutant_driver.py SPEC.json`` reads a list of mutants (``id``, ``path`` of the file in
this copy, its mutated ``source``, the node ids of the ``tests`` that run the changed line, a
``timeout``).  It imports pytest once, then for each mutant writes the mutated source over the
file, forks a child that runs ``pytest -x`` on those tests, waits (killing the child's process
group at the timeout), and puts the original back, whatever the child did.  One line per mutant:
``ASSAY_MUTANT {"id": ..., "status": "killed" | "survived" | "timeout", "failed": NODE_ID}``
(the first test that failed, "" when none said so).  With ``"first":
true`` in the spec it stops at the first mutant caught.

Forking after pytest is imported, and after one empty pytest session has loaded its plugins
(:func:`_warm`), saves the interpreter's and pytest's start for every mutant (about a second
with a few plugins installed, against a tenth for the tests of one mutant); the child imports the
project's modules itself, so it sees the mutated file.  Standalone on
purpose, like the exploration driver: the project's interpreter, standard library only, Python
3.8 syntax.
"""

import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time

MARK = "ASSAY_MUTANT "
QUIET = ["-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "--no-header"]


class _FirstFailure:
    """A pytest plugin: the node id of the first test (or file) that failed."""

    def __init__(self):
        self.nodeid = None

    def pytest_runtest_logreport(self, report):
        if report.failed and self.nodeid is None:
            self.nodeid = report.nodeid

    def pytest_collectreport(self, report):
        if report.failed and self.nodeid is None:
            self.nodeid = report.nodeid


def _run_one(tests, timeout, stop):
    """(the mutant's outcome, the first failing test's node id or ""); (None, "") when the
    run's time (``stop``) ended it first."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own process group, quiet, pytest on the tests
        code = 3
        try:
            os.close(read_end)
            os.setpgid(0, 0)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            import pytest

            first = _FirstFailure()
            code = pytest.main(QUIET + list(tests), plugins=[first])
            os.write(write_end, (first.nodeid or "").encode("utf-8", "replace")[:4000])
        except BaseException:
            pass
        os._exit(int(code) if isinstance(code, int) else 1)
    os.close(write_end)
    try:
        status = _wait(pid, timeout, stop)
        os.set_blocking(read_end, False)  # what the tests left running may hold the pipe
        try:
            failed = os.read(read_end, 4096).decode("utf-8", "replace")
        except (BlockingIOError, OSError):
            failed = ""
    finally:
        os.close(read_end)
    return status, failed if status == "killed" else ""


def _wait(pid, timeout, stop):
    """The outcome of the child ``pid``; None when ``stop`` came first."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        now = time.monotonic()
        if now > deadline or now > stop:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout" if now > deadline else None
        time.sleep(0.01)
    with contextlib.suppress(OSError):  # what the test left running in its group goes too
        os.killpg(pid, signal.SIGKILL)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return "survived"
    return "killed"  # a failure, an error, a crash: the tests noticed


def _warm(pytest):
    """One pytest session on an empty directory, with no configuration file: it finds and
    imports every plugin once, before the forks, and imports nothing of the project."""
    empty = tempfile.mkdtemp(prefix="assay-warm-")
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", "-c", os.devnull,
                     "--rootdir", empty, empty])  # fmt: skip
    except BaseException:  # a plugin that breaks here breaks in the children too: they say so
        pass
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)
        shutil.rmtree(empty, ignore_errors=True)


def main(argv):
    with open(argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    import pytest  # imported once, before the forks

    _warm(pytest)

    out = sys.stdout
    # The run's time: no mutant starts after it, and one still running then is not measured.
    stop = time.monotonic() + float(spec.get("seconds") or 1e9)
    for mutant in spec["mutants"]:
        if time.monotonic() > stop:
            break
        path = mutant["path"]
        with open(path, "rb") as handle:
            original = handle.read()
        try:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(mutant["source"])
            status, failed = _run_one(mutant["tests"], float(mutant.get("timeout", 30)), stop)
        finally:
            with open(path, "wb") as handle:
                handle.write(original)
        if status is None:
            break
        item = {"id": mutant["id"], "status": status, "failed": failed}
        out.write("\n" + MARK + json.dumps(item) + "\n")
        out.flush()
        if spec.get("first") and status != "survived":
            break  # the caller wants the first mutant caught only


if __name__ == "__main__":
    main(sys.argv)
