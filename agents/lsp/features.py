"""The language server's features (lifecycle, configuration, documents, code lenses, code
actions, status) on the one :class:`~agents.lsp.server.AssayServer`, its commands
(:mod:`agents.lsp.commands`), and :func:`run_stdio`."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from typing import Any, BinaryIO

from lsprotocol import types

from agents import __version__
from agents.errors import AssayError
from agents.lsp import commands
from agents.lsp.config import SECTION
from agents.lsp.documents import (
    SUPPORTED,
    is_test_path,
    language_of,
    path_of,
    symbols_of,
    unsupported_message,
)
from agents.lsp.server import STATUS_METHOD, AssayServer

server = AssayServer()


@server.feature(types.INITIALIZE)
def initialize(ls: AssayServer, params: types.InitializeParams) -> None:
    ls.loop = asyncio.get_event_loop()
    ls._loop_thread = threading.get_ident()
    options = params.initialization_options
    ls.init_options = dict(options) if isinstance(options, dict) else {}
    ls.apply_settings(None)


@server.feature(types.INITIALIZED)
async def initialized(ls: AssayServer, params: types.InitializedParams) -> None:
    await ls.pull_settings()


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def configuration_changed(
    ls: AssayServer, params: types.DidChangeConfigurationParams
) -> None:
    settings = params.settings
    if isinstance(settings, dict) and isinstance(settings.get(SECTION), dict):
        ls.apply_settings(settings[SECTION])
    else:
        await ls.pull_settings()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: AssayServer, params: types.DidOpenTextDocumentParams) -> None:
    language = language_of(params.text_document.uri, params.text_document.language_id)
    if language not in SUPPORTED and language not in ls.told_languages:
        ls.told_languages.add(language)
        ls.tell(unsupported_message(language))


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: AssayServer, params: types.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    text = ls.text_of(uri)
    if text is not None and ls.findings.follow(uri, text):
        ls.publish([uri])


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: AssayServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.lens_cache.pop(params.text_document.uri, None)


@server.feature(types.TEXT_DOCUMENT_CODE_LENS)
def code_lens(ls: AssayServer, params: types.CodeLensParams) -> list[types.CodeLens]:
    uri = params.text_document.uri
    language = ls.language(uri)
    if language not in SUPPORTED:
        return []
    try:
        path = path_of(uri)
    except AssayError:
        path = None
    if path is not None and is_test_path(ls.root_of(path), path):
        return []  # tests are not what one writes tests for
    text = ls.text_of(uri) or ""
    try:
        found = ls.lens_cache[uri] = symbols_of(text, language, uri)
    except (SyntaxError, ValueError):
        found = ls.lens_cache.get(uri, [])  # while the user types: the last good lenses
    return [
        types.CodeLens(
            range=types.Range(types.Position(s.line, s.column), types.Position(s.line, s.width)),
            command=types.Command(
                title="Generate tests",
                command=commands.GENERATE,
                arguments=[{"uri": uri, "symbol": s.qualname}],
            ),
        )
        for s in found
    ]


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
)
def code_action(ls: AssayServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    return ls.findings.actions(uri, params.range, ls.text_of(uri))


@server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
def progress_cancelled(ls: AssayServer, params: types.WorkDoneProgressCancelParams) -> None:
    job = ls.progress_jobs.get(params.token)
    if job is not None:
        job.token.cancel("cancelled in the editor")
        ls.log(f"[{job.kind}] cancelling: {job.title}")


@server.feature(STATUS_METHOD)
def status(ls: AssayServer, params: Any) -> dict[str, Any]:
    """The server's state, for status bars and tests: mode and running jobs."""
    return {
        "version": __version__,
        "mode": "service" if ls.config.mode != "local" and ls.config.service_url else "local",
        "engine": ls.config.describe(),
        "jobs": [job.status() for job in ls.jobs.values()],
    }


commands.register(server)


def run_stdio(log_level: str = "INFO", stdout: BinaryIO | None = None) -> None:
    logging.basicConfig(
        stream=sys.stderr, level=getattr(logging, log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )  # fmt: skip
    for noisy in ("pygls", "httpx", "httpx2", "httpcore", "openai"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        server.start_io(sys.stdin.buffer, stdout or sys.stdout.buffer)
    finally:  # the editor went away (EOF, SIGTERM) or said exit: stop the work, do not wait
        for job in list(server.jobs.values()):
            job.token.cancel("the language server stopped")
        server.job_pool.shutdown(wait=False, cancel_futures=True)
