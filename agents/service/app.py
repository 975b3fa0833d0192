"""The FastAPI application: health and readiness, the v1 API, the webhooks, the job workers.

:func:`create_app` builds everything from settings; the lifespan starts the embedded workers
(threads of this process, the SQLite queue) and the job recovery loop, and stops them on
shutdown.  With Redis (``ASSAY_REDIS_URL``) the server runs no workers unless asked:
``assay worker`` processes do the work.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from agents import __version__
from agents.errors import AssayError
from agents.service.admin import AdminStore
from agents.service.auth import Problem, RateLimiter
from agents.service.jobs import Handler, JobQueue
from agents.service.limits import RequestLimits, TooLarge
from agents.settings import Settings
from flows import mask_url

log = logging.getLogger("assay.service")

DESCRIPTION = """\
assay's service: tests that run and catch bugs, PR reviews grounded in your code.

Authenticate with `Authorization: Bearer <token>` (create one with `assay token create`).
Scopes nest: `read` < `write` < `admin`.  Long work is a job: poll `/v1/jobs/{id}`.
"""


def webhook_status(settings: Settings) -> dict[str, str]:
    """Which webhook routes run, and why the others do not."""
    out = {}
    for name, secret, env in (
        ("github", settings.github_webhook_secret, "ASSAY_GITHUB_WEBHOOK_SECRET"),
        ("gitlab", settings.gitlab_webhook_secret, "ASSAY_GITLAB_WEBHOOK_SECRET"),
    ):
        out[name] = "enabled" if secret is not None else f"disabled: {env} is not set"
    return out


def create_app(
    settings: Settings,
    *,
    workers: int | None = None,
    handlers: dict[str, Handler] | None = None,
) -> FastAPI:
    """The app.  ``workers``: job threads in this process (default: ``service_workers`` with the
    SQLite queue, 0 with Redis)."""
    from agents.service import routes, routes_policy, webhooks
    from agents.service.handlers import handlers as default_handlers

    settings.service_dir.mkdir(parents=True, exist_ok=True)
    if workers is None:
        workers = settings.service_workers if settings.redis_url is None else 0
    admin = AdminStore(settings.service_dir / "admin.db")
    queue = JobQueue(settings, handlers or default_handlers())
    hooks = webhook_status(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for name, state in hooks.items():
            if state != "enabled":
                log.warning("the %s webhook route is off (%s): it refuses every delivery",
                            name, state)  # fmt: skip
        queue.start(workers)
        try:
            yield
        finally:
            await run_in_threadpool(queue.stop)
            admin.close()

    app = FastAPI(
        title="assay",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.admin = admin
    app.state.queue = queue
    app.state.workers = workers
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute)
    app.state.webhooks = hooks

    app.add_middleware(RequestLimits, limit=settings.max_body_bytes, admin=admin)

    @app.exception_handler(Problem)
    async def _auth(request: Request, exc: Problem) -> JSONResponse:
        return exc.response()

    @app.exception_handler(TooLarge)
    async def _too_large(request: Request, exc: TooLarge) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": "invalid_request", "detail": invalid(exc)}, status_code=422)

    @app.exception_handler(AssayError)
    async def _assay(request: Request, exc: AssayError) -> JSONResponse:
        return JSONResponse({"error": "bad_request", "detail": str(exc)}, status_code=400)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", tags=["health"])
    def readyz() -> JSONResponse:
        """Readiness: the job store, the queue and the model endpoint."""
        checks = readiness(app)
        ok = all(c["ok"] for c in checks.values())
        body = {"status": "ready" if ok else "not ready", "checks": checks}
        return JSONResponse(body, status_code=200 if ok else 503)

    app.include_router(routes_policy.router)
    app.include_router(routes.router)
    app.include_router(webhooks.router)
    return app


def invalid(exc: RequestValidationError) -> str:
    """One line naming the first field a request got wrong (never echoing what was sent)."""
    errors = list(exc.errors())
    if not errors:
        return "the request is not valid"
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "the body"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    msg = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {msg}{more}"


def _check(fn: Any) -> dict[str, Any]:
    """One readiness check: ok and what it found, URL passwords masked."""
    try:
        detail = fn()
    except Exception as exc:
        return {"ok": False, "detail": mask_url(f"{type(exc).__name__}: {exc}")[:300]}
    return {"ok": True, "detail": mask_url(str(detail))}


def readiness(app: FastAPI) -> dict[str, dict[str, Any]]:
    state = app.state
    settings: Settings = state.settings
    queue: JobQueue = state.queue

    def store() -> str:
        queue.store.ping()
        state.admin.ping()
        return "redis" if settings.redis_url is not None else "sqlite"

    def jobs() -> str:
        waiting = queue.huey.storage.queue_size()
        alive = queue.alive_workers()
        if alive is None:
            return f"{waiting} waiting, workers elsewhere (assay worker)"
        if alive == 0:
            raise RuntimeError("no job worker thread is alive")
        return f"{waiting} waiting, {alive} worker thread(s)"

    return {"store": _check(store), "queue": _check(jobs), "model": _check(lambda: model(settings))}


def model(settings: Settings) -> str:
    """The model endpoint answers (a busy one counts: it will answer when it is done)."""
    from agents.model.status import model_status
    from agents.runtime import make_llm_client
    from flows import LLMTimeout

    if settings.llm_base_url:
        quick = settings.model_copy(update={"cache": False, "llm_timeout": 3.0})
        client = make_llm_client(quick, settings.llm_base_url)
        client.max_retries = 0
        try:
            client.list_models()
        except LLMTimeout:
            return f"{settings.llm_base_url} is busy"
        finally:
            client.close()
        return f"{settings.llm_base_url} answers"
    status = model_status(settings)
    if status.server is not None:
        return f"embedded model server at {status.server.base_url}"
    if not status.exists:
        raise RuntimeError("no model: set ASSAY_LLM_BASE_URL or run 'assay model install'")
    return "embedded model, started on demand"
