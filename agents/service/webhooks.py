"""``/webhooks/github`` and ``/webhooks/gitlab``: verify, deduplicate, queue, answer fast.

In this order, for every delivery:

1. no secret configured → 503: the route refuses to run unsigned (it says which setting);
2. a content type other than ``application/json`` → 415;
3. the raw body is read up to ``max_body_bytes`` (413 beyond, before anything else reads it);
4. the signature (GitHub ``X-Hub-Signature-256``) or token (GitLab ``X-Gitlab-Token``) is checked
   on that raw body in constant time → 401 when it does not match; nothing was parsed yet;
5. the JSON is parsed and the fields the bot reads are validated (the platform's pydantic
   models: types, repository names, numbers in range, commit SHAs) → 400 naming the field;
   an event the bot does not act on → 200 ``ignored`` with the reason;
6. a delivery id seen before (``X-GitHub-Delivery``; GitLab ``Idempotency-Key`` or
   ``X-Gitlab-Event-UUID``), within ``delivery_ttl_seconds`` → 200 ``duplicate``, no job;
7. otherwise a ``pr`` job is queued → 202 with its id.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from agents.platforms import github, gitlab
from agents.platforms.base import BadPayload, Event
from agents.service.jobs import JobQueue
from agents.settings import Settings

router = APIRouter(tags=["webhooks"])
MAX_DELIVERY_ID = 200  # characters of X-GitHub-Delivery / Idempotency-Key (GitHub's are UUIDs)


class _TooLarge(Exception):
    pass


def _error(status: int, error: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, or :class:`_TooLarge` as soon as it is longer than ``limit``."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _TooLarge
    return bytes(body)


def _queue(queue: JobQueue, settings: Settings, delivery: str, parsed: Event | str) -> JSONResponse:
    if isinstance(parsed, str):
        return JSONResponse({"status": "ignored", "reason": parsed}, status_code=200)
    key = f"{parsed.platform}:{delivery}" if delivery else ""
    if key and not queue.store.first_delivery(key, settings.delivery_ttl_seconds):
        return JSONResponse({"status": "duplicate", "delivery": delivery}, status_code=200)
    params: dict[str, Any] = {
        "platform": parsed.platform,
        "action": parsed.action,
        "repo": parsed.repo,
        "number": parsed.number,
        "head_sha": parsed.head_sha,
        "installation_id": parsed.installation_id,
        "trigger": parsed.trigger,
        "delivery": delivery,
    }
    if parsed.extra:
        params["extra"] = parsed.extra
    try:
        job, created = queue.submit("pr", params, dedupe_key=parsed.dedupe_key)
    except BaseException:
        if key:  # a redelivery of this id must be able to try again
            queue.store.forget_delivery(key)
        raise
    status = "queued" if created else "duplicate"
    return JSONResponse({"status": status, "job": job.id}, status_code=202 if created else 200)


async def _handle(
    request: Request,
    *,
    secret: Any,
    setting: str,
    verify: Callable[[bytes, bytes], bool],
    event: str,
    delivery: str,
    parse: Callable[[str, Any], Event | str],
) -> JSONResponse:
    settings: Settings = request.app.state.settings
    if secret is None:
        return _error(
            503, "webhook_disabled",
            f"this webhook is off: {setting} is not set, and assay refuses unsigned deliveries; "
            f"set it to the webhook's secret and restart 'assay serve'",
        )  # fmt: skip
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind != "application/json":
        return _error(415, "unsupported_media_type", f"the content type is {kind or 'missing'}: "
                      "set the webhook's content type to application/json")  # fmt: skip
    try:
        body = await read_body(request, settings.max_body_bytes)
    except _TooLarge:
        return _error(413, "too_large", f"the body is over {settings.max_body_bytes} bytes")
    if not verify(secret.get_secret_value().encode(), body):
        return _error(401, "bad_signature", "the signature does not match the body and the "
                      f"configured secret: check {setting} and the webhook's secret")  # fmt: skip
    if len(delivery) > MAX_DELIVERY_ID or len(event) > MAX_DELIVERY_ID:
        return _error(400, "bad_headers", f"the event or delivery id header is over "
                      f"{MAX_DELIVERY_ID} characters")  # fmt: skip
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, nested too deep
        return _error(400, "bad_payload", f"the body is not JSON: {str(exc)[:200]}")
    try:
        parsed = parse(event, payload)
    except BadPayload as exc:
        return _error(400, "bad_payload", f"malformed payload: {str(exc)[:300]}")
    return await run_in_threadpool(_queue, request.app.state.queue, settings, delivery, parsed)


@router.post("/webhooks/github", status_code=202)
async def github_webhook(request: Request) -> JSONResponse:
    """GitHub App webhook: pull_request (opened, synchronize, reopened, ready_for_review),
    issue_comment and pull_request_review_comment (the commands: ``/review``, ``/describe``,
    ``/improve``, ``/ask QUESTION``, ``/tests``, ``/assay wrong [reason]``)."""
    settings: Settings = request.app.state.settings
    signature = request.headers.get("x-hub-signature-256")
    return await _handle(
        request,
        secret=settings.github_webhook_secret,
        setting="ASSAY_GITHUB_WEBHOOK_SECRET",
        verify=lambda secret, body: github.verify_signature(secret, body, signature),
        event=request.headers.get("x-github-event", ""),
        delivery=request.headers.get("x-github-delivery", ""),
        parse=github.parse_event,
    )


@router.post("/webhooks/gitlab", status_code=202)
async def gitlab_webhook(request: Request) -> JSONResponse:
    """GitLab webhook: Merge Request Hook (open, reopen, update with new commits), Note Hook
    (the commands, as on GitHub; ``/assay wrong [reason]`` in a finding's discussion) and Emoji
    Hook (a thumbs-down on a finding)."""
    settings: Settings = request.app.state.settings
    token = request.headers.get("x-gitlab-token")
    delivery = request.headers.get("idempotency-key") or request.headers.get(
        "x-gitlab-event-uuid", ""
    )
    return await _handle(
        request,
        secret=settings.gitlab_webhook_secret,
        setting="ASSAY_GITLAB_WEBHOOK_SECRET",
        verify=lambda secret, body: gitlab.verify_token(secret, token),
        event=request.headers.get("x-gitlab-event", ""),
        delivery=delivery,
        parse=gitlab.parse_event,
    )
