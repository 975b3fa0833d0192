"""What code under test touched outside its run, seen from *inside the sandbox* (an audit hook).

Copied into a sandbox run as ``_assay_guard.py`` (never imported by assay itself): standalone,
standard library only, Python 3.8 syntax, like :mod:`agents.cover.explore_driver`.
:func:`install` adds a :func:`sys.addaudithook` hook that notes every file opened, listed,
removed or renamed outside the run's directory, the interpreter and the system directories, and
every connection to something other than the loopback or a socket inside the run (``outside``),
and every subprocess started (``spawned``: what a subprocess reads cannot be seen).

- The explore driver and the observed-oracle helper call :func:`tainted` after computing a
  value: a value computed after anything was read outside, or a subprocess ran, is never
  written into a test (it may carry a secret of the host).
- As a pytest plugin (``-p _assay_guard``) it prints, at the end of the session, one
  ``ASSAY_OUTSIDE {json}`` line listing the first accesses outside: the gates reject such a
  candidate (``side-effects``) and never feed its output back to the model.
- ``install(block=True)`` (the explore driver, which calls functions with made-up arguments)
  also refuses, with :class:`PermissionError`, to signal its own process, group or parent and
  to remove or rename the working directory, a directory above it or the driver's own files,
  and makes ``os._exit``/``os.abort`` raise: exploration then goes on past the functions that
  would have ended it.  :func:`blocked` says whether that happened since a :func:`mark`.
"""

import json
import os
import sys

MARK = "ASSAY_OUTSIDE "
MAX_NOTED = 20
SYSTEM = ("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/etc", "/dev", "/sys")
PATH_EVENTS = {
    "open": 0, "os.listdir": 0, "os.scandir": 0, "os.remove": 0, "os.rmdir": 0,
    "os.rename": 0, "os.mkdir": 0, "shutil.rmtree": 0, "os.symlink": 1, "os.link": 1,
    "os.truncate": 0, "os.chmod": 0, "os.chown": 0, "os.utime": 0, "shutil.copyfile": 0,
}  # fmt: skip
SPAWN_EVENTS = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn")
REMOVE_EVENTS = ("os.remove", "os.rmdir", "os.rename", "shutil.rmtree", "os.truncate")


class _State:
    def __init__(self):
        # type: () -> None
        self.roots = ()  # type: tuple[str, ...]
        self.outside = []  # type: list[str]
        self.count = 0
        self.spawned = 0
        self.busy = False
        self.known = {}  # type: dict[str, bool]  # path -> inside?
        self.block = False
        self.protected = ()  # type: tuple[str, ...]
        self.blocked = 0


_state = _State()


def _roots(extra):
    roots = set(SYSTEM)
    here = os.getcwd()
    roots.add(os.path.dirname(here))  # the run's directory: copy, home, tmp, out
    for name in ("prefix", "base_prefix", "exec_prefix", "base_exec_prefix"):
        roots.add(getattr(sys, name, "") or "/usr")
    for entry in list(sys.path) + list(extra):
        if entry and os.path.isabs(entry):
            roots.add(entry)
    roots.update(("/proc/self", "/proc/thread-self", "/proc/%d" % os.getpid()))
    resolved = set()
    for root in roots:
        resolved.add(os.path.abspath(root))
        resolved.add(os.path.realpath(root))
    resolved.discard("/")
    return tuple(sorted(resolved))


def _inside(path):
    found = _state.known.get(path)
    if found is None:
        full = os.path.realpath(path)
        found = any(
            full == root or full.startswith(root.rstrip("/") + "/") for root in _state.roots
        )
        if len(_state.known) < 10000:
            _state.known[path] = found
    return found


def _note(what):
    _state.count += 1
    if len(_state.outside) < MAX_NOTED:
        _state.outside.append(what)


def _address(args):
    address = args[1] if len(args) > 1 else None
    if isinstance(address, (str, bytes)):
        path = os.fsdecode(address)
        return None if not path or path.startswith("\0") or _inside(path) else "connect " + path
    if isinstance(address, tuple) and address:
        host = str(address[0])
        if host in ("127.0.0.1", "::1", "localhost", "0.0.0.0", ""):
            return None
        return "connect %s" % (address,)
    return None


class Blocked(PermissionError):
    """An operation the explore driver does not let the code under test do."""


def _refuse(event, args):
    """The reason to block ``event`` (block mode), or None."""
    if event in ("os.kill", "os.killpg") and args:
        target = args[0]
        mine = (0, -1, os.getpid(), os.getppid(), os.getpgid(0))
        if isinstance(target, int) and target in mine:
            return "signalling its own process, group or parent"
    elif event in REMOVE_EVENTS and args and isinstance(args[0], (str, bytes, os.PathLike)):
        full = os.path.realpath(os.fsdecode(args[0]))
        if any(p == full or p.startswith(full.rstrip("/") + "/") for p in _state.protected):
            return "removing its working directory or the driver's files"
    return None


def _hook(event, args):
    if _state.busy:
        return
    if _state.block:
        why = _refuse(event, args)
        if why:
            _state.blocked += 1
            raise Blocked("assay exploration: not " + why)
    _state.busy = True
    try:
        if event in PATH_EVENTS:
            path = args[PATH_EVENTS[event]] if len(args) > PATH_EVENTS[event] else None
            if isinstance(path, (str, bytes, os.PathLike)):
                name = os.fsdecode(path)
                if name and not _inside(name):
                    _note("%s %s" % (event, os.path.abspath(name)))
        elif event in ("socket.connect", "socket.connect_ex"):
            what = _address(args)
            if what:
                _note(what)
        elif event.startswith(SPAWN_EVENTS):
            _state.spawned += 1
    except BaseException:  # a guard must never break the code it watches
        pass
    finally:
        _state.busy = False


def _no_exit(*args):
    _state.blocked += 1
    raise Blocked("assay exploration: not ending the interpreter")


def install(extra=(), block=False, protect=()):
    """Start watching (once per process); ``extra``: more directories that are inside;
    ``block``: refuse what would end the process or destroy its working directory (and the
    files in ``protect``), see the module."""
    if not _state.roots:
        _state.roots = _roots(extra)
        sys.addaudithook(_hook)
    if block and not _state.block:
        here = os.path.realpath(os.getcwd())
        _state.protected = tuple([here] + [os.path.realpath(p) for p in protect])
        _state.block = True
        os._exit = _no_exit
        os.abort = _no_exit


def mark():
    """A point to compare :func:`tainted` and :func:`blocked` against."""
    return _state.count, _state.spawned, _state.blocked


def tainted(since=(0, 0, 0)):
    """Whether anything was touched outside, or a subprocess started, after ``since``."""
    return _state.count > since[0] or _state.spawned > since[1]


def blocked(since=(0, 0, 0)):
    """Whether an operation was refused (block mode) after ``since``."""
    return _state.blocked > since[2]


def outside():
    """The first accesses outside (event and path), at most MAX_NOTED, and how many in all."""
    return list(_state.outside), _state.count


# -- as a pytest plugin ------------------------------------------------------------------------


def pytest_configure(config):
    install([str(getattr(config, "rootpath", None) or config.rootdir)])


def pytest_terminal_summary(terminalreporter):
    noted, count = outside()
    if count:
        line = MARK + json.dumps({"outside": noted, "count": count})
        terminalreporter.write_line(line)
