"""Wiring: settings become the objects the libraries take — in one place.

:func:`open_run` opens what a run of an agent needs from the settings (the sandbox over the
repository, the model — the configured endpoint or the embedded one, started when needed — and
the run's trace file); the agents take those objects and know nothing of settings.  The
libraries (:mod:`flows`, :mod:`indexer`) never read settings.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from agents.errors import InputError
from agents.settings import Settings
from flows import (
    BudgetExhausted,
    Completer,
    CredentialScreen,
    LLMClient,
    LLMUnreachable,
    ResponseCache,
    Sandbox,
    TraceWriter,
)

T = TypeVar("T")
UNREACHABLE_FIX_ENDPOINT = "check that the server runs, or fix ASSAY_LLM_BASE_URL / --llm-base-url"
UNREACHABLE_FIX_EMBEDDED = "set ASSAY_LLM_BASE_URL or run 'assay model install'"


def resolve_repo(path: Path | str) -> Path:
    """An existing directory given on the command line, absolute."""
    repo = Path(path).expanduser()
    if not repo.exists():
        raise InputError(f"Repository path {repo} does not exist", "pass an existing directory")
    if not repo.is_dir():
        raise InputError(f"Repository path {repo} is not a directory", "pass its directory")
    return repo.resolve()


def resolve_python(value: str | None) -> str:
    """The interpreter that runs the project's tests: ``--python`` / ``python`` or assay's own."""
    if not value:
        return sys.executable
    candidate = Path(value).expanduser()
    found = str(candidate) if candidate.parent != Path(".") else shutil.which(value)
    if found is None or not Path(found).exists():
        raise InputError(
            f"Python interpreter {value} not found",
            "pass --python the path of a python executable, e.g. .venv/bin/python",
        )
    if Path(found).is_dir() or not os.access(found, os.X_OK):
        raise InputError(
            f"Python interpreter {value} is not an executable file",
            "pass --python the path of a python executable, e.g. .venv/bin/python",
        )
    return str(Path(found).absolute())


def trace_path(settings: Settings, kind: str, ident: str | None = None) -> Path:
    """Where the trace of a run goes: ``<home>/traces/<kind>-<ident or a timestamp>.jsonl``."""
    stamp = ident or f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    return settings.traces_dir / f"{kind}-{stamp}.jsonl"


def open_trace(
    settings: Settings, kind: str, ident: str | None = None, path: Path | None = None
) -> TraceWriter:
    """The run's trace (``path``, else named by :func:`trace_path`): prompts and replies
    included, in a file only its owner reads, never with this host's secret values (prompts
    carry code and test output)."""
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    known = CredentialScreen.from_env(os.environ).known | ({key} if key else set())
    redact = CredentialScreen(frozenset(known)).redact
    where = path or trace_path(settings, kind, ident)
    return TraceWriter(where, include_content=True, redact=redact)


def make_llm_client(settings: Settings, base_url: str) -> LLMClient:
    """An :class:`LLMClient` for ``base_url`` configured from settings (cache, retries)."""
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    return LLMClient(
        base_url,
        settings.llm_model,
        api_key=key,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
        stage_models=settings.llm_stage_models,
        cache=ResponseCache(settings.cache_dir) if settings.cache else None,
    )


@contextmanager
def open_llm(settings: Settings) -> Iterator[LLMClient]:
    """A client for the configured endpoint, or for the embedded model (started if needed and
    stopped afterwards when this command started it)."""
    from agents.model.server import llm_endpoint

    fix = UNREACHABLE_FIX_ENDPOINT if settings.llm_base_url else UNREACHABLE_FIX_EMBEDDED
    with llm_endpoint(settings) as base_url:
        client = make_llm_client(settings, base_url)
        try:
            yield client
        except LLMUnreachable as err:
            raise err.with_fix(fix) from err.__cause__
        finally:
            client.close()


def open_sandbox(
    settings: Settings,
    repo: Path,
    *,
    stop_check: Callable[[], None] | None = None,
    timeout: float | None = None,
    language: str = "python",
) -> Sandbox:
    """The sandbox over ``repo`` the settings describe (interpreter, timeout unless given,
    memory cap, the strongest isolation allowed, the environment variables passed on purpose);
    open it with ``with``.

    For a ``javascript`` project every run shares the package's ``node_modules`` (read-only
    under bubblewrap) and the address space is not capped: V8 and WebAssembly reserve far more
    than they use (node's heap is capped by the runner's ``--max-old-space-size`` instead)."""
    memory = settings.sandbox_memory_mb * 2**20 if settings.sandbox_memory_mb else None
    node = language == "javascript"
    return Sandbox(
        repo,
        resolve_python(settings.python),
        timeout=timeout or settings.sandbox_timeout,
        memory_limit=None if node else memory,
        stop_check=stop_check,
        max_isolation=settings.sandbox_isolation,
        dependencies=("node_modules",) if node else (),
        pass_env=settings.sandbox_pass_env,
    )


@dataclass
class Run:
    """What one run of an agent has open: the sandbox (None when the run needs none), the
    model (None likewise) and the trace every model call is written to."""

    settings: Settings
    sandbox: Sandbox | None
    llm: Completer | None
    trace: TraceWriter

    @property
    def trace_path(self) -> Path:
        return self.trace.path


@contextmanager
def open_run(
    settings: Settings,
    kind: str,
    *,
    repo: Path | None = None,
    model: bool = True,
    trace_id: str | None = None,
    trace_file: Path | None = None,
    stop_check: Callable[[], None] | None = None,
    sandbox_timeout: float | None = None,
    wrap_llm: Callable[[LLMClient], Completer] | None = None,
    language: str = "python",
) -> Iterator[Run]:
    """Open a run of ``kind`` (``cover``, ``tests``, ``review`` …): a sandbox over ``repo``
    (when given; ``language="javascript"``: see :func:`open_sandbox`), the model (unless
    ``model=False``; ``wrap_llm`` wraps the client, e.g. in a cancellation guard) and the trace
    (``trace_file``, else named by :func:`trace_path`).  Everything opened is closed when the
    block ends."""
    with ExitStack() as stack:
        sandbox = None
        if repo is not None:
            sandbox = open_sandbox(
                settings, repo, stop_check=stop_check, timeout=sandbox_timeout, language=language
            )
            stack.enter_context(sandbox)
        llm: Completer | None = None
        if model:
            client = stack.enter_context(open_llm(settings))
            llm = wrap_llm(client) if wrap_llm is not None else client
        yield Run(settings, sandbox, llm, open_trace(settings, kind, trace_id, trace_file))


def past_the_deadline(finish: Callable[[], T]) -> T:
    """Run a step of a run's end (verifying what was accepted, a final score). The run's
    deadline (:func:`open_run`'s ``stop_check``) stops the one sandboxed run in flight when it
    comes; when that was this step's, the step runs again."""
    try:
        return finish()
    except BudgetExhausted:
        return finish()
