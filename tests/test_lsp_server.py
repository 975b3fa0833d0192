"""``assay lsp`` end to end: pytest-lsp drives the real server (``python -m agents.cli lsp``)
over stdio; the model is the scripted fake server, the sandbox and the gates are real."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled

from tests.fakes.openai_server import FakeOpenAI, RecordedRequest
from tests.kit.lsp import Client, options, start
from tests.kit.testgen import OPS, answer, write_project

DECORATED = """\
import functools


@functools.lru_cache
def cached(x):
    return x


def outer():
    def inner():  # nested functions get no lens
        return 1

    return inner
"""


@pytest_asyncio.fixture
async def project(
    tmp_path: Path, fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Client]:
    monkeypatch.setenv("ASSAY_COVER_EXPLORE", "false")  # these tests follow the scripted model
    root = write_project(tmp_path / "proj")
    (root / "calc" / "deco.py").write_text(DECORATED)
    (root / "calc" / "broken.py").write_text("def broken(:\n    pass\n")
    # One behaviour and no mutation gate keep the sandbox runs few (the gates have their own
    # tests): the script's other behaviours are never asked for.
    client = await start(root, options(fake_llm, tests={"behaviours": 1}))
    yield client
    await client.lsp.shutdown_session()
    await client.lsp.stop()


@pytest.mark.asyncio
async def test_code_lenses_over_functions_methods_and_classes(project: Client) -> None:
    uri = project.open("calc/ops.py")
    lenses = await project.lenses(uri)
    spots = [
        (lens.range.start.line, lens.range.start.character, lens.command.arguments[0]["symbol"])
        for lens in lenses
        if lens.command is not None and lens.command.arguments
    ]
    assert spots == [(0, 0, "clamp"), (9, 0, "Counter"), (10, 4, "Counter.__init__"),
                     (13, 4, "Counter.bump")]  # fmt: skip
    assert {lens.command.title for lens in lenses if lens.command} == {"Generate tests"}
    assert lenses[0].command is not None and lenses[0].command.command == "assay.generateTests"
    assert list(lenses[0].command.arguments or []) == [{"uri": uri, "symbol": "clamp"}]

    deco = await project.lenses(project.open("calc/deco.py"))
    assert [(x.range.start.line, x.command.arguments[0]["symbol"]) for x in deco if x.command] == [
        (3, "cached"),
        (8, "outer"),
    ]  # fmt: skip: a decorated function's lens sits over its decorator; no nested functions
    assert await project.lenses(project.open("tests/test_ops.py")) == []  # tests get none

    # While the user types something that does not parse, the last good lenses stay.
    project.change(uri, OPS + "\ndef half(:\n")
    assert len(await project.lenses(uri)) == 4
    assert await project.lenses(project.open("calc/broken.py")) == []


@pytest.mark.asyncio
async def test_bad_documents_get_a_message_never_a_crash(project: Client) -> None:
    go = project.open("web/app.go", "package main\n", language="go")
    await project.wait(lambda: project.lsp.messages, "the unsupported-language message")
    assert project.lsp.messages[0].message == (
        "assay generates tests for Python, JavaScript and TypeScript files; Go is not supported yet"
    )
    assert await project.lenses(go) == []
    result = await project.run("assay.generateTests", {"uri": go, "position": {"line": 0}})
    assert result["status"] == "unsupported" and "Go is not supported" in result["message"]

    broken = project.open("calc/broken.py")
    result = await project.run("assay.generateTests", {"uri": broken, "symbol": "broken"})
    assert result["status"] == "error"
    assert "calc/broken.py does not parse (invalid syntax at line 1)" in result["message"]

    uri = project.open("calc/ops.py")
    project.change(uri, OPS + "\n# not saved\n")
    result = await project.run("assay.generateTests", {"uri": uri, "symbol": "clamp"})
    assert result["message"].startswith("calc/ops.py has unsaved changes: save it first")
    project.change(uri, OPS, version=3)
    missing = await project.run("assay.generateTests", {"uri": uri, "symbol": "nope"})
    assert "No function, method or class 'nope' in calc/ops.py" in missing["message"]
    nowhere = await project.run("assay.generateTests", {"uri": uri, "position": {"line": 8}})
    assert "No function, method or class at line 9 of calc/ops.py" in nowhere["message"]
    untitled = await project.run("assay.raiseCoverage", {"uri": "untitled:Untitled-1"})
    assert untitled["message"] == (
        "untitled:Untitled-1 is not a file on disk: save it into the project first: assay runs "
        "the tests"
    )
    nothing = await project.run("assay.generateTests")
    assert nothing["message"] == "No document given: run the command from a source file"
    test_file = project.open("tests/test_ops.py")
    result = await project.run("assay.raiseCoverage", {"uri": test_file})
    assert "tests/test_ops.py is a test file" in result["message"]

    errors = [m.message for m in project.lsp.messages if m.type == types.MessageType.Error]
    assert len(errors) >= 6 and all(e.startswith("assay: ") for e in errors)
    status = await project.status()  # still serving
    assert status["jobs"] == [] and status["mode"] == "local"


@pytest.mark.asyncio
async def test_generate_tests_is_a_previewed_edit_with_progress(
    project: Client, fake_llm: FakeOpenAI
) -> None:
    fake_llm.on(answer)
    uri = project.open("calc/ops.py")
    lens = (await project.lenses(uri))[0]
    assert lens.command is not None
    project.pick_answer = [0, 1]  # the editor offered a pick: it is ignored unless configured
    result = await project.run(lens.command.command, *(lens.command.arguments or []))
    assert result["status"] == "applied", result
    assert result["files"] == ["tests/test_ops_assay.py"]
    assert result["tests"] == ["test_clamp_inside"]
    assert project.picks == []  # not asked: every listed behaviour was tested

    [applied] = project.edits
    assert applied.label == "assay: tests for clamp"
    edit = applied.edit
    assert edit.change_annotations is not None
    note = edit.change_annotations["assay.tests"]
    assert note.needs_confirmation is True and note.label == "assay: tests for clamp"
    assert note.description == result["message"]
    created, text_edit = edit.document_changes or []
    target = (project.root / "tests" / "test_ops_assay.py").as_uri()
    assert isinstance(created, types.CreateFile) and created.uri == target
    assert created.annotation_id == "assay.tests"
    assert isinstance(text_edit, types.TextDocumentEdit)
    assert text_edit.text_document.uri == target and text_edit.text_document.version is None
    [insert] = text_edit.edits
    assert isinstance(insert, types.AnnotatedTextEdit) and insert.annotation_id == "assay.tests"
    assert insert.range.start == insert.range.end == types.Position(0, 0)
    assert insert.new_text.startswith('"""Tests written by `assay tests`')
    assert "def test_clamp_inside():" in insert.new_text
    assert insert.new_text.count("from calc.ops import clamp") == 1
    assert not (project.root / "tests" / "test_ops_assay.py").exists()  # the editor applies

    # $/progress: created by the server, begin → reports → end, cancellable, percentages rising.
    [reports] = project.lsp.progress_reports.values()
    begin, *middle, end = reports
    assert isinstance(begin, types.WorkDoneProgressBegin) and begin.cancellable
    assert begin.title == "assay: tests for clamp"
    assert isinstance(end, types.WorkDoneProgressEnd) and end.message == result["message"]
    messages = [r.message for r in middle if isinstance(r, types.WorkDoneProgressReport)]
    assert any(m and m.startswith("running the project's tests") for m in messages)
    assert "1 behaviours worth testing" in messages
    assert any(m and m.startswith("asking the model: returns x when") for m in messages)
    percentages = [r.percentage or 0 for r in middle if isinstance(r, types.WorkDoneProgressReport)]
    assert percentages == sorted(percentages) and percentages[-1] > 0
    logs = "\n".join(m.message for m in project.lsp.log_messages)
    assert "bounds: accepted test_clamp_inside" in logs  # the details went to the log
    # The accepted test was shown as soon as it passed its gates, before the edit.
    [streamed] = project.accepted
    assert streamed["tests"] == ["test_clamp_inside"] and streamed["first"] is True
    assert streamed["code"].startswith("def test_clamp_inside():")
    assert streamed["path"] == "tests/test_ops_assay.py"
    assert "accepted test_clamp_inside → tests/test_ops_assay.py:\ndef test_clamp_inside" in logs
    shown = [m.message for m in project.lsp.messages]
    assert any("test_clamp_inside passed every gate after" in m for m in shown)
    assert (await project.status())["jobs"] == []


def hanging(stage: str, started: threading.Event, release: threading.Event) -> Any:
    """Answers like ``answer`` but holds the first request of ``stage`` until released."""

    def handler(req: RecordedRequest) -> str:
        if stage in req.messages[1]["content"] and not started.is_set():
            started.set()
            release.wait(30)
        return answer(req)

    return handler


@pytest.mark.asyncio
async def test_cancel_from_the_progress_stops_the_engine(
    project: Client, fake_llm: FakeOpenAI
) -> None:
    started, release = threading.Event(), threading.Event()
    fake_llm.on(hanging("worth a test", started, release))
    uri = project.open("calc/ops.py")
    project.lsp.progress_reports["mine"] = []  # a client-made token (workDoneToken)
    running = asyncio.ensure_future(
        project.run("assay.generateTests", {"uri": uri, "position": {"line": 3}}, token="mine")
    )
    await project.wait(started.is_set, "the model to be asked for behaviours", timeout=60)
    [job] = (await project.status())["jobs"]
    assert job["title"] == "assay: tests for clamp" and not job["cancelled"]
    asked = len(fake_llm.chat_requests)
    project.lsp.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token="mine"))
    result = await asyncio.wait_for(running, 10)  # at once, the model still holding its answer
    release.set()
    assert result == {"status": "cancelled", "message": "assay: tests for clamp: cancelled"}
    end = project.lsp.progress_reports["mine"][-1]
    assert isinstance(end, types.WorkDoneProgressEnd)
    assert end.message == "cancelled (cancelled in the editor)"
    assert (await project.status())["jobs"] == []
    await asyncio.sleep(1.0)  # nothing more is asked: the engine stopped
    assert len(fake_llm.chat_requests) == asked
    assert project.edits == []


@pytest.mark.asyncio
async def test_cancel_request_stops_the_engine(project: Client, fake_llm: FakeOpenAI) -> None:
    started, release = threading.Event(), threading.Event()
    fake_llm.on(hanging("", started, release))  # holds the first model call
    uri = project.open("calc/ops.py")
    # The suite covers nothing of ops.py now: the cover agent has work to do.
    (project.root / "tests" / "test_ops.py").write_text("def test_nothing():\n    pass\n")
    params = types.ExecuteCommandParams(command="assay.raiseCoverage", arguments=[{"uri": uri}])
    request = asyncio.ensure_future(
        project.lsp.protocol.send_request_async(
            types.WORKSPACE_EXECUTE_COMMAND, params, msg_id="cover-1"
        )
    )
    await project.wait(started.is_set, "the first model call", timeout=60)
    project.lsp.cancel_request(types.CancelParams(id="cover-1"))
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(request, 10)
    asked = len(fake_llm.chat_requests)

    async def idle() -> bool:
        return (await project.status())["jobs"] == []

    deadline = time.monotonic() + 10
    while not await idle():
        assert time.monotonic() < deadline, "the job did not stop"
        await asyncio.sleep(0.1)
    release.set()
    await asyncio.sleep(1.0)
    assert len(fake_llm.chat_requests) == asked
    [reports] = project.lsp.progress_reports.values()
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)
    assert reports[-1].message == "cancelled (cancelled by the client)"
