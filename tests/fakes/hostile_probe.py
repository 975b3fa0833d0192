"""Hostile code for sandbox tests: run INSIDE the sandbox as ``python hostile_probe.py CONFIG``.

Never imported by the tests (only copied into a sandbox run).  ``CONFIG`` is a JSON object:
``{"probe": NAME, ...}``; each probe prints ``PROBE {json}`` lines saying what it tried and what
happened, so the test can check the host afterwards.  Probes:

- ``fs``: remount ``/`` read-write and unmount ``/tmp`` (only with ``privileged``), then write
  by absolute path to the project and to the host's home, delete a file outside the copy,
  connect to a unix socket in the host's home and to a TCP port on the host's loopback,
  resolve a name (with ``dns``), read planted secret files, dump the environment and every
  readable ``/proc/*/environ``.
- ``escape``: a ``setsid`` double fork, ``nohup`` and a detached Python, all with an empty
  environment, plus a bounded fork loop; every process carries ``nonce`` in its argv.  Then
  it exits at once.
- ``sleep``: sleeps forever (with ``nonce``, after starting an escaped grandchild that
  does).  ``mem-one``: 10 GB in one process.  ``mem-forks``: three forks each touching
  ``per_fork`` bytes.  ``exit``: ``os._exit(7)``.  ``killpg``: SIGKILL to its own process
  group.  ``delete-copy``: removes its working directory (the copy) and what it can of the
  directories above.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time


def emit(probe, **facts):
    print("PROBE " + json.dumps(dict(probe=probe, **facts)), flush=True)


def attempt(action):
    try:
        result = action()
    except BaseException as exc:  # everything is an observation here
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": True, "value": result}


def command(argv):
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except OSError as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": done.returncode == 0, "error": (done.stderr or done.stdout).strip()[-200:]}


def append(path, text):
    with open(path, "a") as f:
        f.write(text)


def connect_unix(path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        s.connect(path)


def connect_tcp(port):
    socket.create_connection(("127.0.0.1", port), timeout=2).close()


def read(path):
    with open(path) as f:
        return f.read()


def environs():
    """The secret-looking entries of every environment it can read in /proc."""
    found = {}
    words = ("TOKEN", "SECRET", "KEY", "PASS", "DSN", "URL", "AUTH")
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open(f"/proc/{entry}/environ", "rb") as f:
                    entries = f.read().decode(errors="replace").split("\0")
            except OSError:
                continue
            hits = [e for e in entries if any(w in e.partition("=")[0] for w in words)]
            if hits:
                found[entry] = hits
    return found


def fs(cfg):
    if cfg.get("privileged"):
        remount = command(["mount", "-o", "remount,bind,rw", "/"])
        emit("remount", remount=remount, umount=command(["umount", "-l", "/tmp"]))
    emit("write-project", **attempt(lambda: append(cfg["project_file"], "\npwned = True\n")))
    emit("write-home", **attempt(lambda: append(os.path.join(cfg["home"], "pwned.txt"), "x")))
    emit("delete-outside", **attempt(lambda: os.remove(cfg["victim"])))
    emit("unix-socket", **attempt(lambda: connect_unix(cfg["unix_socket"])))
    emit("tcp", **attempt(lambda: connect_tcp(cfg["port"])))
    if cfg.get("dns"):
        emit("dns", **attempt(lambda: socket.getaddrinfo("pypi.org", 443)[0][4][0]))
    for path in cfg["secret_files"]:
        emit("secret-file", path=path, **attempt(lambda path=path: read(path)))
    emit("secret-env", environ=dict(os.environ), proc=environs())


def sleeper(nonce):
    return [shutil.which("sleep") or "/bin/sleep", f"1000.{nonce}"]


def escape(cfg):
    nonce = cfg["nonce"]
    if os.fork() == 0:  # setsid + double fork, empty environment
        os.setsid()
        if os.fork() == 0:
            os.execve(sleeper(nonce)[0], sleeper(nonce), {})
        os._exit(0)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": {}}
    nohup = shutil.which("nohup") or "/usr/bin/nohup"
    subprocess.Popen([nohup, *sleeper(nonce)], start_new_session=True, **quiet)
    code = "import signal, time; signal.signal(signal.SIGHUP, signal.SIG_IGN); time.sleep(1000)"
    subprocess.Popen([sys.executable, "-c", code, nonce], start_new_session=True, **quiet)
    started = refused = 0
    for _ in range(cfg.get("forks", 50)):
        try:
            pid = os.fork()
        except OSError:
            refused += 1
            continue
        if pid == 0:
            os.execve(sleeper(nonce)[0], sleeper(nonce), {})
        started += 1
    emit("escape", forks_started=started, forks_refused=refused)


def mem_forks(cfg):
    kids = []
    for _ in range(3):
        pid = os.fork()
        if pid == 0:
            try:
                block = bytearray(cfg["per_fork"])
                for i in range(0, len(block), 4096):
                    block[i] = 1
                time.sleep(0.2)  # all three hold their memory at once
            except MemoryError:
                os._exit(3)
            os._exit(0)
        kids.append(pid)
    emit("mem-forks", statuses=[os.waitpid(pid, 0)[1] for pid in kids])


def delete_copy(cfg):
    here = os.getcwd()
    emit("delete-copy", copy=attempt(lambda: shutil.rmtree(here)))
    emit("delete-area", area=attempt(lambda: shutil.rmtree(os.path.dirname(here))))


def main():
    cfg = json.loads(sys.argv[1])
    probe = cfg["probe"]
    if probe == "fs":
        fs(cfg)
    elif probe == "escape":
        escape(cfg)
    elif probe == "sleep":
        if cfg.get("nonce") and os.fork() == 0:  # an escaped grandchild sleeps too
            os.setsid()
            if os.fork() == 0:
                os.execve(sleeper(cfg["nonce"])[0], sleeper(cfg["nonce"]), {})
            os._exit(0)
        print("ready", flush=True)
        time.sleep(3600)
    elif probe == "mem-one":
        emit("mem-one", **attempt(lambda: len(bytearray(10 << 30))))
    elif probe == "mem-forks":
        mem_forks(cfg)
    elif probe == "exit":
        os._exit(7)
    elif probe == "killpg":
        os.killpg(0, signal.SIGKILL)
    elif probe == "delete-copy":
        delete_copy(cfg)


if __name__ == "__main__":
    main()
