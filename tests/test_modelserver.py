"""The managed model server: start, wait, reuse, share, stop and lock, in real subprocesses.

The server is the stand-in ``tests/fakes/fake_llama_server.py`` (the real server's flags, a fake
OpenAI API); everything else is the real code.  No sleeping: every wait polls with a deadline.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agents.errors import ModelError
from agents.model import server as modelserver
from agents.model.server import (
    llama_cpp_available,
    llm_endpoint,
    running_server,
    serve,
    server_command,
    stop_server,
)
from agents.settings import Settings
from flows.llm import LLMClient
from tests.fakes import fake_llama_server, server_driver
from tests.kit.cli import ctrl_c_works


def wait_for(check: Callable[[], object], what: str, timeout: float = 30.0) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    # A zombie left to a parent that is not us still counts for killpg: look at /proc.
    try:
        stat = Path(f"/proc/{pgid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] == "Z"


def never(*args: object) -> list[str]:
    raise AssertionError("no server should be started")


def strays(marker: str) -> list[int]:
    """Stand-in servers whose command line mentions ``marker`` (this test's tmp_path)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if (
                "fake_llama_server" in cmdline
                and marker in cmdline
                and not group_gone(int(entry.name))
            ):
                found.append(int(entry.name))
    return found


@pytest.fixture
def settings(
    assay_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """Settings with a fake model file; afterwards, no stand-in server may be left running."""
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF fake")
    monkeypatch.setenv("ASSAY_MODEL_PATH", str(model))  # for the driver subprocesses
    yield Settings(home=assay_home, model_path=model)
    left = strays(str(tmp_path))
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"stand-in servers left running: {left}"


@pytest.fixture
def drivers(settings: Settings) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start ``server_driver.py`` processes; kill whatever is left at the end (before the
    ``settings`` fixture checks for stray servers)."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, server_driver.SCRIPT, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=ctrl_c_works,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def ready(path: Path, proc: subprocess.Popen[str]) -> dict[str, object]:
    """The driver's ready file, or its output if it ended without writing one."""
    wait_for(lambda: path.exists() or proc.poll() is not None, f"{path.name}")
    if not path.exists():
        out, _ = proc.communicate(timeout=30)
        raise AssertionError(f"driver exited with {proc.returncode}: {out}")
    return dict(json.loads(path.read_text()))


def test_configured_endpoint_is_used_as_is(settings: Settings) -> None:
    configured = settings.model_copy(update={"llm_base_url": "http://10.0.0.9:8000/v1"})
    with llm_endpoint(configured, command=never) as url:
        assert url == "http://10.0.0.9:8000/v1"
    assert not settings.run_dir.exists()


def test_starts_answers_and_stops(settings: Settings) -> None:
    with llm_endpoint(settings, command=fake_llama_server.command()) as url:
        info = running_server(settings)
        assert info is not None and info.owner == "command" and info.ready
        assert url == info.base_url
        assert (settings.run_dir / "server.json").exists()
        client = LLMClient(url, settings.llm_model, max_retries=0)
        answer = client.complete([{"role": "user", "content": "write add()"}], max_tokens=20)
        assert answer.text == "fake answer to: write add()"
        assert client.list_models() == [settings.llm_model]
        client.close()
    assert group_gone(info.pid)
    assert not (settings.run_dir / "server.json").exists()
    assert running_server(settings) is None
    assert "listening on" in (settings.run_dir / "server.log").read_text()


def test_nested_use_shares_one_server(settings: Settings, tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    command = fake_llama_server.command("--starts-file", str(starts))
    with llm_endpoint(settings, command=command) as outer:
        with llm_endpoint(settings, command=never) as inner:
            assert inner == outer
        info = running_server(settings)
        assert info is not None, "the inner user must not stop the outer one's server"
    assert group_gone(info.pid)
    assert len(starts.read_text().split()) == 1


def test_reuses_serve_and_leaves_it_running(
    settings: Settings, tmp_path: Path, drivers: Callable[..., subprocess.Popen[str]]
) -> None:
    ready_file = tmp_path / "serve.json"
    serving = drivers("serve", "--ready-file", str(ready_file))
    served = ready(ready_file, serving)
    with llm_endpoint(settings, command=never) as url:
        assert url == served["url"]
    info = running_server(settings)
    assert info is not None and info.owner == "serve" and info.pid == served["pid"]
    assert not group_gone(info.pid)

    serving.send_signal(signal.SIGTERM)
    out, _ = serving.communicate(timeout=30)
    assert serving.returncode == 0, out
    assert "serve: stopped" in out
    assert group_gone(info.pid)
    assert not (settings.run_dir / "server.json").exists()


def test_stop_server_stops_serve(
    settings: Settings, tmp_path: Path, drivers: Callable[..., subprocess.Popen[str]]
) -> None:
    serving = drivers("serve", "--ready-file", str(tmp_path / "r.json"))
    pid = int(str(ready(tmp_path / "r.json", serving)["pid"]))
    assert stop_server(settings) is True
    assert group_gone(pid)
    out, _ = serving.communicate(timeout=30)
    assert serving.returncode == 0 and "serve: stopped" in out, out
    assert stop_server(settings) is False


def test_a_second_serve_is_refused(
    settings: Settings, tmp_path: Path, drivers: Callable[..., subprocess.Popen[str]]
) -> None:
    serving = drivers("serve", "--ready-file", str(tmp_path / "r.json"))
    url = ready(tmp_path / "r.json", serving)["url"]
    with pytest.raises(ModelError, match=f"already running at {url}.*'assay model serve'"):
        serve(settings, None, command=never)
    serving.send_signal(signal.SIGINT)  # Ctrl-C
    out, _ = serving.communicate(timeout=30)
    assert serving.returncode == 0 and "serve: stopped" in out, out


def test_serve_adopts_a_command_server(settings: Settings, tmp_path: Path) -> None:
    """'assay model serve' while a command's server runs keeps it, even after the command."""
    with llm_endpoint(settings, command=fake_llama_server.command()) as url:
        info = running_server(settings)
        assert info is not None
        seen: list[str] = []

        def on_ready(served: str) -> None:
            seen.append(served)
            raise KeyboardInterrupt  # what Ctrl-C does while serving

        serve(settings, None, on_ready, command=never)
        assert seen == [url]
    assert group_gone(info.pid)


def test_crash_at_start_reports_the_log_tail(settings: Settings) -> None:
    command = fake_llama_server.command("--crash", "gguf_init: invalid magic characters 'XXXX'")
    with pytest.raises(ModelError) as err, llm_endpoint(settings, command=command):
        pass
    message = str(err.value)
    assert "exited during start-up (exit code 3)" in message
    assert "invalid magic characters" in message
    assert "server.log" in message
    assert not (settings.run_dir / "server.json").exists()


def test_start_timeout_stops_the_server(settings: Settings) -> None:
    slow = settings.model_copy(update={"model_start_timeout": 0.5})
    with pytest.raises(ModelError, match=r"did not answer within 0.5 s.*loading"):
        with llm_endpoint(slow, command=fake_llama_server.command("--delay", "60")):
            pass
    assert not (settings.run_dir / "server.json").exists()


def test_sigkill_after_grace(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(modelserver, "STOP_GRACE", 0.3)
    stubborn = fake_llama_server.command("--ignore-sigterm")
    with llm_endpoint(settings, command=stubborn):
        info = running_server(settings)
        assert info is not None
    assert group_gone(info.pid)


def test_concurrent_commands_start_one_server(
    settings: Settings, tmp_path: Path, drivers: Callable[..., subprocess.Popen[str]]
) -> None:
    starts, go = tmp_path / "starts", tmp_path / "go"
    fake_flags = ["--", "--delay", "0.3", "--starts-file", str(starts)]
    procs = [
        drivers(
            "endpoint",
            "--ready-file",
            str(tmp_path / f"{i}.json"),
            "--hold-until",
            str(go),
            *fake_flags,
        )
        for i in range(2)
    ]
    first, second = (ready(tmp_path / f"{i}.json", proc) for i, proc in enumerate(procs))
    assert first["url"] == second["url"] and first["pid"] == second["pid"]
    assert len(starts.read_text().split()) == 1
    state = json.loads((settings.run_dir / "server.json").read_text())
    assert len(state["clients"]) == 2
    go.touch()
    for proc in procs:
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out
    assert wait_for(lambda: group_gone(int(str(first["pid"]))), "the shared server to stop")
    assert not (settings.run_dir / "server.json").exists()


def test_stale_state_is_replaced(settings: Settings) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    settings.run_dir.mkdir(parents=True)
    (settings.run_dir / "server.json").write_text(
        json.dumps(
            {
                "pid": dead.pid,
                "port": 1,
                "model": "x",
                "owner": "serve",
                "started_at": 0,
                "argv": ["x"],
                "log": "x",
                "ready": True,
            }
        )
    )
    assert running_server(settings) is None
    with llm_endpoint(settings, command=fake_llama_server.command()) as url:
        assert url != "http://127.0.0.1:1/v1"


def test_a_busy_port_for_serve_is_refused(settings: Settings) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ModelError, match=f"Port {port} on 127.0.0.1 is already in use"):
            serve(settings, port, command=never)


def test_missing_model_is_the_resolve_error(settings: Settings, tmp_path: Path) -> None:
    gone = settings.model_copy(update={"model_path": tmp_path / "gone.gguf"})
    with pytest.raises(ModelError, match=r"gone\.gguf"), llm_endpoint(gone, command=never):
        pass


def test_missing_local_extra_says_how_to_install(settings: Settings, tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True
    )
    bare = str(tmp_path / "venv" / "bin" / "python")
    assert llama_cpp_available(bare) is False
    with pytest.raises(ModelError) as err:
        server_command(settings, Path("m.gguf"), 1234, python=bare)
    assert str(err.value) == (
        "The embedded model server is not installed: run pip install 'assay[local]' "
        "(or set ASSAY_LLM_BASE_URL to your endpoint)"
    )


def test_a_port_taken_before_the_server_binds_is_retried(settings: Settings) -> None:
    fake = fake_llama_server.command()
    calls: list[int] = []

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()

        def racy(s: Settings, model: Path, port: int) -> list[str]:
            calls.append(port)
            if len(calls) == 1:  # someone else grabbed our free port before the server bound it
                port = taken.getsockname()[1]
            return fake(s, model, port)

        with llm_endpoint(settings, command=racy) as url:
            assert url == f"http://127.0.0.1:{calls[-1]}/v1"
    assert len(calls) == 2


def test_a_server_whose_commands_were_killed_is_stopped_by_its_watchdog(
    settings: Settings,
    tmp_path: Path,
    drivers: Callable[..., subprocess.Popen[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ASSAY_MODEL_WATCH_POLL", "0.2")
    proc = drivers(
        "endpoint", "--ready-file", str(tmp_path / "r.json"), "--hold-until", str(tmp_path / "g")
    )
    server = int(str(ready(tmp_path / "r.json", proc)["pid"]))
    proc.kill()  # SIGKILL: the command cannot stop what it started
    proc.communicate(timeout=30)
    assert not group_gone(server)
    assert wait_for(lambda: group_gone(server), "the watchdog to stop the orphaned server")
    state = settings.run_dir / "server.json"
    assert wait_for(lambda: not state.exists(), "the watchdog to remove the state file")
