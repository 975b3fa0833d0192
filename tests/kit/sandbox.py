"""Helpers for the hostile sandbox tests: the isolations to try, a host "world" to damage, probes.

A :class:`World` is a throwaway stand-in for the host: the user's project, a home directory with
planted secrets and a listening unix socket, a file elsewhere, a TCP listener on the loopback,
and an environment with secret-looking variables.  :func:`run_batch` runs probes
(tests/fakes/hostile_probe.py) in one sandbox under a :class:`Config`: in this process, or in a
driver process (tests/fakes/sandbox_driver.py), as root or as the unprivileged uid 65534.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows.sandbox import Isolation, available_isolation

REPO_ROOT = Path(__file__).resolve().parents[2]
PROBE = (REPO_ROOT / "tests" / "fakes" / "hostile_probe.py").read_text()
DRIVER = REPO_ROOT / "tests" / "fakes" / "sandbox_driver.py"
NOBODY = 65534
IS_ROOT = os.geteuid() == 0
PLAIN_SECRET = "correct-horse-battery-staple-7731"  # looks like nothing: only hiding protects it
TOKEN_SECRET = "ghp_" + "Zx9" * 12  # a GitHub token format: redacted wherever it shows
SECRET_ENV = {
    "TOKEN": "tok-8f3a9c2e71d54b06",
    "SENTRY_DSN": "https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/42",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0001/B0001/abcdefghijkl",
    "DATABASE_URL": "postgres://app@db:5432/app?password=s3cr3t-db-pass",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}
SECRET_VALUES = (*SECRET_ENV.values(), "s3cr3t-db-pass", PLAIN_SECRET, TOKEN_SECRET)


@dataclass(frozen=True)
class Config:
    """One isolation to try: a level, and whether assay runs as the unprivileged uid 65534."""

    id: str
    level: Isolation
    as_user: bool = False

    def __str__(self) -> str:
        return self.id


def _user_python() -> tuple[str, dict[str, str]] | None:
    """An interpreter uid 65534 can run, with this checkout and its packages importable."""
    if not IS_ROOT or not shutil.which("setpriv"):
        return None
    path = f"{REPO_ROOT}{os.pathsep}{sysconfig.get_paths()['purelib']}"
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for python in (sys.executable, shutil.which(version), f"/usr/bin/{version}"):
        if not python or not os.path.exists(python):
            continue
        check = "import os, sys, flows.sandbox; os.stat(sys.executable)"
        argv = [*as_nobody(), python, "-c", check]
        env = {"PYTHONPATH": path, "PATH": os.defpath}
        done = subprocess.run(argv, env=env, capture_output=True, check=False)
        if done.returncode == 0:
            return python, {"PYTHONPATH": path}
    return None


def as_nobody() -> list[str]:
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]


USER_PYTHON = _user_python()


def configs() -> list[Config]:
    levels = available_isolation()
    found = []
    if Isolation.BWRAP in levels:
        found.append(Config("bwrap-root" if IS_ROOT else "bwrap", Isolation.BWRAP))
        if USER_PYTHON is not None:
            found.append(Config("bwrap-user", Isolation.BWRAP, as_user=True))
    if Isolation.UNSHARE in levels:
        found.append(Config("unshare", Isolation.UNSHARE))
    found.append(Config("process", Isolation.PROCESS))
    return found


class Listener:
    """Counts connections on a socket (TCP on the loopback, or a unix socket)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.count, self._stop = sock, 0, threading.Event()
        sock.settimeout(0.05)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.count += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


def snapshot(root: Path) -> dict[str, str]:
    """Every file and directory under ``root`` with its content hash."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            body = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
            state[str(path.relative_to(root))] = body
    return state


@dataclass
class World:
    root: Path
    owner: int
    tcp: Listener = field(init=False)
    unix: Listener = field(init=False)

    def __post_init__(self) -> None:
        self.project, self.home, self.work = (
            self.root / "project",
            self.root / "home",
            self.root / "work",
        )
        self.victim = self.root / "elsewhere" / "victim.txt"
        files = {
            "project/.gitignore": ".env\n",
            "project/.env": f"GITHUB_TOKEN={TOKEN_SECRET}\n",
            "project/calc/__init__.py": "",
            "project/calc/ops.py": "def add(a, b):\n    return a + b\n",
            "home/.netrc": f"machine example.com login me password {PLAIN_SECRET}\n",
            "elsewhere/victim.txt": "keep me\n",
        }
        for rel, text in files.items():
            (self.root / rel).parent.mkdir(parents=True, exist_ok=True)
            (self.root / rel).write_text(text)
        self.work.mkdir()
        tcp = socket.create_server(("127.0.0.1", 0))
        self.port = tcp.getsockname()[1]
        self.tcp = Listener(tcp)
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix_socket = self.home / "agent.sock"
        unix.bind(str(self.unix_socket))
        unix.listen()
        self.unix = Listener(unix)
        for dirpath, dirnames, filenames in os.walk(self.root):
            for name in [".", *dirnames, *filenames]:
                os.chown(os.path.join(dirpath, name), self.owner, self.owner)
        self.unix_socket.chmod(0o777)
        self.before = {"project": snapshot(self.project), "elsewhere": snapshot(self.victim.parent)}
        self.planted = {p: p.read_bytes() for p in (self.home / ".netrc", self.project / ".env")}

    def env(self) -> dict[str, str]:
        return {"PATH": os.environ.get("PATH", os.defpath), "LANG": "C.UTF-8", **SECRET_ENV}

    def close(self) -> None:
        self.tcp.close()
        self.unix.close()
        shutil.rmtree(self.root, ignore_errors=True)


def make_world(config: Config) -> Iterator[World]:
    root = Path(tempfile.mkdtemp(prefix="assay-world-", dir="/tmp"))
    root.chmod(0o755)
    world = World(root, NOBODY if config.as_user else os.geteuid())
    try:
        yield world
    finally:
        world.close()


def probe_run(python: str, probe: str, timeout: float = 20, **cfg: Any) -> dict[str, Any]:
    argv = [python, "hostile_probe.py", json.dumps({"probe": probe, **cfg})]
    return {"argv": argv, "extra_files": {"hostile_probe.py": PROBE}, "timeout": timeout}


def python_for(config: Config) -> str:
    if config.as_user:
        assert USER_PYTHON is not None
        return USER_PYTHON[0]
    return sys.executable


def run_batch(
    config: Config,
    world: World,
    runs: list[dict[str, Any]],
    *,
    subprocess_driver: bool = False,
    hold: float = 0.0,
    workers: int = 1,
    **options: Any,
) -> dict[str, Any] | subprocess.Popen[str]:
    """Run ``runs`` in one sandbox (see the module); with ``hold``, return the started driver."""
    sandbox = {
        "repo": str(world.project),
        "python": python_for(config),
        "max_isolation": config.level.label,
        "work_dir": str(world.work),
        "memory_limit": 96 << 20,
        "max_processes": 64,
        "timeout": 20,
        **options,
    }
    spec = {"sandbox": sandbox, "runs": runs, "hold": hold, "workers": workers}
    if not (config.as_user or subprocess_driver or hold):
        from tests.fakes.sandbox_driver import drive

        return drive({**spec, "sandbox": {**sandbox, "base_env": world.env()}})
    env = {**world.env(), "PYTHONPATH": str(REPO_ROOT)}
    prefix: list[str] = []
    if config.as_user:
        assert USER_PYTHON is not None
        env.update(USER_PYTHON[1])
        prefix = as_nobody()
    argv = [*prefix, python_for(config), str(DRIVER)]
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=world.root
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(spec))
    proc.stdin.close()
    if hold:
        return proc
    out = proc.stdout.read()
    assert proc.wait(120) == 0, out
    report: dict[str, Any] = json.loads(out)
    return report


def facts(output: str) -> dict[str, list[dict[str, Any]]]:
    """The ``PROBE`` lines of a probe's output, by probe name."""
    found: dict[str, list[dict[str, Any]]] = {}
    for line in output.splitlines():
        if line.startswith("PROBE "):
            fact = json.loads(line[6:])
            found.setdefault(fact["probe"], []).append(fact)
    return found


def processes_with(token: str) -> list[int]:
    """Live (not zombie) processes on the host whose command line contains ``token``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
                state = Path(f"/proc/{entry}/stat").read_bytes().rpartition(b")")[2].split()[0]
            except (OSError, IndexError):
                continue
            if token.encode() in cmdline and state not in (b"Z", b"X"):
                found.append(int(entry))
    return found


def nonce() -> str:
    return str(secrets.randbelow(10**12)).zfill(12)


def record(config: Config, probe: str, contained: bool, note: str = "") -> None:
    """Append one containment outcome to $SANDBOX_CONTAINMENT_LOG (for the closing counts)."""
    log = os.environ.get("SANDBOX_CONTAINMENT_LOG")
    if log:
        with open(log, "a") as f:
            line = {"config": config.id, "probe": probe, "contained": contained, "note": note}
            f.write(json.dumps(line) + "\n")


HOSTILE_HEAD = """\
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

from calc.ops import probe_target

CFG = {cfg!r}


def attempt(action):
    try:
        return action()
    except BaseException as exc:
        return repr(exc)


def connect_unix():
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        s.connect(CFG["unix_socket"])
"""

HOSTILE_PARTS = {
    "fs": """

def test_filesystem_and_network():
    if CFG["privileged"]:
        subprocess.run(["mount", "-o", "remount,bind,rw", "/"], capture_output=True)
        subprocess.run(["umount", "-l", "/tmp"], capture_output=True)
    attempt(lambda: open(CFG["project_file"], "a").write("\\npwned = True\\n"))
    attempt(lambda: open(os.path.join(CFG["home"], "pwned.txt"), "w").write("x"))
    attempt(lambda: os.remove(CFG["victim"]))
    attempt(connect_unix)
    attempt(lambda: socket.create_connection(("127.0.0.1", CFG["port"]), timeout=2).close())
    if CFG["dns"]:
        attempt(lambda: socket.getaddrinfo("pypi.org", 443))
    assert probe_target(2) == 4
""",
    "secrets": """

def test_secrets():
    text = attempt(lambda: open(CFG["netrc"]).read())
    piped = attempt(lambda: subprocess.run(["cat", CFG["netrc"]], capture_output=True).stdout)
    seen = [attempt(lambda p=p: open("/proc/" + p + "/environ").read())
            for p in os.listdir("/proc") if p.isdigit()]
    print(text, piped, dict(os.environ), seen)
    assert probe_target(1) == 2
    assert os.environ.get("TOKEN") != "guess"
    assert text == "nothing here"
""",
    "escapes": """

def test_escapes_and_a_fork_loop():
    sleep = shutil.which("sleep") or "/bin/sleep"
    forever = [sleep, "1000." + CFG["nonce"]]
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execve(sleep, forever, {})
        os._exit(0)
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={})
    subprocess.Popen([shutil.which("nohup") or "nohup"] + forever, start_new_session=True, **quiet)
    for _ in range(20):
        try:
            if os.fork() == 0:
                os.execve(sleep, forever, {})
        except OSError:
            break
    assert probe_target(3) == 6
""",
    "memory": """

def test_zz_memory():
    assert "MemoryError" in attempt(lambda: len(bytearray(10 << 30)))
    grab = ("import sys, time; b = bytearray(int(sys.argv[1]))\\n"
            "for i in range(0, len(b), 4096): b[i] = 1\\n"
            "time.sleep(0.3)")
    kids = [subprocess.Popen([sys.executable, "-c", grab, str(CFG["per_fork"])])
            for _ in range(3)]
    [kid.wait() for kid in kids]
    assert probe_target(4) == 8
""",
    "destroy": """

def test_zz_destroy_the_copy():
    shutil.rmtree(os.getcwd(), ignore_errors=True)
    assert probe_target(5) == 10
""",
}


def hostile_tests(cfg: dict[str, Any], *parts: str) -> str:
    """A candidate test module holding the probes of ``parts`` (keys of HOSTILE_PARTS, in
    order: the memory and destroy probes may end the test process, so they come last; assay
    cover keeps at most 4 tests of a candidate)."""
    return HOSTILE_HEAD.format(cfg=cfg) + "".join(HOSTILE_PARTS[p] for p in parts)
