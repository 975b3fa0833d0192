"""The server's commands (``workspace/executeCommand``), each answering with a small result:
``{"status": "applied" | "declined" | "no-tests" | "done" | "cancelled" | "unsupported" |
"error", "message": ..., ...}``.

============================  ===================================================================
``assay.generateTests``       ``{uri, symbol}`` (a code lens) or ``{uri, position}`` (a selection):
                              tests for the function, method or class, as a previewed edit
``assay.raiseCoverage``       ``{uri}``: tests for the file's missed lines and branches
``assay.reviewChanges``       ``{uri?, base?}``: review the changes since the base branch;
                              findings become diagnostics with quick fixes
``assay.clearReview``         remove the review's diagnostics
``assay.cancel``              ``{id?}``: cancel a running job (all of them without an id)
============================  ===================================================================

The work runs in a job (:func:`run_job`): in the server's job threads, with ``$/progress`` on
the request's ``workDoneToken`` or a token the server creates, cancellable from the progress or
by ``$/cancelRequest``.  A user-facing failure is a message in the editor, never a crash.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lsprotocol import types

from agents.errors import AssayError, InputError
from agents.lsp.documents import (
    SUPPORTED,
    is_test_path,
    parse_problem,
    path_of,
    symbol_at,
    symbols_of,
    unsupported_message,
)
from agents.lsp.edits import EditSupport, changes_from_patch, workspace_edit
from agents.lsp.engine import CoverAsk, Engine, Outcome, ReviewAsk, TestsAsk
from agents.lsp.jobs import Cancelled, Job
from flows import FlowsError
from indexer import IndexerError

if TYPE_CHECKING:
    from agents.lsp.server import AssayServer

log = logging.getLogger("assay.lsp")
T = TypeVar("T")
Result = dict[str, Any]

GENERATE = "assay.generateTests"
COVER = "assay.raiseCoverage"
REVIEW = "assay.reviewChanges"
CLEAR = "assay.clearReview"
CANCEL = "assay.cancel"
USER_ERRORS = (AssayError, FlowsError, IndexerError)
PROMPT_DIFF_LINES = 60  # of the diff shown in the question to clients that cannot preview


class Unsupported(AssayError):
    """A document the engine does not work on (another language): said, not an error."""


def register(server: AssayServer) -> None:
    commands = {GENERATE: generate_tests, COVER: raise_coverage, REVIEW: review_changes,
                CLEAR: clear_review, CANCEL: cancel}  # fmt: skip
    for name, command in commands.items():
        server.command(name)(_handler(command))


def _handler(command: Callable[..., Awaitable[Result]]) -> Callable[..., Awaitable[Result]]:
    # pygls reads the handler's annotations at run time: these must resolve here.
    async def handler(ls: Any, *args: Any) -> Result:
        return await command(ls, *args)

    return handler


def _arg(args: tuple[Any, ...]) -> dict[str, Any]:
    first = args[0] if args else {}
    if isinstance(first, str):
        return {"uri": first}
    return dict(first) if isinstance(first, dict) else {}


async def _guard(ls: AssayServer, run: Callable[[], Awaitable[Result]]) -> Result:
    try:
        return await run()
    except Unsupported as exc:
        ls.tell(str(exc))
        return {"status": "unsupported", "message": str(exc)}
    except USER_ERRORS as exc:
        ls.tell(f"assay: {exc}", types.MessageType.Error)
        return {"status": "error", "message": str(exc)}
    except Exception as exc:  # a bug of ours: say so, keep serving
        log.exception("command failed")
        message = f"assay: internal error ({type(exc).__name__}: {exc}); the log has details"
        ls.tell(message, types.MessageType.Error)
        return {"status": "error", "message": message}


# -- jobs ----------------------------------------------------------------------------------------


async def _progress_token(ls: AssayServer) -> types.ProgressToken | None:
    window = ls.client_capabilities.window
    if not (window and window.work_done_progress):
        return None
    token = f"assay-{uuid.uuid4().hex[:12]}"
    try:
        await ls.work_done_progress.create_async(token)
    except Exception as exc:  # the client refused: work without a progress UI
        log.warning("window/workDoneProgress/create failed: %s", exc)
        return None
    return token


async def run_job(
    ls: AssayServer, kind: str, title: str, work: Callable[[Job], T], done: Callable[[T], str]
) -> T | Result:
    """Run ``work(job)`` in a job thread; its value, or a ``cancelled`` result."""
    request_id = ls.protocol.msg_id
    token = ls.protocol.work_done_tokens.pop(request_id, None) or await _progress_token(ls)
    job = Job(ls, kind, title, token)
    ls.job_started(job, request_id)
    job.begin("starting")
    future = asyncio.get_running_loop().run_in_executor(ls.job_pool, work, job)
    future.add_done_callback(lambda f: f.cancelled() or f.exception())  # retrieved: no warning
    try:
        value = await asyncio.shield(future)
    except Cancelled as exc:
        job.end(f"cancelled ({exc.reason})")
        return {"status": "cancelled", "message": f"{title}: cancelled"}
    except asyncio.CancelledError:  # the server is shutting down
        job.token.cancel("the server is shutting down")
        raise
    except BaseException as exc:
        job.end(f"failed: {exc}")
        raise
    finally:
        ls.job_finished(job, request_id)
    job.end(done(value))
    return value


def _engine(ls: AssayServer) -> tuple[Engine, Callable[[], None]]:
    """The engine the settings ask for, and how to close it."""
    if ls.config.uses_service:
        from agents.lsp.remote import RemoteEngine

        remote = RemoteEngine(ls.config)
        return remote, remote.close
    from agents.lsp.local import LocalEngine

    return LocalEngine(ls.config), lambda: None


def _with_engine(ls: AssayServer, call: Callable[[Engine, Job], T]) -> Callable[[Job], T]:
    def work(job: Job) -> T:
        engine, close = _engine(ls)
        try:
            return call(engine, job)
        finally:
            close()

    return work


# -- documents -----------------------------------------------------------------------------------


def _document(ls: AssayServer, arg: dict[str, Any]) -> tuple[str, Path, Path, str, str, str]:
    """(uri, path, project root, path relative to it, text, language) of a Python, JavaScript
    or TypeScript file the engine can work on, or an error that says why not."""
    uri = arg.get("uri")
    if not isinstance(uri, str) or not uri:
        raise InputError("No document given", "run the command from a source file")
    path = path_of(uri)
    language = ls.language(uri)
    if language not in SUPPORTED:
        raise Unsupported(unsupported_message(language))
    root = ls.root_of(path)
    rel = path.relative_to(root).as_posix() if root in path.parents else path.name
    try:
        on_disk = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(f"{rel} is not saved on disk", "save it first: assay runs it") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Cannot read {rel}: {exc}", "check the file") from exc
    doc = ls.workspace.text_documents.get(uri)
    if doc is not None and doc.source != on_disk:
        raise InputError(f"{rel} has unsaved changes", "save it first: assay runs the saved files")
    problem = parse_problem(on_disk, rel, language)
    if problem:
        raise InputError(problem)
    return uri, path, root, rel, on_disk, language


async def _deliver(ls: AssayServer, root: Path, outcome: Outcome, label: str) -> Result:
    """The tests as a workspace edit the client previews; applied or declined."""
    for line in outcome.details:
        ls.log(f"  {line}")
    if not outcome.patch:
        ls.tell(f"assay: {outcome.summary}")
        return {"status": "no-tests", "message": outcome.summary}
    changes = changes_from_patch(outcome.patch, lambda rel: ls.text_of((root / rel).as_uri()))
    if not changes:
        ls.tell(f"assay: {outcome.summary} (already in the test file)")
        return {"status": "no-tests", "message": outcome.summary}
    built = workspace_edit(
        root, changes, label=label, description=outcome.summary,
        support=EditSupport.of(ls.client_capabilities), version_of=ls.version_of,
    )  # fmt: skip
    files = [c.path for c in changes]
    result: Result = {"files": files, "tests": outcome.tests, "message": outcome.summary}
    if built.confirm_first:  # the client cannot preview: ask, showing the diff
        ls.log(outcome.patch)
        lines = outcome.patch.splitlines()
        shown = "\n".join(lines[:PROMPT_DIFF_LINES])
        more = (
            f"\n… {len(lines) - PROMPT_DIFF_LINES} more lines in the log"
            if len(lines) > PROMPT_DIFF_LINES
            else ""
        )
        answer = await ls.window_show_message_request_async(
            types.ShowMessageRequestParams(
                type=types.MessageType.Info,
                message=f"assay: {outcome.summary}. Apply to {', '.join(files)}?\n\n{shown}{more}",
                actions=[types.MessageActionItem("Apply"), types.MessageActionItem("Discard")],
            )
        )
        if answer is None or answer.title != "Apply":
            return {**result, "status": "declined"}
    for path in built.create_first:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
    applied = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=built.edit, label=label)
    )
    if not applied.applied:
        reason = f": {applied.failure_reason}" if applied.failure_reason else ""
        ls.log(f"{label}: not applied{reason}")
        return {**result, "status": "declined", "message": f"not applied{reason}"}
    ls.tell(f"assay: {outcome.summary}")
    return {**result, "status": "applied"}


# -- the commands --------------------------------------------------------------------------------


async def generate_tests(ls: AssayServer, *args: Any) -> Result:
    return await _guard(ls, lambda: _generate(ls, _arg(args)))


async def _generate(ls: AssayServer, arg: dict[str, Any]) -> Result:
    _, path, root, rel, text, language = _document(ls, arg)
    if is_test_path(root, path):
        raise InputError(f"{rel} is a test file", "run it on the code under test")
    found = symbols_of(text, language, rel)
    qualname = arg.get("symbol")
    if qualname:
        if not any(s.qualname == qualname for s in found):
            names = ", ".join(s.qualname for s in found[:8]) or "none"
            raise InputError(f"No function, method or class '{qualname}' in {rel}",
                             f"pick one of: {names}")  # fmt: skip
    else:
        where = arg.get("position") or (arg.get("range") or {}).get("start") or {}
        line = int(where.get("line", -1)) if isinstance(where, dict) else -1
        symbol = symbol_at(found, line)
        if symbol is None:
            raise InputError(f"No function, method or class at line {line + 1} of {rel}",
                             "put the cursor inside one")  # fmt: skip
        qualname = symbol.qualname
    ask = TestsAsk(root, rel, qualname, text)
    title = f"assay: tests for {qualname}"
    return await _edit_job(ls, "tests", title, root, lambda e, job: e.generate_tests(job, ask))


async def raise_coverage(ls: AssayServer, *args: Any) -> Result:
    return await _guard(ls, lambda: _cover(ls, _arg(args)))


async def _cover(ls: AssayServer, arg: dict[str, Any]) -> Result:
    _, path, root, rel, text, _language = _document(ls, arg)
    if is_test_path(root, path):
        raise InputError(f"{rel} is a test file", "run it on the code under test")
    ask = CoverAsk(root, rel, text)
    title = f"assay: raise the coverage of {rel}"
    return await _edit_job(ls, "cover", title, root, lambda e, job: e.raise_coverage(job, ask))


async def _edit_job(
    ls: AssayServer, kind: str, title: str, root: Path, call: Callable[[Engine, Job], Outcome]
) -> Result:
    """Run an engine call that ends in test edits as a job, then offer its edit."""
    outcome = await run_job(ls, kind, title, _with_engine(ls, call), lambda o: o.summary)
    if isinstance(outcome, dict):
        return outcome
    return await _deliver(ls, root, outcome, title)


async def review_changes(ls: AssayServer, *args: Any) -> Result:
    return await _guard(ls, lambda: _review(ls, _arg(args)))


async def _review(ls: AssayServer, arg: dict[str, Any]) -> Result:
    base = str(arg.get("base") or ls.config.review_base)
    uri = arg.get("uri")
    if isinstance(uri, str) and uri:
        root = ls.root_of(path_of(uri))
    elif ls.folders():
        root = ls.folders()[0]
    else:
        raise InputError("No workspace folder to review", "open the repository's folder")
    ask = ReviewAsk(root, base)
    title = f"assay: review of the changes since {base}"
    outcome = await run_job(
        ls, "review", title, _with_engine(ls, lambda e, job: e.review(job, ask)),
        lambda o: o.summary,
    )  # fmt: skip
    if isinstance(outcome, dict):
        return outcome
    ls.publish(ls.findings.replace(root, outcome.findings))
    for line in outcome.details:
        ls.log(f"  {line}")
    ls.tell(f"assay: {outcome.summary}")
    return {"status": "done", "message": outcome.summary, "findings": len(outcome.findings)}


async def clear_review(ls: AssayServer, *args: Any) -> Result:
    ls.publish(ls.findings.clear())
    return {"status": "done", "message": "review cleared"}


async def cancel(ls: AssayServer, *args: Any) -> Result:
    wanted = _arg(args).get("id")
    jobs = [j for j in ls.jobs.values() if wanted in (None, j.id)]
    for job in jobs:
        job.token.cancel("cancelled by assay.cancel")
    return {"status": "done", "message": f"cancelling {len(jobs)} job(s)", "jobs": len(jobs)}
