"""The GitHub bot end to end: signed deliveries into the app, the job in its worker thread, the
exact calls it makes to a fake GitHub (App JWT → installation token, check run, review with
inline comments on the right lines, one summary comment updated in place)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agents.service.app import create_app
from agents.service.store import Job
from agents.settings import load_settings
from tests.fakes.code_hosts import FakeGitHub, FakePR
from tests.fakes.openai_server import FakeOpenAI
from tests.kit.service import (
    F_DOC,
    F_MOD,
    F_OFF,
    F_ZERO,
    ScriptedModel,
    assay,
    github_headers,
    make_project,
    pr_payload,
    rsa_pair,
    wait_for,
)

SECRET = "webhook-secret"
# The publishing tests: no checkout for the tests section or the evidence (behaviour diff, checks).
NO_TESTS = (
    "[review]\ntests = false\nbehaviour = false\ncheck_findings = false\n"
    "verify_suggestions = false\n"
)


class Bot:
    def __init__(self, client: TestClient, gh: FakeGitHub, model: ScriptedModel, shas: dict):
        self.client, self.gh, self.model, self.shas = client, gh, model, shas

    def deliver(self, event: str, payload: bytes, delivery: str | None = None, **headers: str):
        sent = {**github_headers(SECRET, payload, event, delivery), **headers}
        return self.client.post("/webhooks/github", content=payload, headers=sent)

    def job(self, job_id: str) -> Job:
        store = self.client.app.state.queue.store  # type: ignore[attr-defined]
        return wait_for(lambda: (j := store.get(job_id)) and j.finished and j, 60, "the job")

    def jobs(self) -> list[Job]:
        return list(self.client.app.state.queue.store.list())  # type: ignore[attr-defined]


@pytest.fixture
def bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_llm: FakeOpenAI) -> Iterator[Bot]:
    monkeypatch.setenv("ASSAY_COVER_EXPLORE", "false")  # `/assay tests` checks the model's test
    monkeypatch.setenv("ASSAY_COVER_MUTANTS", "off")
    shas = make_project(tmp_path / "shop")
    private, public = rsa_pair()
    key = tmp_path / "app.pem"
    key.write_text(private)
    model = ScriptedModel()
    fake_llm.on(model)
    with FakeGitHub(app_id=42, public_key=public) as gh:
        for name, value in {
            "ASSAY_GITHUB_APP_ID": "42",
            "ASSAY_GITHUB_PRIVATE_KEY_PATH": str(key),
            "ASSAY_GITHUB_WEBHOOK_SECRET": SECRET,
            "ASSAY_GITHUB_API_URL": gh.url,
            "ASSAY_LLM_BASE_URL": fake_llm.url,
            "ASSAY_LLM_MODEL": "fake-model",
            "ASSAY_CACHE": "false",
        }.items():
            monkeypatch.setenv(name, value)
        pr = gh.add_pr(FakePR("acme/shop", 7, shas["head1"], shas["base"], shas["diff1"],
                              clone_url=str(tmp_path / "shop")))  # fmt: skip
        pr.files[(shas["head1"], ".assay.toml")] = NO_TESTS
        pr.files[(shas["head2"], ".assay.toml")] = NO_TESTS
        app = create_app(load_settings().settings)
        with TestClient(app) as client:
            yield Bot(client, gh, model, shas)


def bodies(comments: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    return sorted((c["path"], c["line"], c["body"].split("\n")[0]) for c in comments)


def test_opened_then_pushed_one_review_updated_in_place(bot: Bot) -> None:
    gh, shas = bot.gh, bot.shas
    bot.model.findings = [F_ZERO, F_DOC, F_OFF]
    answer = bot.deliver("pull_request", pr_payload("opened", shas["head1"]))
    assert answer.status_code == 202 and answer.json()["status"] == "queued"
    job = bot.job(answer.json()["job"])
    assert job.state == "done", job.error

    # The App authenticated: a JWT the fake verified with the public key, then the token.
    assert len(gh.calls_to("POST", "/app/installations/99/access_tokens")) == 1
    # One review with the two findings on changed lines; the off-diff one is dropped.
    reviews = gh.calls_to("POST", "/repos/acme/shop/pulls/7/reviews")
    assert len(reviews) == 1
    sent = reviews[0].body
    assert sent["commit_id"] == shas["head1"] and sent["event"] == "COMMENT"
    assert sorted((c["path"], c["line"], c["side"]) for c in sent["comments"]) == [
        ("app/calc.py", 5, "RIGHT"),
        ("app/calc.py", 6, "RIGHT"),
    ]
    zero = next(c for c in sent["comments"] if c["line"] == 6)
    assert zero["body"].startswith("**high · bug** divide raises ZeroDivisionError")
    assert "```suggestion\n    return a / b if b else 0.0\n```" in zero["body"]
    # One summary comment, with the findings table and what was left out.
    notes = gh.calls_to("POST", "/repos/acme/shop/issues/7/comments")
    assert len(notes) == 1
    summary = notes[0].body["body"]
    assert "<!-- assay:summary -->" in summary and shas["head1"][:7] in summary
    assert "| high | `app/calc.py:6` |" in summary and "1 not on a changed line" in summary
    # A check run, in progress then completed.
    assert [c.body["status"] for c in gh.calls_to("POST", "/repos/acme/shop/check-runs")] == [
        "in_progress"
    ]
    run = gh.check_runs[0]
    assert run["status"] == "completed" and run["conclusion"] == "neutral"

    # A second push: the summary is edited, kept findings stay, a gone one is marked
    # resolved, only the new one is posted.
    gh.prs[("acme/shop", 7)].head, gh.prs[("acme/shop", 7)].diff = shas["head2"], shas["diff2"]
    bot.model.findings = [F_ZERO, F_MOD]
    answer = bot.deliver("pull_request", pr_payload("synchronize", shas["head2"]))
    assert answer.status_code == 202
    assert bot.job(answer.json()["job"]).state == "done"
    assert len(gh.calls_to("POST", "/repos/acme/shop/issues/7/comments")) == 1
    assert len(gh.issue_comments) == 1
    assert shas["head2"][:7] in gh.issue_comments[0]["body"]
    reviews = gh.calls_to("POST", "/repos/acme/shop/pulls/7/reviews")
    assert len(reviews) == 2
    assert [(c["line"], c["body"].split("\n")[0]) for c in reviews[1].body["comments"]] == [
        (10, "**medium · bug** mod raises ZeroDivisionError when b is 0")
    ]
    assert bodies(gh.review_comments) == [
        ("app/calc.py", 5, f"✅ No longer reported at `{shas['head2'][:7]}`."),
        ("app/calc.py", 6, "**high · bug** divide raises ZeroDivisionError when b is 0"),
        ("app/calc.py", 10, "**medium · bug** mod raises ZeroDivisionError when b is 0"),
    ]
    assert not [c for c in gh.calls if c.method == "DELETE"]
    assert len(gh.check_runs) == 2  # one per head


def test_bad_signature_is_401_before_any_parsing(bot: Bot) -> None:
    garbage = b"{not json at all"
    headers = github_headers("wrong-secret", garbage, "pull_request")
    answer = bot.client.post("/webhooks/github", content=garbage, headers=headers)
    assert answer.status_code == 401
    assert answer.json()["error"] == "bad_signature"
    headers.pop("X-Hub-Signature-256")
    assert bot.client.post("/webhooks/github", content=garbage, headers=headers).status_code == 401
    assert bot.jobs() == [] and bot.gh.calls == []


def test_replayed_delivery_makes_no_second_job(bot: Bot) -> None:
    bot.model.findings = []
    payload = pr_payload("opened", bot.shas["head1"])
    first = bot.deliver("pull_request", payload, delivery="d-1")
    second = bot.deliver("pull_request", payload, delivery="d-1")
    assert first.status_code == 202
    assert second.status_code == 200 and second.json() == {"status": "duplicate", "delivery": "d-1"}
    bot.job(first.json()["job"])
    assert len(bot.jobs()) == 1
    # A new delivery of the same push (another id) finds the same job: still no second review.
    third = bot.deliver("pull_request", payload, delivery="d-2")
    assert third.json() == {"status": "duplicate", "job": first.json()["job"]}
    assert len(bot.gh.calls_to("POST", "/repos/acme/shop/issues/7/comments")) == 1


def test_malformed_payloads_are_400(bot: Bot) -> None:
    answer = bot.deliver("pull_request", b"{not json")
    assert answer.status_code == 400 and "not JSON" in answer.json()["detail"]
    answer = bot.deliver("pull_request", json.dumps({"action": "opened"}).encode())
    assert answer.status_code == 400
    assert "the payload has no repository.full_name" in answer.json()["detail"]
    assert bot.jobs() == []


def test_unknown_and_uninteresting_events_are_ignored(bot: Bot) -> None:
    for event, payload in [
        ("star", b'{"action": "created"}'),
        ("ping", b'{"zen": "hi"}'),
        ("pull_request", pr_payload("closed", bot.shas["head1"])),
    ]:
        answer = bot.deliver(event, payload)
        assert answer.status_code == 200 and answer.json()["status"] == "ignored", answer.text
    assert bot.jobs() == []


def test_oversized_body_is_413(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    bot.client.app.state.settings.max_body_bytes = 2048  # type: ignore[attr-defined]
    big = b'{"x": "' + b"a" * 5000 + b'"}'
    assert bot.deliver("pull_request", big).status_code == 413


def comment_payload(body: str, association: str = "MEMBER") -> bytes:
    return json.dumps({
        "action": "created",
        "issue": {"number": 7, "pull_request": {"url": "x"}},
        "comment": {"id": 555, "body": body, "author_association": association},
        "repository": {"full_name": "acme/shop"},
        "installation": {"id": 99},
        "sender": {"login": "lead", "type": "User"},
    }).encode()  # fmt: skip


def test_commands_in_comments(bot: Bot) -> None:
    bot.model.findings = [F_ZERO]
    outsider = bot.deliver("issue_comment", comment_payload("/assay review", "NONE"))
    assert outsider.json()["status"] == "ignored" and "members" in outsider.json()["reason"]
    chatter = bot.deliver("issue_comment", comment_payload("looks good"))
    assert chatter.json()["status"] == "ignored"
    answer = bot.deliver("issue_comment", comment_payload("/assay review please"))
    assert answer.status_code == 202
    job = bot.job(answer.json()["job"])
    assert job.state == "done" and job.params["trigger"] == "comment:555"
    assert len(bot.gh.calls_to("POST", "/repos/acme/shop/pulls/7/reviews")) == 1


def test_tests_command_posts_diff_coverage_and_a_patch(bot: Bot) -> None:
    """`/assay tests`: a checkout of the PR head, diff coverage, a test for the uncovered line
    through the cover agent's gates, offered as a patch in its own comment."""
    answer = bot.deliver("issue_comment", comment_payload("/assay tests"))
    job = bot.job(answer.json()["job"])
    assert job.state == "done", job.error
    notes = bot.gh.calls_to("POST", "/repos/acme/shop/issues/7/comments")
    assert len(notes) == 1
    body = notes[0].body["body"]
    assert body.startswith("<!-- assay:tests -->\n### Tests"), body
    assert "Diff coverage: **50 %** (1 of 2 changed lines run by the tests)." in body
    assert "Not covered: `app/calc.py` 6." in body
    assert "+def test_divide():" in body and "diff coverage would be 100 %" in body
    assert bot.gh.calls_to("POST", "/repos/acme/shop/pulls/7/reviews") == []


def test_missing_secret_refuses_the_route(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSAY_GITHUB_WEBHOOK_SECRET", raising=False)
    app = create_app(load_settings().settings, workers=0)
    with TestClient(app) as client:
        payload = pr_payload("opened", "a" * 40)
        answer = client.post("/webhooks/github", content=payload,
                             headers=github_headers("x", payload, "pull_request"))  # fmt: skip
        assert answer.status_code == 503
        assert "ASSAY_GITHUB_WEBHOOK_SECRET is not set" in answer.json()["detail"]
        assert app.state.queue.store.list() == []
    result = assay("serve", "--require-webhook", "github", "--port", "0",
                   env=dict(os.environ))  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: The github webhook cannot start: ASSAY_GITHUB_WEBHOOK_SECRET is not set: "
        "set the webhook's secret and start again"
    )
