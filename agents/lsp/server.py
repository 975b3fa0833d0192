"""The language server (pygls, stdio): features, settings, and the bridge between the asyncio
loop that speaks LSP and the worker threads that run the engine.

Everything sent to the client goes through the loop (:meth:`AssayServer.soon`): worker threads
never write to stdout themselves.  Cancellation reaches a job two ways, both handled here:
``window/workDoneProgress/cancel`` names its progress token, ``$/cancelRequest`` its request.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from agents import __version__
from agents.errors import AssayError
from agents.lsp.config import SECTION, LspConfig, deep_merge
from agents.lsp.documents import (
    SymbolInfo,
    find_root,
    language_of,
    path_of,
)
from agents.lsp.findings import FindingStore
from agents.lsp.jobs import Job, ProgressValue

log = logging.getLogger("assay.lsp")
PICK_METHOD = "assay/pickBehaviours"
ACCEPTED_METHOD = "assay/testAccepted"  # {title, tests, path, code, first, seconds}
STATUS_METHOD = "assay/status"


class AssayProtocol(LanguageServerProtocol):
    """pygls' protocol, plus two things its command handlers do not get: the ``workDoneToken``
    of a ``workspace/executeCommand`` request, and ``$/cancelRequest`` for a command whose
    handler already runs (pygls only cancels requests that have not started)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.work_done_tokens: dict[Any, types.ProgressToken] = {}
        self.request_jobs: dict[Any, Job] = {}

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    def lsp_workspace__execute_command(
        self, params: types.ExecuteCommandParams
    ) -> Generator[Any, Any, Any]:
        if params.work_done_token is not None and self.msg_id is not None:
            self.work_done_tokens[self.msg_id] = params.work_done_token
        return (yield from super().lsp_workspace__execute_command(params))

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> Generator[Any, Any, None]:
        # Stop the jobs, and cancel what is in flight on a copy: pygls' own loop over the
        # requests breaks when a cancelled one removes itself while it iterates.
        for job in list(self.request_jobs.values()):
            job.token.cancel("the editor shut the server down")
        current = self.msg_id
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current and not future.done():
                future.cancel()
        return (yield from super().lsp_shutdown(*args))

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        job = self.request_jobs.get(msg_id)
        if job is not None:
            job.token.cancel("cancelled by the client")
        super()._handle_cancel_notification(msg_id)


class AssayServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "assay", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=AssayProtocol, max_workers=4,
        )  # fmt: skip
        self.protocol: AssayProtocol
        self.init_options: dict[str, Any] = {}
        self.config = LspConfig()
        self.jobs: dict[str, Job] = {}
        self.progress_jobs: dict[types.ProgressToken, Job] = {}
        self.findings = FindingStore()
        self.lens_cache: dict[str, list[SymbolInfo]] = {}
        self.told_languages: set[str] = set()
        self.job_pool = concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="assay-job")
        self.loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0

    # -- sending from any thread ---------------------------------------------------------------

    def soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Call ``fn`` on the loop (at once when already there)."""
        if self.loop is None or threading.get_ident() == self._loop_thread:
            fn(*args)
        else:
            self.loop.call_soon_threadsafe(fn, *args)

    def send_progress(self, token: types.ProgressToken, value: ProgressValue) -> None:
        self.soon(self.progress, types.ProgressParams(token=token, value=value))

    def log(self, message: str, level: types.MessageType = types.MessageType.Info) -> None:
        log.info("%s", message)
        self.soon(self.window_log_message, types.LogMessageParams(type=level, message=message))

    def tell(self, message: str, level: types.MessageType = types.MessageType.Info) -> None:
        """A message the user sees (a notification in VS Code)."""
        self.log(message, level)
        self.soon(self.window_show_message, types.ShowMessageParams(type=level, message=message))

    def accepted(self, job: Job, test: dict[str, Any]) -> None:
        """A test passed its gates while the job runs: at once in the log (with its code), as an
        ``assay/testAccepted`` notification for clients that show it, and, for the first one,
        as a message; the edit with every accepted test still comes at the end."""
        names = ", ".join(test["tests"])
        self.log(f"[{job.kind}] accepted {names} → {test['path']}:\n{test['code']}")
        self.soon(self.protocol.notify, ACCEPTED_METHOD, {"title": job.title, **test})
        if test["first"]:
            self.tell(f"assay: {names} passed every gate after {test['seconds']:g} s "
                      "(the edit comes when the job ends)")  # fmt: skip

    def pick(self, job: Job, symbol: str, behaviours: list[dict[str, str]]) -> list[int] | None:
        """Which behaviours to test: the client's answer to ``assay/pickBehaviours`` when it
        offered to answer it, else all.  Called from the job's thread."""
        every = list(range(len(behaviours)))
        if not self.config.pick_behaviours or self.loop is None:
            return every

        async def ask() -> Any:
            params = {"symbol": symbol, "behaviours": behaviours}
            return await self.protocol.send_request_async(PICK_METHOD, params)

        future = asyncio.run_coroutine_threadsafe(ask(), self.loop)
        while True:
            try:
                answer = future.result(timeout=0.2)
                break
            except concurrent.futures.TimeoutError:
                if job.token.cancelled:
                    future.cancel()
                    job.token.check()
            except Exception as exc:  # the client cannot answer after all: test them all
                log.warning("%s failed (%s): testing every behaviour", PICK_METHOD, exc)
                return every
        if answer is None:
            return None
        return [int(i) for i in answer if isinstance(i, int | float | str) and str(i).isdigit()]

    # -- jobs ----------------------------------------------------------------------------------

    def job_started(self, job: Job, request_id: Any) -> None:
        self.jobs[job.id] = job
        if job.progress_token is not None:
            self.progress_jobs[job.progress_token] = job
        if request_id is not None:
            self.protocol.request_jobs[request_id] = job

    def job_finished(self, job: Job, request_id: Any) -> None:
        self.jobs.pop(job.id, None)
        if job.progress_token is not None:
            self.progress_jobs.pop(job.progress_token, None)
        self.protocol.request_jobs.pop(request_id, None)

    # -- documents -----------------------------------------------------------------------------

    def folders(self) -> list[Path]:
        out: list[Path] = []
        for folder in self.workspace.folders.values():
            try:
                out.append(path_of(folder.uri))
            except AssayError:
                continue
        if not out and self.workspace.root_uri:
            with contextlib.suppress(AssayError):
                out.append(path_of(self.workspace.root_uri))
        return out

    def root_of(self, path: Path) -> Path:
        return find_root(path, self.folders())

    def text_of(self, uri: str) -> str | None:
        """The editor's text of ``uri`` when it is open, else the file on disk, else None."""
        doc = self.workspace.text_documents.get(uri)
        if doc is not None:
            return doc.source
        try:
            return path_of(uri).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError, AssayError):
            return None

    def language(self, uri: str) -> str:
        doc = self.workspace.text_documents.get(uri)
        return language_of(uri, doc.language_id if doc is not None else None)

    def version_of(self, uri: str) -> int | None:
        doc = self.workspace.text_documents.get(uri)
        return doc.version if doc is not None else None

    def publish(self, uris: list[str]) -> None:
        for uri in uris:
            diagnostics = self.findings.diagnostics(uri, self.text_of(uri))
            params = types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics)
            self.soon(self.text_document_publish_diagnostics, params)

    # -- settings ------------------------------------------------------------------------------

    def apply_settings(self, data: dict[str, Any] | None) -> None:
        merged = deep_merge(self.init_options, data or {})
        try:
            self.config = LspConfig.parse(merged)
        except AssayError as exc:
            self.tell(f"assay: {exc} (the previous settings stay in force)",
                      types.MessageType.Error)  # fmt: skip
            return
        self.log(f"assay {__version__}: {self.config.describe()}")

    async def pull_settings(self) -> None:
        caps = self.client_capabilities.workspace
        if not (caps and caps.configuration):
            return
        try:
            got = await self.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)])
            )
        except Exception as exc:  # a client that cannot answer: keep the options
            log.warning("workspace/configuration failed: %s", exc)
            return
        if got and isinstance(got[0], dict):
            self.apply_settings(got[0])
