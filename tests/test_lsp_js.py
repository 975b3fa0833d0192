"""``assay lsp`` on a TypeScript package: the code lenses sit over its exports and "Generate
tests" runs ``assay cover``'s JS pipeline for that symbol (exploration, the gates, the project's
own vitest), coming back as a previewed edit that passes once applied.  The model is the
scripted fake server; it is never needed here (exploration reaches every branch)."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types

from tests.fakes.openai_server import FakeOpenAI
from tests.kit.js import CODES_PACKAGE, CODES_TS, make_package
from tests.kit.lsp import Client, options, start


@pytest_asyncio.fixture
async def package(tmp_path: Path, fake_llm: FakeOpenAI) -> AsyncIterator[Client]:
    root = make_package(tmp_path / "codes", "vitest", CODES_PACKAGE, esm=True)
    fake_llm.on(lambda req: "I cannot help with that.")
    settings = {"cover_candidate_timeout": 20, "cover_attempts": 1}
    client = await start(root, options(fake_llm, settings={**options(fake_llm)["settings"],
                                                           **settings}))  # fmt: skip
    yield client
    await client.lsp.shutdown_session()
    await client.lsp.stop()


@pytest.mark.asyncio
async def test_generate_tests_on_a_typescript_export_is_an_edit_that_passes(
    package: Client,
) -> None:
    uri = package.open("src/codes.ts", language="typescript")
    lenses = await package.lenses(uri)
    spots = [(x.range.start.line, x.command.arguments[0]["symbol"])
             for x in lenses if x.command and x.command.arguments]  # fmt: skip
    assert spots == [(4, "clamp"), (13, "shout"), (17, "Counter"), (19, "Counter.increment")]
    assert not package.lsp.messages  # a supported language: nothing said on opening it
    assert await package.lenses(package.open("test/codes.test.ts", language="typescript")) == []

    lens = lenses[0]
    assert lens.command is not None
    result = await package.run(lens.command.command, *(lens.command.arguments or []))
    assert result["status"] == "applied", result
    assert result["files"] == ["test/codes.assay.test.ts"]
    assert "test(s) for clamp passed every gate; coverage" in result["message"]
    [applied] = package.edits
    created, text_edit = applied.edit.document_changes or []
    assert isinstance(created, types.CreateFile)
    assert created.uri == (package.root / "test" / "codes.assay.test.ts").as_uri()
    assert isinstance(text_edit, types.TextDocumentEdit)
    [insert] = text_edit.edits
    text = insert.new_text
    # Only the symbol asked for: clamp's branches, from its @example and the file's literals.
    assert "expect(clamp(5, 0, 3)).toEqual(3)" in text and "toThrow(" in text
    assert "shout(" not in text and "Counter" not in text
    assert not (package.root / "test" / "codes.assay.test.ts").exists()  # the editor applies

    # Applied as the editor would, the new file passes with the project's own runner.
    (package.root / "test" / "codes.assay.test.ts").write_text(text)
    done = subprocess.run(
        ["node", "node_modules/vitest/vitest.mjs", "run", "--no-cache"],
        cwd=package.root, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout or "Test Files  2 passed" in done.stdout, done.stdout
    assert (package.root / "src" / "codes.ts").read_text() == CODES_TS
    assert (await package.status())["jobs"] == []
