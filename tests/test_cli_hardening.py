"""The command line against bad input, as a new user meets it: every case is one ``error:`` line
and exit 2, before any work; odd files in a project are skipped and listed; a model that fails
every call is exit 3; a huge module keeps to the time budget; URL passwords are never shown."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.kit.cli import run_assay
from tests.kit.cover import cover, make_flat

DOWN = "http://127.0.0.1:9/v1"  # never asked: every case fails before the model is needed


def bad_inputs(tmp: Path) -> list[tuple[list[str], dict[str, str], str]]:
    """(arguments, environment, what the error line must name)."""
    project = make_flat(tmp / "proj")
    binary = tmp / "trace.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    p, ok = str(project), ["--llm-base-url", DOWN]
    return [
        (["cover", p, *ok, "--fail-under", "200"], {}, "--fail-under 200"),
        (["cover", p, *ok, "--max-tokens", "-5"], {}, "--max-tokens -5"),
        (["cover", p, *ok, "--max-minutes", "0"], {}, "--max-minutes 0"),
        (["cover", p, *ok, "--test-command", "pytest 'x"], {}, "--test-command"),
        (["cover", p, *ok, "--report", "/proc/x/y.json"], {}, "--report /proc/x/y.json"),
        (["cover", p], {"ASSAY_LLM_BASE_URL": "http://[::1"}, "ASSAY_LLM_BASE_URL"),
        (["cover", p, *ok, "--rounds", "0"], {}, "--rounds"),
        (["cover", p, *ok, "--bogus"], {}, "--bogus"),
        (["trace", "show", str(binary)], {}, "not a trace"),
        (["trace", "show", "/etc/passwd"], {}, "/etc/passwd is not a trace"),
        (["trace", "show", str(tmp)], {}, "is a directory"),
        (["review", p, "--json", "/proc/x/y.json", *ok], {}, "--json"),
        (["serve", "--log-level", "loud"], {}, "--log-level"),
        (["worker"], {"ASSAY_REDIS_URL": "bogus"}, "ASSAY_REDIS_URL"),
    ]


def test_bad_input_is_one_error_line_and_exit_2_before_any_work(tmp_path: Path) -> None:
    cases = bad_inputs(tmp_path)

    def run(case: tuple[list[str], dict[str, str], str]) -> tuple[str, str]:
        args, env, named = case
        done = run_assay(*args, env=env, timeout=60)
        lines = [x for x in done.stderr.splitlines() if x.strip()]
        ok = (
            done.returncode == 2
            and len(lines) == 1
            and lines[0].startswith("error: ")
            and named in lines[0]
            and done.stdout == ""
        )
        return ("" if ok else f"{args} exited {done.returncode}: {done.stderr[-600:]}"), " ".join(
            args
        )

    with ThreadPoolExecutor(4) as pool:
        failures = [why for why, _ in pool.map(run, cases) if why]
    assert failures == []


def test_odd_files_in_a_project_are_skipped_and_listed(tmp_path: Path) -> None:
    project = make_flat(tmp_path / "proj")
    (project / "calc" / "gone.py").symlink_to("/nonexistent/gone.py")
    (project / "calc" / "weird.py").mkdir()
    (project / "calc" / "latin.py").write_bytes(b"X = '\xe9t\xe9'\n")
    with FakeOpenAI(handler=lambda req: "no test today") as llm:
        result, report = cover(project, llm, "--dry-run")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stdout + result.stderr
    skipped = {s["path"]: s["why"] for s in report["skipped"]}
    assert skipped["calc/gone.py"].startswith("a dangling symbolic link")
    assert skipped["calc/weird.py"] == "not a regular file"
    assert skipped["calc/latin.py"].startswith("unreadable")
    assert "skipped calc/gone.py: a dangling symbolic link" in result.stdout


@pytest.mark.parametrize("failure", ["500", "garbage"])
def test_a_model_failing_every_call_is_exit_3(tmp_path: Path, failure: str) -> None:
    project = make_flat(tmp_path / "proj")
    reply = Reply(status=500, error="boom") if failure == "500" else Reply(body=b"\x00{garbage")
    with FakeOpenAI(handler=lambda req: reply) as llm:
        result, report = cover(project, llm, "--dry-run", env={"ASSAY_LLM_MAX_RETRIES": "0"})
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert result.returncode == 3, result.stderr[-2000:]
    assert lines[-1].startswith("error: The model failed on every call")
    assert [x for x in lines if x.startswith("error:")] == [lines[-1]]
    assert report["model_failed"] is True and report["tests"]["accepted"] == 0


def test_a_model_call_cut_by_the_time_budget_is_not_a_model_failure(tmp_path: Path) -> None:
    """The budget ends while the model is still writing: the run stops there and says so; the
    model did not fail (exit 0, not 3), it was not given the time."""
    project = make_flat(tmp_path / "proj")
    with FakeOpenAI(handler=lambda req: Reply(content="no test today", delay=40)) as llm:
        result, report = cover(project, llm, "--dry-run", "--max-minutes", "0.2")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "failed on every call" not in result.stderr
    assert "model_failed" not in report and report["stopped"].startswith("budget")


def test_a_huge_module_keeps_to_the_time_budget(tmp_path: Path) -> None:
    """12,000 functions with a missed branch each: the target scan is linear, the module is
    parsed once per version, and --max-minutes bounds the sandboxed runs too."""
    root = tmp_path / "huge"
    (root / "big").mkdir(parents=True)
    (root / "big" / "__init__.py").write_text("")
    (root / "big" / "mod.py").write_text(
        "\n".join(
            f"def f{i}(x):\n    if x > {i}:\n        return x - {i}\n    return {i}\n"
            for i in range(12_000)
        )
    )
    (root / "tests").mkdir()
    (root / "tests" / "test_mod.py").write_text(
        "from big.mod import f0\n\n\ndef test_f0():\n    assert f0(1) == 1\n"
    )
    budget = 0.5  # minutes
    with FakeOpenAI(handler=lambda req: "no test today") as llm:
        started = time.monotonic()
        result, report = cover(root, llm, "--dry-run", "--max-minutes", str(budget))
        took = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-2000:]
    assert report["stopped"].startswith("budget"), report["stopped"]
    assert took < budget * 60 + 10, f"{took:.0f} s for a budget of {budget * 60:g} s"


def test_url_passwords_are_never_shown(tmp_path: Path) -> None:
    secret = "s3cr3t-pw"
    env = {
        "ASSAY_LLM_BASE_URL": f"http://al:{secret}@127.0.0.1:9/v1",
        "ASSAY_QDRANT_URL": f"http://bob:{secret}@127.0.0.1:9",
        "ASSAY_REDIS_URL": f"redis://:{secret}@127.0.0.1:9/0",
    }
    project = make_flat(tmp_path / "proj")
    runs = [
        run_assay("config", "show", env=env, timeout=60),
        run_assay("doctor", "--repo", str(project), env=env, timeout=120),
        run_assay("cover", str(project), env=env, timeout=120),  # the endpoint is down
        run_assay("index", "status", "--json", env=env, timeout=60),
        run_assay("cover", str(project), "--llm-base-url", f"http://x:{secret}@[::1", timeout=60),
    ]
    for done in runs:
        assert secret not in done.stdout + done.stderr, done.args
    shown, doctor, down, _, bad = runs
    assert "http://al:***@127.0.0.1:9/v1" in shown.stdout.replace("\n", "")
    assert "al:***@" in doctor.stdout and doctor.returncode == 1
    assert down.returncode == 2 and "No LLM endpoint reachable at http://al:***@" in down.stderr
    assert bad.returncode == 2 and "--llm-base-url" in bad.stderr


def test_job_errors_in_the_service_log_mask_url_passwords(tmp_path: Path) -> None:
    from agents.service.admin import AdminStore
    from agents.service.auth import create_token
    from tests.kit.service import server

    secret = "s3cr3t-pw"
    env = {**os.environ, "ASSAY_LLM_BASE_URL": f"http://al:{secret}@127.0.0.1:9/v1",
           "ASSAY_SYNC_WAIT_SECONDS": "20", "ASSAY_JOB_MAX_ATTEMPTS": "1"}  # fmt: skip
    store = AdminStore(Path(env["ASSAY_HOME"]) / "service" / "admin.db")
    writer, _ = create_token(store, "w", ["write"])
    store.close()
    log = tmp_path / "serve.log"
    with server(env, log) as (url, _):
        headers = {"Authorization": f"Bearer {writer}"}
        diff = "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n"
        done = httpx.post(f"{url}/v1/reviews", json={"diff": diff}, headers=headers, timeout=60)
        ready = httpx.get(f"{url}/readyz", timeout=30)
    job = done.json()
    assert job["state"] == "failed" and job["attempts"] >= 1, job
    assert "al:***@" in job["error"] and secret not in done.text
    assert secret not in ready.text
    text = log.read_text()
    assert "failed" in text and "al:***@" in text and secret not in text
