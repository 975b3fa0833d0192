"""Wiring: turn settings into the objects the libraries take (LLM client, interpreter, paths).

This is where settings meet :mod:`flows`; the libraries themselves never read settings.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agents.errors import InputError
from agents.settings import Settings
from flows import CredentialScreen, LLMClient, LLMUnreachable, ResponseCache, TraceWriter

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


def make_llm_client(
    settings: Settings,
    base_url: str,
    *,
    trace_path: Path | None = None,
) -> LLMClient:
    """An :class:`LLMClient` for ``base_url`` configured from settings (cache, retries, trace)."""
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    # Prompts carry code and test output: traces (0600) never keep this host's secret values.
    known = CredentialScreen.from_env(os.environ).known | ({key} if key else set())
    redact = CredentialScreen(frozenset(known)).redact
    return LLMClient(
        base_url,
        settings.llm_model,
        api_key=key,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
        stage_models=settings.llm_stage_models,
        cache=ResponseCache(settings.cache_dir) if settings.cache else None,
        trace=TraceWriter(trace_path, include_content=True, redact=redact) if trace_path else None,
    )


@contextmanager
def open_llm(settings: Settings, *, trace_path: Path | None = None) -> Iterator[LLMClient]:
    """A client for the configured endpoint, or for the embedded model (started if needed and
    stopped afterwards when this command started it)."""
    from agents.modelserver import llm_endpoint

    fix = UNREACHABLE_FIX_ENDPOINT if settings.llm_base_url else UNREACHABLE_FIX_EMBEDDED
    with llm_endpoint(settings) as base_url:
        client = make_llm_client(settings, base_url, trace_path=trace_path)
        try:
            yield client
        except LLMUnreachable as err:
            raise err.with_fix(fix) from err.__cause__
        finally:
            client.close()
