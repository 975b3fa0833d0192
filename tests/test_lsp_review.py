"""``assay lsp``'s review: findings as diagnostics, suggested changes as quick fixes, findings
that follow their code; here with the local engine, then through a real ``assay serve``."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types

from agents.service.admin import AdminStore
from agents.service.auth import create_token
from tests.fakes.openai_server import FakeOpenAI
from tests.kit.lsp import Client, options, plain, start
from tests.kit.service import F_DOC, F_ZERO, HEAD1_CALC, ScriptedModel, git, make_project, server

FIXED = HEAD1_CALC.replace("    return a / b\n", "    return a / b if b else 0.0\n")


@pytest.fixture
def shop(tmp_path: Path, fake_llm: FakeOpenAI) -> Path:
    repo = tmp_path / "shop"
    shas = make_project(repo)
    git(repo, "checkout", "-q", shas["head1"])  # divide() added since main
    model = ScriptedModel()
    model.findings = [F_ZERO, F_DOC]
    fake_llm.on(model)
    return repo


@pytest_asyncio.fixture
async def local(shop: Path, fake_llm: FakeOpenAI) -> AsyncIterator[Client]:
    client = await start(shop, options(fake_llm, review={"base": "main"}))
    yield client
    await client.lsp.shutdown_session()
    await client.lsp.stop()


def spots(client: Client, uri: str) -> list[tuple[int, int, int, Any, str]]:
    return [
        (d.range.start.line, d.range.start.character, d.range.end.character, d.severity, d.message)
        for d in client.lsp.diagnostics.get(uri, [])
    ]


@pytest.mark.asyncio
async def test_findings_are_diagnostics_with_quick_fixes_that_follow_edits(
    local: Client,
) -> None:
    calc = (local.root / "app" / "calc.py").as_uri()
    result = await local.run("assay.reviewChanges")
    assert result == {
        "status": "done",
        "message": "2 finding(s) (1 high, 1 low) in the changes since main",
        "findings": 2,
    }
    await local.wait(lambda: local.lsp.diagnostics.get(calc), "the diagnostics")
    zero = "divide raises ZeroDivisionError when b is 0 (a suggested change is available)"
    assert spots(local, calc) == [
        (4, 0, 17, types.DiagnosticSeverity.Information, "divide has no docstring"),
        (5, 4, 16, types.DiagnosticSeverity.Error, zero),
    ]
    first = local.lsp.diagnostics[calc][1]
    assert (first.source, first.code) == ("assay", "bug")

    def at(line: int) -> types.CodeActionParams:
        rng = types.Range(types.Position(line, 0), types.Position(line, 0))
        return types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=calc), range=rng,
            context=types.CodeActionContext(diagnostics=[]),
        )  # fmt: skip

    [fix] = await local.lsp.text_document_code_action_async(at(5)) or []
    assert isinstance(fix, types.CodeAction) and fix.kind == types.CodeActionKind.QuickFix
    assert fix.title == "assay: apply the suggested change (return a / b if b else 0.0)"
    assert fix.edit is not None and fix.edit.changes is not None
    [edit] = fix.edit.changes[calc]
    assert (edit.range.start, edit.range.end) == (types.Position(5, 0), types.Position(6, 0))
    assert edit.new_text == "    return a / b if b else 0.0\n"
    assert not await local.lsp.text_document_code_action_async(at(4))  # no suggestion there

    # The user applies the fix and adds a line above: the fixed finding goes, the other moves.
    local.open("app/calc.py", HEAD1_CALC)
    local.change(calc, "import math\n" + FIXED)
    await local.wait(lambda: len(local.lsp.diagnostics.get(calc, [])) == 1, "the fixed finding")
    assert spots(local, calc) == [
        (5, 0, 17, types.DiagnosticSeverity.Information, "divide has no docstring")
    ]
    await local.run("assay.clearReview")
    await local.wait(lambda: len(local.lsp.diagnostics[calc]) == 0, "the review to be cleared")


@pytest.mark.asyncio
async def test_review_through_the_service(
    tmp_path: Path, shop: Path, fake_llm: FakeOpenAI, assay_home: Path
) -> None:
    env = {
        **os.environ, "ASSAY_LLM_BASE_URL": fake_llm.url, "ASSAY_LLM_MODEL": "fake-model",
        "ASSAY_CACHE": "false",
    }  # fmt: skip
    token, _ = create_token(AdminStore(assay_home / "service" / "admin.db"), "ide", ["write"])
    with server(env, tmp_path / "serve.log") as (url, _proc):
        client = await start(
            shop, {"mode": "service", "service": {"url": url, "token": token}, "llm": {}}
        )
        try:
            status = plain(await client.lsp.protocol.send_request_async("assay/status", {}))
            assert status["mode"] == "service"
            assert status["engine"] == f"service {url}, snippets"
            calc = (shop / "app" / "calc.py").as_uri()
            result = await client.run("assay.reviewChanges", {"base": "main"})
            assert result["status"] == "done", result
            assert result["message"] == "2 finding(s) in the changes since main (service)"
            await client.wait(lambda: client.lsp.diagnostics.get(calc), "the diagnostics")
            assert [d.range.start.line for d in client.lsp.diagnostics[calc]] == [4, 5]
            reviewed = [r for r in fake_llm.chat_requests if "List the problems" in r.prompt]
            assert reviewed and "def divide(a, b):" in reviewed[0].prompt  # the local diff

            # A bad token: the service's answer and the fix, as a message.
            client.lsp.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(
                    settings={"assay": {"service": {"token": "assay_nope_nope"}}}
                )
            )
            bad = await client.run("assay.reviewChanges", {"base": "main"})
            assert bad["status"] == "error"
            assert "The assay service answered 401 to POST /v1/reviews" in bad["message"]
            assert bad["message"].endswith("set assay.service.token to a valid token "
                                           "('assay token create')")  # fmt: skip
        finally:
            await client.lsp.shutdown_session()
            await client.lsp.stop()
