"""The pure parts of ``assay lsp``: patches to workspace edits, editor settings, symbols,
findings that follow their code, the cancellation guards, the service client's job loop."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from lsprotocol import types

from agents.cover.writer import unified_diff
from agents.errors import ConfigError
from agents.lsp.config import LspConfig
from agents.lsp.documents import (
    find_root,
    language_of,
    parse_problem,
    symbol_at,
    symbols,
    symbols_of,
    unsupported_message,
)
from agents.lsp.edits import (
    EditConflict,
    EditSupport,
    FileChange,
    changes_from_patch,
    line_edits,
    workspace_edit,
)
from agents.lsp.engine import TestsAsk
from agents.lsp.findings import FindingStore
from agents.lsp.jobs import Cancelled, CancelToken, GuardedLLM, Job
from agents.lsp.remote import RemoteEngine
from agents.review.report import Finding
from agents.runtime import make_llm_client
from agents.settings import Settings
from flows.sandbox import Sandbox
from tests.fakes.openai_server import FakeOpenAI, Reply

OLD = "from calc.ops import clamp\n\n\ndef test_clamp():\n    assert clamp(1, 0, 2) == 1\n"
NEW = OLD.replace("from calc.ops import clamp\n", "import pytest\nfrom calc.ops import clamp\n") + (
    "\n\ndef test_clamp_low():\n    assert clamp(-1, 0, 2) == 0\n"
)


def apply(text: str, edits: list[types.TextEdit]) -> str:
    """Apply whole-line edits the way an editor does (from the bottom up)."""
    lines = text.splitlines(keepends=True)
    for e in sorted(edits, key=lambda e: e.range.start.line, reverse=True):
        lines[e.range.start.line : e.range.end.line] = [e.new_text]
    return "".join(lines)


def test_a_patch_extends_the_file_as_the_editor_has_it() -> None:
    patch = unified_diff("tests/test_ops.py", OLD, NEW)
    [change] = changes_from_patch(patch, lambda path: OLD)
    assert change == FileChange("tests/test_ops.py", OLD, NEW)
    edits = line_edits(OLD, NEW)
    assert [(e.range.start.line, e.range.end.line) for e in edits] == [(0, 0), (5, 5)]
    assert apply(OLD, edits) == NEW
    # Edits made in the editor away from the hunks do not matter; edits in them do.
    edited = OLD.replace("clamp(1, 0, 2) == 1", "clamp(1, 0, 2) == 1  # ok")
    with pytest.raises(EditConflict, match="changed near line 1 while assay worked"):
        changes_from_patch(patch, lambda path: edited)
    new_file = unified_diff("tests/test_new.py", None, NEW)
    assert changes_from_patch(new_file, lambda path: None) == [
        FileChange("tests/test_new.py", None, NEW)
    ]
    with pytest.raises(EditConflict, match="was created while assay worked"):
        changes_from_patch(new_file, lambda path: "x = 1\n")
    git_style = (
        "diff --git a/t.py b/t.py\n--- a/t.py\n+++ b/t.py\n@@ -1 +1,2 @@\n x = 1\n+y = 2\n"
        "\\ No newline at end of file\n"
    )
    assert changes_from_patch(git_style, lambda path: "x = 1\n")[0].new == "x = 1\ny = 2"
    # A file without a final newline is replaced whole.
    [whole] = line_edits("a = 1", "a = 1\nb = 2\n")
    assert (whole.range.end.line, whole.range.end.character) == (0, 5)


def test_workspace_edits_ask_for_confirmation_where_the_client_can() -> None:
    root = Path("/proj")
    changes = [FileChange("tests/a.py", None, NEW), FileChange("tests/b.py", OLD, NEW)]
    full = EditSupport(document_changes=True, create_files=True, annotations=True)
    built = workspace_edit(root, changes, label="L", description="D", support=full,
                           version_of=lambda uri: 7)  # fmt: skip
    assert not built.confirm_first and built.create_first == []
    create, first, second = built.edit.document_changes or []
    assert isinstance(create, types.CreateFile) and create.uri == "file:///proj/tests/a.py"
    assert isinstance(first, types.TextDocumentEdit) and first.text_document.version is None
    assert isinstance(second, types.TextDocumentEdit) and second.text_document.version == 7
    assert built.edit.change_annotations == {
        "assay.tests": types.ChangeAnnotation(label="L", needs_confirmation=True, description="D")
    }
    bare = workspace_edit(root, changes, label="L", description="D", support=EditSupport(),
                          version_of=lambda uri: None)  # fmt: skip
    assert bare.confirm_first and bare.create_first == [root / "tests" / "a.py"]
    assert set(bare.edit.changes or {}) == {"file:///proj/tests/a.py", "file:///proj/tests/b.py"}
    caps = types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(
            workspace_edit=types.WorkspaceEditClientCapabilities(
                document_changes=True, resource_operations=[types.ResourceOperationKind.Create]
            )
        )
    )
    assert EditSupport.of(caps) == EditSupport(True, True, False)
    assert EditSupport.of(types.ClientCapabilities()) == EditSupport()


def test_editor_settings_are_the_highest_precedence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "assay.toml").write_text('llm_model = "from-toml"\ncover_repeat = 5\n')
    monkeypatch.setenv("ASSAY_LLM_BASE_URL", "http://env:1/v1")
    config = LspConfig.parse(
        {"assay": {"llm": {"baseUrl": "", "model": "from-editor"}, "projectPython": " ",
                   "settings": {"cover_repeat": 2}, "tests": {"behaviours": 40}}}
    )  # fmt: skip
    loaded = config.settings(tmp_path)
    s = loaded.settings
    assert (s.llm_base_url, s.llm_model, s.cover_repeat) == ("http://env:1/v1", "from-editor", 2)
    assert loaded.origins["llm_model"] == "command line" and config.behaviours == 10
    assert config.describe() == "local engine, model embedded (or ASSAY_LLM_BASE_URL)"
    service = LspConfig.parse({"service": {"url": "http://svc:8700/", "repo": "shop"}})
    assert service.uses_service and service.service_url == "http://svc:8700"
    assert service.describe() == "service http://svc:8700, repository 'shop'"
    assert not LspConfig.parse({"mode": "local", "service": {"url": "http://x"}}).uses_service
    with pytest.raises(ConfigError, match=r"Unknown assay\.mode 'cloud'"):
        LspConfig.parse({"mode": "cloud"})
    with pytest.raises(ConfigError, match=r"assay\.service\.url is empty"):
        _ = LspConfig.parse({"mode": "service"}).uses_service
    with pytest.raises(ConfigError, match="Unknown setting 'cover_repaet'"):
        LspConfig.parse({"settings": {"cover_repaet": 1}}).settings(tmp_path)


def test_symbols_roots_and_languages(tmp_path: Path) -> None:
    source = (
        "class A:\n    class B:\n        async def go(self):\n            pass\n\n"
        "    @property\n    def x(self):\n        return 1\n"
    )
    found = symbols(source)
    assert [(s.qualname, s.kind, s.line, s.def_line, s.column) for s in found] == [
        ("A", "class", 0, 0, 0), ("A.B", "class", 1, 1, 4), ("A.B.go", "method", 2, 2, 8),
        ("A.x", "method", 5, 6, 4),
    ]  # fmt: skip
    assert symbol_at(found, 3).qualname == "A.B.go"  # type: ignore[union-attr]
    assert symbol_at(found, 7).qualname == "A.x"  # type: ignore[union-attr]
    assert symbol_at(found, 20) is None
    with pytest.raises(SyntaxError):
        symbols("def (:")
    (tmp_path / "ws" / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "ws" / "pkg" / "pyproject.toml").write_text("")
    ws = tmp_path / "ws"
    assert find_root(ws / "pkg" / "sub" / "m.py", [ws]) == ws / "pkg"
    assert find_root(ws / "other" / "m.py", [ws]) == ws
    assert language_of("file:///a/b.ts", None) == "typescript"
    assert language_of("file:///a/b.py", None) == "python"
    assert unsupported_message("go") == (
        "assay generates tests for Python, JavaScript and TypeScript files; Go is not supported yet"
    )
    (ws / "web").mkdir()
    (ws / "web" / "package.json").write_text("{}")
    assert find_root(ws / "web" / "src" / "m.ts", [ws]) == ws / "web"  # a JS package's root


JS_MODULE = """\
/** @example clamp(5, 0, 3) */
export function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}

function helper() {}  // not exported: no lens

export class Counter {
  constructor(private step = 1) {}
  bump(): number {
    return this.step;
  }
}

export default (text: string) => text.trim();
"""


def test_js_lenses_sit_over_the_exports_a_test_can_import() -> None:
    found = symbols_of(JS_MODULE, "typescript", "file:///w/src/trim-text.ts")
    assert [(s.qualname, s.kind, s.line, s.column) for s in found] == [
        ("clamp", "function", 1, 0), ("Counter", "class", 7, 0),
        ("Counter.constructor", "method", 8, 2), ("Counter.bump", "method", 9, 2),
        ("trimText", "function", 14, 0),
    ]  # fmt: skip
    assert symbol_at(found, 10).qualname == "Counter.bump"  # type: ignore[union-attr]
    # An untitled TypeScript document (no suffix) parses as TypeScript too.
    assert [s.qualname for s in symbols_of(JS_MODULE, "typescript", "untitled:1")][:2] == [
        "clamp", "Counter",
    ]  # fmt: skip
    with pytest.raises(SyntaxError):
        symbols_of("export function (", "javascript", "file:///w/a.js")
    assert parse_problem("export function (", "src/a.js", "javascript") == (
        "src/a.js does not parse (line 1: cannot parse 'export function ('): fix it, then try again"
    )


def test_findings_follow_their_code() -> None:
    store = FindingStore()
    finding = Finding("app/m.py", 2, "high", "bug", "b can be 0", "return a / b if b else 0",
                      anchor="    return a / b")  # fmt: skip
    [uri] = store.replace(Path("/r"), [finding])
    text = "def f(a, b):\n    return a / b\n"
    [action] = store.actions(uri, types.Range(types.Position(1, 0), types.Position(1, 0)), text)
    assert action.edit is not None and action.edit.changes is not None
    assert action.edit.changes[uri][0].new_text == "    return a / b if b else 0\n"  # indented
    assert store.follow(uri, "import x\n\n" + text) and store.by_uri[uri][0].line == 3
    assert not store.follow(uri, "import x\n\n" + text)
    assert store.follow(uri, "def f(a, b):\n    return 0\n") and store.by_uri[uri] == []
    assert store.clear() == [uri]


def test_a_cancelled_job_stops_waiting_for_the_model_at_once(fake_llm: FakeOpenAI) -> None:
    fake_llm.queue(Reply(content="a slow answer", delay=2.0))
    token = CancelToken()
    client = make_llm_client(Settings(cache=False), fake_llm.url)
    guarded = GuardedLLM(client, token)
    threading.Timer(0.3, token.cancel, ("stop",)).start()
    started = time.monotonic()
    with pytest.raises(Cancelled, match="stop"):
        guarded.complete([{"role": "user", "content": "hi"}], stage="x", max_tokens=5)
    assert time.monotonic() - started < 1.5  # not the 2 s the answer takes
    with pytest.raises(Cancelled):
        guarded.complete([{"role": "user", "content": "again"}])  # refused before asking
    assert len(fake_llm.chat_requests) == 1


def test_a_cancelled_sandbox_runs_nothing_and_stops_what_runs(tmp_path: Path) -> None:
    token = CancelToken()
    with Sandbox(tmp_path, stop_check=token.check) as sandbox:
        threading.Timer(0.5, token.cancel, args=("enough",)).start()
        started = time.monotonic()
        with pytest.raises(Cancelled, match="enough"):
            sandbox.run(["sleep", "30"])  # killed mid-run, not waited for
        assert time.monotonic() - started < 5
        with pytest.raises(Cancelled):
            sandbox.run(["true"])
        with pytest.raises(Cancelled):
            sandbox.run_tests()


class Host:
    def __init__(self) -> None:
        self.sent: list[Any] = []
        self.logs: list[str] = []

    def send_progress(self, token: Any, value: Any) -> None:
        self.sent.append(value)

    def log(self, message: str, level: Any = None) -> None:
        self.logs.append(message)

    def pick(self, job: Job, symbol: str, behaviours: list[dict[str, str]]) -> list[int] | None:
        return list(range(len(behaviours)))

    def accepted(self, job: Job, test: dict[str, Any]) -> None:
        self.logs.append(f"accepted {test}")


def test_the_service_client_follows_the_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("agents.lsp.remote.POLL_SECONDS", 0.01)
    calls: list[tuple[str, str, Any]] = []
    running = {"state": "running", "progress": {"stage": "writing tests", "done": 1, "total": 2}}
    done = {"state": "done", "result": {"patch": "--- /dev/null\n+++ b/t.py\n", "accepted": 1}}
    polls = iter([running, done])

    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        calls.append((request.method, request.url.path, body))
        assert request.headers["authorization"] == "Bearer tok"
        if request.method == "POST":
            return httpx.Response(202, json={"id": "j1", "state": "queued"})
        return httpx.Response(200, json={"id": "j1", **next(polls)})

    config = LspConfig.parse({"service": {"url": "http://svc", "token": "tok"}})
    engine = RemoteEngine(config, transport=httpx.MockTransport(handle))
    host = Host()
    job = Job(host, "tests", "t", "p")
    ask = TestsAsk(tmp_path, "calc/ops.py", "clamp", "def clamp(): ...\n")
    outcome = engine.generate_tests(job, ask)
    assert outcome.summary == (
        "1 test(s) for clamp passed every gate on the service "
        "(snippet mode: set assay.service.repo)"
    )
    assert calls[0] == ("POST", "/v1/tests", {"snippet": "def clamp(): ...\n", "module": "ops",
                                              "symbol": "clamp", "wait": False})  # fmt: skip
    assert [c[1] for c in calls[1:]] == ["/v1/jobs/j1", "/v1/jobs/j1"]
    assert job.percentage == 52 and "[tests] service: writing tests" in host.logs

    job.token.cancel("stop")
    with pytest.raises(Cancelled):
        engine.generate_tests(job, ask)


class Editor:
    """What ``_deliver`` needs of the server, for a client without previews (Neovim-like)."""

    def __init__(self, caps: types.ClientCapabilities, answer: str | None) -> None:
        self.client_capabilities = caps
        self.answer = answer
        self.asked: list[types.ShowMessageRequestParams] = []
        self.applied: list[types.ApplyWorkspaceEditParams] = []
        self.told: list[str] = []

    def text_of(self, uri: str) -> str | None:
        return None

    def version_of(self, uri: str) -> int | None:
        return None

    def log(self, message: str, level: Any = None) -> None:
        pass

    def tell(self, message: str, level: Any = None) -> None:
        self.told.append(message)

    async def window_show_message_request_async(
        self, params: types.ShowMessageRequestParams
    ) -> types.MessageActionItem | None:
        self.asked.append(params)
        return types.MessageActionItem(self.answer) if self.answer else None

    async def workspace_apply_edit_async(
        self, params: types.ApplyWorkspaceEditParams
    ) -> types.ApplyWorkspaceEditResult:
        self.applied.append(params)
        return types.ApplyWorkspaceEditResult(applied=True)


@pytest.mark.asyncio
async def test_clients_that_cannot_preview_are_asked_first(tmp_path: Path) -> None:
    from agents.lsp.commands import _deliver
    from agents.lsp.engine import Outcome

    patch = unified_diff("tests/test_ops_assay.py", None, NEW)
    outcome = Outcome(patch, "1 test(s) for clamp passed every gate", ["test_clamp_low"])
    caps = types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(
            workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True)
        )
    )
    declining = Editor(caps, "Discard")
    result = await _deliver(declining, tmp_path, outcome, "assay: tests")  # type: ignore[arg-type]
    assert result["status"] == "declined" and declining.applied == []
    [question] = declining.asked
    assert question.message.startswith(
        "assay: 1 test(s) for clamp passed every gate. Apply to tests/test_ops_assay.py?\n\n"
    )
    assert "+def test_clamp_low():" in question.message  # the diff is the preview
    assert not (tmp_path / "tests" / "test_ops_assay.py").exists()

    accepting = Editor(caps, "Apply")
    result = await _deliver(accepting, tmp_path, outcome, "assay: tests")  # type: ignore[arg-type]
    assert result["status"] == "applied"
    # No file creation in the client's capabilities: the server made the empty file first.
    assert (tmp_path / "tests" / "test_ops_assay.py").read_text() == ""
    [applied] = accepting.applied
    [text_edit] = applied.edit.document_changes or []
    assert isinstance(text_edit, types.TextDocumentEdit)
    assert applied.edit.change_annotations is None
    assert text_edit.edits[0].new_text == NEW
