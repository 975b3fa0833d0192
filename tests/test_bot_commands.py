"""The PR bot's command set against fake GitHub and GitLab APIs: /describe writes a marked
section of the PR body and replaces it on the next push, /ask answers in its thread,
/improve posts only suggestions the tests pass with, and findings people mark wrong (a 👎 or
`/assay wrong [reason]`) are not posted again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agents.errors import PlatformError
from agents.platforms.base import NewComment, parse_command
from agents.platforms.gitlab import GitLabHost
from agents.review.suppressions import Suppressions
from agents.service.app import create_app
from agents.service.bot import unchanged_lines
from agents.service.store import Job
from agents.settings import load_settings
from tests.fakes.code_hosts import FakeGitHub, FakePR
from tests.fakes.gitlab_api import FakeGitLab, FakeMR
from tests.fakes.openai_server import FakeOpenAI, RecordedRequest, Reply
from tests.kit.gitrepos import git as lib_git
from tests.kit.review import make_library
from tests.kit.service import (
    F_DOC,
    F_ZERO,
    ScriptedModel,
    github_headers,
    make_project,
    pr_payload,
    rsa_pair,
    wait_for,
)

SECRET, GL_SECRET, GL_TOKEN = "webhook-secret", "gitlab-hook-token", "glpat-test"
PLAIN = "[review]\ntests = false\nbehaviour = false\ncheck_findings = false\n"
AUTHOR_TEXT = "Adds division to the calculator.\n\nCloses #3."


class Model(ScriptedModel):
    """The review model of the service tests, which also describes and answers."""

    def __init__(self) -> None:
        super().__init__()
        self.titles = ["Add divide", "Add divide and mod"]
        self.asked: list[str] = []
        self.garbled = False  # describe answers with no YAML at all

    def __call__(self, req: RecordedRequest) -> Reply | str:
        prompt = req.prompt
        if "Describe it as YAML" in prompt and self.garbled:
            return "Sure! This PR is great."
        if "Describe it as YAML" in prompt:
            title = self.titles.pop(0) if len(self.titles) > 1 else self.titles[0]
            return "```yaml\n" + json.dumps({
                "title": title, "type": "feature", "summary": "Division, checked by a test.",
                "walkthrough": [{"path": "app/calc.py", "change": "adds divide"}],
                "labels": ["enhancement"],
            }) + "\n```"  # fmt: skip
        if "Question:" in prompt:
            self.asked.append(prompt)
            return "Because `b` comes from the caller unchecked; `divide(1, 0)` raises."
        return super().__call__(req)


class Hosts:
    def __init__(self, client: TestClient, gh: FakeGitHub, gl: FakeGitLab, model: Model,
                 shas: dict[str, str]) -> None:  # fmt: skip
        self.client, self.gh, self.gl, self.model, self.shas = client, gh, gl, model, shas

    def github(self, event: str, payload: dict[str, Any]) -> Job:
        body = json.dumps(payload).encode()
        answer = self.client.post("/webhooks/github", content=body,
                                  headers=github_headers(SECRET, body, event))  # fmt: skip
        assert answer.status_code == 202, answer.text
        return self.job(answer.json()["job"])

    def gitlab(self, event: str, payload: dict[str, Any]) -> Job:
        headers = {"X-Gitlab-Event": event, "Content-Type": "application/json",
                   "X-Gitlab-Token": GL_SECRET}  # fmt: skip
        answer = self.client.post("/webhooks/gitlab", content=json.dumps(payload).encode(),
                                  headers=headers)  # fmt: skip
        assert answer.status_code == 202, answer.text
        return self.job(answer.json()["job"])

    def job(self, job_id: str) -> Job:
        store = self.client.app.state.queue.store  # type: ignore[attr-defined]
        job = wait_for(lambda: (j := store.get(job_id)) and j.finished and j, 90, "the job")
        assert job.state == "done", job.error
        return job

    def push(self, head: str, diff: str) -> None:
        pr = self.gh.prs[("acme/shop", 7)]
        pr.head, pr.diff = self.shas[head], self.shas[diff]
        mr = self.gl.mrs[(12, 3)]
        mr.head, mr.diffs = self.shas[head], mr_diffs(self.shas[diff])


def mr_diffs(unified: str) -> list[dict[str, Any]]:
    body = unified.split("+++ b/app/calc.py\n", 1)[1]
    return [{"old_path": "app/calc.py", "new_path": "app/calc.py", "diff": body,
             "new_file": False, "renamed_file": False, "deleted_file": False}]  # fmt: skip


def set_config(hosts: Hosts, text: str) -> None:
    pr, mr = hosts.gh.prs[("acme/shop", 7)], hosts.gl.mrs[(12, 3)]
    for sha in (hosts.shas["head1"], hosts.shas["head2"]):
        pr.files[(sha, ".assay.toml")] = text
        mr.files[(sha, ".assay.toml")] = text


@pytest.fixture
def hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_llm: FakeOpenAI) -> Iterator[Hosts]:
    shas = make_project(tmp_path / "shop")
    private, public = rsa_pair()
    (tmp_path / "app.pem").write_text(private)
    model = Model()
    fake_llm.on(model)
    with FakeGitHub(app_id=42, public_key=public) as gh, FakeGitLab(GL_TOKEN) as gl:
        for name, value in {
            "ASSAY_GITHUB_APP_ID": "42", "ASSAY_GITHUB_PRIVATE_KEY_PATH": str(tmp_path / "app.pem"),
            "ASSAY_GITHUB_WEBHOOK_SECRET": SECRET, "ASSAY_GITHUB_API_URL": gh.url,
            "ASSAY_GITLAB_URL": gl.url, "ASSAY_GITLAB_TOKEN": GL_TOKEN,
            "ASSAY_GITLAB_WEBHOOK_SECRET": GL_SECRET,
            "ASSAY_LLM_BASE_URL": fake_llm.url, "ASSAY_LLM_MODEL": "fake-model",
            "ASSAY_CACHE": "false",
        }.items():  # fmt: skip
            monkeypatch.setenv(name, value)
        clone = str(tmp_path / "shop")
        gh.add_pr(FakePR("acme/shop", 7, shas["head1"], shas["base"], shas["diff1"],
                         clone_url=clone, body=AUTHOR_TEXT))  # fmt: skip
        gl.add_mr(FakeMR(12, 3, shas["head1"], shas["base"], shas["base"],
                         mr_diffs(shas["diff1"]), description=AUTHOR_TEXT))  # fmt: skip
        with TestClient(create_app(load_settings().settings)) as client:
            hosts = Hosts(client, gh, gl, model, shas)
            set_config(hosts, PLAIN + "verify_suggestions = false\n")
            yield hosts


def comment(body: str, *, event: str = "issue_comment", **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "action": "created",
        "comment": {"id": fields.pop("id", 555), "body": body, "author_association": "MEMBER",
                    **fields},
        "repository": {"full_name": "acme/shop"},
        "installation": {"id": 99},
        "sender": {"login": "lead", "type": "User"},
    }  # fmt: skip
    if event == "issue_comment":
        payload["issue"] = {"number": 7, "pull_request": {"url": "x"}}
    else:
        payload["pull_request"] = {"number": 7, "head": {"sha": "a" * 40}}
    return payload


def note(body: str, **attrs: Any) -> dict[str, Any]:
    return {"object_kind": "note", "project": {"id": 12, "git_http_url": ""},
            "user": {"username": "lead"},
            "object_attributes": {"id": attrs.pop("id", 77), "noteable_type": "MergeRequest",
                                  "note": body, **attrs},
            "merge_request": {"iid": 3}}  # fmt: skip


def test_commands_are_parsed_with_or_without_the_assay_prefix() -> None:
    assert parse_command("/describe") == ("describe", "")
    assert parse_command("/assay improve") == ("improve", "")
    assert parse_command("/ask why is b unchecked?") == ("ask", "why is b unchecked?")
    assert parse_command("/assay wrong b is never 0 here") == ("wrong", "b is never 0 here")
    assert parse_command("/wrong") is None  # only with the prefix: too common a word
    assert parse_command("/reviewers please") is None
    assert parse_command("please /review") is None


def test_describe_on_open_and_push_replaces_its_section_of_the_body(hosts: Hosts) -> None:
    gh = hosts.gh
    set_config(hosts, PLAIN + "verify_suggestions = false\nauto = ['describe', 'review']\n")
    hosts.model.findings = [F_ZERO]
    hosts.github("pull_request", json.loads(pr_payload("opened", hosts.shas["head1"])))
    pr = gh.prs[("acme/shop", 7)]
    assert pr.body.startswith(AUTHOR_TEXT + "\n\n<!-- assay:describe:start -->\n### Add divide\n")
    assert "| `app/calc.py` | adds divide |" in pr.body and "**Type:** feature" in pr.body
    assert pr.labels == ["enhancement"]
    assert len(gh.calls_to("POST", "/repos/acme/shop/pulls/7/reviews")) == 1  # and reviewed

    hosts.push("head2", "diff2")
    hosts.github("pull_request", json.loads(pr_payload("synchronize", hosts.shas["head2"])))
    assert pr.body.count("<!-- assay:describe:start -->") == 1
    assert pr.body.startswith(AUTHOR_TEXT + "\n\n<!-- assay:describe:start -->\n### Add divide "
                              "and mod\n")  # fmt: skip
    assert hosts.shas["head2"][:7] in pr.body and pr.body.endswith("<!-- assay:describe:end -->\n")
    assert len(gh.calls_to("PATCH", "/repos/acme/shop/pulls/7")) == 2

    # The command writes it too, whatever runs by itself.
    set_config(hosts, PLAIN + "verify_suggestions = false\n")
    pr.body = AUTHOR_TEXT
    hosts.github("issue_comment", comment("/describe", id=556))
    assert pr.body.startswith(AUTHOR_TEXT + "\n\n<!-- assay:describe:start -->")


def test_ask_is_answered_in_its_thread_about_its_lines(hosts: Hosts) -> None:
    gh = hosts.gh
    hosts.model.findings = [F_ZERO]
    hosts.github("issue_comment", comment("/review"))
    [finding] = gh.review_comments
    question = "/ask why can b be 0 here?"
    job = hosts.github("pull_request_review_comment", comment(
        question, event="review", id=600, in_reply_to_id=finding["id"], path="app/calc.py",
        line=6, diff_hunk="@@ -1,2 +1,6 @@\n+def divide(a, b):\n+    return a / b",
    ))  # fmt: skip
    [reply] = [c for c in gh.review_comments if c.get("in_reply_to_id") == finding["id"]]
    assert reply["body"].startswith("> why can b be 0 here?\n\nBecause `b` comes from the caller")
    assert job.result["thread"] == str(finding["id"])
    [prompt] = hosts.model.asked
    assert "app/calc.py:6" in prompt and "+    return a / b" in prompt
    assert "Question: why can b be 0 here?" in prompt

    # Asked in the conversation: a comment of its own, quoting the question.
    hosts.github("issue_comment", comment("/ask is mod tested?", id=601))
    answers = [c for c in gh.issue_comments if "<!-- assay:ask:601 -->" in c["body"]]
    assert len(answers) == 1 and "> is mod tested?" in answers[0]["body"]


def test_improve_posts_only_suggestions_the_tests_pass_with(hosts: Hosts) -> None:
    gh = hosts.gh
    set_config(hosts, PLAIN)  # verification on: /improve checks out the head
    broken = {**F_DOC, "suggestion": "def divide(a, b) -> float"}  # does not parse in place
    hosts.model.findings = [F_ZERO, broken]
    job = hosts.github("issue_comment", comment("/improve"))
    assert job.result["suggestions"] == 1
    [posted] = gh.review_comments
    assert posted["line"] == 6 and "Suggested change, verified" in posted["body"]
    assert "```suggestion\n    return a / b if b else 0.0\n```" in posted["body"]
    [summary] = [c for c in gh.issue_comments if "<!-- assay:improve -->" in c["body"]]
    assert "1 suggestion(s) not offered" in summary["body"]
    assert gh.check_runs == []  # the review's check is the review's


def test_a_finding_marked_wrong_on_github_is_not_posted_again(hosts: Hosts) -> None:
    gh = hosts.gh
    hosts.model.findings = [F_ZERO, F_DOC]
    hosts.github("pull_request", json.loads(pr_payload("opened", hosts.shas["head1"])))
    assert gh.prs[("acme/shop", 7)].body == AUTHOR_TEXT  # describe is not in auto by default
    zero = next(c for c in gh.review_comments if c["line"] == 6)
    doc = next(c for c in gh.review_comments if c["line"] == 5)
    # A member replies in the finding's thread; someone else gives the other one a 👎.
    job = hosts.github("pull_request_review_comment", comment(
        "/assay wrong b is never 0 here", event="review", id=700, in_reply_to_id=zero["id"],
        path="app/calc.py", line=6,
    ))  # fmt: skip
    fingerprint = job.result["suppressed"]
    assert f"<!-- assay:finding:{fingerprint} -->" in zero["body"]
    [ack] = [c for c in gh.review_comments if c.get("in_reply_to_id") == zero["id"]]
    assert ack["body"].startswith("Noted: assay will not post this finding")
    doc["reactions"] = {"-1": 1, "+1": 0}

    hosts.push("head2", "diff2")
    job = hosts.github("pull_request", json.loads(pr_payload("synchronize", hosts.shas["head2"])))
    assert job.result["findings"] == 0 and job.result["dismissed"] == 1
    assert job.result["review"]["checks"]["suppressed"] == 2
    assert len(gh.calls_to("POST", "/repos/acme/shop/pulls/7/reviews")) == 1  # nothing new
    store = Suppressions.for_settings(load_settings().settings)
    by = {s.fingerprint: (s.reason, s.by) for s in store.list("acme/shop")}
    assert by[fingerprint] == ("b is never 0 here", "github:lead")
    assert ("👎 on the PR", "github:reaction") in by.values()
    # Outside a thread the command needs the fingerprint; by a non-member it is ignored.
    answer = hosts.client.post(
        "/webhooks/github", content=(b := json.dumps(comment("/assay wrong")).encode()),
        headers=github_headers(SECRET, b, "issue_comment"),
    )  # fmt: skip
    assert answer.json()["status"] == "ignored" and "fingerprint" in answer.json()["reason"]


def test_gitlab_describe_and_a_dismissal_in_the_discussion(hosts: Hosts) -> None:
    gl = hosts.gl
    mr = gl.mrs[(12, 3)]
    hosts.model.garbled = True  # an answer that is no description leaves the body alone
    job = hosts.gitlab("Note Hook", note("/describe", id=76))
    assert "could not be read" in job.result["error"] and mr.description == AUTHOR_TEXT
    hosts.model.garbled = False
    hosts.gitlab("Note Hook", note("/describe"))
    assert mr.description.startswith(AUTHOR_TEXT + "\n\n<!-- assay:describe:start -->")
    assert mr.labels == ["enhancement"]

    hosts.model.findings = [F_ZERO]
    hosts.gitlab("Note Hook", note("/assay review", id=78))
    [discussion] = gl.discussions
    job = hosts.gitlab("Note Hook", note("/assay wrong intended", id=79,
                                         discussion_id=discussion["id"]))  # fmt: skip
    assert job.result["reason"] == "intended" and job.result["repo"] == "12"
    assert discussion["notes"][-1]["body"].startswith("Noted: assay will not post this finding")
    hosts.gitlab("Note Hook", note("/assay review", id=80))
    assert len(gl.calls_to("POST", "/api/v4/projects/12/merge_requests/3/discussions")) == 1
    assert discussion["notes"][0]["body"].startswith("✅ No longer reported")


def test_the_bot_posts_a_behaviour_change_with_its_regression_test(
    hosts: Hosts, tmp_path: Path
) -> None:
    """The review checks out the PR's head and its base: a removed input check is a finding on
    the changed function's line, though the model found nothing."""
    repo = make_library(tmp_path / "lib")
    head = lib_git(repo, "rev-parse", "check-removed")
    lib_git(repo, "update-ref", "refs/pull/8/head", head)
    diff = lib_git(repo, "diff", "main", "check-removed") + "\n"
    pr = hosts.gh.add_pr(FakePR("acme/shop", 8, head, lib_git(repo, "rev-parse", "main"), diff,
                                clone_url=str(repo)))  # fmt: skip
    pr.files[(head, ".assay.toml")] = "[review]\ntests = false\nbehaviour_seconds = 1\n"
    hosts.model.findings = []
    job = hosts.github("pull_request", json.loads(pr_payload("opened", head, number=8)))
    assert job.result["findings"] == 1, job.result
    [posted] = [c for c in hosts.gh.review_comments if c["pr"] == ("acme/shop", 8)]
    assert (posted["path"], posted["line"]) == ("lib/calc.py", 10)
    body = posted["body"]
    assert body.startswith("**") and "behaviour change: `clamp(" in body
    assert "raises `ValueError: limit must be >= 0` before" in body
    assert "regression test" in body and "pytest.raises(ValueError" in body
    [summary] = [c for c in hosts.gh.issue_comments if c["pr"] == ("acme/shop", 8)]
    assert "behaviour changed in 1 of 1 changed function(s)" in summary["body"]


def test_gitlab_takes_a_comment_on_an_unchanged_line_with_both_line_numbers(hosts: Hosts) -> None:
    """A finding on deleted code sits on the unchanged line after the deletion: GitLab places
    it only with the old-side number too (GitHub takes the new side's)."""
    host = GitLabHost(hosts.gl.url, GL_TOKEN)
    try:
        pr = host.pull_request("12", 3)
        unchanged = unchanged_lines(host.diff(pr))
        assert unchanged == {("app/calc.py", 1): 1, ("app/calc.py", 2): 2}
        with pytest.raises(PlatformError):
            host.post_inline(pr, [NewComment("app/calc.py", 2, "no old line")], "")
        host.post_inline(pr, [NewComment("app/calc.py", 2, "both", old_line=2)], "")
    finally:
        host.close()
    [discussion] = hosts.gl.discussions
    assert discussion["notes"][0]["position"]["old_line"] == 2


def test_a_thumbs_down_on_a_gitlab_finding_dismisses_it(hosts: Hosts) -> None:
    gl = hosts.gl
    hosts.model.findings = [F_ZERO]
    hosts.gitlab("Note Hook", note("/assay review", id=81))
    [discussion] = gl.discussions
    first = discussion["notes"][0]

    def award(name: str, awardable: int, award_id: int) -> dict[str, Any]:
        return {"object_kind": "emoji", "event_type": "award", "user": {"username": "lead"},
                "project": {"id": 12, "git_http_url": ""}, "merge_request": {"iid": 3},
                "object_attributes": {"id": award_id, "name": name, "awardable_type": "Note",
                                      "awardable_id": awardable, "action": "award"}}  # fmt: skip

    answer = hosts.client.post(
        "/webhooks/gitlab", content=json.dumps(award("thumbsup", first["id"], 1)).encode(),
        headers={"X-Gitlab-Event": "Emoji Hook", "Content-Type": "application/json",
                 "X-Gitlab-Token": GL_SECRET},
    )  # fmt: skip
    assert answer.json()["status"] == "ignored"
    job = hosts.gitlab("Emoji Hook", award("thumbsdown", first["id"], 2))
    assert (
        job.result["reason"] == "👎 on the MR"
        and f"finding:{job.result['suppressed']}" in (first["body"])
    )
    assert discussion["notes"][-1]["body"].startswith("Noted: assay will not post this finding")
    hosts.gitlab("Note Hook", note("/assay review", id=82))
    assert len(gl.calls_to("POST", "/api/v4/projects/12/merge_requests/3/discussions")) == 1
