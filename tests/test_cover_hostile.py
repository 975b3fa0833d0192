"""Hostile and destructive code through the real ``assay cover`` CLI (scripted fake LLM).

- The hostile suite: a candidate test module holding every probe (tests/kit/sandbox.py), answered
  twice for one function (the second time without the test that deletes its copy), under every
  isolation this host offers.  Both are rejected (``sandbox-broken``, ``side-effects``) and the
  run goes on to its end; the host is unharmed wherever the guarantees say so (otherwise
  ``assay doctor`` says it is not), no process of the run is alive, and no secret is in the
  output, the report, the trace, the model's requests or any file written.
- A package whose functions delete their working directory, exit the interpreter and kill their
  process group: exploration and the model's tests cover the other functions.
- Nothing is left in the temp directory after runs and after Ctrl-C; after a ``kill -9`` the
  next run sweeps what was left, and no process of the killed run survives.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from flows.sandbox import Isolation
from flows.sandbox_cgroup import cgroup_host
from flows.sandbox_guarantees import guarantees
from tests.fakes.openai_server import FakeOpenAI, RecordedRequest
from tests.kit.cli import ctrl_c_works
from tests.kit.sandbox import (
    IS_ROOT,
    NOBODY,
    REPO_ROOT,
    SECRET_VALUES,
    Config,
    World,
    as_nobody,
    configs,
    hostile_tests,
    make_world,
    nonce,
    processes_with,
    record,
    snapshot,
)

TARGET = re.compile(r"for `([\w.]+)`")
MEMORY_MB = 128
OPS = """\
def probe_target(x):
    if x > 100:
        return -1
    return 2 * x
"""
DESTRUCTIVE = """\
import os
import shutil
import signal


def wipe_here():
    shutil.rmtree(os.getcwd())


def leave(code=0):
    os._exit(code)


def stop_group():
    os.killpg(os.getpgid(0), signal.SIGKILL)


def slug(text):
    text = text.strip().lower()
    if not text:
        return "empty"
    return "-".join(text.split())


def clamp(x, lo, hi):
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x
"""
SLOW = """\
import subprocess
import time

from calc.ops import probe_target


def test_slow():
    subprocess.Popen(["sleep", "1000.{nonce}"])
    time.sleep(120)
    assert probe_target(1) == 2
"""


def block(code: str) -> str:
    return f"```python\n{code}```\n"


def cli_python(config: Config, world: World) -> str:
    """An interpreter for the CLI and the project: this one, or for uid 65534 a venv it can
    read whose site-packages point at this checkout and its packages."""
    if not config.as_user:
        return sys.executable
    venv = world.root / "venv"
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    subprocess.run([f"/usr/bin/{version}", "-m", "venv", "--without-pip", str(venv)], check=True)
    import sysconfig

    (venv / "lib" / version / "site-packages" / "assay-checkout.pth").write_text(
        f"{REPO_ROOT}\n{sysconfig.get_paths()['purelib']}\n"
    )
    for dirpath, dirnames, filenames in os.walk(venv):
        for name in [".", *dirnames, *filenames]:
            os.chown(os.path.join(dirpath, name), NOBODY, NOBODY, follow_symlinks=False)
    return str(venv / "bin" / "python")


def run_cover(
    config: Config,
    world: World,
    server: FakeOpenAI,
    *args: str,
    tmpdir: Path | None = None,
    wait: bool = True,
    memory_mb: int = 4096,
) -> subprocess.CompletedProcess[str] | subprocess.Popen[str]:
    python = cli_python(config, world) if not hasattr(world, "python") else world.python
    world.python = python  # type: ignore[attr-defined]
    home = world.root / "assay-home"
    home.mkdir(exist_ok=True)
    tmp = tmpdir or world.root / "tmp"
    tmp.mkdir(exist_ok=True)
    for path in (home, tmp):
        os.chown(path, world.owner, world.owner)
    env = {
        **world.env(),
        "ASSAY_HOME": str(home),
        "ASSAY_SANDBOX_ISOLATION": config.level.label,
        "ASSAY_SANDBOX_MEMORY_MB": str(memory_mb),
        "TMPDIR": str(tmp),
        "COLUMNS": "200",
        "PYTHONPATH": str(REPO_ROOT),
    }
    argv = [
        *(as_nobody() if config.as_user else []),
        python, "-m", "agents.cli", "cover", str(world.project),
        "--python", python, "--llm-base-url", server.url, "--llm-model", "fake-model",
        "--tests-per-target", "1", "--rounds", "1", "--no-mutation", "--repeat", "1",
        # The mutant hunt's calls would cover the fixture before the model's hostile tests run.
        "--mutants", "off",
        "--candidate-timeout", "30", "--no-cache", "--report", str(world.root / "report.json"),
        *args,
    ]  # fmt: skip
    if not wait:
        return subprocess.Popen(
            argv, env=env, cwd=world.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, preexec_fn=ctrl_c_works,
        )  # fmt: skip
    return subprocess.run(
        argv, env=env, cwd=world.root, capture_output=True, text=True, timeout=600
    )


def scripted(answers: dict[str, list[str]]):
    def answer(req: RecordedRequest) -> str:
        found = TARGET.search(req.messages[1]["content"])
        queue = answers.get(found.group(1) if found else "", [])
        return block(queue.pop(0)) if queue else "I cannot help with that."

    return answer


def guarantees_of(config: Config) -> dict[str, tuple[bool, str]]:
    """What ``assay doctor`` prints for the config's level, as the CLI's user (the same
    function; test_doctor_states_what_does_not_hold runs the real command once)."""
    cgroups = None if config.as_user else cgroup_host()
    found = guarantees(
        config.level,
        cgroups=cgroups if cgroups is not None and cgroups.usable else None,
        memory_limit=MEMORY_MB << 20,
        max_processes=512,
        root=IS_ROOT and not config.as_user,
    )
    return {g.aspect: (g.holds, g.text) for g in found}


@dataclass
class HostileRun:
    config: Config
    world: World
    server: FakeOpenAI
    token: str
    result: subprocess.CompletedProcess[str] | None = None


def _hostile(run: HostileRun) -> None:
    """One level's run of assay cover, the model answering the hostile candidates."""
    world, config = run.world, run.config
    (world.project / "calc" / "ops.py").write_text(OPS)
    os.chown(world.project / "calc" / "ops.py", world.owner, world.owner)
    world.before["project"] = snapshot(world.project)
    root_process = config.level is Isolation.PROCESS and IS_ROOT and not config.as_user
    cfg = {
        "privileged": not root_process,  # never remount the real host's / or unmount its /tmp
        "dns": config.level > Isolation.PROCESS,  # never ask a real resolver from a test
        "project_file": str(world.project / "calc" / "ops.py"),
        "home": str(world.home),
        "victim": str(world.victim),
        "unix_socket": str(world.unix_socket),
        "port": world.port,
        "netrc": str(world.home / ".netrc"),
        "nonce": run.token,
        "per_fork": 48 << 20,
    }
    everything = hostile_tests(cfg, "fs", "secrets", "escapes", "memory")
    answers = [hostile_tests(cfg, "fs", "secrets", "destroy"), everything, everything]
    run.server.on(scripted({"probe_target": answers}))
    args = ("--attempts", "3", "--no-explore")
    done = run_cover(config, world, run.server, *args, memory_mb=MEMORY_MB)
    assert isinstance(done, subprocess.CompletedProcess)
    run.result = done


def test_the_hostile_suite_is_rejected_contained_and_the_run_goes_on() -> None:
    """Every isolation at once (each is its own assay process, host and model): the hostile
    candidates are rejected, the host is unharmed where the guarantees say so, nothing of the
    runs survives and no secret shows anywhere."""
    with contextlib.ExitStack() as stack:
        runs = []
        for config in configs():
            world = next(stack.enter_context(contextlib.closing(make_world(config))))
            server = stack.enter_context(FakeOpenAI())
            runs.append(HostileRun(config, world, server, nonce()))
        with ThreadPoolExecutor(len(runs)) as pool:
            list(pool.map(_hostile, runs))
        for run in runs:
            _check_hostile(run)


def _check_hostile(run: HostileRun) -> None:
    config, world, server, token = run.config, run.world, run.server, run.token
    assert run.result is not None
    output = run.result.stdout + run.result.stderr
    assert run.result.returncode == 0, (config.id, output[-4000:])
    report = json.loads((world.root / "report.json").read_text())
    rejected = {t["target"].split("::")[1]: t["rejected"] for t in report["targets"]}
    # Each judged, each rejected, and the run went on to its end.
    assert rejected["probe_target"] == ["sandbox-broken", "side-effects", "side-effects"], output
    assert report["stopped"] == "done"
    assert processes_with(token) == [], config.id
    record(config, "cli: the run went on", True)
    doctor = guarantees_of(config)
    asked = [r.messages[-1]["content"] for r in server.chat_requests]
    assert "deleted its copy" in asked[1], asked  # why each was rejected, said back
    assert "left" in asked[2] and "sleep" in asked[2], asked
    record(config, "cli: delete the copy and cwd", True)
    record(config, "cli: setsid/double-fork/nohup, fork loop", True)
    if doctor["filesystem.write"][0]:
        assert snapshot(world.project) == world.before["project"], config.id
        assert not (world.home / "pwned.txt").exists() and world.victim.exists()
    else:
        assert "write and delete" in doctor["filesystem.write"][1]
    record(config, "cli: writes and deletes outside", doctor["filesystem.write"][0])
    assert all(p.read_bytes() == body for p, body in world.planted.items())
    if doctor["sockets"][0]:
        assert world.unix.count == 0, config.id
    record(config, "cli: unix socket", world.unix.count == 0)
    if doctor["network"][0]:
        assert world.tcp.count == 0, config.id
    else:
        assert "NOT confined" in doctor["network"][1]
    record(config, "cli: tcp", world.tcp.count == 0)
    if doctor["memory.run"][0]:
        assert "memory cap" in asked[2], (config.id, asked[2])
    else:
        assert "not capped" in doctor["memory.run"][1]
    record(config, "cli: memory of three processes", doctor["memory.run"][0])

    seen = [output, (world.root / "report.json").read_text()]
    seen += [r.body.decode(errors="replace") for r in server.chat_requests]
    for dirpath, _, filenames in os.walk(world.root / "assay-home"):
        for name in filenames:
            seen.append(Path(dirpath, name).read_text(errors="replace"))
    seen += [p.read_text(errors="replace") for p in world.project.rglob("*.py")]
    for text in seen:
        for value in SECRET_VALUES:
            assert value not in text, (config.id, value)
    record(config, "cli: secrets (files, environment)", True)
    assert not list((world.root / "tmp").iterdir()), config.id


def _default() -> Config:
    return configs()[0]


def _ops(world: World, text: str) -> None:
    (world.project / "calc" / "ops.py").write_text(text)
    world.before["project"] = snapshot(world.project)


def test_destructive_functions_do_not_stop_the_run(fake_llm: FakeOpenAI) -> None:
    """Exploration skips the calls that would end it; the model's tests of those functions are
    rejected; the other functions are covered and the run ends normally."""
    config = _default()
    for world in make_world(config):
        _ops(world, DESTRUCTIVE)
        head = "from calc.ops import {0}\n\n\ndef test_{0}():\n    {1}\n"
        fake_llm.on(
            scripted(
                {
                    "wipe_here": [head.format("wipe_here", "wipe_here()")],
                    "leave": [head.format("leave", "leave(0)")],
                    "stop_group": [head.format("stop_group", "stop_group()")],
                }
            )
        )
        result = run_cover(config, world, fake_llm, "--attempts", "1", "--explore-seconds", "3")
        assert isinstance(result, subprocess.CompletedProcess)
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-4000:]
        report = json.loads((world.root / "report.json").read_text())
        by_name = {t["target"].split("::")[1]: t for t in report["targets"]}
        assert by_name["wipe_here"]["rejected"] == ["sandbox-broken"], output
        assert by_name["leave"]["rejected"] == ["side-effects"], output
        assert by_name["stop_group"]["rejected"], output
        gained = set(by_name["<explored>"]["gained_lines"])
        assert {19, 20, 21, 22, 26, 27, 28, 29, 30} <= gained, output  # slug and clamp
        assert report["written"] == ["tests/test_ops_assay.py"]
        written = (world.project / "tests" / "test_ops_assay.py").read_text()
        assert "slug(" in written and "wipe_here" not in written and "leave" not in written
        now = snapshot(world.project)
        assert {k: v for k, v in now.items() if not k.startswith("tests")} == world.before[
            "project"
        ]
        assert not list((world.root / "tmp").iterdir())


def _wait_for(token: str, count: int = 1, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while len(processes_with(token)) < count:
        assert time.monotonic() < deadline, "the candidate never started"
        time.sleep(0.05)


def test_ctrl_c_and_kill_9_leave_nothing_behind(fake_llm: FakeOpenAI) -> None:
    """Two runs interrupted with Ctrl-C leave nothing in the temp directory and no process;
    a kill -9 leaves its staging directory, which the next run sweeps."""
    config = _default()
    for world in make_world(config):
        _ops(world, OPS)
        tmp = world.root / "tmp"
        for _ in range(2):
            token = nonce()
            fake_llm.on(scripted({"probe_target": [SLOW.format(nonce=token)]}))
            proc = run_cover(config, world, fake_llm, "--attempts", "1", "--no-explore", wait=False)
            assert isinstance(proc, subprocess.Popen)
            _wait_for(token)
            proc.send_signal(signal.SIGINT)
            assert proc.wait(60) == 130, proc.communicate()[0]
            assert processes_with(token) == []
            assert not list(tmp.iterdir())

        token = nonce()
        fake_llm.on(scripted({"probe_target": [SLOW.format(nonce=token)]}))
        proc = run_cover(config, world, fake_llm, "--attempts", "1", "--no-explore", wait=False)
        assert isinstance(proc, subprocess.Popen)
        _wait_for(token)
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 10
        while processes_with(token) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert processes_with(token) == []
        assert [p.name[:14] for p in tmp.iterdir()] == ["assay-sandbox-"]

        fake_llm.on(scripted({}))
        result = run_cover(config, world, fake_llm, "--attempts", "1", "--no-explore")
        assert isinstance(result, subprocess.CompletedProcess) and result.returncode == 0
        assert not list(tmp.iterdir())


def test_doctor_states_what_does_not_hold(tmp_path: Path) -> None:
    env = {**os.environ, "ASSAY_SANDBOX_ISOLATION": "process", "COLUMNS": "400"}
    done = subprocess.run(
        [sys.executable, "-m", "agents.cli", "doctor"], env=env, capture_output=True, text=True
    )
    lines = {
        hit.group(1): (hit.group(2), hit.group(3))
        for hit in re.finditer(r"│\s+([\w.]+)\s+│\s+\w+\s+│ (holds|does NOT hold): (.*?)\s+│",
                               done.stdout)
    }  # fmt: skip
    assert lines["filesystem.write"][0] == "does NOT hold", done.stdout
    assert "write and delete" in lines["filesystem.write"][1]
    assert lines["network"] == ("does NOT hold", "the network is NOT confined")
    assert lines["secrets.env"][0] == "holds"
    assert "process only" in done.stdout
