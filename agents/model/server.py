"""The managed llama.cpp server that serves the embedded model to assay's commands.

:func:`llm_endpoint` gives a command a base URL: the configured ``ASSAY_LLM_BASE_URL`` if there
is one, else a running managed server (reused), else one it starts for the duration of the
command.  :func:`serve` (``assay model serve``) keeps one running in the foreground for others
to reuse.  The state of the running server lives in ``run_dir/server.json``; ``server.lock``
(an ``flock``) makes "check, start, wait until ready, record" one step, so two commands starting
at once share one server.  A command-owned server is shared too: every user registers in the
state file, and the last one to leave stops it.

The server runs in its own process group (Ctrl-C in the terminal does not reach it; we stop it),
with its output in ``run_dir/server.log``.  The command line is injectable (``command=``) so
tests run the whole start/wait/reuse/stop logic against a stand-in server.  The process,
state-file and lock helpers are in :mod:`agents.model.process`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from agents.errors import ModelError
from agents.model.install import resolve_model_path
from agents.model.process import (
    file_lock,
    log_tail,
    pid_alive,
    read_state,
    remove_state,
    runs_argv,
    stop_group,
    terminate_raises,
    write_state,
)
from agents.settings import Settings
from flows import LLMClient, LLMError, LLMTimeout

STATE_FILE = "server.json"
LOCK_FILE = "server.lock"
LOG_FILE = "server.log"
HOST = "127.0.0.1"
STOP_GRACE = 10.0  # seconds between SIGTERM and SIGKILL
PROBE_TIMEOUT = 2.0

CommandFn = Callable[[Settings, Path, int], list[str]]
"""Builds the server's argv from (settings, model path, port)."""

Owner = Literal["serve", "command"]

# Servers this process started, so that stopping one also reaps it (no zombies).
_children: dict[int, subprocess.Popen[bytes]] = {}


@dataclass
class ServerInfo:
    """A managed server, as recorded in ``run_dir/server.json``."""

    pid: int  # also its process group id
    port: int
    model: str
    owner: Owner  # "serve": 'assay model serve' keeps it; "command": the last user stops it
    started_at: float
    argv: list[str]
    log: str
    ready: bool = False
    clients: list[str] = field(default_factory=list)  # "pid:token" of the commands using it

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"


# -- the command line ---------------------------------------------------------------------------


def llama_cpp_available(python: str = sys.executable) -> bool:
    """Whether ``python`` can import ``llama_cpp`` (the ``local`` extra)."""
    if python == sys.executable:
        return importlib.util.find_spec("llama_cpp") is not None
    check = "import importlib.util, sys; sys.exit(importlib.util.find_spec('llama_cpp') is None)"
    try:
        return (
            subprocess.run([python, "-c", check], capture_output=True, timeout=60).returncode == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


def server_command(
    settings: Settings, model: Path, port: int, *, python: str = sys.executable
) -> list[str]:
    """The argv of ``python -m llama_cpp.server`` for ``model`` on ``port``.

    Raises :class:`ModelError` when llama-cpp-python is not installed for ``python``.
    """
    if not llama_cpp_available(python):
        raise ModelError(
            "The embedded model server is not installed",
            "run pip install 'assay[local]' (or set ASSAY_LLM_BASE_URL to your endpoint)",
        )
    return [python, "-m", "llama_cpp.server", *server_flags(settings, model, port)]


def server_flags(settings: Settings, model: Path, port: int) -> list[str]:
    """The llama_cpp.server flags (without the interpreter and module) for ``model``."""
    threads = str(settings.model_threads or os.cpu_count() or 1)
    # fmt: off
    return [
        "--model", str(model),
        "--model_alias", settings.llm_model,
        "--chat_format", "chatml",
        "--n_ctx", str(settings.model_ctx),
        "--n_threads", threads,
        "--n_threads_batch", threads,
        # Several commands share the server: one's request must not cancel another's stream.
        "--interrupt_requests", "False",
        "--host", HOST,
        "--port", str(port),
    ]
    # fmt: on


# -- public API ---------------------------------------------------------------------------------


@contextlib.contextmanager
def llm_endpoint(settings: Settings, *, command: CommandFn = server_command) -> Iterator[str]:
    """Yield the base URL of an OpenAI-compatible endpoint for one command.

    ``settings.llm_base_url`` if set (nothing started); else a running managed server; else a
    server started now and stopped when the last command using it leaves.
    """
    if settings.llm_base_url:
        yield settings.llm_base_url
        return
    run_dir = settings.run_dir
    token = f"{os.getpid()}:{uuid.uuid4().hex[:12]}"
    with _locked(run_dir):
        info = _running_or_start(settings, command, owner="command")
        info.clients.append(token)
        _write_state(run_dir, info)
    try:
        yield info.base_url
    finally:
        with _locked(run_dir):
            _leave(run_dir, info.pid, token)


def serve(
    settings: Settings,
    port: int | None = None,
    on_ready: Callable[[str], None] = lambda url: None,
    *,
    command: CommandFn = server_command,
) -> None:
    """Run the managed server in the foreground until Ctrl-C or SIGTERM (``assay model serve``).

    Other commands reuse it while it runs.  A server another command started is adopted.
    """
    run_dir = settings.run_dir
    with _locked(run_dir):
        other = _running(run_dir)
        if other is not None and (other.owner == "serve" or port not in (None, other.port)):
            by = "'assay model serve'" if other.owner == "serve" else "another assay command"
            raise ModelError(
                f"A model server is already running at {other.base_url} (pid {other.pid}, "
                f"started by {by})",
                "use that one, or stop it with 'assay model stop'",
            )
        info = _running_or_start(settings, command, "serve", port)
        info.owner = "serve"
        _write_state(run_dir, info)
    with terminate_raises():
        try:
            on_ready(info.base_url)
            proc = _children.get(info.pid)  # None if adopted from another command
            while proc.poll() is None if proc else pid_alive(info.pid):
                time.sleep(0.2)
            current = _read_state(run_dir)
            if current is None or current.pid != info.pid:
                return  # 'assay model stop' stopped it
            raise ModelError(
                f"The embedded model server (pid {info.pid}) exited unexpectedly; "
                f"last lines of {info.log}: {log_tail(Path(info.log))}",
                "check the log, then run 'assay model serve' again",
            )
        except KeyboardInterrupt:
            pass
        finally:
            with _locked(run_dir):
                _stop(info)
                _remove_state(run_dir, info.pid)


def running_server(settings: Settings) -> ServerInfo | None:
    """The managed server recorded in the state file, if its process is alive (no HTTP probe:
    a server busy with a long completion answers nothing until it is done)."""
    info = _read_state(settings.run_dir)
    return info if info is not None and _is_ours(info) else None


def stop_server(settings: Settings, *, grace: float | None = None) -> bool:
    """Stop the managed server (whoever started it); True if one was running.

    The state file goes first, so that 'assay model serve' sees a stop, not a crash.
    """
    info = _read_state(settings.run_dir)
    if info is None:
        return False
    _remove_state(settings.run_dir, info.pid)
    if not _is_ours(info):
        return False
    _stop(info, grace)
    return True


# -- starting and reusing -----------------------------------------------------------------------


def _running(run_dir: Path) -> ServerInfo | None:
    """The recorded server if it is alive and answers (or is busy answering someone else);
    a dead, unready or hung one is stopped and forgotten."""
    info = _read_state(run_dir)
    if info is not None and info.ready and _is_ours(info) and _answers(info.base_url):
        return info
    if info is not None:
        if _is_ours(info):
            _stop(info)
        _remove_state(run_dir, info.pid)
    return None


def _running_or_start(
    settings: Settings, command: CommandFn, owner: Owner, port: int | None = None
) -> ServerInfo:
    model = resolve_model_path(settings).resolve()
    info = _running(settings.run_dir)
    if info is None:
        return _start(settings, command, owner, port, model)
    if Path(info.model) != model:
        raise ModelError(
            f"The running model server (pid {info.pid}, {info.base_url}) serves {info.model}, "
            f"not {model}",
            "stop it with 'assay model stop', or use the same model",
        )
    return info


def _start(
    settings: Settings, command: CommandFn, owner: Owner, port: int | None, model: Path
) -> ServerInfo:
    """Start a server, wait until it answers, record it. Retries if a free port got taken."""
    run_dir, log = settings.run_dir, settings.run_dir / LOG_FILE
    retries = 0 if port else 2
    while True:
        chosen = _bindable(port)
        argv = command(settings, model, chosen)
        with log.open("wb") as out:  # own process group: the terminal's ^C is ours to handle
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )  # fmt: skip
        _children[proc.pid] = proc
        info = ServerInfo(proc.pid, chosen, str(model), owner, time.time(), argv, str(log))
        _write_state(run_dir, info)
        try:
            _wait_ready(proc, info, settings.model_start_timeout)
        except BaseException as exc:
            _stop(info)
            _remove_state(run_dir, info.pid)
            taken = isinstance(exc, ModelError) and "address already in use" in str(exc).lower()
            if taken and retries > 0:  # the free port we picked was taken meanwhile
                retries -= 1
                continue
            raise
        info.ready = True
        _write_state(run_dir, info)
        if owner == "command":
            _watch(run_dir, proc.pid)
        return info


def _watch(run_dir: Path, server_pid: int) -> None:
    """Start the watchdog that stops the server if every command using it is killed."""
    poll = os.environ.get("ASSAY_MODEL_WATCH_POLL", "")  # tests shorten it
    argv = [sys.executable, "-m", "agents.model.watch", str(run_dir), str(server_pid)]
    subprocess.Popen(
        [*argv, *(["--poll", poll] if poll else [])],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip


def _wait_ready(proc: subprocess.Popen[bytes], info: ServerInfo, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.05
    client = LLMClient(info.base_url, "probe", timeout=PROBE_TIMEOUT, max_retries=0)
    try:
        while True:
            code = proc.poll()
            if code is not None:
                raise ModelError(
                    f"The embedded model server exited during start-up (exit code {code}); "
                    f"last lines of {info.log}: {log_tail(Path(info.log))}",
                    "fix what the log says (a corrupt model: 'assay model install --force')",
                )
            with contextlib.suppress(LLMError):
                client.list_models()
                return
            if time.monotonic() >= deadline:
                raise ModelError(
                    f"The embedded model server did not answer within {timeout:g} s; "
                    f"last lines of {info.log}: {log_tail(Path(info.log))}",
                    "raise ASSAY_MODEL_START_TIMEOUT, or check the log",
                )
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 0.5)
    finally:
        client.close()


def _answers(base_url: str) -> bool:
    """GET /models answers, or times out because the server is busy generating."""
    client = LLMClient(base_url, "probe", timeout=PROBE_TIMEOUT, max_retries=0)
    try:
        client.list_models()
    except LLMTimeout:
        pass
    except LLMError:
        return False
    finally:
        client.close()
    return True


def _leave(run_dir: Path, pid: int, token: str) -> None:
    """Unregister a command; the last one out stops a command-owned server."""
    info = _read_state(run_dir)
    if info is None or info.pid != pid:  # stopped or replaced meanwhile: reap it if ours
        if (proc := _children.get(pid)) is not None and proc.poll() is not None:
            del _children[pid]
        return
    info.clients = [c for c in info.clients if c != token and pid_alive(int(c.split(":")[0]))]
    if not _is_ours(info):
        _remove_state(run_dir, pid)
    elif info.owner == "command" and not info.clients:
        _stop(info)
        _remove_state(run_dir, pid)
    else:
        _write_state(run_dir, info)


# -- processes, state file and lock (the helpers live in agents.model.process) -------------------


def _stop(info: ServerInfo, grace: float | None = None) -> None:
    """SIGTERM the server's process group, SIGKILL it after ``grace`` seconds; reap our child."""
    grace = STOP_GRACE if grace is None else grace
    stop_group(info.pid, _children.pop(info.pid, None), grace)


def _is_ours(info: ServerInfo) -> bool:
    """The recorded pid is still our server (not a recycled pid): alive, leads its own process
    group, and (where /proc exists) runs the recorded command line."""
    return runs_argv(info.pid, info.argv)


def _bindable(port: int | None) -> int:
    """``port`` if it is free on HOST (else ModelError), or a free one."""
    with socket.socket() as s:
        try:
            s.bind((HOST, port or 0))
        except OSError as exc:
            raise ModelError(f"Port {port} on {HOST} is already in use", "pick another") from exc
        return int(s.getsockname()[1])


def _locked(run_dir: Path) -> contextlib.AbstractContextManager[None]:
    return file_lock(run_dir / LOCK_FILE)


def _read_state(run_dir: Path) -> ServerInfo | None:
    return read_state(run_dir / STATE_FILE, ServerInfo)


def _write_state(run_dir: Path, info: ServerInfo) -> None:
    write_state(run_dir / STATE_FILE, info)


def _remove_state(run_dir: Path, pid: int) -> None:
    """Remove the state file if it still describes ``pid``."""
    remove_state(run_dir / STATE_FILE, pid, ServerInfo)
