"""``assay serve``, ``assay worker`` and ``assay token create|list|revoke``: the service."""

from __future__ import annotations

import json
import logging
import socket
import sys
import time
from typing import Annotated, Any

import typer
from rich.table import Table

from agents.cli.common import err, out, settings_for

token_app = typer.Typer(help="API tokens of the service (stored hashed).", no_args_is_help=True)


LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def _level(value: str) -> str:
    from agents.errors import InputError

    if value.lower() not in LEVELS:
        raise InputError(f"--log-level {value!r} is not a level", f"use one of {', '.join(LEVELS)}")
    return value.lower()


class _MaskURLs(logging.Filter):
    """Log lines with URL passwords masked (a traceback's too): logs end up in places many
    people read."""

    def filter(self, record: logging.LogRecord) -> bool:
        from flows import mask_url

        message = record.getMessage()
        masked = mask_url(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_url(record.exc_text)
        return True


def mask_logs(*names: str) -> None:
    """Mask URL passwords in what the handlers of these loggers (the root: ``""``) write."""
    for name in names:
        for handler in logging.getLogger(name or None).handlers:
            if not any(isinstance(f, _MaskURLs) for f in handler.filters):
                handler.addFilter(_MaskURLs())


def _logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.DEBUG),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    mask_logs("")


def _bind(host: str, port: int) -> socket.socket:
    from agents.errors import ServiceError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say they are TCP;
    # without it every response waits ~40 ms for the client's delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServiceError(
            f"Cannot listen on {host}:{port}: {exc.strerror}", "pick another --port or --host"
        ) from exc
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (0: any free one).")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", min=0, help="Job threads in this process (default: 1; 0 with Redis)."
        ),
    ] = None,
    require_webhook: Annotated[
        list[str] | None,
        typer.Option(
            "--require-webhook",
            help="github or gitlab: refuse to start unless its webhook secret is set.",
        ),
    ] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="info, warning, …")] = "info",
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request.")
    ] = True,
) -> None:
    """Run the service: the v1 API (docs at /docs), the webhooks and, with the embedded SQLite
    queue, the job workers."""
    import uvicorn

    from agents.errors import ServiceError
    from agents.service.app import create_app, webhook_status

    level = _level(log_level)
    s = settings_for(None, service_host=host, service_port=port).settings
    hooks = webhook_status(s)
    for name in require_webhook or []:
        if name not in hooks:
            raise ServiceError(f"Unknown webhook '{name}'", "use github or gitlab")
        if hooks[name] != "enabled":
            raise ServiceError(f"The {name} webhook cannot start: {hooks[name][10:]}",
                               "set the webhook's secret and start again")  # fmt: skip
    _logging(level)
    app = create_app(s, workers=workers)
    sock = _bind(s.service_host, s.service_port)
    bound = sock.getsockname()[1]
    queue = "redis" if s.redis_url is not None else f"sqlite in {s.service_dir}"
    shown = f"[{s.service_host}]" if ":" in s.service_host else s.service_host
    print(f"assay service on http://{shown}:{bound} (docs: /docs)", flush=True)
    print(f"jobs: {queue}, {app.state.workers} worker thread(s) here", flush=True)
    for name, state in hooks.items():
        print(f"webhook /webhooks/{name}: {state}", flush=True)
    config = uvicorn.Config(
        app, log_level=level, access_log=access_log, lifespan="on", timeout_graceful_shutdown=10,
    )  # fmt: skip
    mask_logs("uvicorn", "uvicorn.error", "uvicorn.access")  # uvicorn's own handlers
    uvicorn.Server(config).run(sockets=[sock])


def worker(
    concurrency: Annotated[
        int,
        typer.Option("--concurrency", "-c", min=1, help="Jobs run at once by this process."),
    ] = 1,
    log_level: Annotated[str, typer.Option("--log-level")] = "info",
) -> None:
    """Run jobs from the queue (Redis: on any machine; SQLite: on the server's machine)."""
    from agents.service.handlers import handlers
    from agents.service.jobs import JobQueue
    from agents.settings import load_settings

    level = _level(log_level)
    s = load_settings().settings
    _logging(level)
    queue = JobQueue(s, handlers())
    where = "redis" if s.redis_url is not None else f"sqlite in {s.service_dir} (this machine)"
    print(f"assay worker {queue.identity}: {concurrency} thread(s), jobs from {where}", flush=True)
    queue.serve_forever(concurrency)


def _admin() -> Any:
    from agents.service.admin import AdminStore
    from agents.settings import load_settings

    s = load_settings().settings
    return AdminStore(s.service_dir / "admin.db")


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="Who or what the token is for.")],
    scope: Annotated[
        list[str] | None, typer.Option("--scope", "-s", help="read, write or admin (nested).")
    ] = None,
) -> None:
    """Create a token; it is printed once (only its hash is kept)."""
    from agents.service.auth import create_token, expand

    token, record = create_token(_admin(), name, scope or ["read"])
    err.print(
        f"token {record.id} '{name}' with scopes {', '.join(sorted(expand(record.scopes)))}; "
        "keep it now, it cannot be shown again:"
    )
    print(token)


@token_app.command("list")
def token_list(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """The tokens (never their secrets)."""
    records = [r.public() for r in _admin().tokens()]
    if as_json:
        print(json.dumps(records, indent=2))
        return
    table = Table(title="assay API tokens")
    for column in ("id", "name", "scopes", "created", "last used", "state"):
        table.add_column(column)

    def when(ts: float | None) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else "-"

    for r in records:
        state = "revoked" if r["revoked"] else "active"
        row = (r["id"], r["name"], ",".join(r["scopes"]), when(r["created_at"]))
        table.add_row(*row, when(r["last_used"]), state)
    out.print(table)


@token_app.command("revoke")
def token_revoke(token_id: Annotated[str, typer.Argument(help="The token's id.")]) -> None:
    """Revoke a token: it stops working at once."""
    from agents.errors import InputError

    if not _admin().revoke_token(token_id):
        raise InputError(f"No active token with id '{token_id}'", "see 'assay token list'")
    err.print(f"token {token_id} revoked")
