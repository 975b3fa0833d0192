"""The engine in an assay service (``assay serve``): the server forwards each command to the REST
API with the configured token and follows the job's progress.

* tests for a symbol or a file: ``POST /v1/tests`` with ``{repo, path[, symbol]}`` when
  ``assay.service.repo`` names a repository registered on the service (its checkout there is
  used), else ``{snippet, module[, symbol]}`` with the file's text (no project context: imports
  of other modules of the project fail there).  The answer is a patch.
* a review: the diff since the base is computed here and sent as ``POST /v1/reviews {diff}``.

Cancelling stops following the job at once; the service has no way yet to stop a job, so it
finishes there and its result is dropped.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import httpx

from agents.errors import AssayError
from agents.lsp.config import LspConfig
from agents.lsp.engine import CoverAsk, Outcome, ReviewAsk, ReviewOutcome, TestsAsk
from agents.lsp.jobs import Job

POLL_SECONDS = 1.0


class ServiceError(AssayError):
    """The service refused or failed a request (translated here, at its boundary)."""


class RemoteEngine:
    def __init__(self, config: LspConfig, transport: httpx.BaseTransport | None = None) -> None:
        if not config.service_url:
            raise ServiceError("No assay service configured", "set assay.service.url")
        self.config = config
        self.url = config.service_url
        headers = (
            {"Authorization": f"Bearer {config.service_token}"} if config.service_token else {}
        )
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=30.0,
                                 transport=transport)  # fmt: skip

    def close(self) -> None:
        self.http.close()

    # -- the API -------------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = self.http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise ServiceError(
                f"The assay service at {self.url} is unreachable ({type(exc).__name__})",
                "check assay.service.url and that 'assay serve' runs there",
            ) from exc
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code >= 400:
            detail = data.get("detail") if isinstance(data, dict) else None
            fix = {401: "set assay.service.token to a valid token ('assay token create')",
                   403: "use a token with the 'write' scope"}.get(
                       response.status_code, "see the service's log")  # fmt: skip
            raise ServiceError(
                f"The assay service answered {response.status_code} to {method} {path}: "
                f"{detail or response.text[:200]}",
                fix,
            )
        return data if isinstance(data, dict) else {}

    def _run(self, job: Job, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Submit, then follow the job until it is done; its result."""
        job.report(f"sending to the service at {self.url}")
        data = self._call("POST", path, body)
        while data.get("state") not in ("done", "failed"):
            job.token.wait(POLL_SECONDS)
            job.token.check()
            data = self._call("GET", f"/v1/jobs/{data['id']}")
            progress = data.get("progress") or {}
            if progress.get("total"):
                job.advance(10 + 85 * int(progress.get("done") or 0) // int(progress["total"]))
            stage = progress.get("stage") or data.get("state", "queued")
            job.report(f"service: {stage}" + (f" {progress.get('target', '')}".rstrip()))
        job.token.check()
        if data["state"] == "failed":
            raise ServiceError(f"The service's job {data.get('id')} failed: {data.get('error')}",
                               "see the service's log")  # fmt: skip
        return dict(data.get("result") or {})

    def _tests_body(self, root_path: str, source: str, symbol: str | None) -> dict[str, Any]:
        if self.config.service_repo:
            body: dict[str, Any] = {"repo": self.config.service_repo, "path": root_path}
        else:
            module = PurePosixPath(root_path).stem
            body = {"snippet": source, "module": module}
        if symbol:
            body["symbol"] = symbol
        return {**body, "wait": False}

    # -- the engine ----------------------------------------------------------------------------

    def generate_tests(self, job: Job, ask: TestsAsk) -> Outcome:
        result = self._run(job, "/v1/tests", self._tests_body(ask.path, ask.source, ask.symbol))
        return _outcome(result, ask.symbol, self._mode_note())

    def raise_coverage(self, job: Job, ask: CoverAsk) -> Outcome:
        result = self._run(job, "/v1/tests", self._tests_body(ask.path, ask.source, None))
        return _outcome(result, ask.path, self._mode_note())

    def review(self, job: Job, ask: ReviewAsk) -> ReviewOutcome:
        from agents.gitdiff import local_diff
        from agents.review.report import ReviewReport

        job.report(f"reading the changes since {ask.base}")
        diff, _ = local_diff(ask.root, ask.base)
        if not diff.strip():
            return ReviewOutcome([], f"no changes since {ask.base} to review")
        body: dict[str, Any] = {"diff": diff, "wait": True}
        if self.config.service_repo:
            body["repo"] = self.config.service_repo
        result = self._run(job, "/v1/reviews", body)
        report = ReviewReport.from_dict(dict(result.get("review") or {}))
        summary = f"{len(report.findings)} finding(s) in the changes since {ask.base} (service)"
        details = [f"skipped {k.path} {k.lines}: {k.reason}" for k in report.skipped]
        return ReviewOutcome(report.findings, summary, details + report.errors)

    def _mode_note(self) -> str:
        return "" if self.config.service_repo else " (snippet mode: set assay.service.repo)"


def _outcome(result: dict[str, Any], what: str, note: str) -> Outcome:
    patch = str(result.get("patch") or "")
    accepted = int(result.get("accepted") or 0)
    if not patch or not accepted:
        return Outcome("", f"no test for {what} passed the gates on the service{note}")
    return Outcome(patch, f"{accepted} test(s) for {what} passed every gate on the service{note}")
