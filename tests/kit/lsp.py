"""Driving the real assay lsp over stdio (pytest-lsp): start it, open documents, run commands."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.fakes.openai_server import FakeOpenAI
from tests.kit.cli import ASSAY

CAPABILITIES = types.ClientCapabilities(
    workspace=types.WorkspaceClientCapabilities(
        configuration=True,
        apply_edit=True,
        workspace_edit=types.WorkspaceEditClientCapabilities(
            document_changes=True,
            resource_operations=[types.ResourceOperationKind.Create],
            change_annotation_support=types.ChangeAnnotationsSupportOptions(groups_on_label=True),
        ),
    ),
    window=types.WindowClientCapabilities(work_done_progress=True),
)


class Client:
    """The pytest-lsp client plus what the editor would do: apply edits, answer picks."""

    def __init__(self, lsp: LanguageClient, root: Path) -> None:
        self.lsp, self.root = lsp, root
        self.edits: list[types.ApplyWorkspaceEditParams] = []
        self.picks: list[dict[str, Any]] = []
        self.pick_answer: list[int] | None = None
        self.accepted: list[dict[str, Any]] = []  # assay/testAccepted, as the tests pass

    def open(self, rel: str, text: str | None = None, language: str = "python") -> str:
        path = self.root / rel
        uri = path.as_uri()
        if text is None:
            text = path.read_text()
        item = types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)
        self.lsp.text_document_did_open(types.DidOpenTextDocumentParams(text_document=item))
        return uri

    def change(self, uri: str, text: str, version: int = 2) -> None:
        doc = types.VersionedTextDocumentIdentifier(uri=uri, version=version)
        whole = types.TextDocumentContentChangeWholeDocument(text=text)
        self.lsp.text_document_did_change(
            types.DidChangeTextDocumentParams(text_document=doc, content_changes=[whole])
        )

    async def lenses(self, uri: str) -> list[types.CodeLens]:
        doc = types.TextDocumentIdentifier(uri=uri)
        found = await self.lsp.text_document_code_lens_async(types.CodeLensParams(doc))
        return list(found or [])

    async def run(self, command: str, *args: Any, token: str | None = None) -> dict[str, Any]:
        params = types.ExecuteCommandParams(
            command=command, arguments=list(args), work_done_token=token
        )
        return dict(await self.lsp.workspace_execute_command_async(params) or {})

    async def status(self) -> dict[str, Any]:
        return dict(plain(await self.lsp.protocol.send_request_async("assay/status", {})))

    async def wait(self, predicate: Callable[[], Any], what: str, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while not (value := predicate()):
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            await asyncio.sleep(0.05)
        return value


def plain(value: Any) -> Any:
    """pygls hands custom results over as named tuples: back to JSON-like values."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


async def start(root: Path, options: dict[str, Any]) -> Client:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    config = ClientServerConfig(server_command=[*ASSAY, "lsp", "--stdio"], server_env=env)
    lsp = await config.start()
    assert isinstance(lsp, LanguageClient)
    client = Client(lsp, root)

    @lsp.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        client.edits.append(params)
        return types.ApplyWorkspaceEditResult(applied=True)

    @lsp.feature("assay/testAccepted")
    def accepted(params: Any) -> None:
        client.accepted.append(plain(params))

    @lsp.feature("assay/pickBehaviours")
    def pick(params: Any) -> list[int] | None:
        client.picks.append(params)
        return client.pick_answer

    await lsp.initialize_session(
        types.InitializeParams(
            capabilities=CAPABILITIES,
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            initialization_options=options,
        )
    )
    return client


def options(fake: FakeOpenAI, **more: Any) -> dict[str, Any]:
    return {
        "llm": {"baseUrl": fake.url, "model": "fake-model"},
        "settings": {"cover_repeat": 1, "cache": False, "cover_mutation": False},
        **more,
    }
