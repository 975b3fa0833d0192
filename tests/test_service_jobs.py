"""Jobs as a user relies on them: kill -9 the server in the middle of a PR job, start it again,
the job completes once (no second review, no second summary); Redis with two `assay worker`
processes sharing the work, each job run exactly once."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import httpx
import pytest

from agents.service.admin import AdminStore
from agents.service.auth import create_token
from tests.fakes.code_hosts import Call, FakeGitHub, FakePR
from tests.fakes.openai_server import FakeOpenAI, RecordedRequest
from tests.kit.cli import ASSAY
from tests.kit.service import (
    F_DOC,
    F_ZERO,
    Proc,
    ScriptedModel,
    findings_yaml,
    github_headers,
    make_project,
    pr_payload,
    redis_server,
    rsa_pair,
    server,
    wait_for,
)

SECRET = "s3cret"


def test_job_survives_kill_9_and_completes_once(tmp_path: Path, fake_llm: FakeOpenAI) -> None:
    shas = make_project(tmp_path / "shop")
    private, public = rsa_pair()
    (tmp_path / "app.pem").write_text(private)
    model = ScriptedModel()
    model.findings = [F_ZERO, F_DOC]
    fake_llm.on(model)
    held = threading.Event()
    release = threading.Event()

    def gate(call: Call) -> None:
        # Freeze the first completion of the check run: the review and the summary are posted,
        # the job is not finished yet.
        completing = call.method == "PATCH" and (call.body or {}).get("status") == "completed"
        if completing and not held.is_set():
            held.set()
            release.wait(60)

    with FakeGitHub(app_id=7, public_key=public) as gh:
        gh.add_pr(FakePR("acme/shop", 7, shas["head1"], shas["base"], shas["diff1"]))
        gh.prs[("acme/shop", 7)].files[(shas["head1"], ".assay.toml")] = (
            "[review]\ntests = false\nbehaviour = false\ncheck_findings = false\n"
            "verify_suggestions = false\n"
        )
        gh.gate = gate
        env = {
            **os.environ,
            "ASSAY_LLM_BASE_URL": fake_llm.url, "ASSAY_LLM_MODEL": "fake-model",
            "ASSAY_CACHE": "false", "ASSAY_JOB_LEASE_SECONDS": "2",
            "ASSAY_GITHUB_APP_ID": "7", "ASSAY_GITHUB_PRIVATE_KEY_PATH": str(tmp_path / "app.pem"),
            "ASSAY_GITHUB_WEBHOOK_SECRET": SECRET, "ASSAY_GITHUB_API_URL": gh.url,
        }  # fmt: skip
        payload = pr_payload("opened", shas["head1"])
        with server(env, tmp_path / "serve1.log") as (url, proc):
            sent = httpx.post(f"{url}/webhooks/github", content=payload,
                              headers=github_headers(SECRET, payload, "pull_request"))  # fmt: skip
            assert sent.status_code == 202, sent.text
            job_id = sent.json()["job"]
            wait_for(held.is_set, 60, "the bot to reach the check run")
            assert len(gh.calls_to("POST", "/repos/acme/shop/pulls/7/reviews")) == 1
            proc.kill9()
        release.set()
        store = AdminStore(Path(env["ASSAY_HOME"]) / "service" / "admin.db")
        reader, _ = create_token(store, "ci", ["read"])
        with server(env, tmp_path / "serve2.log") as (url, _):

            def finished() -> dict | None:
                job = httpx.get(f"{url}/v1/jobs/{job_id}",
                                headers={"Authorization": f"Bearer {reader}"}).json()  # fmt: skip
                return job if job["state"] in ("done", "failed") else None

            job = wait_for(finished, 60, "the job to finish after the restart")
        assert job["state"] == "done", job["error"]
        assert job["attempts"] == 2
        assert job["result"]["inline"] == {"created": 0, "updated": 0, "kept": 2, "moved": 0,
                                           "resolved": 0}  # fmt: skip
        # Everything posted once: the second run found its own comments by their markers.
        assert len(gh.calls_to("POST", "/repos/acme/shop/pulls/7/reviews")) == 1
        assert len(gh.review_comments) == 2
        assert len(gh.calls_to("POST", "/repos/acme/shop/issues/7/comments")) == 1
        assert len(gh.issue_comments) == 1
        assert len(gh.calls_to("POST", "/repos/acme/shop/check-runs")) == 1
        assert gh.check_runs[0]["status"] == "completed"
        assert model.review_calls == 2


@pytest.mark.skipif(
    shutil.which("redis-server") is None,
    reason="redis-server is not installed (apt-get install redis-server)",
)
def test_redis_two_workers_share_the_work(tmp_path: Path, fake_llm: FakeOpenAI) -> None:
    calls: list[str] = []
    lock = threading.Lock()

    def slow_review(req: RecordedRequest) -> str:
        with lock:
            calls.append(req.prompt)
        threading.Event().wait(0.4)  # long enough that one worker cannot take every job
        return findings_yaml([])

    fake_llm.on(slow_review)
    shas = make_project(tmp_path / "shop")
    with redis_server(tmp_path) as redis_url:
        env = {
            **os.environ, "ASSAY_REDIS_URL": redis_url, "ASSAY_LLM_BASE_URL": fake_llm.url,
            "ASSAY_LLM_MODEL": "fake-model", "ASSAY_CACHE": "false",
        }  # fmt: skip
        store = AdminStore(Path(env["ASSAY_HOME"]) / "service" / "admin.db")
        writer, _ = create_token(store, "ci", ["write"])
        headers = {"Authorization": f"Bearer {writer}"}
        workers = [Proc([*ASSAY, "worker"], env, tmp_path / f"w{i}.log") for i in range(2)]
        try:
            for w in workers:
                w.line("assay worker ")
            with server(env, tmp_path / "serve.log") as (url, proc):
                assert proc.line("jobs: ") == "jobs: redis, 0 worker thread(s) here"
                ids = []
                for n in range(6):
                    diff = shas["diff1"].replace("return a / b", f"return a / b  # {n}")
                    sent = httpx.post(f"{url}/v1/reviews", json={"diff": diff, "wait": False},
                                      headers=headers)  # fmt: skip
                    assert sent.status_code == 202, sent.text
                    ids.append(sent.json()["id"])

                def all_done() -> list[dict] | None:
                    jobs = [httpx.get(f"{url}/v1/jobs/{i}", headers=headers).json() for i in ids]
                    return jobs if all(j["state"] == "done" for j in jobs) else None

                jobs = wait_for(all_done, 90, "six jobs on two workers")
        finally:
            for w in workers:
                w.stop()
    assert all(j["attempts"] == 1 for j in jobs)
    pids = {j["worker"].split("/")[1] for j in jobs}
    assert pids == {str(w.proc.pid) for w in workers}, pids
    assert len(calls) == 6  # each job ran exactly once
