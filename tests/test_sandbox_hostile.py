"""Hostile code in the sandbox, under every isolation this host offers (tests/kit/sandbox.py).

Each probe (tests/fakes/hostile_probe.py) runs at least twice per isolation.  Afterwards: the
user's tree is byte-identical, planted files are intact, no process of the run is alive, no
connection was received and no secret is in the output, wherever the sandbox's guarantees say
so; where a guarantee does not hold on this level, the test asserts that it says so.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from flows.sandbox import Sandbox
from flows.sandbox_cgroup import cgroup_host
from flows.sandbox_guarantees import guarantees
from tests.kit.sandbox import (
    IS_ROOT,
    PLAIN_SECRET,
    SECRET_VALUES,
    TOKEN_SECRET,
    Config,
    World,
    configs,
    facts,
    make_world,
    nonce,
    probe_run,
    processes_with,
    python_for,
    record,
    run_batch,
    snapshot,
)

CONFIGS = configs()
RUNS = 2


@pytest.fixture(params=CONFIGS, ids=str)
def config(request: pytest.FixtureRequest) -> Config:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def world(config: Config) -> Iterator[World]:
    yield from make_world(config)


def holds(report: dict[str, Any], aspect: str) -> bool:
    return bool(report["guarantees"][aspect][0])


def says_not(report: dict[str, Any], aspect: str, *words: str) -> None:
    """The guarantee for ``aspect`` says it does not hold, in these words."""
    held, text = report["guarantees"][aspect]
    assert not held, (aspect, text)
    assert all(word in text for word in words), (aspect, text)


def test_filesystem_network_and_secret_probes(config: Config, world: World) -> None:
    """remount/umount, writes and deletes outside the copy, sockets, DNS, secret files and
    secret environment variables: contained wherever the guarantees say so."""
    privileged = expected(config, world, "privileges")
    cfg = {
        "privileged": privileged,  # never remount the real host's / or unmount its /tmp
        "dns": expected(config, world, "network"),  # never ask a real resolver from a test
        "project_file": str(world.project / "calc" / "ops.py"),
        "home": str(world.home),
        "victim": str(world.victim),
        "unix_socket": str(world.unix_socket),
        "port": world.port,
        "secret_files": [str(world.home / ".netrc"), str(world.project / ".env")],
    }
    runs = [probe_run(python_for(config), "fs", **cfg) for _ in range(RUNS)]
    report = run_batch(config, world, runs, subprocess_driver=True)
    assert isinstance(report, dict) and report["isolation"] == config.level.label
    outputs = [result["output"] for result in report["results"]]
    seen = [facts(output) for output in outputs]
    assert all("secret-env" in s for s in seen), outputs  # every probe ran to its end

    assert holds(report, "privileges") is privileged
    for s in seen:
        if privileged:
            (remount,) = s["remount"]
            assert not remount["remount"]["ok"] and not remount["umount"]["ok"], remount
            record(config, "remount/umount", True)
        else:
            says_not(report, "privileges", "root")
            record(config, "remount/umount", False, "not run: runs with root's privileges")

    wrote = [s["write-project"][0]["ok"] for s in seen]
    home_written = [s["write-home"][0]["ok"] for s in seen]
    deleted = [s["delete-outside"][0]["ok"] for s in seen]
    if holds(report, "filesystem.write"):
        assert not any(wrote + home_written + deleted), seen
        assert snapshot(world.project) == world.before["project"]
        assert not (world.home / "pwned.txt").exists() and world.victim.exists()
    else:
        says_not(report, "filesystem.write", "write and delete")
    for name, done in (("write-project", wrote), ("write-home", home_written)):
        for flag in done:
            record(config, name, not flag)
    for _ in deleted:  # the first run's delete leaves the second nothing to delete
        record(config, "delete-outside", world.victim.exists() and not any(deleted))
    assert all(p.read_bytes() == body for p, body in world.planted.items())

    unix = [s["unix-socket"][0]["ok"] for s in seen]
    if holds(report, "sockets"):
        assert not any(unix) and world.unix.count == 0
    else:
        says_not(report, "sockets", "unix sockets")
        assert world.unix.count > 0 or not any(unix)  # the probe saw what the host saw
    tcp = [s["tcp"][0]["ok"] for s in seen]
    if holds(report, "network"):
        assert not any(tcp) and world.tcp.count == 0
        assert not any(s["dns"][0]["ok"] for s in seen)
        for _ in seen:
            record(config, "dns", True)
    else:
        says_not(report, "network", "NOT confined")
        for _ in seen:
            record(config, "dns", False, "not run: the network is not confined")
    for _ in seen:
        record(config, "unix-socket", world.unix.count == 0)
        record(config, "tcp", world.tcp.count == 0)

    read = [[f["ok"] for f in s["secret-file"]] for s in seen]
    if holds(report, "secrets.files"):
        assert not any(any(r) for r in read)
    else:
        says_not(report, "secrets.files", "readable")
    for output, r in zip(outputs, read, strict=True):
        assert TOKEN_SECRET not in output  # a credential format is redacted even where read
        for value in SECRET_VALUES:
            if value != PLAIN_SECRET:
                assert value not in output, value
        record(config, "secret-file", PLAIN_SECRET not in output)
        record(config, "secret-env", True)
        assert (PLAIN_SECRET in output) == r[0]
    for s in seen:
        environ = s["secret-env"][0]["environ"]
        assert not {"TOKEN", "SENTRY_DSN", "DATABASE_URL", "SLACK_WEBHOOK_URL"} & set(environ)


def test_process_escapes_limits_exits_and_a_destroyed_copy(config: Config, world: World) -> None:
    """setsid/double-fork/nohup with an empty environment, a bounded fork loop, sleeping
    forever, 10 GB in one process and too much in three forks, os._exit, killing its own
    process group and deleting its copy: each twice; the sandbox goes on after each."""
    token, python = nonce(), python_for(config)
    plan = [
        ("escape", probe_run(python, "escape", nonce=token, forks=100)),
        ("sleep", probe_run(python, "sleep", timeout=0.5, nonce=token)),
        ("mem-one", probe_run(python, "mem-one")),
        ("mem-forks", probe_run(python, "mem-forks", per_fork=48 << 20)),
        ("exit", probe_run(python, "exit")),
        ("killpg", probe_run(python, "killpg")),
        ("delete-copy", probe_run(python, "delete-copy")),
    ]
    runs = [run for _, run in plan for _ in range(RUNS)]
    runs.append({"argv": [python, "-c", "print('still here')"]})
    start = time.monotonic()
    report = run_batch(config, world, runs, workers=2)  # the two of a kind run side by side
    assert isinstance(report, dict)
    elapsed = time.monotonic() - start
    results = report["results"]
    assert processes_with(token) == []
    assert snapshot(world.project) == world.before["project"]
    by_probe = {name: results[i * RUNS : (i + 1) * RUNS] for i, (name, _) in enumerate(plan)}
    g = report["guarantees"]

    for result in by_probe["escape"]:
        assert not result["broken"] and result["returncode"] == 0, result["output"]
        assert result["left_behind"] and "sleep" in result["left_behind"], result
        assert not result["leaked_pids"]
        (escape,) = facts(result["output"])["escape"]
        if holds(report, "processes.cap"):
            assert escape["forks_refused"] > 0 and result["processes_capped"]
        else:
            says_not(report, "processes.cap", "not capped")
        record(config, "setsid/double-fork/nohup", True)
        record(config, "fork-loop", True, "capped" if result["processes_capped"] else "killed")
    for result in by_probe["sleep"]:
        assert result["timed_out"] and result["returncode"] is None and not result["broken"]
        assert "ready" in result["output"]
        record(config, "sleep-forever", True)
    for result in by_probe["mem-one"]:
        (fact,) = facts(result["output"])["mem-one"]
        assert not fact["ok"] and "MemoryError" in fact["error"]
        record(config, "10GB-one-process", True)
    for result in by_probe["mem-forks"]:
        if holds(report, "memory.run"):
            assert result["memory_exceeded"] and "memory cap" in " ".join(_effects(result))
            record(config, "memory-three-forks", True)
        else:
            says_not(report, "memory.run", "not capped")
            assert not result["memory_exceeded"]
            record(config, "memory-three-forks", False, g["memory.run"][1])
    for result in by_probe["exit"]:
        assert result["returncode"] == 7 and not result["broken"] and not result["left_behind"]
        record(config, "os._exit", True)
    for result in by_probe["killpg"]:
        assert result["returncode"] == -signal.SIGKILL and not result["broken"], result
        record(config, "killpg", True)
    for result in by_probe["delete-copy"]:
        assert "deleted its" in result["broken"] and not result["timed_out"], result
        record(config, "delete-copy-and-cwd", True)
    assert results[-1]["output"] == "still here\n" and not results[-1]["broken"]
    assert elapsed < 60
    assert not list(world.work.iterdir())  # the sandbox removed its staging directory


def _effects(result: dict[str, Any]) -> list[str]:
    from flows.coverage_data import RunResult

    return list(RunResult(**{**result, "argv": tuple(result["argv"])}).side_effects)


def test_a_kill_9_of_assay_kills_the_run_and_the_next_sandbox_sweeps(
    config: Config, world: World
) -> None:
    token, python = nonce(), python_for(config)
    runs = [probe_run(python, "escape", nonce=token, forks=3), probe_run(python, "sleep")]
    runs[1]["argv"].append(token)
    driver = run_batch(config, world, runs, hold=60)
    assert not isinstance(driver, dict) and driver.stdout is not None
    assert driver.stdout.readline().strip() == "opened"
    deadline = time.monotonic() + 20
    while len(processes_with(token)) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(processes_with(token)) >= 4
    # The run's cgroups, named after their live owner (so no sweep touches them yet).  Once
    # the owner is dead any sandbox that starts sweeps them (another test worker's may be
    # first), so they are looked up here, not after the kill.
    left = [d for d in cgroup_host().parents() for d in d.glob(f"assay-*-{driver.pid}-*")]
    assert config.as_user or len(left) >= 2
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    deadline = time.monotonic() + 10
    while processes_with(token) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert expected(config, world, "processes.assay_killed")
    assert processes_with(token) == []
    record(config, "kill-9-of-assay", True)
    stale = [p for p in world.work.iterdir() if p.name.startswith("assay-sandbox-")]
    assert len(stale) == 1
    with Sandbox(world.project, max_isolation=config.level.label, work_dir=world.work):
        assert not stale[0].exists()
        assert not any(d.exists() for d in left)
    assert not list(world.work.iterdir())


def expected(config: Config, world: World, aspect: str) -> bool:
    """What the guarantees of ``config``'s sandbox say about ``aspect`` (as its user)."""
    cgroups = None if config.as_user else cgroup_host()
    found = guarantees(config.level, cgroups=cgroups, root=IS_ROOT and not config.as_user)
    return next(g.holds for g in found if g.aspect == aspect)
