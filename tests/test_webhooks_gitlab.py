"""The GitLab bot end to end against a fake GitLab: token-checked deliveries, discussions
positioned with the MR's base/start/head SHAs, one summary note updated in place, commit
statuses, idempotency keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agents.service.app import create_app
from agents.service.store import Job
from agents.settings import load_settings
from tests.fakes.gitlab_api import FakeGitLab, FakeMR
from tests.fakes.openai_server import FakeOpenAI
from tests.kit.service import F_DOC, F_MOD, F_ZERO, ScriptedModel, make_project, wait_for

SECRET = "gitlab-hook-token"
TOKEN = "glpat-test"


def mr_diffs(unified: str) -> list[dict]:
    """GitLab's /diffs items from a git diff (one file here)."""
    body = unified.split("+++ b/app/calc.py\n", 1)[1]
    return [{"old_path": "app/calc.py", "new_path": "app/calc.py", "diff": body,
             "new_file": False, "renamed_file": False, "deleted_file": False}]  # fmt: skip


class Bot:
    def __init__(self, client: TestClient, gl: FakeGitLab, model: ScriptedModel, shas: dict):
        self.client, self.gl, self.model, self.shas = client, gl, model, shas

    def deliver(self, event: str, payload: dict | bytes, key: str = "", token: str = SECRET):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"X-Gitlab-Event": event, "Content-Type": "application/json"}
        if token:
            headers["X-Gitlab-Token"] = token
        if key:
            headers["Idempotency-Key"] = key
        return self.client.post("/webhooks/gitlab", content=body, headers=headers)

    def job(self, job_id: str) -> Job:
        store = self.client.app.state.queue.store  # type: ignore[attr-defined]
        return wait_for(lambda: (j := store.get(job_id)) and j.finished and j, 60, "the job")


def mr_hook(action: str, head: str, oldrev: str | None = None) -> dict:
    attrs = {"iid": 3, "action": action, "last_commit": {"id": head}}
    if oldrev:
        attrs["oldrev"] = oldrev
    return {"object_kind": "merge_request", "project": {"id": 12, "git_http_url": ""},
            "object_attributes": attrs}  # fmt: skip


@pytest.fixture
def bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_llm: FakeOpenAI) -> Iterator[Bot]:
    shas = make_project(tmp_path / "shop")
    model = ScriptedModel()
    fake_llm.on(model)
    with FakeGitLab(TOKEN) as gl:
        for name, value in {
            "ASSAY_GITLAB_URL": gl.url,
            "ASSAY_GITLAB_TOKEN": TOKEN,
            "ASSAY_GITLAB_WEBHOOK_SECRET": SECRET,
            "ASSAY_LLM_BASE_URL": fake_llm.url,
            "ASSAY_LLM_MODEL": "fake-model",
            "ASSAY_CACHE": "false",
        }.items():
            monkeypatch.setenv(name, value)
        mr = gl.add_mr(FakeMR(12, 3, shas["head1"], shas["base"], shas["base"],
                              mr_diffs(shas["diff1"])))  # fmt: skip
        for sha in (shas["head1"], shas["head2"]):
            mr.files[(sha, ".assay.toml")] = (
                "[review]\ntests = false\nfail_on = 'high'\nbehaviour = false\n"
                "check_findings = false\nverify_suggestions = false\n"
            )
        gl.per_page_cap = 1  # every list is paginated: the bot must follow X-Next-Page
        with TestClient(create_app(load_settings().settings)) as client:
            yield Bot(client, gl, model, shas)


def test_mr_opened_then_updated(bot: Bot) -> None:
    gl, shas = bot.gl, bot.shas
    bot.model.findings = [F_ZERO, F_DOC]
    answer = bot.deliver("Merge Request Hook", mr_hook("open", shas["head1"]), key="k1")
    assert answer.status_code == 202
    job = bot.job(answer.json()["job"])
    assert job.state == "done", job.error

    posted = gl.calls_to("POST", "/api/v4/projects/12/merge_requests/3/discussions")
    assert len(posted) == 2
    for call in posted:
        pos = call.body["position"]
        assert (pos["base_sha"], pos["start_sha"], pos["head_sha"]) == (
            shas["base"], shas["base"], shas["head1"],
        )  # fmt: skip
        assert pos["position_type"] == "text" and pos["new_path"] == "app/calc.py"
    assert sorted(c.body["position"]["new_line"] for c in posted) == [5, 6]
    zero = next(c for c in posted if c.body["position"]["new_line"] == 6)
    assert "```suggestion:-0+0\n    return a / b if b else 0.0\n```" in zero.body["body"]
    notes = gl.calls_to("POST", "/api/v4/projects/12/merge_requests/3/notes")
    assert len(notes) == 1 and "<!-- assay:summary -->" in notes[0].body["body"]
    states = [s["state"] for s in gl.statuses]
    assert states == ["running", "failed"]  # fail_on = 'high' and a high finding
    assert all(s["name"] == "assay" and s["sha"] == shas["head1"] for s in gl.statuses)

    # New commits: the note is edited, not posted again; the stale discussion is resolved.
    mr = gl.mrs[(12, 3)]
    mr.head, mr.diffs = shas["head2"], mr_diffs(shas["diff2"])
    bot.model.findings = [F_ZERO, F_MOD]
    hook = mr_hook("update", shas["head2"], oldrev=shas["head1"])
    answer = bot.deliver("Merge Request Hook", hook, key="k2")
    assert bot.job(answer.json()["job"]).state == "done"
    assert len(gl.calls_to("POST", "/api/v4/projects/12/merge_requests/3/notes")) == 1
    assert len(gl.notes) == 1 and shas["head2"][:7] in gl.notes[0]["body"]
    assert len(gl.calls_to("POST", "/api/v4/projects/12/merge_requests/3/discussions")) == 3
    first_lines = sorted(
        (d["notes"][0]["position"]["new_line"], d["notes"][0]["body"].split("\n")[0])
        for d in gl.discussions
    )
    assert first_lines == [
        (5, f"✅ No longer reported at `{shas['head2'][:7]}`."),
        (6, "**high · bug** divide raises ZeroDivisionError when b is 0"),
        (10, "**medium · bug** mod raises ZeroDivisionError when b is 0"),
    ]


def test_token_replay_and_ignored_events(bot: Bot) -> None:
    hook = mr_hook("open", bot.shas["head1"])
    assert bot.deliver("Merge Request Hook", hook, token="wrong").status_code == 401
    assert bot.deliver("Merge Request Hook", hook, token="").status_code == 401
    bad = bot.deliver("Merge Request Hook", b"{broken", token=SECRET)
    assert bad.status_code == 400
    missing = bot.deliver("Merge Request Hook", {"object_attributes": {"action": "open"}})
    assert missing.status_code == 400 and "project.id" in missing.json()["detail"]
    for event, payload in [
        ("Push Hook", {"object_kind": "push"}),
        ("Merge Request Hook", mr_hook("update", bot.shas["head1"])),  # no new commits
        ("Merge Request Hook", mr_hook("close", bot.shas["head1"])),
    ]:
        answer = bot.deliver(event, payload)
        assert answer.status_code == 200 and answer.json()["status"] == "ignored"
    bot.model.findings = []
    first = bot.deliver("Merge Request Hook", hook, key="same")
    again = bot.deliver("Merge Request Hook", hook, key="same")
    assert first.status_code == 202 and again.json()["status"] == "duplicate"
    bot.job(first.json()["job"])
    assert len(bot.client.app.state.queue.store.list()) == 1  # type: ignore[attr-defined]
    assert not bot.gl.calls_to("POST", "/api/v4/projects/12/merge_requests/3/discussions")


def test_note_command(bot: Bot) -> None:
    bot.model.findings = [F_ZERO]
    note = {
        "object_kind": "note",
        "project": {"id": 12},
        "user": {"username": "lead"},
        "object_attributes": {"id": 77, "note": "/assay review", "noteable_type": "MergeRequest"},
        "merge_request": {"iid": 3, "last_commit": {"id": bot.shas["head1"]}},
    }
    answer = bot.deliver("Note Hook", note)
    assert answer.status_code == 202
    assert bot.job(answer.json()["job"]).state == "done"
    assert len(bot.gl.discussions) == 1
