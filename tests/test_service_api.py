"""The service over a real uvicorn socket: health, readiness, docs, token scopes (created and
revoked with the CLI), sync answers for small asks, repositories and the quality policy; the
rate limit in process."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from agents.service.admin import AdminStore
from agents.service.app import create_app
from agents.service.auth import create_token
from agents.settings import load_settings
from tests.fakes.openai_server import FakeOpenAI
from tests.kit.service import F_ZERO, ScriptedModel, assay, make_project, server


def token(env: dict[str, str], name: str, *scopes: str) -> str:
    args = [a for s in scopes for a in ("--scope", s)]
    result = assay("token", "create", name, *args, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def auth(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def test_scopes_sync_review_repos_policy_and_revocation(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    shas = make_project(tmp_path / "shop")
    model = ScriptedModel()
    model.findings = [F_ZERO]
    fake_llm.on(model)
    env = {**os.environ, "ASSAY_LLM_BASE_URL": fake_llm.url, "ASSAY_LLM_MODEL": "fake-model"}
    reader = token(env, "reader", "read")  # through the CLI; the others directly
    store = AdminStore(Path(env["ASSAY_HOME"]) / "service" / "admin.db")
    writer, _ = create_token(store, "writer", ["write"])
    admin, _ = create_token(store, "admin", ["admin"])
    store.close()
    with server(env, tmp_path / "serve.log") as (url, _):
        c = httpx.Client(base_url=url, timeout=30)
        assert c.get("/healthz").json()["status"] == "ok"
        ready = c.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert set(ready.json()["checks"]) == {"store", "queue", "model"}
        assert c.get("/openapi.json").json()["info"]["title"] == "assay"
        assert c.get("/docs").status_code == 200

        missing = c.get("/v1/jobs")
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"].startswith("Bearer")
        assert "assay token create" in missing.json()["detail"]
        forged = c.get("/v1/jobs", headers=auth(reader[:-4] + "AAAA"))
        assert forged.status_code == 401 and "unknown or revoked" in forged.json()["detail"]
        assert c.get("/v1/jobs", headers=auth(reader)).json() == []
        assert c.get("/v1/whoami", headers=auth(writer)).json()["scopes"] == ["write"]

        review = {"diff": shas["diff1"]}
        denied = c.post("/v1/reviews", json=review, headers=auth(reader))
        assert denied.status_code == 403
        assert denied.json() == {
            "error": "forbidden",
            "detail": "this needs the 'write' scope; token 'reader' has read",
        }
        done = c.post("/v1/reviews", json=review, headers=auth(writer))
        assert done.status_code == 200, done.text  # a small diff: answered synchronously
        result = done.json()["result"]
        assert [(f["path"], f["line"]) for f in result["review"]["findings"]] == [
            ("app/calc.py", 6)
        ]
        assert "| high | `app/calc.py:6` |" in result["markdown"]
        job = c.get(f"/v1/jobs/{done.json()['id']}", headers=auth(reader)).json()
        assert job["state"] == "done" and job["attempts"] == 1

        repo = {"name": "shop", "path": str(tmp_path / "shop")}
        assert c.post("/v1/repos", json=repo, headers=auth(writer)).status_code == 403
        assert c.post("/v1/repos", json=repo, headers=auth(admin)).status_code == 201
        assert c.get("/v1/repos", headers=auth(reader)).json()[0]["name"] == "shop"
        policy = {"tier": "high", "best_practices": "Never divide without checking.",
                  "path_weights": {"legacy/**": 0.0}}  # fmt: skip
        assert c.put("/v1/repos/shop/policy", json=policy, headers=auth(writer)).status_code == 403
        put = c.put("/v1/repos/shop/policy", json=policy, headers=auth(admin))
        assert put.status_code == 200, put.text
        view = c.get("/v1/repos/shop/policy", headers=auth(reader)).json()
        assert view["tier"] == "high" and view["best_practices"].startswith("Never divide")
        bad = c.put("/v1/repos/shop/policy", json={"tier": "golden"}, headers=auth(admin))
        assert bad.status_code == 400 and "Unknown tier" in bad.json()["detail"]
        assert c.get("/v1/index", headers=auth(reader)).status_code == 200

        # The policy's best practices reach the model in the next review.
        again = c.post("/v1/reviews", json={**review, "repo": "shop"}, headers=auth(writer))
        assert again.status_code == 200, again.text
        assert "Never divide without checking." in fake_llm.chat_requests[-1].prompt

        listed = assay("token", "list", "--json", env=env)
        assert reader not in listed.stdout and '"name": "reader"' in listed.stdout
        reader_id = reader.split("_")[1]
        assert assay("token", "revoke", reader_id, env=env).returncode == 0
        revoked = c.get("/v1/jobs", headers=auth(reader))
        assert revoked.status_code == 401
    # Only hashes at rest.
    db = (Path(env["ASSAY_HOME"]) / "service" / "admin.db").read_bytes()
    assert reader.encode() not in db
    assert hashlib.sha256(reader.encode()).hexdigest().encode() in db


def test_rate_limit_per_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSAY_RATE_LIMIT_PER_MINUTE", "2")
    app = create_app(load_settings().settings, workers=0)
    with TestClient(app) as client:
        one, _ = create_token(app.state.admin, "one", ["read"])
        two, _ = create_token(app.state.admin, "two", ["read"])
        assert [client.get("/v1/jobs", headers=auth(one)).status_code for _ in range(2)] == [
            200,
            200,
        ]
        limited = client.get("/v1/jobs", headers=auth(one))
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert "over its limit of 2 requests per minute" in limited.json()["detail"]
        assert client.get("/v1/jobs", headers=auth(two)).status_code == 200


def test_bad_requests_say_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(load_settings().settings, workers=0)
    with TestClient(app) as client:
        writer, _ = create_token(app.state.admin, "w", ["write"])
        h = auth(writer)
        nothing = client.post("/v1/reviews", json={}, headers=h)
        assert (
            nothing.status_code == 400
            and nothing.json()["detail"] == "pass a diff, or repo and base"
        )
        unknown = client.post("/v1/coverage", json={"repo": "nope"}, headers=h)
        assert unknown.status_code == 404 and "POST /v1/repos" in unknown.json()["detail"]
        assert client.get("/v1/jobs/missing", headers=h).status_code == 404
        snippet = {"snippet": "def f():\n    return 1\n", "wait": False}
        queued = client.post("/v1/tests", json=snippet, headers=h)
        assert queued.status_code == 202
        assert queued.headers["location"] == f"/v1/jobs/{queued.json()['id']}"
        assert queued.json()["state"] == "queued"


CLAMP = """\
def clamp(x, low, high):
    if x < low:
        return low
    if x > high:
        return high
    return x
"""
CLAMP_TEST = """\
from snippet import clamp


def test_clamp():
    assert clamp(-5, 0, 10) == 0
    assert clamp(50, 0, 10) == 10
    assert clamp(5, 0, 10) == 5
"""


def test_tests_for_a_snippet_answer_synchronously(
    monkeypatch: pytest.MonkeyPatch, fake_llm: FakeOpenAI
) -> None:
    model = ScriptedModel()
    model.tests = {"clamp": CLAMP_TEST}
    fake_llm.on(model)
    for name, value in {
        "ASSAY_LLM_BASE_URL": fake_llm.url,
        "ASSAY_LLM_MODEL": "fake-model",
        "ASSAY_COVER_REPEAT": "2",
        "ASSAY_COVER_EXPLORE": "false",  # the scripted model's test is what this checks
        "ASSAY_COVER_MUTANTS": "off",
        "ASSAY_SYNC_WAIT_SECONDS": "120",
    }.items():
        monkeypatch.setenv(name, value)  # fmt: skip
    app = create_app(load_settings().settings)
    with TestClient(app) as client:
        writer, _ = create_token(app.state.admin, "w", ["write"])
        answer = client.post("/v1/tests", json={"snippet": CLAMP}, headers=auth(writer))
        assert answer.status_code == 200, answer.text
        job = answer.json()
        assert job["state"] == "done", job["error"]
        assert job["result"]["accepted"] == 1
        assert "+def test_clamp():" in job["result"]["patch"]
        assert job["progress"]["stage"] == "writing tests"


def test_tests_for_a_typescript_symbol_of_a_registered_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_llm: FakeOpenAI
) -> None:
    """What the editor's lens asks a service for on a .ts file: the JS pipeline for that symbol
    (exploration reaches it; the model is never needed), the tests back as a patch."""
    from tests.kit.js import CODES_PACKAGE, CODES_TS, make_package

    package = make_package(tmp_path / "web", "vitest", CODES_PACKAGE, esm=True)
    fake_llm.on(lambda req: "I cannot help with that.")
    for name, value in {
        "ASSAY_LLM_BASE_URL": fake_llm.url,
        "ASSAY_LLM_MODEL": "fake-model",
        "ASSAY_COVER_REPEAT": "1",
        "ASSAY_COVER_MUTATION": "false",
        "ASSAY_COVER_CANDIDATE_TIMEOUT": "20",
        "ASSAY_SYNC_WAIT_SECONDS": "300",
    }.items():
        monkeypatch.setenv(name, value)  # fmt: skip
    app = create_app(load_settings().settings)
    with TestClient(app) as client:
        admin, _ = create_token(app.state.admin, "a", ["admin"])
        writer, _ = create_token(app.state.admin, "w", ["write"])
        repo = {"name": "web", "path": str(package)}
        assert client.post("/v1/repos", json=repo, headers=auth(admin)).status_code == 201
        ask = {"repo": "web", "path": "src/codes.ts", "symbol": "clamp"}
        answer = client.post("/v1/tests", json=ask, headers=auth(writer))
        assert answer.status_code == 200, answer.text
        job = answer.json()
        assert job["state"] == "done", job["error"]
        assert job["result"]["accepted"] >= 1
        patch = job["result"]["patch"]
        assert "+++ b/test/codes.assay.test.ts" in patch and "expect(clamp(5, 0, 3))" in patch
        assert "shout(" not in patch and "Counter" not in patch  # that symbol only
    assert (package / "src" / "codes.ts").read_text() == CODES_TS
    assert not (package / "test" / "codes.assay.test.ts").exists()  # a patch, nothing written


def test_suppressions_over_the_api(tmp_path: Path) -> None:
    env = dict(os.environ)
    store = AdminStore(Path(env["ASSAY_HOME"]) / "service" / "admin.db")
    reader, _ = create_token(store, "reader", ["read"])
    writer, _ = create_token(store, "writer", ["write"])
    store.close()
    with server(env, tmp_path / "serve.log") as (url, _):
        c = httpx.Client(base_url=url, timeout=30)
        path = "/v1/repos/acme/shop/suppressions"
        body = {"fingerprint": "0123456789ab", "reason": "intended", "path": "app/calc.py",
                "message": "divide raises ZeroDivisionError when b is 0"}  # fmt: skip
        assert c.get(path).status_code == 401
        assert c.post(path, json=body, headers=auth(reader)).status_code == 403
        added = c.post(path, json=body, headers=auth(writer))
        assert added.status_code == 201, added.text
        assert added.json()["by"] == "api:writer"
        bad = c.post(path, json={**body, "fingerprint": "zzz"}, headers=auth(writer))
        assert bad.status_code == 400 and "fingerprint" in bad.json()["detail"]
        [item] = c.get(path, headers=auth(reader)).json()["suppressions"]
        assert (item["fingerprint"], item["reason"]) == ("0123456789ab", "intended")
        # The same store as the CLI's (and the reviews').
        listed = assay("policy", "suppressions", "--repo", "acme/shop", "--json", env=env)
        assert [s["fingerprint"] for s in json.loads(listed.stdout)] == ["0123456789ab"]
        assert c.delete(f"{path}/0123456789ab", headers=auth(reader)).status_code == 403
        gone = c.delete(f"{path}/0123456789ab", headers=auth(writer))
        assert gone.status_code == 200 and gone.json()["removed"] is True
        assert c.delete(f"{path}/0123456789ab", headers=auth(writer)).status_code == 404
        assert c.get(path, headers=auth(reader)).json()["suppressions"] == []
