"""The v1 API: tests, reviews, coverage, jobs and repositories (the quality policy and the index
are :mod:`agents.service.routes_policy`).

Small asks (a short snippet, one symbol, a short diff) wait up to ``sync_wait_seconds`` and
answer 200 with the finished job; everything else, and a small ask that takes longer, answers 202
with the job (``Location: /v1/jobs/{id}``) to poll.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool

from agents.service.admin import AdminStore, Repo
from agents.service.auth import Caller, Problem, require
from agents.service.jobs import JobQueue
from agents.service.store import Job

router = APIRouter(prefix="/v1")
READ, WRITE, ADMIN = Depends(require("read")), Depends(require("write")), Depends(require("admin"))
SMALL_SNIPPET_LINES = 200
SMALL_DIFF_LINES = 400
NAME = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$"
REF = r"^[A-Za-z0-9_][A-Za-z0-9._/@{}~^+-]{0,199}$"  # a git ref or revision, never an option
SYMBOL = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,5}$"
MODULE = r"^[A-Za-z_][A-Za-z0-9_]{0,99}$"
MAX_MINUTES = 24 * 60.0


class Ask(BaseModel):
    """A request body: unknown fields are refused (a misspelt option is not silently dropped)."""

    model_config = ConfigDict(extra="forbid")


class TestsRequest(Ask):
    repo: str | None = Field(None, pattern=NAME, description="a registered repository")
    path: str | None = Field(
        None, min_length=1, max_length=1000, description="the source file, relative to the repo"
    )
    symbol: str | None = Field(
        None, pattern=SYMBOL, description="a function, class or Class.method in it"
    )
    snippet: str | None = Field(None, max_length=100_000, description="code to test, pasted")
    module: str = Field(
        "snippet", pattern=MODULE, description="the module name the snippet is saved as"
    )
    max_minutes: float | None = Field(None, gt=0, le=MAX_MINUTES)
    wait: bool = Field(True, description="wait for a small ask (false: always a job)")

    @field_validator("path")
    @classmethod
    def _inside(cls, value: str | None) -> str | None:
        if value is not None:
            parts = PurePosixPath(value).parts
            if value.startswith(("/", "\\")) or ".." in parts or "\0" in value:
                raise ValueError("must be a path inside the repository (relative, no '..')")
        return value


class ReviewRequest(Ask):
    diff: str | None = Field(None, max_length=5_000_000, description="a unified diff")
    repo: str | None = Field(
        None, pattern=NAME, description="a registered repository (index context, policy)"
    )
    base: str | None = Field(
        None, pattern=REF, description="with repo and no diff: review changes since base"
    )
    tests: bool = Field(False, description="add the tests section (needs repo and base)")
    wait: bool = True


class CoverageRequest(Ask):
    repo: str = Field(pattern=NAME)
    files: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        default_factory=list, max_length=200, description="source globs (default: all)"
    )
    max_minutes: float | None = Field(None, gt=0, le=MAX_MINUTES)
    max_tokens: int | None = Field(None, gt=0, le=100_000_000)
    target_coverage: float | None = Field(None, gt=0, le=100)
    write: bool = Field(False, description="write the tests into the checkout (else a patch)")


class RepoIn(Ask):
    name: str = Field(pattern=NAME)
    path: str | None = Field(
        None, min_length=1, max_length=4096, description="a checkout on the server (and workers)"
    )
    clone_url: str | None = Field(None, max_length=2000)
    default_branch: str = Field("main", pattern=REF)


def _state(request: Request) -> tuple[JobQueue, AdminStore]:
    return request.app.state.queue, request.app.state.admin


def _repo(admin: AdminStore, name: str | None) -> Repo | None:
    if name is None:
        return None
    repo = admin.repo(name)
    if repo is None:
        raise Problem(
            404, "not_found", f"no repository '{name}': register it with POST /v1/repos (admin)"
        )
    return repo


async def _answer(request: Request, job: Job, *, wait: bool) -> JSONResponse:
    queue, _ = _state(request)
    if wait:  # poll without holding a thread: many small asks may wait at once
        deadline = time.monotonic() + request.app.state.settings.sync_wait_seconds
        delay = 0.05
        while not job.finished and time.monotonic() < deadline:
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.5)
            fresh: Job | None = await run_in_threadpool(queue.store.get, job.id)
            job = fresh or job
    if job.finished:
        return JSONResponse(job.public(), status_code=200)
    return JSONResponse(job.public(), status_code=202, headers={"Location": f"/v1/jobs/{job.id}"})


@router.post("/tests", tags=["tests"])
async def generate_tests(
    body: TestsRequest, request: Request, caller: Caller = WRITE
) -> JSONResponse:
    """Tests for a file or symbol of a registered repository, or for a pasted snippet; only
    tests that pass every gate come back, as a patch."""
    queue, admin = _state(request)
    if not body.snippet and not (body.repo and body.path):
        raise Problem(400, "bad_request", "pass a snippet, or repo and path")
    repo = _repo(admin, body.repo)
    params = body.model_dump(exclude={"wait"})
    params["repo_path"] = repo.path if repo else None
    job, _ = await run_in_threadpool(queue.submit, "tests", params, token=caller.token.id)
    small = bool(body.symbol) or (
        bool(body.snippet) and len((body.snippet or "").splitlines()) <= SMALL_SNIPPET_LINES
    )
    return await _answer(request, job, wait=body.wait and small)


@router.post("/reviews", tags=["reviews"])
async def review(body: ReviewRequest, request: Request, caller: Caller = WRITE) -> JSONResponse:
    """Review a diff (or a registered repository's changes since ``base``)."""
    queue, admin = _state(request)
    repo = _repo(admin, body.repo)
    if not body.diff and not (repo and repo.path and body.base):
        raise Problem(400, "bad_request", "pass a diff, or repo and base")
    params: dict[str, Any] = body.model_dump(exclude={"wait"})
    params["repo_path"] = repo.path if repo else None
    job, _ = await run_in_threadpool(queue.submit, "review", params, token=caller.token.id)
    lines = len((body.diff or "").splitlines())
    small = bool(body.diff) and not body.tests and lines <= SMALL_DIFF_LINES
    return await _answer(request, job, wait=body.wait and small)


@router.post("/coverage", tags=["coverage"], status_code=202)
async def coverage(body: CoverageRequest, request: Request, caller: Caller = WRITE) -> JSONResponse:
    """Raise a registered repository's coverage (a job)."""
    queue, admin = _state(request)
    repo = _repo(admin, body.repo)
    assert repo is not None
    if not repo.path:
        raise Problem(400, "bad_request", f"'{repo.name}' has no path")
    params = {**body.model_dump(), "repo_path": repo.path}
    job, _ = await run_in_threadpool(queue.submit, "coverage", params, token=caller.token.id)
    return await _answer(request, job, wait=False)


@router.get("/jobs", tags=["jobs"])
def list_jobs(
    request: Request, limit: Annotated[int, Query(ge=1, le=500)] = 50, caller: Caller = READ
) -> list[dict[str, Any]]:
    queue, _ = _state(request)
    return [j.public() for j in queue.store.list(limit)]


@router.get("/jobs/{job_id}", tags=["jobs"])
def get_job(job_id: str, request: Request, caller: Caller = READ) -> dict[str, Any]:
    """A job's state, progress and, once done, its result."""
    queue, _ = _state(request)
    job = queue.store.get(job_id)
    if job is None:
        raise Problem(404, "not_found", f"no job '{job_id}'")
    return job.public()


@router.get("/repos", tags=["repos"])
def list_repos(request: Request, caller: Caller = READ) -> list[dict[str, Any]]:
    _, admin = _state(request)
    return [vars(r) for r in admin.repos()]


@router.post("/repos", tags=["repos"], status_code=201)
def add_repo(body: RepoIn, request: Request, caller: Caller = ADMIN) -> dict[str, Any]:
    """Register a repository (a checkout the server's workers can read)."""
    from pathlib import Path

    _, admin = _state(request)
    if body.path and not Path(body.path).is_dir():
        raise Problem(400, "bad_request", f"{body.path} is not a directory")
    repo = Repo(body.name, body.path, body.clone_url, body.default_branch)
    admin.put_repo(repo)
    return vars(repo)


@router.get("/repos/{name:path}", tags=["repos"])
def get_repo(name: str, request: Request, caller: Caller = READ) -> dict[str, Any]:
    _, admin = _state(request)
    repo = _repo(admin, name)
    return vars(repo)


@router.get("/whoami", tags=["auth"])
def whoami(caller: Caller = READ) -> dict[str, Any]:
    """The token's name and scopes."""
    return caller.token.public()
